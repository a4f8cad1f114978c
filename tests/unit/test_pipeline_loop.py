"""The pipeline loop's consumer handling: commit after a handled batch, and a new consumer when one stalls."""

from __future__ import annotations

from typing import Any

from hub.kafka.clients import Consumer, KafkaSettings, Message, Sending
from hub.kafka.membership import heartbeat_silence
from hub.runtime.pipeline_workers import _Loop


class FakeConsumer:
    """Answers polls from a script; ``stalled`` says what the stall check will find."""

    def __init__(self, batches: list[list[Message]], stalled: bool) -> None:
        self.batches = batches
        self.is_stalled = stalled
        self.commits = 0  # synchronous ones
        self.async_commits = 0
        self.stall_checks = 0
        self.closed = False

    def poll(self, timeout_ms: int = 500, max_records: int | None = None) -> list[Message]:
        return self.batches.pop(0) if self.batches else []

    def commit(self) -> None:
        self.commits += 1

    def commit_async(self) -> None:
        self.async_commits += 1

    def describe(self) -> str:
        return "state=STABLE assigned=1"

    def stall_reason(self) -> str | None:
        self.stall_checks += 1
        return "had no heartbeat answer for 12 s as a stable group member" if self.is_stalled else None

    def close(self) -> None:
        self.closed = True


def _msg(offset: int) -> Message:
    return Message("canon.customer", 0, offset, b"k", b"v", 0, ())


class Recorder(_Loop):
    def __init__(self, consumers: list[FakeConsumer], stop_after: int, **kw: Any) -> None:
        super().__init__(KafkaSettings(bootstrap_servers="unused:9092"), "g", ["canon.customer"], poll_ms=1,
                         max_backoff_s=0.5, **kw)
        self.consumers = consumers
        self.made: list[FakeConsumer] = []
        self.handled: list[int] = []
        self.stop_after = stop_after

    def new_consumer(self) -> Consumer:
        consumer = self.consumers.pop(0)
        self.made.append(consumer)
        return consumer  # type: ignore[return-value]

    def handle(self, messages: list[Message]) -> None:
        self.handled.extend(m.offset for m in messages)
        if len(self.handled) >= self.stop_after:
            self._stop.set()


def test_a_stalled_consumer_is_replaced_and_the_new_one_reads_on() -> None:
    wedged = FakeConsumer([], stalled=True)
    fresh = FakeConsumer([[_msg(0), _msg(1)]], stalled=False)
    loop = Recorder([wedged, fresh], stop_after=2, stall_s=0.01)
    loop.run()
    assert loop.made == [wedged, fresh]
    assert wedged.closed and wedged.stall_checks == 1 and wedged.commits == wedged.async_commits == 0
    # the handled batch is committed without waiting; the clean stop then waits for a last commit
    assert loop.handled == [0, 1] and fresh.async_commits == 1 and fresh.commits == 1 and fresh.closed
    assert loop.status.state == "STOPPED" and loop.status.messages == 2
    assert "no heartbeat answer for 12 s" in (loop.status.last_error or "")
    assert "reconnecting" in (loop.status.last_error or "")


def test_a_batch_that_fails_is_not_committed() -> None:
    class Failing(Recorder):
        def handle(self, messages: list[Message]) -> None:
            super().handle(messages)
            if messages[0].offset == 1:
                raise ValueError("a bug in the step")

    consumer = FakeConsumer([[_msg(0)], [_msg(1)]], stalled=False)
    loop = Failing([consumer], stop_after=99)
    loop.run()
    assert loop.handled == [0, 1] and loop.status.state == "FAILED"
    assert consumer.async_commits == 1 and consumer.commits == 0 and consumer.closed  # only batch 0's


def test_a_quiet_consumer_that_is_not_stalled_is_kept() -> None:
    quiet = FakeConsumer([[], [], [], [], [_msg(7)]], stalled=False)
    loop = Recorder([quiet], stop_after=1, stall_s=0.0)
    loop.run()
    assert loop.made == [quiet]
    assert quiet.stall_checks >= 4 and loop.handled == [7]
    assert loop.status.last_error is None


def test_unify_worker_dead_letters_what_it_cannot_decode(tmp_path: Any) -> None:
    import json

    from hub.runtime.unify_worker import UnifyWorker
    from pipelines.store.engine import Store
    from pipelines.unify.engine import Unifier
    from schemas.errors import SkippableError

    class Serde:
        def deserialize(self, value: bytes) -> Any:
            raise SkippableError("unknown writer schema id 9: Schema 9 not found.")

    class Producer:
        def __init__(self) -> None:
            self.sent: list[Any] = []

        def send_batch(self, records: Any) -> list[Any]:
            self.sent.extend(records)
            return []

        def send_async(self, records: Any) -> Sending:
            self.sent.extend(records)
            return Sending(())

    producer = Producer()
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    worker = UnifyWorker(KafkaSettings(bootstrap_servers="unused:9092"), producer, Serde(),  # type: ignore[arg-type]
                         Unifier(store), pipeline="crm")
    worker.handle([_msg(3)])
    worker.drain()
    [dead] = producer.sent
    body = json.loads(dead.value)
    assert dead.topic == "dlq.crm" and (body["topic"], body["offset"]) == ("canon.customer", 3)
    assert "Schema 9 not found" in body["reason"] and body["value_hex"] == b"v".hex()
    store.dispose()


def test_heartbeat_silence_counts_only_for_a_stable_member() -> None:
    class Beat:
        config = {"heartbeat_interval_ms": 3000, "session_timeout_ms": 45000}
        last_receive = 100.0
        last_reset = 90.0

    class Coordinator:
        heartbeat = Beat()
        is_stable = True

        def stable(self) -> bool:
            return self.is_stable

    c = Coordinator()
    assert heartbeat_silence(c, 109.0) is None  # within 10 s (3 intervals = 9 s, at least 10)
    assert heartbeat_silence(c, 111.0) == 11.0
    c.is_stable = False
    assert heartbeat_silence(c, 200.0) is None  # rebalancing or unjoined: not a heartbeat matter
    # ... unless asked for any member, past a longer limit (a join that never completed)
    assert heartbeat_silence(c, 150.0, stable_only=False, at_least=60.0) is None
    assert heartbeat_silence(c, 200.0, stable_only=False, at_least=60.0) == 100.0
    assert heartbeat_silence(object(), 200.0) is None  # a client without these internals
