"""The unify loop: ``canon.*`` → identity resolution + survivorship in the store → ``customer.unified``,
``customer.changes``, ``customer.alerts``, pipelined.

Each polled batch is applied in one store transaction that also writes its outputs to the outbox
(:meth:`Unifier.stage`); the outputs are then handed to the producer from memory and the batch joins an
in-flight window (``hub/runtime/inflight.py``, at most ``max_in_flight`` batches) whose thread waits for the
acknowledgements in the order the batches were sent. So applying batch n+1 overlaps waiting for batch n's
acknowledgements. The rules that keep this safe:

- A batch's consumer offsets are committed (explicitly, per partition) only once every output of that batch
  and of every batch before it is acknowledged.
- A batch's outbox rows are deleted only once its records are acknowledged, in the next batch's store
  transaction (or, when the loop goes quiet, in one of their own). A crash leaves the rest in the outbox; the
  next start finds them, publishes them in order and only then anything new (a duplicate, never a loss).
- The worker knows the outbox ids of its own rows in flight, so only rows outside them count as left over.
- The store's writer lock is held from a batch's apply until its acknowledgements, across consecutive batches;
  once the window is drained it is given up after a quiet poll, every ``lock_hold_s`` and before the alert
  timers. Several workers on one PostgreSQL store thus still publish one golden record's outputs in version
  order, and one worker's outputs go through one producer in apply order (the idempotent producer keeps
  partition order). After a failed send, the outbox is published again from the first batch not acknowledged,
  so a later version may arrive before an earlier one's repeat; the last record of a golden id is its latest.
- A send that fails stops the window: what was not acknowledged is dropped unsaved, the error ends the loop's
  run, and the retry starts again from the last committed offsets (the events are skipped as applied; their
  outputs come from the outbox).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import structlog

from hub.kafka.clients import Consumer, KafkaSettings, Message, Producer, Record, Sending
from hub.kafka.ordered import TimeOrderedConsumer
from hub.metrics import FRESHNESS, GOLDEN_CHANGES, UNIFY_EVENTS
from hub.registry.serde import AvroSerde
from hub.runtime.inflight import InFlight
from hub.runtime.pipeline_workers import (
    CANON_TOPICS,
    KeyBytes,
    _Loop,
    make_publisher,
    output_record,
    undecodable_record,
)
from pipelines.store import views
from pipelines.unify.engine import ApplyStats, Unifier
from schemas.canonical import CanonicalEvent
from schemas.errors import SkippableError
from schemas.unified import KEY_SCHEMA as GOLDEN_KEY_SCHEMA

log = structlog.get_logger(__name__)
Offsets = dict[tuple[str, int], int]  # the next offset to read, by (topic, partition)


@dataclass(frozen=True, slots=True)
class Staged:
    """An applied batch whose outputs were handed to the producer."""

    offsets: Offsets
    rows: tuple[int, int] | None  # its outbox ids (first, last); None: it wrote none (or they were flushed)
    sending: Sending | None  # None: nothing to produce
    nbytes: int
    stats: ApplyStats


@dataclass
class OwnRows:
    """This worker's rows in the outbox, ids ``first``..``last`` (0: none): written by batches in flight, those
    up to ``acked`` acknowledged and not deleted yet."""

    first: int = 0
    last: int = 0
    acked: int = 0

    def written(self, first: int, last: int) -> None:
        self.first = self.first or first
        self.last = last

    def ack(self, last: int) -> None:
        self.acked = max(self.acked, last)

    def deletable(self) -> tuple[int, int] | None:
        """The acknowledged rows (first, last), if any."""
        return (self.first, self.acked) if self.first and self.acked >= self.first else None

    def in_flight(self) -> tuple[int, int] | None:
        """The rows left once the acknowledged ones are deleted."""
        low = max(self.first, self.acked + 1)
        return (low, self.last) if self.first and low <= self.last else None

    def deleted(self) -> None:
        rest = self.in_flight()
        self.first, self.last = rest or (0, 0)
        self.acked = 0


def next_offsets(messages: Sequence[Message]) -> Offsets:
    out: Offsets = {}
    for m in messages:
        tp = (m.topic, m.partition)
        out[tp] = max(out.get(tp, 0), m.offset + 1)
    return out


@dataclass
class _Run:
    """What one run of the loop keeps: its window and the batches its thread found acknowledged."""

    window: InFlight[Staged]
    acked: deque[tuple[Staged, float]] = field(default_factory=deque)  # (batch, when acknowledged, ms)


class UnifyWorker(_Loop):
    """``canon.*`` → identity resolution + survivorship in the store → golden records, changes, alerts."""

    name = "unify"
    # a change mapped to several entities (a customer and its credit line) is applied in one batch
    consumer_class = TimeOrderedConsumer

    def __init__(self, settings: KafkaSettings, producer: Producer, serde: AvroSerde, unifier: Unifier, *,
                 group_id: str = "crmhub-unify", timer_interval_s: float = 5.0,
                 topics: Sequence[str] = CANON_TOPICS, pipeline: str = "canon", max_in_flight: int = 4,
                 max_in_flight_bytes: int = 32 * 1024 * 1024, lock_hold_s: float = 1.0, **kw: Any) -> None:
        super().__init__(settings, group_id, topics, **kw)
        self.serde = serde
        self.unifier = unifier
        self.producer = producer
        self.dlq_topic = f"dlq.{pipeline}"
        self.keys = KeyBytes(serde, GOLDEN_KEY_SCHEMA)
        self.publish = make_publisher(serde, producer, self.keys)  # waits for the acks: leftovers, timers' alerts
        self.timer_interval_s = timer_interval_s
        self.max_in_flight = max_in_flight
        self.max_in_flight_bytes = max_in_flight_bytes
        self.lock_hold_s = lock_hold_s
        self.rows = OwnRows()
        self._next_timers = 0.0
        self._run: _Run | None = None
        self._lock: ExitStack | None = None
        self._locked_at = 0.0
        self._to_commit: Offsets = {}  # acknowledged, not yet committed
        self._done: Offsets = {}  # acknowledged in this run: what a clean stop commits and waits for

    # --- the loop's hooks ---------------------------------------------------------------------------------------

    def _consume(self) -> None:
        try:
            super()._consume()
        finally:
            self._abandon()

    def handle(self, messages: list[Message]) -> None:
        """Apply the batch and hand its outputs to the producer; returns without waiting for the acks (at
        most ``max_in_flight`` batches wait)."""
        events, dead = self._decode(messages)
        run = self._run or self._open()
        self._hold_lock()
        self._collect()
        stats, written = self.unifier.stage(events, acked=self.rows.deletable(), own=self.rows.in_flight())
        self.rows.deleted()
        records, rows = dead, None
        if written.leftover:  # a crash's or another writer's rows first, then this batch's, in outbox order
            self._settle()
            self.unifier.flush(self.publish)
            self.rows = OwnRows()
        elif written.out:
            records = [*dead, *(output_record(self.serde, t, k, v, self.keys) for t, k, v in written.out)]
            rows = (written.first_id, written.last_id)
            self.rows.written(*rows)
        sending = self.producer.send_async(records) if records else None
        nbytes = sum(len(r.key or b"") + len(r.value or b"") for r in records)
        run.window.put(Staged(next_offsets(messages), rows, sending, nbytes, stats))

    def after_poll(self, consumer: Consumer, handled: bool) -> None:
        self._collect()
        if self._lock is not None and (not handled or time.monotonic() - self._locked_at >= self.lock_hold_s):
            self.drain()  # let other writers in: a steward's action, another worker
        self.idle()
        if self._to_commit:
            consumer.commit_async(self._to_commit)
            self._to_commit = {}

    def finish(self, consumer: Consumer) -> None:
        self.drain()
        if self._done:  # waits: everything acknowledged is committed when the loop ends
            consumer.commit(self._done)

    def idle(self) -> None:
        now = time.monotonic()
        if now < self._next_timers:
            return
        self._next_timers = now + self.timer_interval_s
        self.drain()  # the flush below then finds no row of this worker's in flight
        with self.unifier.store.exclusive():
            self.unifier.fire_timers()
            self.unifier.flush(self.publish)

    # --- the window ---------------------------------------------------------------------------------------------

    def drain(self) -> None:
        """Wait for every batch in flight, delete their outbox rows and give up the writer lock. Raises the
        error of a send that failed."""
        self._settle()
        self._unlock()

    def _settle(self) -> None:
        if self._run is not None:
            self._run.window.drain()
        self._collect()
        acked = self.rows.deletable()
        if acked is not None:
            with self.unifier.store.exclusive(), self.unifier.store.tx() as conn:
                views.delete_outbox(conn, acked[1], acked[0])
            self.rows.deleted()

    def _open(self) -> _Run:
        acked: deque[tuple[Staged, float]] = deque()
        window: InFlight[Staged] = InFlight(self.name, lambda s: acked.append((s, time.time() * 1000)),
                                            max_batches=self.max_in_flight, max_bytes=self.max_in_flight_bytes,
                                            role="pipeline")
        self._run = _Run(window, acked)
        self._done = {}
        return self._run

    def _abandon(self) -> None:
        """The run ended: what is in flight is dropped unsaved; its rows stay in the outbox as left over."""
        run, self._run = self._run, None
        if run is not None:
            run.window.close()
        self.rows = OwnRows()
        self._to_commit = {}
        try:
            self._unlock()
        except Exception as exc:  # a store connection that broke with the run: the lock went with it
            log.warning("unify.unlock_failed", error=f"{type(exc).__name__}: {exc}")

    def _collect(self) -> None:
        """Take the batches the window's thread found acknowledged, in order: their offsets may be committed,
        their outbox rows deleted."""
        if self._run is None:
            return
        acked = self._run.acked
        while acked:
            staged, acked_ms = acked.popleft()
            self._to_commit.update(staged.offsets)
            self._done.update(staged.offsets)
            if staged.rows is not None:
                self.rows.ack(staged.rows[1])
            self._observe(staged.stats, acked_ms)

    def _observe(self, stats: ApplyStats, acked_ms: float) -> None:
        freshness: dict[str, Any] = {}
        for source, source_ts_ms in stats.source_times:
            child = freshness.get(source) or freshness.setdefault(source, FRESHNESS.labels(source))
            child.observe(max(0.0, (acked_ms - source_ts_ms) / 1000))
        UNIFY_EVENTS.labels("applied").inc(stats.applied)
        UNIFY_EVENTS.labels("skipped").inc(stats.skipped)
        GOLDEN_CHANGES.inc(stats.golden_changed)
        self.status.extra = {"golden_changed": self.status.extra.get("golden_changed", 0) + stats.golden_changed,
                             "in_flight": self._run.window.pending if self._run else 0}

    def _hold_lock(self) -> None:
        if self._lock is None:
            stack = ExitStack()
            stack.enter_context(self.unifier.store.exclusive())
            self._lock, self._locked_at = stack, time.monotonic()

    def _unlock(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.close()

    def _decode(self, messages: list[Message]) -> tuple[list[CanonicalEvent], list[Record]]:
        events: list[CanonicalEvent] = []
        dead: list[Record] = []
        for m in messages:
            if m.value is None:
                continue
            try:
                datum = self.serde.deserialize(m.value)
            except SkippableError as exc:  # not ours to read (unknown schema id, bad bytes): dead letter, go on
                dead.append(undecodable_record(self.dlq_topic, m, exc.reason))
                continue
            if isinstance(datum, dict):
                events.append(CanonicalEvent.from_avro(datum))
        return events, dead
