"""`crmhub demo`: the most complete thing that exists, on the embedded defaults, saying what it does.

Capture: the local Kafka broker comes up; the demo creates legacy stand-ins (an IBM i-shaped
customer master and order header in SQLite, an EBCDIC export drop folder); the hub runs with crmhub's schema
registry, the SQL connector and the file-drop connector; the initial snapshot lands in Kafka; then the demo
changes the sources (a credit freeze, a new order, a new export with a changed and a vanished customer)
and prints each change event as read back from Kafka and decoded through the registry, with the time from
the source change to the event being in Kafka. With ``pipelines:`` in the config (config/demo.yaml has it)
the hub also unifies golden records, raises alerts and serves the gateway and pages; the demo creates (or
reuses) an agent and an admin token and prints the pages' URLs. ``hub/demo_scenario.py`` scripts stories on
top of it (``--scenario credit-freeze``).

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
from hub.kafka.clients import Admin, Consumer, KafkaSettings, Message, Producer, Record
from hub.registry.decode import ChangeDecoder
from hub.registry.serde import AvroSerde
from hub.registry.server import RegistryService
from hub.wiring import avro_serde, kafka_settings, local_broker, serve_registry
from schemas.avro_gen import field_renames, key_schema, renames_from_schema, value_schema
from schemas.columns import Column, ColumnType, TableMeta
from schemas.envelope import ChangeEvent, Op, SourceInfo, from_avro, to_avro, topic_for


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

DEMO_TOPICS = ("src.ibmi.custmast", "src.ibmi.ordhdr", "src.exports.custexp")


@dataclass
class Decoded:
    topic: str
    offset: int
    kafka_ts_ms: int
    event: ChangeEvent


class TopicReader:
    """Reads topics from the beginning and decodes each change event through the registry."""

    def __init__(self, settings: KafkaSettings, serde: AvroSerde, topics: tuple[str, ...]) -> None:
        self.serde = serde
        self.topics = topics
        self.consumer = Consumer(settings, group_id=None)
        self.consumer.assign_topics(topics)
        self.decoder = ChangeDecoder(serde)

    def read_until(self, done: Callable[[list[Decoded]], bool], timeout_s: float = 60.0) -> list[Decoded]:
        out: list[Decoded] = []
        deadline = time.monotonic() + timeout_s
        while not done(out) and time.monotonic() < deadline:
            for m in self.consumer.poll(300):
                if m.value is None or m.key is None:
                    continue
                ev = self.decoder.decode(m.key, m.value)
                out.append(Decoded(m.topic, m.offset, m.timestamp_ms, ev))
        return out

    def close(self) -> None:
        self.consumer.close()


def describe_event(d: Decoded) -> str:
    ev = d.event
    key = ", ".join(f"{k}={v}" for k, v in ev.key.items())
    if ev.op.value == "u" and ev.before and ev.after:
        changed = [f"{k}: {ev.before.get(k)!r} -> {v!r}" for k, v in ev.after.items() if ev.before.get(k) != v]
        what = "; ".join(changed) or "(no visible change)"
    elif ev.after is not None:
        what = ", ".join(f"{k}={v}" for k, v in list(ev.after.items())[:5])
    else:
        what = "deleted"
    return f"{d.topic:<22} op={ev.op.value} {key:<14} {what}"


def demo_paths(cfg: HubConfig) -> tuple[Path, Path]:
    """The SQLite file of connector ``ibmi`` and the drop folder of connector ``exports``, from the config."""
    from connectors.filedrop.config import FileDropConnector
    from connectors.sql.config import SqlConnectorConfig
    from schemas.errors import ConfigError

    db = next((Path(c.url.removeprefix("sqlite:///")) for c in cfg.connectors
               if isinstance(c, SqlConnectorConfig) and c.name == "ibmi" and c.url.startswith("sqlite:///")), None)
    drop = next((c.path for c in cfg.connectors if isinstance(c, FileDropConnector) and c.name == "exports"), None)
    if db is None or drop is None:
        raise ConfigError("the demo needs connectors 'ibmi' (sql, sqlite:///...) and 'exports' (filedrop), "
                          "as in config/demo.yaml")
    return db.resolve(), drop.resolve()


@dataclass
class DemoTokens:
    agent: str
    admin: str


DEMO_TOKEN_NAMES = {"agent": "demo-agent", "admin": "demo-admin"}


def demo_tokens(cfg: HubConfig) -> DemoTokens:
    """The demo's agent and admin tokens: reused while ``gateway.tokens_file`` still holds them, else (re)created
    with ``create_token``. The tokens in clear are kept in ``demo-tokens.json`` next to the tokens file (mode
    0600), so the printed page URLs stay valid from one run to the next."""
    import os

    from hub.gateway.tokens import create_token, hash_token, read_tokens, revoke_token

    path = cfg.gateway.tokens_file
    keep = path.parent / "demo-tokens.json"
    try:
        saved = json.loads(keep.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        saved = {}
    entries = {e.name: e for e in read_tokens(path)}
    roles = set(cfg.gateway.effective_roles())
    out: dict[str, str] = {}
    for role, name in DEMO_TOKEN_NAMES.items():
        token = saved.get(role) if isinstance(saved, dict) else None
        entry = entries.get(name)
        if isinstance(token, str) and entry is not None and entry.role == role and entry.sha256 == hash_token(token):
            out[role] = token
            continue
        revoke_token(path, name)
        out[role] = create_token(path, name, role, roles)
    keep.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(keep, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(out, fh)
    return DemoTokens(agent=out["agent"], admin=out["admin"])


@dataclass
class DemoHub:
    """A running demo hub on freshly seeded stand-ins; ``base_url`` and ``tokens`` when the gateway runs."""

    hub: Any
    db: Path
    drop: Path
    base_url: str | None
    tokens: DemoTokens | None


def start_demo_hub(cfg: HubConfig, console: Console, *, start_broker: bool = True) -> DemoHub:
    """Start the broker (optionally), re-seed the legacy stand-ins, create or reuse the demo's API tokens, start
    the hub and say what runs where (with the pages' URLs when the config has ``pipelines:``)."""
    from hub import demo_sources as src
    from hub.runtime.hub import Hub

    if start_broker:
        broker = local_broker(cfg)
        started = broker.up()
        console.print(f"[bold]Kafka[/] {'started' if started else 'already running'} on {broker.bootstrap} "
                      f"(single node, KRaft; log {broker.log_file})")
    db, drop = demo_paths(cfg)
    _fresh_start(cfg, db, drop)
    src.seed_legacy_db(db)
    src.drop_export(drop, "CUSTEXP.20261122.BIN", [
        src.export_record(104711, "MUELLER GMBH", Decimal("1830.55"), 0, ["+49 89 1234567"]),
        src.export_record(104712, "DUPONT SARL", Decimal("-120.00"), 12, ["+33 1 44556677", "+33 6 1122334"]),
        src.export_record(104713, "ROSSI SPA", Decimal("9400.10"), 45, []),
    ])
    console.print(f"[bold]Legacy stand-ins[/] {db} (CUSTMAST, ORDHDR) and EBCDIC drop folder {drop}")
    tokens = demo_tokens(cfg) if cfg.pipelines is not None else None
    hub = Hub(cfg)
    hub.start()
    console.print(f"[bold]Hub[/] running: registry {hub.registry.url if hub.registry else '-'}, admin API "
                  f"{hub.admin.url if hub.admin else '-'}, connectors {', '.join(hub.runners)}")
    base = hub.gateway.url if hub.gateway is not None else None
    if cfg.pipelines is not None:
        console.print(f"[bold]Pipelines[/] canonicalize + unify (store {cfg.pipelines.store.url}, alerts "
                      f"{cfg.pipelines.alerts or '-'}): golden records in customer.unified, customer.changes, "
                      "customer.alerts")
    if base is not None and tokens is not None:
        console.print(f"[bold]Gateway[/] {base}  (API docs {base}/docs; tokens demo-agent / demo-admin in "
                      f"{cfg.gateway.tokens_file})")
        console.print(f"  agent console : {base}/ui/agent.html#token={tokens.agent}", highlight=False,
                      markup=False, soft_wrap=True)
        console.print(f"  ops dashboard : {base}/ui/ops.html#token={tokens.admin}", highlight=False,
                      markup=False, soft_wrap=True)
        console.print(f"  API docs      : {base}/docs", highlight=False, markup=False, soft_wrap=True)
    return DemoHub(hub, db, drop, base, tokens)


def run_capture_demo(cfg: HubConfig, console: Console, *, start_broker: bool = True,
                     keep_running: Callable[[], None] | None = None) -> list[Decoded]:
    """Seed the legacy stand-ins, run the hub, change the sources and show the change events."""
    from hub import demo_sources as src

    demo = start_demo_hub(cfg, console, start_broker=start_broker)
    hub, db, drop = demo.hub, demo.db, demo.drop
    try:
        reader = TopicReader(hub.settings, avro_serde(cfg, hub.registry), DEMO_TOPICS)
    except BaseException:
        hub.stop()
        raise
    try:
        events = reader.read_until(lambda out: len(out) >= 10)
        console.print(f"[bold]Initial snapshot[/]: {len(events)} events (op r)")
        for d in events:
            console.print("  " + describe_event(d), highlight=False, markup=False)
        changes = _make_changes(src, db, drop, console)
        more = reader.read_until(lambda out: len(out) >= 5)
        console.print(f"[bold]Changes captured[/]: {len(more)} events")
        for d in more:
            console.print("  " + describe_event(d), highlight=False, markup=False)
        freeze = next((d for d in more if d.topic == DEMO_TOPICS[0] and d.event.after
                       and d.event.after.get("CRSTAT") == "F"), None)
        if freeze is not None:
            console.print(f"Credit freeze of 104711: source change -> event in Kafka in "
                          f"{freeze.kafka_ts_ms - changes['freeze_ms']} ms")
        if keep_running is not None:
            console.print("The hub keeps running; try `crmhub connectors list -c config/demo.yaml`. Ctrl-C stops.")
            _keep_running_with_summary(hub, console, keep_running)
        return events + more
    finally:
        reader.close()
        hub.stop()


def _keep_running_with_summary(hub: Any, console: Console, keep_running: Callable[[], None],
                               every_s: float = 5.0) -> None:
    """Run ``keep_running`` (blocks until Ctrl-C) while a thread prints the live summary every ``every_s``."""
    import threading

    from hub.demo_summary import print_summaries
    from hub.gateway.ops import ops_snapshot

    def emit(line: str) -> None:
        console.print(line, highlight=False, markup=False, soft_wrap=True)

    stop = threading.Event()
    thread = threading.Thread(target=print_summaries, name="demo-summary", daemon=True,
                              args=(lambda: ops_snapshot(hub), emit, stop, every_s))
    thread.start()
    try:
        keep_running()
    finally:
        stop.set()
        thread.join(timeout=every_s)


def _fresh_start(cfg: HubConfig, db: Path, drop: Path) -> None:
    """Each run starts from new sources: the previous run's database, drop folder, connector state, topics
    and positions are removed (only those the demo config names)."""
    import shutil

    from hub.kafka.clients import Admin

    db.unlink(missing_ok=True)
    shutil.rmtree(drop, ignore_errors=True)
    for conf in cfg.connectors:
        state_dir = getattr(conf, "state_dir", None)
        if state_dir is not None:
            shutil.rmtree(Path(state_dir) / conf.name if conf.kind == "filedrop" else Path(state_dir),
                          ignore_errors=True)
    admin = Admin(kafka_settings(cfg))
    try:
        existing = set(admin.list_topics())
        stale = [t for t in (*DEMO_TOPICS, cfg.offsets.topic, "dlq.ibmi", "dlq.exports") if t in existing]
        if stale:
            admin.delete_topics(stale)
            time.sleep(1.0)
    finally:
        admin.close()
    if cfg.pipelines is not None:
        url = cfg.pipelines.store.url
        if url.startswith("sqlite:///"):
            store = Path(url.removeprefix("sqlite:///"))
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{store}{suffix}").unlink(missing_ok=True)
        prefix = cfg.pipelines.group_id_prefix
        admin = Admin(kafka_settings(cfg))
        try:  # committed offsets survive the deletion of their topics: the recreated src.* would be skipped
            admin.delete_groups([f"{prefix}-canonicalize", f"{prefix}-unify"])
        finally:
            admin.close()
        _skip_past_canon(cfg, f"{prefix}-unify")


def _skip_past_canon(cfg: HubConfig, group_id: str) -> None:
    """The store starts empty, so its unify group starts at the end of ``canon.*``: canonical records of
    earlier runs (or of other hubs on the same broker) are not unified again."""
    from hub.kafka.clients import Admin, Consumer
    from hub.runtime.pipeline_workers import CANON_TOPICS

    settings = kafka_settings(cfg)
    admin = Admin(settings)
    try:
        topics = [t for t in CANON_TOPICS if t in set(admin.list_topics())]
    finally:
        admin.close()
    if not topics:
        return
    consumer = Consumer(settings, group_id=group_id)
    try:
        consumer.assign_topics(topics, from_beginning=False)
        for topic in topics:
            for partition, end in consumer.end_offsets(topic).items():
                consumer.seek(topic, partition, end)
        consumer.commit()
    finally:
        consumer.close()


def _make_changes(src: Any, db: Path, drop: Path, console: Console) -> dict[str, int]:
    freeze_ms = int(time.time() * 1000)
    src.freeze_credit(db, 104711)
    src.new_order(db, 500003, 104712, "310.00")
    src.drop_export(drop, "CUSTEXP.20261123.BIN", [
        src.export_record(104711, "MUELLER GMBH", Decimal("1830.55"), 0, ["+49 89 1234567"]),
        src.export_record(104712, "DUPONT SARL", Decimal("-480.00"), 19, ["+33 1 44556677", "+33 6 1122334"]),
        src.export_record(104715, "JANSSEN BV", Decimal("0.00"), 0, ["+31 20 5550101"]),
    ])
    console.print("[bold]Changed the sources[/]: CUSTMAST 104711 credit A -> F (frozen), ORDHDR new order 500003, "
                  "new export (104712 balance changed, 104713 gone, 104715 new)")
    return {"freeze_ms": freeze_ms}
