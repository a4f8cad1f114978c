"""`crmhub demo`: the most complete thing that exists, on the embedded defaults, saying what it does.

Capture: the local Kafka broker comes up; the demo creates legacy stand-ins in SQLite (an IBM i customer
master, orders with lines and item balances, an Oracle AR customer table, a SQL Server helpdesk) and an EBCDIC
export drop folder (``hub/demo/hub.py``, ``hub/demo/sources.py``, ``hub/demo/stands.py``); the hub runs with
crmhub's schema registry, the SQL connectors and the file-drop connector; the initial snapshot lands in Kafka;
then the demo changes the sources (a credit freeze on the IBM i, a new order with lines, a credit hold in AR, a
helpdesk complaint, a new export with a changed and a vanished customer) and prints each change event as read
back from Kafka and decoded through the registry, with the time from the source change to the event being in
Kafka. With ``pipelines:`` in the config (config/demo.yaml has it) the hub also unifies golden records, raises
alerts and serves the gateway and pages; the demo prints the pages' URLs with its tokens. Kept running
(``--serve`` / ``--generate RATE``), it prints a live summary every 5 s while ``hub/demo/generator.py`` makes
RATE realistic changes a second. ``hub/demo/scenario.py`` scripts stories on top (``--scenario credit-freeze``).

``produce_and_read_back`` is the foundation check: one event produced and read back through the registry.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console

from hub.config import HubConfig
from hub.demo.hub import (
    Decoded,
    DemoHub,
    DemoPaths,
    DemoTokens,
    TopicReader,
    demo_paths,
    demo_tokens,
    demo_topics,
    describe_event,
    start_demo_hub,
)
from hub.kafka.clients import Admin, Consumer, KafkaSettings, Message, Producer, Record
from hub.registry.serde import AvroSerde
from hub.registry.server import RegistryService
from hub.wiring import avro_serde, kafka_settings, local_broker, serve_registry
from schemas.avro_gen import field_renames, key_schema, renames_from_schema, value_schema
from schemas.columns import Column, ColumnType, TableMeta
from schemas.envelope import ChangeEvent, Op, SourceInfo, from_avro, to_avro, topic_for

__all__ = [
    "Decoded",
    "DemoHub",
    "DemoPaths",
    "DemoTokens",
    "RoundTrip",
    "TopicReader",
    "demo_paths",
    "demo_tokens",
    "demo_topics",
    "describe_event",
    "produce_and_read_back",
    "run_capture_demo",
    "run_demo",
    "snapshot_counts",
    "start_demo_hub",
]


def sample_table() -> TableMeta:
    """An IBM i customer master as QSYS2.SYSCOLUMNS would describe it."""
    return TableMeta(
        connector="as400", db="S1024A", schema="CRMLIB", name="CUSTMAST", key=("CUST#",),
        columns=(
            Column("CUST#", ColumnType.DECIMAL, nullable=False, precision=7, scale=0, source_type="NUMERIC(7,0)"),
            Column("NAME", ColumnType.CHAR, nullable=False, length=30, source_type="CHAR(30)"),
            Column("CRSTAT", ColumnType.CHAR, nullable=False, length=1, source_type="CHAR(1)"),
            Column("CRLIMIT", ColumnType.DECIMAL, precision=11, scale=2, source_type="DECIMAL(11,2)"),
            Column("OPENED", ColumnType.DATE, source_type="DATE"),
            Column("CHANGED", ColumnType.TIMESTAMP, nullable=False, source_type="TIMESTAMP"),
        ),
    )


def sample_event(table: TableMeta, now_ms: int) -> ChangeEvent:
    """Customer 104711's credit status goes from A (active) to F (frozen) on the IBM i."""
    before = {"CUST#": Decimal("104711"), "NAME": "MUELLER GMBH", "CRSTAT": "A",
              "CRLIMIT": Decimal("25000.00"), "OPENED": date(1998, 3, 14),
              "CHANGED": datetime(2026, 11, 23, 9, 12, 44, 120000)}
    after = {**before, "CRSTAT": "F", "CHANGED": datetime(2026, 11, 23, 14, 5, 2, 500000)}
    source = SourceInfo(connector="demo", name=table.connector, db=table.db, schema=table.schema,
                        table=table.name, ts_ms=now_ms - 40, position={"receiver": "QSQJRN0042", "sequence": "1"},
                        tx_id="demo-1")
    return ChangeEvent.create(key={"CUST#": Decimal("104711")}, before=before, after=after, op=Op.UPDATE,
                              source=source, ts_ms=now_ms)


@dataclass
class RoundTrip:
    topic: str
    partition: int
    offset: int
    key_schema_id: int
    value_schema_id: int
    sent: ChangeEvent
    received: ChangeEvent


