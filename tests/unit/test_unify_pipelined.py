"""The pipelined unify loop: applying a batch overlaps waiting for the acknowledgements of the batches before it,
and yet consumer offsets are committed, and outbox rows deleted, only after the acknowledgements of their batch
and of every batch before it; a crash's outbox is published first, in order; a failed send loses nothing.

A real SQLite store and unifier; a producer and consumer that the test drives by hand."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from hub.kafka.clients import KafkaSettings, Message, Record, Sending
from hub.kafka.common import Ack
from hub.runtime.unify_worker import OwnRows, UnifyWorker
from pipelines.store.engine import Store
from pipelines.unify.engine import Unifier
from schemas.canonical import CanonicalEvent
from schemas.errors import RetriableError
from schemas.unified import CHANGES_TOPIC, UNIFIED_TOPIC
from tests.factories import Future
from tests.unify_helpers import drain, event, golden_of, person


class Producer:
    """Keeps what it was given in order; ``send_async`` batches wait for :meth:`ack` unless ``auto_ack``."""

    def __init__(self, auto_ack: bool = False) -> None:
        self.auto_ack = auto_ack
        self.sent: list[Record] = []
        self.flushed: list[Record] = []  # sent with send_batch (waits for the acks): the outbox's leftovers
        self.batches: list[list[Future]] = []

    def send_async(self, records: Iterable[Record]) -> Sending:
        futures = []
        for r in records:
            self.sent.append(r)
            futures.append(Future())
            if self.auto_ack:
                futures[-1].done.set()
        self.batches.append(futures)
        return Sending(futures)

    def send_batch(self, records: Iterable[Record], timeout: float = 120.0) -> list[Ack]:
        records = list(records)
        self.sent.extend(records)
        self.flushed.extend(records)
        return []

    def ack(self, batch: int, error: Exception | None = None) -> None:
        for f in self.batches[batch]:
            f.error = error
            f.done.set()


class Serde:
    """Canonical events by the bytes that stand for them; outputs as their topic, key and JSON-form value."""

    def __init__(self) -> None:
        self.events: dict[bytes, dict[str, Any]] = {}

    def message(self, ev: CanonicalEvent, partition: int, offset: int) -> Message:
        value = f"{ev.source}/{ev.source_key}/{ev.version}".encode()
        self.events[value] = ev.to_avro()
        return Message(f"canon.{ev.entity}", partition, offset, b"k", value, 0)

    def deserialize(self, value: bytes) -> Any:
        return self.events[value]

    def serialize(self, topic: str, schema: Any, datum: Any, is_key: bool = False) -> Any:
        return datum  # kept as it is: the test reads it back


class Consumer:
    def __init__(self) -> None:
        self.commits: list[dict[tuple[str, int], int]] = []
        self.sync_commits: list[dict[tuple[str, int], int] | None] = []

    def commit_async(self, offsets: dict[tuple[str, int], int] | None = None) -> None:
        assert offsets is not None, "the pipelined loop commits explicit offsets only"
        self.commits.append(dict(offsets))

    def commit(self, offsets: dict[tuple[str, int], int] | None = None) -> None:
        self.sync_commits.append(offsets)


def worker_for(store: Store, producer: Producer, serde: Serde, **kw: Any) -> UnifyWorker:
    worker = UnifyWorker(KafkaSettings(bootstrap_servers="unused:9092"), producer, serde,  # type: ignore[arg-type]
                         Unifier(store, now_ms=lambda: 5_000), timer_interval_s=3600, **kw)
    worker._next_timers = time.monotonic() + 3600  # no alert timers in these tests
    return worker


def outbox_ids(store: Store) -> list[int]:
    with store.tx() as conn:
        return [int(r[0]) for r in conn.exec_driver_sql("SELECT id FROM outbox ORDER BY id")]


def eventually(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


@pytest.fixture()
def store(tmp_path: Path) -> Any:
    s = Store(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.dispose()


def anna(ts: int, email: str) -> CanonicalEvent:
    return event("ibmi", "10", person("Anna", "Berg", "1990-03-04", email), ts)


def bob(ts: int) -> CanonicalEvent:
    return event("oracle", "B7", person("Bob", "Stone", "1970-01-02"), ts)


def unified_versions(records: list[Record], key: str | None = None) -> list[tuple[Any, int]]:
    return [(r.key, int(r.value["version"])) for r in records
            if r.topic == UNIFIED_TOPIC and (key is None or r.key == key)]


def test_offsets_are_committed_only_once_the_batch_and_every_one_before_it_is_acknowledged(store: Store) -> None:
    producer, serde, consumer = Producer(), Serde(), Consumer()
    worker = worker_for(store, producer, serde)
    worker.handle([serde.message(anna(100, "a1@x.example"), 0, 10)])
    worker.handle([serde.message(bob(110), 1, 20), serde.message(anna(120, "a2@x.example"), 0, 11)])
    worker.after_poll(consumer, True)
    assert len(producer.batches) == 2 and consumer.commits == []  # both in flight: nothing acknowledged
    producer.ack(1)
    time.sleep(0.1)
    worker.after_poll(consumer, True)
    assert consumer.commits == []  # batch 2 is acknowledged, batch 1 is not: its offsets must wait
    producer.ack(0)
    eventually(lambda: worker._run is not None and worker._run.window.pending == 0)
    worker.after_poll(consumer, True)
    # both batches' offsets, per partition, the next offset to read
    assert consumer.commits == [{("canon.customer", 0): 12, ("canon.customer", 1): 21}]
    # one golden record's outputs were handed over in version order, batch after batch
    gid = golden_of(store, "ibmi", "10")
    assert [v for _k, v in unified_versions(producer.sent, gid)] == [1, 2]
    worker.finish(consumer)
    assert consumer.sync_commits == [{("canon.customer", 0): 12, ("canon.customer", 1): 21}]
    worker._abandon()


def test_outbox_rows_are_deleted_only_after_their_acknowledgements(store: Store) -> None:
    producer, serde, consumer = Producer(), Serde(), Consumer()
    worker = worker_for(store, producer, serde)
    worker.handle([serde.message(anna(100, "a1@x.example"), 0, 0)])
    first = outbox_ids(store)
    assert len(first) == 2  # the golden record and its change
    worker.handle([serde.message(bob(110), 0, 1)])
    both = outbox_ids(store)
    assert both[:2] == first and len(both) == 4  # batch 1 not acknowledged: its rows stay
    # its own rows in flight are no leftover: nothing was published again, nothing waited for acks
    assert producer.flushed == [] and len(producer.sent) == 4
    producer.ack(0)
    eventually(lambda: worker._run is not None and worker._run.window.pending == 1)
    worker.after_poll(consumer, True)
    assert outbox_ids(store) == both  # acknowledged, deleted with the next batch's transaction
    worker.handle([serde.message(anna(120, "a2@x.example"), 0, 2)])
    assert outbox_ids(store)[:2] == both[2:]  # batch 1's rows went in batch 3's transaction
    producer.ack(1)
    producer.ack(2)
    worker.after_poll(consumer, False)  # a quiet poll: everything settles and the rows go
    assert outbox_ids(store) == [] and producer.flushed == []
    worker._abandon()


def test_a_crash_leaves_the_outbox_to_be_published_first_and_in_order(store: Store) -> None:
    producer, serde = Producer(), Serde()
    crashed = worker_for(store, producer, serde)
    crashed.handle([serde.message(anna(100, "a1@x.example"), 0, 0)])
    crashed.handle([serde.message(anna(110, "a2@x.example"), 0, 1)])
    lost = list(producer.sent)  # sent, never acknowledged: the process dies here
    producer.ack(0, RuntimeError("killed"))
    crashed._abandon()

    restarted_producer = Producer(auto_ack=True)
    restarted = worker_for(store, restarted_producer, serde)
    # the consumer starts again at the last committed offset: the same events (skipped as applied), then a new one
    restarted.handle([serde.message(anna(100, "a1@x.example"), 0, 0), serde.message(anna(110, "a2@x.example"), 0, 1),
                      serde.message(anna(120, "a3@x.example"), 0, 2)])
    out = restarted_producer.flushed
    assert out[:len(lost)] == lost  # the crash's outputs first, in their order
    assert unified_versions(out) == [(lost[0].key, 1), (lost[0].key, 2), (lost[0].key, 3)]
    restarted.drain()
    assert outbox_ids(store) == []
    restarted._abandon()


def test_a_failed_send_ends_the_run_and_the_retry_loses_nothing(store: Store) -> None:
    serde = Serde()
    batches = [[serde.message(anna(100, "a1@x.example"), 0, 0)], [serde.message(bob(110), 0, 1)]]

    class Loop(UnifyWorker):
        """Two runs of the loop over a scripted consumer: the first one's send fails."""

        def __init__(self, producer: Producer) -> None:
            super().__init__(KafkaSettings(bootstrap_servers="unused:9092"), producer, serde,  # type: ignore[arg-type]
                             Unifier(store, now_ms=lambda: 5_000), timer_interval_s=3600, poll_ms=1,
                             max_backoff_s=0.01)
            self._next_timers = time.monotonic() + 3600
            self.consumers: list[Scripted] = []

        def new_consumer(self) -> Any:
            committed = self.consumers[-1].committed if self.consumers else 0
            self.consumers.append(Scripted(self, [b for b in batches if b[0].offset >= committed]))
            return self.consumers[-1]

    class Scripted(Consumer):
        def __init__(self, loop: Loop, script: list[list[Message]]) -> None:
            super().__init__()
            self.loop, self.script, self.committed = loop, script, 0

        def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> list[Message]:
            if self.script:
                return self.script.pop(0)
            if len(self.loop.consumers) == 1:
                producer.ack(0, RetriableError("broker gone"))  # the first run's first batch fails
            else:
                self.loop._stop.set()
            time.sleep(0.01)
            return []

        def commit_async(self, offsets: dict[tuple[str, int], int] | None = None) -> None:
            super().commit_async(offsets)
            self.committed = max([self.committed, *(offsets or {}).values()])

        def stall_reason(self) -> str | None:
            return None

        def describe(self) -> str:
            return ""

        def close(self) -> None:
            pass

    producer = Producer()
    loop = Loop(producer)
    first_sent = threading.Thread(target=loop.run, daemon=True)
    first_sent.start()
    eventually(lambda: len(producer.batches) >= 2)
    producer.auto_ack = True
    producer.ack(1)  # the second batch is acknowledged, the first one fails: neither may be committed
    first_sent.join(10)
    assert not first_sent.is_alive() and loop.status.state == "STOPPED"
    first, second = loop.consumers
    assert first.commits == [] and first.sync_commits == []
    # the retry read both batches again (skipped as applied) and published the outbox in order
    assert unified_versions(producer.flushed) == unified_versions(producer.sent[:4])
    assert second.sync_commits == [{("canon.customer", 0): 2}]
    assert outbox_ids(store) == []
    assert "broker gone" in (loop.status.last_error or "")


