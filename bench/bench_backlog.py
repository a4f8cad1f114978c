"""Unify catching up on a backlog: the unify worker alone draining canonical topics that are behind.

A local broker and registry; ``--customers`` organisations, each changed ``--rounds`` times, as the IBM i
customer master mapping makes them: every change is a ``canon.customer`` and a ``canon.credit`` event of the
same moment, on their two topics. Then a unify worker (the hub's own, into a fresh SQLite store) drains both
topics from the start, once with its time-ordered consumer (hub/kafka/ordered.py) and once with a plain one
that hands out one partition's fetch after the other, alternating ``--repeat`` times. Printed per run: wall
time, the process's CPU per change (the worker and its Kafka threads), changes/s and golden-record versions
made; then the medians and the ratio of the two.

Usage: ``.venv/bin/python bench/bench_backlog.py [--customers 2000] [--rounds 10] [--repeat 2]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.local_broker import broker_in_temp_dir
from hub.kafka.clients import Admin, Consumer, KafkaSettings, Producer, Record
from hub.kafka.local import free_port
from hub.kafka.ordered import TimeOrderedConsumer
from hub.logsetup import configure_logging
from hub.registry.client import RegistryClient
from hub.registry.serde import AvroSerde
from hub.registry.server import run_registry
from hub.runtime.gctune import tune_gc
from hub.runtime.pipeline_workers import canon_record
from hub.runtime.unify_worker import UnifyWorker
from pipelines.store.engine import Store
from pipelines.unify.engine import Unifier
from schemas.canonical import UPSERT, CanonicalEvent, coerce, make_version
from schemas.unified import CHANGES_TOPIC, UNIFIED_TOPIC

CUSTOMERS, CREDITS = "canon.customer", "canon.credit"


def change(entity: str, key: str, data: dict[str, Any], ts: int, offset: int) -> CanonicalEvent:
    record, problems = coerce(entity, data)
    assert not problems, problems
    return CanonicalEvent(entity, "ibmi", "CUSTMAST", key, UPSERT, make_version(ts, 0, offset), ts, ts,
                          f"src.ibmi.custmast/0/{offset}", record)


def feed(settings: KafkaSettings, serde: AvroSerde, customers: int, rounds: int) -> int:
    """Write the backlog; returns the number of changes (source rows)."""
    producer = Producer(settings)
    ts = 1_000
    for r in range(rounds):
        records = []
        for i in range(customers):
            ts += 1
            key, limit = str(200000 + i), f"{1000 + r}.00"
            org = {"kind": "organisation", "org_name": f"Customer {i} GmbH", "credit_status": "OK",
                   "credit_limit": limit, "owning_agent": "AGT07", "addresses": [{"type": "main", "country": "DE"}]}
            credit = {"customer_source": "ibmi", "customer_key": key, "status": "OK", "limit": limit}
            a = canon_record(serde, change("customer", key, org, ts, ts))
            b = canon_record(serde, change("credit", key, credit, ts, ts))
            records += [Record(CUSTOMERS, a.key, a.value), Record(CREDITS, b.key, b.value)]
        for j in range(0, len(records), 1000):
            producer.send_batch(records[j:j + 1000])
    producer.close()
    return customers * rounds


def drain(settings: KafkaSettings, serde: AvroSerde, admin: Admin, store_path: Path, ordered: bool,
          changes: int) -> dict[str, float]:
    ends = admin.end_offsets([(CUSTOMERS, 0), (CREDITS, 0)])
    store = Store(f"sqlite:///{store_path}")
    producer = Producer(settings)
    worker_class = type("Worker", (UnifyWorker,), {"consumer_class": TimeOrderedConsumer if ordered else Consumer})
    worker = worker_class(settings, producer, serde, Unifier(store), group_id=f"unify-{uuid.uuid4().hex[:6]}",
                          topics=[CUSTOMERS, CREDITS], batch_size=500, poll_ms=20)
    cpu0, wall0 = time.process_time(), time.monotonic()
    worker.start()
    while True:
        try:
            done = admin.groups_offsets([worker.group_id]).get(worker.group_id) == ends
        except Exception:  # the group's coordinator is not known yet
            done = False
        if done:
            break
        time.sleep(0.05)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    worker.stop()
    producer.close()
    store.dispose()
    return {"wall": wall, "ms_cpu": 1000 * cpu / changes, "rate": changes / wall,
            "versions": float(worker.status.extra.get("golden_changed", 0))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    configure_logging("warning")
    with broker_in_temp_dir() as (tmp, broker):
        settings = KafkaSettings(bootstrap_servers=broker.bootstrap)
        registry = run_registry(settings, topic="_schemas", port=free_port())
        admin = Admin(settings)
        try:
            serde = AvroSerde(RegistryClient(registry.url))
            for topic in (CUSTOMERS, CREDITS, CHANGES_TOPIC, "dlq.canon"):
                admin.ensure_topic(topic)
            admin.ensure_compacted(UNIFIED_TOPIC)
            changes = feed(settings, serde, args.customers, args.rounds)
            print(f"backlog: {changes:,} changes ({args.customers:,} customers x {args.rounds}), "
                  "each a customer and a credit event")
            tune_gc()
            runs: dict[str, list[dict[str, float]]] = {"time-ordered": [], "plain": []}
            for i in range(args.repeat):
                for name in runs:
                    out = drain(settings, serde, admin, tmp / f"store-{name}-{i}.db", name == "time-ordered", changes)
                    runs[name].append(out)
                    print(f"  {name:<13} {out['wall']:5.1f} s  {out['ms_cpu']:.3f} ms CPU/change  "
                          f"{out['rate']:,.0f} changes/s  {out['versions']:,.0f} new versions")
            med = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
            t, p = med["time-ordered"], med["plain"]
            print(f"medians: time-ordered {t['ms_cpu']:.3f} ms CPU/change, {t['rate']:,.0f} changes/s; plain "
                  f"{p['ms_cpu']:.3f} ms, {p['rate']:,.0f}/s; CPU per change {t['ms_cpu'] / p['ms_cpu']:.2f}x, "
                  f"changes/s {t['rate'] / p['rate']:.2f}x")
        finally:
            admin.close()
            registry.stop()


if __name__ == "__main__":
    main()
