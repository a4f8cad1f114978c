"""The pipelined unify loop on a real broker: a batch whose records never reach Kafka (the producer reports a
delivery timeout) ends the run while later batches are in flight; the retry starts again from the committed
offsets and publishes the outbox, so every version of every golden record reaches ``customer.unified``, the
last record of each golden id is its latest version, and every offset is committed in the end."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from kafka.errors import KafkaTimeoutError

from hub.kafka.clients import Admin, Consumer, KafkaSettings, Message, Producer, Record, Sending
from hub.kafka.local import LocalKafka, free_port
from hub.registry.client import RegistryClient
from hub.registry.serde import AvroSerde
from hub.registry.server import RegistryService, run_registry
from hub.runtime.pipeline_workers import canon_record
from hub.runtime.unify_worker import UnifyWorker
from pipelines.store import views
from pipelines.store.engine import Store
from pipelines.unify.engine import Unifier
from schemas.errors import RetriableError
from schemas.unified import CHANGES_TOPIC, UNIFIED_TOPIC
from tests.kafka.helpers import wait_for
from tests.unify_helpers import event, person

pytestmark = pytest.mark.kafka


class Expired:
    """An acknowledgement that never came: the producer gave up on the record."""

    def get(self, timeout: float) -> Any:
        raise KafkaTimeoutError("Batch for canon output expired before it was delivered")


class DropsOneBatch(Producer):
    """A real producer, except that the ``fail_at``-th batch handed over is dropped and reported as expired."""

    def __init__(self, settings: KafkaSettings, fail_at: int) -> None:
        super().__init__(settings)
        self.fail_at = fail_at
        self.calls = 0

    def send_async(self, records: Iterable[Record]) -> Sending:
        records = list(records)
        self.calls += 1
        if self.calls == self.fail_at:
            return Sending([Expired() for _ in records])
        return super().send_async(records)


def read_to_end(settings: KafkaSettings, topic: str) -> list[Message]:
    consumer = Consumer(settings, group_id=None)
    consumer.assign(topic)
    end = consumer.end_offsets(topic)
    out: list[Message] = []
    while any(consumer.position(topic, p) < off for p, off in end.items()):
        out.extend(consumer.poll(300))
    consumer.close()
    return out


def committed(admin: Admin, group_id: str) -> dict[tuple[str, int], int] | None:
    try:
        return admin.groups_offsets([group_id]).get(group_id)
    except RetriableError:  # the group's coordinator is not known yet
        return None


@pytest.fixture()
def own_registry(hub_broker: LocalKafka) -> Iterator[RegistryService]:
    service = run_registry(KafkaSettings(bootstrap_servers=hub_broker.bootstrap),
                           topic=f"_schemas-{uuid.uuid4().hex[:8]}", port=free_port())
    yield service
    service.stop()


def test_a_batch_that_never_reaches_kafka_is_published_after_the_retry(hub_broker: LocalKafka,
                                                                        own_registry: RegistryService,
                                                                        tmp_path: Any) -> None:
    settings = KafkaSettings(bootstrap_servers=hub_broker.bootstrap)
    serde = AvroSerde(RegistryClient(own_registry.url))
    topic = f"canon.customer.t{uuid.uuid4().hex[:6]}"
    admin = Admin(settings)
    admin.ensure_topic(topic, partitions=2)
    admin.ensure_topic(CHANGES_TOPIC)
    admin.ensure_compacted(UNIFIED_TOPIC)
    # 80 customers, each changed three times (a new e-mail address): every change makes a new golden version
    people = [person(f"Given{i}", f"Family{i}", f"19{50 + i % 40}-0{1 + i % 9}-1{i % 9}") for i in range(80)]
    records = []
    for round_ in range(3):
        for i, p in enumerate(people):
            ev = event("ibmi", str(i), {**p, "emails": [{"address": f"p{i}.{round_}@example.com"}]},
                       1000 + round_ * 100 + i)
            r = canon_record(serde, ev)
            records.append(Record(topic, r.key, r.value, partition=i % 2))
    feeder = Producer(settings)
    feeder.send_batch(records)
    feeder.close()

    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    producer = DropsOneBatch(settings, fail_at=3)
    worker = UnifyWorker(settings, producer, serde, Unifier(store), group_id=f"unify-{uuid.uuid4().hex[:6]}",
                         topics=[topic], batch_size=20, poll_ms=50, max_backoff_s=0.5)
    worker.start()
    ends = admin.end_offsets([(topic, 0), (topic, 1)])
    try:
        wait_for(lambda: committed(admin, worker.group_id) == ends, timeout=90,
                 state=lambda: (worker.status, committed(admin, worker.group_id)))
    finally:
        worker.stop()
        producer.close()
    assert producer.calls > 3 and "expired" in (worker.status.last_error or "")
    with store.tx() as conn:
        latest = {g.golden_id: g.version for g in views.iter_golden(conn)}
        leftover = views.read_outbox(conn)
    store.dispose()
    admin.close()
    assert len(latest) == 80 and set(latest.values()) == {3} and leftover == []

    seen: dict[str, list[int]] = defaultdict(list)
    for m in read_to_end(settings, UNIFIED_TOPIC):
        value = serde.deserialize(m.value or b"")
        assert isinstance(value, dict)
        seen[value["golden_id"]].append(int(value["version"]))
    assert set(seen) == set(latest)
    for gid, versions in seen.items():
        assert set(versions) == {1, 2, 3}, (gid, versions)  # no version lost (repeats allowed)
        assert versions[-1] == latest[gid]  # what compaction keeps is the latest
