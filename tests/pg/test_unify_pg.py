"""The golden-record store on a real PostgreSQL: the unify rules hold, and two unify workers in one consumer
group share one store without corrupting a record."""

from __future__ import annotations

import functools
import random
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable

import pytest
import sqlalchemy as sa
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from hub.kafka.clients import Admin, KafkaSettings, Producer, Record, Sending
from hub.kafka.local import LocalKafka
from hub.registry.client import RegistryClient
from hub.registry.serde import AvroSerde
from hub.registry.server import RegistryService
from hub.runtime.pipeline_workers import canon_record
from hub.runtime.unify_worker import UnifyWorker
from pipelines.store import records as rec
from pipelines.store import views
from pipelines.store.engine import Store
from pipelines.store.tables import source_record
from pipelines.unify.engine import Unifier
from schemas.unified import UNIFIED_TOPIC
from tests.kafka.helpers import wait_for
from tests.unify_helpers import event, golden_of, person

pytestmark = pytest.mark.pg


def test_merge_and_split_on_postgresql(pg_store_url: str) -> None:
    store = Store(pg_store_url)
    unifier = Unifier(store, now_ms=lambda: 1)
    a = person("Anna", "Berg", "1990-03-04", "anna@a.example")
    b = person("Anne", "Bergmann", "1990-04-03", "ab@b.example")
    bridge = {**person("Anna", "Berg", "1990-03-04"),
              "xrefs": [{"source": "ibmi", "key": "10"}, {"source": "oracle", "key": "B1"}]}
    unifier.apply([event("ibmi", "10", a, 100), event("oracle", "B1", b, 110)])
    assert golden_of(store, "ibmi", "10") != golden_of(store, "oracle", "B1")
    assert unifier.apply([event("helpdesk", "H9", bridge, 120)]).merges == 1
    assert golden_of(store, "ibmi", "10") == golden_of(store, "oracle", "B1")
    assert unifier.apply([event("helpdesk", "H9", None, 130)]).splits == 1
    assert golden_of(store, "ibmi", "10") != golden_of(store, "oracle", "B1")
    store.dispose()


def test_cannot_link_pairs_hold_through_a_third_record_on_postgresql(pg_store_url: str) -> None:
    store = Store(pg_store_url)
    unifier = Unifier(store, now_ms=lambda: 1)
    home = {"family_name": "Müller", "phones": [{"number": "089 1234567"}],
            "addresses": [{"line1": "Hauptstraße 12", "postal_code": "80331", "city": "München", "country": "DE"}]}
    unifier.apply([event("ibmi", "1", {**home, "given_name": "Jan"}, 100),
                   event("ibmi", "2", {**home, "given_name": "Julia"}, 110)])
    with store.tx() as conn:  # a steward's cannot-link too, between records of two golden records
        rec.set_manual(conn, "ibmi/2", "crm/7", "cannot", "steward1", 1)
    unifier.apply([event("crm", "7", {**home, "given_name": "J."}, 120)])  # links to both housemates
    assert golden_of(store, "ibmi", "1") == golden_of(store, "crm", "7") != golden_of(store, "ibmi", "2")
    store.dispose()


def _entities(n: int) -> list[list[tuple[str, str, dict[str, object]]]]:
    """``n`` people, each in two or three sources, with small differences between the copies."""
    out = []
    for i in range(n):
        base = person(f"Given{i}", f"Family{i % 7}x{i}", f"19{50 + i % 40}-0{1 + i % 9}-1{i % 9}",
                      f"p{i}@example.com")
        copies = [("ibmi", f"{i}", base), ("oracle", f"O{i}", {**base, "given_name": f"Givne{i}"})]
        if i % 3 == 0:
            copies.append(("crm", f"C{i}", {**base, "emails": [], "phones": [{"number": f"+4366{i:07d}"}],
                                             "xrefs": [{"source": "ibmi", "key": f"{i}"}]}))
        out.append(copies)
    return out


def _check_consistent(store: Store) -> dict[tuple[str, str], str]:
    """Every live record points at an active golden record that lists it, and nothing else does."""
    with store.tx() as conn:
        rows = conn.execute(sa.select(source_record.c.source, source_record.c.source_key,
                                      source_record.c.golden_id).where(
            source_record.c.deleted.is_(False))).all()
        goldens = {g.golden_id: g for g in views.iter_golden(conn)}
    owner = {(s, k): g for s, k, g in rows}
    listed: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for gid, g in goldens.items():
        listed[gid] = {(m["source"], m["source_key"]) for m in g.members}
    for ref, gid in owner.items():
        assert gid in goldens, f"{ref} points at {gid}, which is not an active golden record"
        assert ref in listed[gid]
    assert sum(len(v) for v in listed.values()) == len(owner)
    return owner


