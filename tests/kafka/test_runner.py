"""The connector runner against the real broker and crmhub's registry.

The source here is a small in-memory connector (the runner's contract, not a database, is under test);
Kafka, the registry and the offsets topic are real.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from connectors.base import Batch, Connector, SnapshotProgress, State
from hub.kafka.clients import KafkaSettings, Producer
from hub.registry.client import RegistryClient
from hub.registry.serde import AvroSerde
from hub.registry.server import RegistryService
from hub.runtime.offsets import OffsetStore
from hub.runtime.runner import ConnectorRunner, ConnectorState
from schemas.avro_gen import renames_from_schema
from schemas.columns import Column, ColumnType, TableMeta
from schemas.envelope import ChangeEvent, Op, SourceInfo, from_avro
from tests.kafka.helpers import read_all, wait_for

pytestmark = pytest.mark.kafka

COLUMNS = (Column("ID", ColumnType.INT64, nullable=False, primary_key=True),
           Column("AMOUNT", ColumnType.DECIMAL, precision=9, scale=2))


class ListSource(Connector):
    """Rows kept in a list; state = index of the next row. ``columns`` can change to mimic DDL."""

    kind = "test"

    def __init__(self, name: str, rows: list[dict[str, Any]], *, batch: int = 10,
                 tables: tuple[str, ...] = ("T1",)) -> None:
        super().__init__(name)
        self.rows = rows
        self.batch = batch
        self.tables = tables
        self.columns: dict[str, tuple[Column, ...]] = {t: COLUMNS for t in tables}
        self.disabled: dict[str, str] = {}

    def describe(self) -> list[TableMeta]:
        return [TableMeta(self.name, "db", None, t, self.columns[t]) for t in self.tables]

    def snapshot(self, state: State) -> Iterator[Batch]:
        if state.get("snapshot_done"):
            return
        yield Batch([], {"next": 0, "snapshot_done": True}, progress=SnapshotProgress("T1", 0, 0))

    def changes(self, state: State) -> Iterator[Batch]:
        i = int(state.get("next", 0))
        while True:
            chunk = [r for r in self.rows[i:i + self.batch] if r["_table"] not in self.disabled]
            end = min(i + self.batch, len(self.rows))
            events = [self._event(r) for r in chunk]
            yield Batch(events, {"next": end, "snapshot_done": True})
            if end == i:
                time.sleep(0.05)
            i = end

    def _event(self, row: dict[str, Any]) -> ChangeEvent:
        data = {k: v for k, v in row.items() if k != "_table"}
        src = SourceInfo("test", self.name, "db", None, row["_table"], 1_700_000_000_000, position={"i": "0"})
        return ChangeEvent.create(key={"ID": data["ID"]}, before=None, after=data, op=Op.CREATE,
                                  source=src, ts_ms=1_700_000_000_000)

    def disable_table(self, table: str, reason: str) -> None:
        self.disabled[table] = reason


def make_runner(settings: KafkaSettings, registry: RegistryService, source: ListSource,
                **kwargs: Any) -> tuple[ConnectorRunner, OffsetStore]:
    producer = Producer(settings)
    offsets = OffsetStore(settings, producer, topic=f"offsets.{source.name}")
    serde = AvroSerde(RegistryClient(registry.url))
    runner = ConnectorRunner(lambda: source, source.name, settings, producer, serde, offsets, **kwargs)
    return runner, offsets


def rows(n: int, table: str = "T1", start: int = 0) -> list[dict[str, Any]]:
    return [{"_table": table, "ID": i, "AMOUNT": Decimal(i) / 4} for i in range(start, start + n)]


def test_events_land_decodable_and_position_saved_after_acks(kafka_settings: KafkaSettings,
                                                            registry: RegistryService) -> None:
    name = f"c{uuid.uuid4().hex[:6]}"
    source = ListSource(name, rows(95))
    runner, offsets = make_runner(kafka_settings, registry, source)
    runner.start()
    wait_for(lambda: runner.status.events == 95)
    runner.stop()
    assert offsets.load(name) == {"next": 95, "snapshot_done": True}
    assert runner.status.snapshot == {"T1": {"done": 0, "total": 0}}
    msgs = read_all(kafka_settings, f"src.{name}.t1", 95)
    serde = AvroSerde(RegistryClient(registry.url))
    schema = json.loads(RegistryClient(registry.url).latest(f"src.{name}.t1-value").schema)
    decoded = [from_avro(serde.deserialize(m.key), serde.deserialize(m.value), renames_from_schema(schema))
               for m in msgs]
    assert [e.after["ID"] for e in decoded if e.after] == list(range(95))
    assert decoded[7].after == {"ID": 7, "AMOUNT": Decimal("1.75")}

    # A new runner resumes from the saved position: the rows added later, and nothing twice.
    source.rows.extend(rows(5, start=95))
    runner2, _ = make_runner(kafka_settings, registry, source)
    runner2.start()
    wait_for(lambda: runner2.status.events == 5)
    runner2.stop()
    assert len(read_all(kafka_settings, f"src.{name}.t1", 100)) == 100


class RoutedSource(ListSource):
    """A table whose ``topic`` setting names a topic of its own."""

    def topic_of(self, table: TableMeta) -> str | None:
        return f"crm.{self.name}.orders" if table.name == "T1" else None


def test_a_table_s_topic_setting_routes_its_events(kafka_settings: KafkaSettings, registry: RegistryService) -> None:
    name = f"c{uuid.uuid4().hex[:6]}"
    source = RoutedSource(name, rows(3) + rows(2, table="T2"), tables=("T1", "T2"))
    runner, _ = make_runner(kafka_settings, registry, source)
    runner.start()
    wait_for(lambda: runner.status.events == 5)
    runner.stop()
    assert len(read_all(kafka_settings, f"crm.{name}.orders", 3)) == 3
    assert len(read_all(kafka_settings, f"src.{name}.t2", 2)) == 2
    assert RegistryClient(registry.url).latest(f"crm.{name}.orders-value").schema


def test_position_saved_at_most_once_per_flush_interval_and_at_the_stop(kafka_settings: KafkaSettings,
                                                                       registry: RegistryService) -> None:
    name = f"c{uuid.uuid4().hex[:6]}"
    source = ListSource(name, rows(95))
    runner, offsets = make_runner(kafka_settings, registry, source, flush_interval_s=3600)
    runner.start()
    wait_for(lambda: runner.status.events == 95)
    saved = offsets.load(name)
    assert saved is not None and saved["next"] < 95  # the first batch was saved, the others wait
    runner.stop()
    assert offsets.load(name) == {"next": 95, "snapshot_done": True}  # the stop saved the last one


def test_row_that_does_not_fit_goes_to_dlq_with_reason(kafka_settings: KafkaSettings,
                                                       registry: RegistryService) -> None:
    name = f"c{uuid.uuid4().hex[:6]}"
    data = rows(5)
    data[2]["AMOUNT"] = Decimal("1.234")  # scale 3 does not fit DECIMAL(9,2)
    runner, _ = make_runner(kafka_settings, registry, ListSource(name, data))
    runner.start()
    wait_for(lambda: runner.status.dead == 1 and runner.status.events == 4)
    runner.stop()
    dead = read_all(kafka_settings, f"dlq.{name}", 1)
    body = json.loads(dead[0].value)
    assert body["table"] == "T1" and body["record"]["key"] == {"ID": 2}
    assert body["reason"]
    assert dict(dead[0].headers)["crmhub.reason"].decode() == body["reason"][:500]
    assert len(read_all(kafka_settings, f"src.{name}.t1", 4)) == 4


def test_added_column_evolves_dropped_column_stops_only_that_table(kafka_settings: KafkaSettings,
                                                                   registry: RegistryService) -> None:
    name = f"c{uuid.uuid4().hex[:6]}"
    source = ListSource(name, rows(10) + rows(10, "T2", 100), tables=("T1", "T2"))
    runner, _ = make_runner(kafka_settings, registry, source, schema_check_interval_s=3600)
    runner.start()
    wait_for(lambda: runner.status.events == 20)

    source.columns["T1"] = (*COLUMNS, Column("EMAIL", ColumnType.STRING))
    source.rows.extend({**r, "EMAIL": f"x{r['ID']}@example.com"} for r in rows(3, start=10))
    wait_for(lambda: runner.status.events == 23)
    client = RegistryClient(registry.url)
    assert client.versions(f"src.{name}.t1-value") == [1, 2]

    source.columns["T2"] = (COLUMNS[0],)  # AMOUNT dropped
    source.rows.extend([{"_table": "T2", "ID": 200}, *rows(2, start=13)])
    wait_for(lambda: "T2" in runner.status.stopped_tables)
    reason = runner.status.stopped_tables["T2"]
    assert "column AMOUNT dropped (was DECIMAL(9,2))" in reason
    source.rows.extend({**r, "EMAIL": None} for r in rows(2, start=15))
    wait_for(lambda: runner.status.events == 27)  # T1 goes on (4 more rows); T2's row was not produced
    assert runner.status.state is ConnectorState.RUNNING
    runner.stop()
    assert len(read_all(kafka_settings, f"src.{name}.t2", 10, timeout=5)) == 10
    assert client.versions(f"src.{name}.t2-value") == [1]


def test_pause_resume_and_retry_state(kafka_settings: KafkaSettings, registry: RegistryService) -> None:
    name = f"c{uuid.uuid4().hex[:6]}"
    source = ListSource(name, rows(10))
    runner, _ = make_runner(kafka_settings, registry, source)
    runner.start()
    wait_for(lambda: runner.status.events == 10)
    runner.pause()
    source.rows.extend(rows(10, start=10))
    time.sleep(1.0)
    assert runner.status.events == 10 and runner.status.state is ConnectorState.PAUSED
    runner.resume()
    wait_for(lambda: runner.status.events == 20)
    assert runner.status.state is ConnectorState.RUNNING
    runner.stop()