def produce_and_read_back(settings: KafkaSettings, serde: AvroSerde, table: TableMeta,
                          event: ChangeEvent, timeout_s: float = 30.0) -> RoundTrip:
    """Produce one change event (acks=all), read it back from its partition and decode it."""
    topic = topic_for(table)
    admin = Admin(settings)
    try:
        admin.ensure_topic(topic)
    finally:
        admin.close()
    kschema, vschema = key_schema(table), value_schema(table)
    key, value = to_avro(event, field_renames(table))
    producer = Producer(settings)
    try:
        ack = producer.send(Record(topic, serde.serialize(topic, kschema, key, is_key=True),
                                   serde.serialize(topic, vschema, value)))
    finally:
        producer.close()
    consumer = Consumer(settings, group_id=None)
    try:
        consumer.assign(topic, [ack.partition], from_beginning=False)
        consumer.seek(topic, ack.partition, ack.offset)
        deadline = time.monotonic() + timeout_s
        msgs: list[Message] = []
        while not msgs and time.monotonic() < deadline:
            msgs = [m for m in consumer.poll(500) if m.offset == ack.offset]
    finally:
        consumer.close()
    if not msgs:
        raise TimeoutError(f"{topic}[{ack.partition}]@{ack.offset} was acknowledged but not read back")
    msg = msgs[0]
    assert msg.key is not None and msg.value is not None
    renames = renames_from_schema(vschema)
    received = from_avro(_as_map(serde.deserialize(msg.key)), _as_map(serde.deserialize(msg.value)), renames)
    return RoundTrip(topic, msg.partition, msg.offset, int.from_bytes(msg.key[1:5], "big"),
                     int.from_bytes(msg.value[1:5], "big"), event, received)


def _as_map(obj: object) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise TypeError(f"expected an Avro record, got {type(obj).__name__}")
    return obj


def event_json(event: ChangeEvent) -> str:
    body = {"key": event.key, "op": event.op.value, "before": event.before, "after": event.after,
            "ts_ms": event.ts_ms, "source": {**{f: getattr(event.source, f) for f in
                                                 ("connector", "name", "db", "schema", "table", "ts_ms",
                                                  "snapshot", "tx_id")},
                                              "position": dict(event.source.position)}}
    return json.dumps(body, indent=2, default=str)


def run_demo(cfg: HubConfig, console: Console, *, start_broker: bool = True) -> RoundTrip:
    """Bring up what the config describes and show one change event end to end."""
    if start_broker:
        broker = local_broker(cfg)
        started = broker.up()
        console.print(f"[bold]Kafka[/] {'started' if started else 'already running'} on {broker.bootstrap} "
                      f"(single node, KRaft; log {broker.log_file})")
    settings = kafka_settings(cfg, client_id=f"crmhub-demo-{uuid.uuid4().hex[:6]}")
    served: RegistryService | None = serve_registry(cfg, settings)
    try:
        where = served.url if served else cfg.registry.effective_url()
        console.print(f"[bold]Schema registry[/] {'served by crmhub at' if served else 'external at'} {where} "
                      f"(schemas kept in topic {cfg.registry.serve.topic})")
        table = sample_table()
        event = sample_event(table, int(time.time() * 1000))
        trip = produce_and_read_back(settings, avro_serde(cfg, served), table, event)
        console.print(f"[bold]Produced[/] a change event to {trip.topic}[{trip.partition}] at offset {trip.offset} "
                      f"(key schema id {trip.key_schema_id}, value schema id {trip.value_schema_id}, "
                      f"subjects {trip.topic}-key / {trip.topic}-value)")
        console.print("[bold]Read back and decoded:[/]")
        console.print(event_json(trip.received), highlight=False, markup=False)
        same = "identical to" if trip.received == trip.sent else "DIFFERENT from"
        console.print(f"The decoded event is {same} the one produced.")
        return trip
    finally:
        if served is not None:
            served.stop()


# --- capture demo ---------------------------------------------------------------------------------------


def snapshot_counts(cfg: HubConfig) -> dict[str, int]:
    """Rows per source topic the initial snapshot will carry: the SQLite stand-ins' tables counted, plus the
    first export's records."""
    import sqlite3

    from connectors.sql.config import SqlConnectorConfig
    from schemas.envelope import table_topic

    counts: dict[str, int] = {}
    for c in cfg.connectors:
        if isinstance(c, SqlConnectorConfig) and c.url.startswith("sqlite:///"):
            db = sqlite3.connect(Path(c.url.removeprefix("sqlite:///")))
            try:
                for t in c.tables:
                    counts[t.topic or table_topic(c.name, t.table_name)] = int(
                        db.execute(f'SELECT COUNT(*) FROM "{t.table_name}"').fetchone()[0])
            finally:
                db.close()
    counts[table_topic("exports", "custexp")] = 3
    return counts


