"""The source side of ``bench/bench_capture.py``: the PostgreSQL table both tools capture, the writes made to it,
and the read-back of a tool's topic.

Each run has a table of its own (``id`` key, ``version`` counted by the writer, a few customer-like columns,
``updated_at`` stamped with ``clock_timestamp()``). Inserts are server-side ``INSERT ... SELECT`` of
``tx_rows`` rows per transaction; updates come in 20 ms ticks (``rate / 50`` rows per transaction), each
row's version raised by one. Every write's commit time is the writer's clock right after ``COMMIT`` returned.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg2
import psycopg2.extensions

from bench.capture_accounting import Delivery, Version
from hub.kafka.clients import Admin, Consumer, KafkaSettings
from hub.registry.serde import AvroSerde

TICK_S = 0.02
COLUMNS = """id BIGINT PRIMARY KEY, version INTEGER NOT NULL, name VARCHAR(60) NOT NULL, email VARCHAR(100),
             credit NUMERIC(11,2) NOT NULL, status CHAR(1) NOT NULL,
             updated_at TIMESTAMP(6) NOT NULL DEFAULT clock_timestamp()"""
INSERT = """INSERT INTO {table} (id, version, name, email, credit, status, updated_at)
            SELECT g, 0, 'CUSTOMER ' || g, 'c' || g || '@example.com', 1000 + g %% 5000, 'A', clock_timestamp()
            FROM generate_series(%s, %s) AS g"""
UPDATE = """UPDATE {table} SET version = version + 1, credit = credit + 1, updated_at = clock_timestamp()
            WHERE id = ANY(%s)"""


def now_ms() -> float:
    return time.time() * 1000


@dataclass
class Writes:
    """What one phase wrote: ``(key, version) -> commit ms``, and when its first transaction began."""

    commits: dict[Version, float]
    started_ms: float


class Source:
    """One connection to the bench database (autocommit off: one transaction per write batch)."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg2.connect(dsn)
        self.versions: dict[int, int] = {}

    def close(self) -> None:
        self.conn.close()

    def run(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(sql, params or None)
            rows = cur.fetchall() if cur.description else []
        self.conn.commit()
        return rows

    def create(self, table: str, publication: str | None) -> None:
        """A fresh table (and a publication of it for logical decoding)."""
        self.drop(table, publication, None)
        self.run(f"CREATE TABLE {table} ({COLUMNS})")
        self.run(f"CREATE INDEX {table}_ts ON {table} (updated_at, id)")
        if publication:
            self.run(f"CREATE PUBLICATION {publication} FOR TABLE {table}")
        self.versions = {}

    def drop(self, table: str, publication: str | None, slot: str | None) -> None:
        """The table, publication and (inactive) replication slot of a run, if they exist."""
        deadline = time.monotonic() + 30  # a stopped client's walsender lets go of its slot a moment later
        while slot and self.run("SELECT active FROM pg_replication_slots WHERE slot_name = %s", slot) == [(True,)]:
            if time.monotonic() > deadline:
                raise RuntimeError(f"replication slot {slot} is still in use")
            time.sleep(0.1)
        if slot and self.run("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", slot):
            self.run("SELECT pg_drop_replication_slot(%s)", slot)
        if publication:
            self.run(f"DROP PUBLICATION IF EXISTS {publication}")
        self.run(f"DROP TABLE IF EXISTS {table}")

    def insert(self, table: str, first: int, n: int, tx_rows: int) -> Writes:
        """Rows ``first .. first + n - 1`` at version 0, ``tx_rows`` per transaction, as fast as it goes."""
        commits: dict[Version, float] = {}
        started = now_ms()
        sql = INSERT.format(table=table)
        with self.conn.cursor() as cur:
            for lo in range(first, first + n, tx_rows):
                hi = min(lo + tx_rows, first + n) - 1
                cur.execute(sql, (lo, hi))
                self.conn.commit()
                at = now_ms()
                for key in range(lo, hi + 1):
                    commits[(key, 0)] = at
                    self.versions[key] = 0
        return Writes(commits, started)

    def update(self, table: str, keys: list[int], rate: float, seconds: float) -> Writes:
        """``rate`` updates/s for ``seconds``, round robin over ``keys``, one transaction per 20 ms tick."""
        commits: dict[Version, float] = {}
        per_tick = max(1, round(rate * TICK_S))
        sql = UPDATE.format(table=table)
        made, start = 0, time.perf_counter()
        started = now_ms()
        with self.conn.cursor() as cur:
            while time.perf_counter() - start < seconds:
                time.sleep(max(0.0, start + made / rate - time.perf_counter()))
                chunk = [keys[(made + k) % len(keys)] for k in range(per_tick)]
                cur.execute(sql, (chunk,))
                self.conn.commit()
                at = now_ms()
                for key in chunk:
                    self.versions[key] += 1
                    commits[(key, self.versions[key])] = at
                made += per_tick
        return Writes(commits, started)


def create_topic(settings: KafkaSettings, topic: str) -> None:
    """The tool's topic, stamped by the broker (LogAppendTime): the latency's end is the broker's clock."""
    admin = Admin(settings)
    try:
        admin.ensure_topic(topic, configs={"message.timestamp.type": "LogAppendTime"})
    finally:
        admin.close()


def delete_topics(settings: KafkaSettings, topics: list[str]) -> None:
    admin = Admin(settings)
    try:
        admin.delete_topics([t for t in topics if t in set(admin.list_topics())])
    finally:
        admin.close()


@contextmanager
def _consumer(settings: KafkaSettings, topic: str) -> Iterator[Consumer]:
    consumer = Consumer(settings, group_id=None)
    try:
        consumer.assign(topic)
        yield consumer
    finally:
        consumer.close()


def topic_size(settings: KafkaSettings, topic: str, consumer: Consumer | None = None) -> int:
    """How many records ``topic`` holds (asked through ``consumer`` when given: one client, not one per call)."""
    if consumer is not None:
        return sum(consumer.end_offsets(topic).values())
    with _consumer(settings, topic) as own:
        return sum(own.end_offsets(topic).values())


def wait_for_records(settings: KafkaSettings, topic: str, count: int, stall_s: float, quiet_s: float = 0.0) -> int:
    """Until ``topic`` holds ``count`` records, or none came for ``stall_s``; the records it holds. Asks 4
    times a second over one client, so the waiting takes next to nothing from the tools it waits for. A
    transactional writer's commit markers take offsets too: with ``quiet_s``, it also waits until the topic
    stopped growing for that long."""
    size, grew_at = 0, time.monotonic()
    with _consumer(settings, topic) as consumer:
        while (size < count or time.monotonic() - grew_at < quiet_s) and time.monotonic() - grew_at < stall_s:
            time.sleep(0.25)
            now = topic_size(settings, topic, consumer)
            if now > size:
                size, grew_at = now, time.monotonic()
    return size


Decoder = Callable[[bytes], dict[str, Any] | None]


def crmhub_after(serde: AvroSerde) -> Decoder:
    """``after`` of crmhub's Avro envelope."""
    def decode(value: bytes) -> dict[str, Any] | None:
        envelope = serde.deserialize(value)
        return envelope.get("after") if isinstance(envelope, dict) else None
    return decode


def debezium_after(value: bytes) -> dict[str, Any] | None:
    """``after`` of Debezium's envelope under Kafka Connect's JSON converter (schema and payload)."""
    payload = json.loads(value).get("payload") or {}
    after = payload.get("after")
    return after if isinstance(after, dict) else None


def read_back(settings: KafkaSettings, topic: str, decode: Decoder) -> list[Delivery]:
    """Every record of ``topic`` as (id, version, LogAppendTime); records without a row image are skipped."""
    out: list[Delivery] = []
    with _consumer(settings, topic) as consumer:
        ends = consumer.end_offsets(topic)
        idle_until = time.monotonic() + 60

        def behind() -> bool:  # positions, not a count: commit markers of a transactional writer take offsets
            return any(consumer.position(topic, p) < end for p, end in ends.items())

        while behind() and time.monotonic() < idle_until:
            for m in consumer.poll(1000):
                idle_until = time.monotonic() + 60
                after = decode(m.value) if m.value else None
                if after is not None:
                    out.append(Delivery(int(after["id"]), int(after["version"]), float(m.timestamp_ms)))
    return out


def dsn_of(url: str) -> tuple[str, dict[str, Any]]:
    """A libpq DSN and its parts from the SQLAlchemy URL of ``scripts/services.sh env``."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    parts = {"host": u.host or "127.0.0.1", "port": int(u.port or 5432), "user": u.username or "",
             "password": u.password or "", "dbname": u.database or ""}
    return psycopg2.extensions.make_dsn(**parts), parts