@pytest.mark.kafka
def test_two_unify_workers_in_one_group_share_the_store(
        pg_store_url: str, kafka_broker: LocalKafka, kafka_settings: KafkaSettings, registry: RegistryService) -> None:
    serde = AvroSerde(RegistryClient(registry.url))
    tag = uuid.uuid4().hex[:6]
    topic = f"canon.customer.t{tag}"
    admin = Admin(kafka_settings)
    admin.ensure_topic(topic, partitions=2)
    admin.close()
    entities = _entities(120)
    events = [event(s, k, d, 1000 + i) for i, copies in enumerate(entities) for s, k, d in copies]
    producer = Producer(kafka_settings)
    records = []
    for ev in events:
        r = canon_record(serde, ev)
        records.append(type(r)(topic, r.key, r.value, partition=hash(ev.kafka_key) % 2))

    # (topic, golden id, version) in the order the broker acknowledged them (when the records arrived)
    published: list[tuple[str, str, int]] = []
    lock = threading.Lock()

    class Ack:
        """The acknowledgement of one record, a few milliseconds after it was sent, as the broker's would be."""

        def __init__(self, arrived: tuple[str, str, int] | None) -> None:
            self.arrived = arrived
            self.at = time.monotonic() + random.uniform(0.0, 0.02)

        def get(self, timeout: float) -> object:
            time.sleep(max(0.0, self.at - time.monotonic()))
            if self.arrived is not None:
                with lock:
                    if self.arrived is not None:
                        published.append(self.arrived)
                        self.arrived = None
            return type("Meta", (), {"topic": UNIFIED_TOPIC, "partition": 0, "offset": 0})()

    class Recording:
        """The workers' producer: no broker, acknowledgements that take a little while."""

        def send_async(self, records: Iterable[Record]) -> Sending:
            acks = []
            for r in records:
                arrived = None
                if r.topic == UNIFIED_TOPIC and r.value is not None:
                    value = serde.deserialize(r.value)
                    assert isinstance(value, dict)
                    arrived = (r.topic, value["golden_id"], int(value["version"]))
                acks.append(Ack(arrived))
            return Sending(acks)

        def send_batch(self, records: Iterable[Record]) -> list[object]:
            return self.send_async(records).wait()

    workers = []
    for _ in range(2):
        unifier = Unifier(Store(pg_store_url))
        worker = UnifyWorker(kafka_settings, Recording(), serde, unifier, group_id=f"unify-{tag}",  # type: ignore[arg-type]
                             topics=[topic], batch_size=25, poll_ms=100)
        workers.append(worker)
        worker.start()
    try:
        # the events go out in waves, each once both workers hold a partition: a fast first worker would read
        # them all alone, and a worker that reconnects (the watchdog's cure for a wedged client) leaves its
        # partition to the other for a while
        for wave in (records[0::3], records[1::3], records[2::3]):
            wait_for(lambda: _members_with_partitions(kafka_settings, f"unify-{tag}") == 2, timeout=60)
            target = sum(w.status.messages for w in workers) + len(wave)
            producer.send_batch(wave)
            wait_for(functools.partial(_consumed, workers, target), timeout=120,
                     state=lambda: [w.status for w in workers])
    finally:
        for w in workers:
            w.stop()
    producer.close()
    assert all(w.status.messages > 0 for w in workers), \
        f"both workers must have had partitions: {[w.status for w in workers]}"
    store = workers[0].unifier.store
    owner = _check_consistent(store)
    # each person is one golden record, exactly as a single worker would resolve them
    for copies in entities:
        assert len({owner[(s, k)] for s, k, _d in copies}) == 1
    assert len(set(owner.values())) == len(entities)
    # outputs of one golden record were published in version order
    versions: dict[str, list[int]] = defaultdict(list)
    for _t, key, version in published:
        versions[key].append(version)
    assert versions and all(v == sorted(v) and len(v) == len(set(v)) for v in versions.values())


def _consumed(workers: list[UnifyWorker], target: int) -> bool:
    return sum(w.status.messages for w in workers) >= target


def _members_with_partitions(settings: KafkaSettings, group_id: str) -> int:
    """How many members of a stable group hold at least one partition."""
    admin = KafkaAdminClient(**settings.common())
    try:
        info = admin.describe_groups([group_id])[group_id]
    except KafkaError:  # the group's coordinator is not known yet
        return 0
    finally:
        admin.close()
    if str(info.get("group_state")) != "Stable":
        return 0
    holding = 0
    for member in info.get("members") or ():
        assignment = member.get("member_assignment")
        if isinstance(assignment, dict) and any(a["partitions"] for a in assignment.get("assigned_partitions") or ()):
            holding += 1
    return holding