def run_capture_demo(cfg: HubConfig, console: Console, *, start_broker: bool = True,
                     keep_running: Callable[[], None] | None = None, generate: float = 0.0,
                     seed: int | None = None, processes: Path | None = None) -> list[Decoded]:
    """Seed the legacy stand-ins, run the hub, change the sources and show the change events; with
    ``keep_running`` (blocks until Ctrl-C) keep the hub running with a live summary and, at ``generate``
    changes a second, the change generator. ``processes``: the config file, for the pipeline stages and the
    generator run as processes of their own (``hub/demo/stages.py``)."""
    demo = start_demo_hub(cfg, console, start_broker=start_broker, processes=processes)
    hub = demo.hub
    paths = DemoPaths(demo.db, demo.drop, demo.ar, demo.helpdesk)
    try:
        reader = TopicReader(hub.settings, avro_serde(cfg, hub.registry), tuple(demo_topics(cfg)))
    except BaseException:
        hub.stop()
        raise
    try:
        expected = snapshot_counts(cfg)
        events = reader.read_until(lambda out: len(out) >= sum(expected.values()))
        console.print(f"[bold]Initial snapshot[/]: {len(events)} events (op r)")
        _print_by_topic(console, events, per_topic=2)
        changes = _make_changes(paths, console)
        more = reader.read_until(lambda out: len(out) >= changes["events"])
        console.print(f"[bold]Changes captured[/]: {len(more)} events")
        for d in more:
            console.print("  " + describe_event(d), highlight=False, markup=False, soft_wrap=True)
        freeze = next((d for d in more if d.topic == "src.ibmi.custmast" and d.event.after
                       and d.event.after.get("CRSTAT") == "F"), None)
        if freeze is not None:
            console.print(f"Credit freeze of 104711: source change -> event in Kafka in "
                          f"{freeze.kafka_ts_ms - changes['freeze_ms']} ms")
        if keep_running is not None:
            from hub.demo.live import keep_running_live

            console.print("The hub keeps running; try `crmhub connectors list -c config/demo.yaml`. Ctrl-C stops.")
            keep_running_live(hub, paths, console, keep_running, rate=generate, seed=seed)
        return events + more
    finally:
        reader.close()
        hub.stop()


def _print_by_topic(console: Console, events: list[Decoded], per_topic: int) -> None:
    by: dict[str, list[Decoded]] = {}
    for d in events:
        by.setdefault(d.topic, []).append(d)
    for topic, items in by.items():
        console.print(f"  {topic}: {len(items)}", highlight=False, markup=False)
        for d in items[:per_topic]:
            console.print("    " + describe_event(d), highlight=False, markup=False, soft_wrap=True)


def _make_changes(paths: DemoPaths, console: Console) -> dict[str, int]:
    """The scripted changes; returns the source time of the credit freeze and how many events they make."""
    from hub.demo import sources as src
    from hub.demo import stands as demo_stands

    freeze_ms = int(time.time() * 1000)
    src.freeze_credit(paths.legacy, 104711)
    src.new_order(paths.legacy, 500003, 104712, "", [("PMP-200-HP", "MUC", 1), ("FLG-DN50-S235", "MUC", 4)])
    events = 1 + 1 + 2  # CUSTMAST u, ORDHDRV c, ITMBAL u (two allocations)
    told = ["CUSTMAST 104711 credit A -> F (frozen)", "order 500003 with 2 lines (stock allocated in ITMBAL)"]
    if paths.ar is not None:
        demo_stands.credit_hold(paths.ar, 3002, hold=True)
        events += 1
        told.append("AR account 3002 (Dupont) on credit hold")
    if paths.helpdesk is not None:
        demo_stands.open_ticket(paths.helpdesk, 9004, 7001, "Complaint", "Pump PMP-200-HP noisy", "AGT07",
                                due_hours=0.05)
        events += 1
        told.append("helpdesk complaint HD-009004 (step due in 3 min)")
    src.drop_export(paths.drop, "CUSTEXP.20261123.BIN", [
        src.export_record(104711, "MUELLER GMBH", Decimal("1830.55"), 0, ["+49 89 1234567"]),
        src.export_record(104712, "DUPONT SARL", Decimal("-480.00"), 19, ["+33 1 44556677", "+33 6 11223344"]),
        src.export_record(104715, "JANSSEN BV", Decimal("0.00"), 0, ["+31 20 5550101"]),
    ])
    events += 3
    told.append("new export (104712 balance changed, 104713 gone, 104715 new)")
    console.print("[bold]Changed the sources[/]: " + "; ".join(told))
    return {"freeze_ms": freeze_ms, "events": events}