def test_the_writer_lock_is_held_while_batches_are_in_flight(store: Store) -> None:
    producer, serde, consumer = Producer(), Serde(), Consumer()
    worker = worker_for(store, producer, serde)
    worker.handle([serde.message(anna(100, "a1@x.example"), 0, 0)])
    steward_done = threading.Event()

    def steward() -> None:  # another writer: a steward's action, another worker
        with store.exclusive():
            steward_done.set()

    threading.Thread(target=steward, daemon=True).start()
    assert not steward_done.wait(0.2)  # the batch is not acknowledged: nobody else may write and publish yet
    producer.ack(0)
    worker.after_poll(consumer, False)  # quiet: settle and give up the lock
    assert steward_done.wait(5)
    assert consumer.commits == [{("canon.customer", 0): 1}]
    worker._abandon()


def test_a_steward_action_between_batches_is_published_before_the_next_batch(store: Store) -> None:
    producer, serde, consumer = Producer(auto_ack=True), Serde(), Consumer()
    worker = worker_for(store, producer, serde)
    worker.handle([serde.message(anna(100, "a1@x.example"), 0, 0)])
    worker.after_poll(consumer, False)
    other = Unifier(store, now_ms=lambda: 6_000)
    other.apply([bob(200)])  # written to the outbox by another writer while this worker held no lock
    worker.handle([serde.message(anna(110, "a2@x.example"), 0, 1)])
    bob_key = unified_versions(producer.flushed)[0][0]
    assert [k for k, _v in unified_versions(producer.flushed)] == [bob_key, unified_versions(producer.sent)[0][0]]
    assert drain(other) == []
    worker._abandon()


def test_own_rows_track_what_is_in_flight_and_what_may_be_deleted() -> None:
    rows = OwnRows()
    assert rows.deletable() is None and rows.in_flight() is None
    rows.written(5, 8)
    rows.written(9, 12)
    assert rows.in_flight() == (5, 12) and rows.deletable() is None
    rows.ack(8)
    assert rows.deletable() == (5, 8) and rows.in_flight() == (9, 12)
    rows.deleted()
    assert (rows.first, rows.last, rows.deletable()) == (9, 12, None)
    rows.ack(12)
    rows.deleted()
    assert rows.in_flight() is None and rows.first == 0
    rows.written(13, 13)
    assert rows.in_flight() == (13, 13)


def test_changes_follow_their_golden_record_in_the_same_batch(store: Store) -> None:
    producer, serde = Producer(auto_ack=True), Serde()
    worker = worker_for(store, producer, serde)
    worker.handle([serde.message(anna(100, "a1@x.example"), 0, 0)])
    worker.drain()
    assert [r.topic for r in producer.sent] == [UNIFIED_TOPIC, CHANGES_TOPIC]
    worker._abandon()
