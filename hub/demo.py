"""`crmhub demo`: the most complete thing that exists, on the embedded defaults, saying what it does.

Today: the local Kafka broker and crmhub's schema registry come up, a sample change event (an IBM i
customer whose credit is frozen) is produced as Avro in the Confluent wire format, read back from Kafka,
decoded through the registry and printed.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rich.console import Console

from hub.config import HubConfig
from hub.kafka.clients import Admin, Consumer, KafkaSettings, Message, Producer, Record
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
