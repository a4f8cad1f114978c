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
from kafka import KafkaProducer
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
from schemas.canonical import CanonicalEvent
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


def run_until_committed(admin: Admin, worker: UnifyWorker, ends: dict[tuple[str, int], int]) -> None:
    """Run ``worker`` until its group committed ``ends``; then stop it and close its producer."""
    worker.start()
    try:
        wait_for(lambda: committed(admin, worker.group_id) == ends, timeout=90,
                 state=lambda: (worker.status, committed(admin, worker.group_id)))
    finally:
        worker.stop()
        worker.producer.close()


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
    run_until_committed(admin, worker, admin.end_offsets([(topic, 0), (topic, 1)]))
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


def test_a_backlog_of_customers_and_their_credit_lines_is_applied_change_by_change(
        hub_broker: LocalKafka, own_registry: RegistryService, tmp_path: Any) -> None:
    """A customer master row maps to a customer and a credit event, on two topics. With both topics behind, the
    worker's polls interleave them by record time, so each row's two events are applied in one batch and make
    one new version of its golden record (fetched topic by topic, each change would make two)."""
    settings = KafkaSettings(bootstrap_servers=hub_broker.bootstrap)
    serde = AvroSerde(RegistryClient(own_registry.url))
    suffix = uuid.uuid4().hex[:6]
    customers, credits = f"canon.customer.t{suffix}", f"canon.credit.t{suffix}"
    admin = Admin(settings)
    for name in (customers, credits, CHANGES_TOPIC):
        admin.ensure_topic(name)
    admin.ensure_compacted(UNIFIED_TOPIC)
    n, base = 150, 1_700_000_000_000
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")

    def feed(events: list[tuple[str, CanonicalEvent, int]]) -> None:
        feeder = KafkaProducer(bootstrap_servers=hub_broker.bootstrap)
        for topic, ev, ts in events:
            r = canon_record(serde, ev)
            feeder.send(topic, key=r.key, value=r.value, partition=0, timestamp_ms=ts)
        feeder.flush()
        feeder.close()

    def unify_all() -> None:
        worker = UnifyWorker(settings, Producer(settings), serde, Unifier(store), group_id=f"unify-{suffix}",
                             topics=[customers, credits], batch_size=50, poll_ms=50)
        ends = {tp: end for tp, end in admin.end_offsets([(customers, 0), (credits, 0)]).items() if end}
        run_until_committed(admin, worker, ends)

    people = [person(f"Given{i}", f"Family{i}", f"19{50 + i % 40}-0{1 + i % 9}-1{i % 9}") for i in range(n)]
    feed([(customers, event("ibmi", str(i), p, 1000 + i), base + i) for i, p in enumerate(people)])
    unify_all()
    # then, while the worker is away, each row changes its name and its credit status together; on their own
    # topic the credit events sit behind every customer event
    feed([(customers, event("ibmi", str(i), {**p, "given_name": f"Renamed{i}"}, 5000 + i), base + 1000 + i)
          for i, p in enumerate(people)]
         + [(credits, event("ibmi", f"C{i}", {"customer_key": str(i), "status": "HOLD"}, 5000 + i,
                            entity="credit"), base + 1000 + i) for i in range(n)])
    unify_all()
    with store.tx() as conn:
        goldens = list(views.iter_golden(conn))
    store.dispose()
    admin.close()
    assert len(goldens) == n
    assert all(g.data and g.data["given_name"].startswith("Renamed") and g.data["credit_status"] == "HOLD"
               for g in goldens)
    versions = [g.version for g in goldens]
    # created, then changed once; a row whose two events a batch boundary cut apart makes one version more
    assert versions.count(2) >= n - (2 * n) // 50 and set(versions) <= {2, 3}, versions
