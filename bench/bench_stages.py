"""CPU per change of the canonicalize and unify stages alone, on real change events, without Kafka's cost.

A local broker and the hub's registry and SQL connector (the ``bench_e2e`` setup: an IBM i-shaped SQLite
``CUSTMAST``) capture ``--customers`` snapshot rows and ``--changes`` credit-limit updates into
``src.ibmi.custmast``. The captured records are then fed, in batches of ``--batch`` as a consumer poll returns
them, through the pipeline workers' own ``handle`` (the canonicalize worker, then the unify worker on its
outputs into a fresh SQLite store), with a producer stand-in that keeps the records instead of sending them.
The CPU time of each stage per change (``time.thread_time`` of the thread running them: the hub's threads do
not count) is printed next to the floor in the same run:
fastavro decoding each captured change event and encoding it again (the least any stage reading and writing
Avro does per record). The snapshot goes through first, unmeasured. ``--digest`` prints a hash of every output
record and of the store's tables per round (time fixed): every round must print the same.

Captures differ from run to run (the generator's timing), so to compare two versions of the code on the same
input, ``--save FILE`` keeps the captured events and their schemas, and ``--replay FILE`` runs the stages on
them (registering the schemas under the same ids in a fresh registry): the same code prints the same digest.

Usage: ``.venv/bin/python bench/bench_stages.py [--customers 2000] [--changes 7000] [--batch 25] [--rounds 3]
[--digest] [--save FILE | --replay FILE]``
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import io
import pickle
import sqlite3
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import fastavro

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_e2e import config, generate, seed
from bench.local_broker import broker_in_temp_dir
from hub.config import validate_config_text
from hub.kafka.clients import Consumer, KafkaSettings, Message, Record, Sending
from hub.kafka.local import LocalKafka
from hub.logsetup import configure_logging
from hub.pipeline_setup import load_parts
from hub.registry.client import RegistryClient
from hub.registry.serde import AvroSerde
from hub.runtime import pipeline_workers as workers
from hub.runtime.hub import Hub
from hub.runtime.pipeline_workers import CanonWorker
from hub.runtime.unify_worker import UnifyWorker

SRC_TOPIC = "src.ibmi.custmast"
FIXED_S = 1_800_000_000.0  # the clock the stages see with --digest


class KeepRecords:
    """The producer as the stages see it: records kept, every one acknowledged."""

    def __init__(self) -> None:
        self.out: list[Record] = []

    def send_batch(self, records: Iterable[Record], timeout: float = 120.0) -> list[Any]:
        self.out.extend(records)
        return []

    def send_async(self, records: Iterable[Record]) -> Sending:
        self.out.extend(records)
        return Sending(())


def capture(args: argparse.Namespace, tmp: Path, broker: LocalKafka) -> tuple[list[Message], str, Hub]:
    """The snapshot and ``--changes`` updates as the connector wrote them, the registry's URL and the hub that
    serves it (the caller stops it)."""
    seed(tmp / "legacy.db", args.customers)
    cfg = validate_config_text(config(broker, tmp))
    hub = Hub(cfg, frozenset({"registry", "connectors"}))
    hub.start()
    rate = 1000.0
    made, _ = generate(tmp / "legacy.db", args.customers, rate, args.changes / rate, threading.Event())
    want = args.customers + made
    consumer = Consumer(KafkaSettings(bootstrap_servers=cfg.kafka.bootstrap_servers), group_id=None)
    consumer.assign(SRC_TOPIC)
    messages: list[Message] = []
    deadline = time.monotonic() + 120
    while len(messages) < want and time.monotonic() < deadline:
        messages.extend(consumer.poll(500))
    consumer.close()
    assert cfg.registry.serve is not None
    return messages, f"http://127.0.0.1:{cfg.registry.serve.port}", hub


def save(path: Path, messages: list[Message], registry: str, customers: int) -> None:
    """The captured events (the first ``customers`` the snapshot) and every schema they were written with (id,
    subject, text), in id order."""
    client = RegistryClient(registry)
    latest = [client.latest(s) for s in client.subjects()]
    schemas = sorted((r.schema_id, r.subject, r.schema) for r in latest)
    path.write_bytes(pickle.dumps({"messages": messages, "schemas": schemas,
                                   "customers": customers}))


def replay(path: Path, cfg_text: str) -> tuple[list[Message], str, Hub, int]:
    """The events of ``save``, with a fresh registry holding their schemas under the same ids, and how many of
    them are the snapshot."""
    kept = pickle.loads(path.read_bytes())  # a file this bench wrote
    cfg = validate_config_text(cfg_text)
    hub = Hub(cfg, frozenset({"registry"}))
    hub.start()
    assert cfg.registry.serve is not None
    url = f"http://127.0.0.1:{cfg.registry.serve.port}"
    client = RegistryClient(url)
    for schema_id, subject, text in kept["schemas"]:
        if client.register(subject, text) != schema_id:
            raise SystemExit(f"{path}: the registry gave {subject} another id than {schema_id}")
    return list(kept["messages"]), url, hub, int(kept["customers"])


def floor(serde: AvroSerde, messages: list[Message]) -> float:
    """CPU seconds to decode each message's value and encode it again with fastavro (schemas parsed once)."""
    parsed = {m.value[1:5]: serde.client.parsed(int.from_bytes(m.value[1:5], "big")) for m in messages if m.value}
    start = time.thread_time()
    for m in messages:
        if m.value:
            schema = parsed[m.value[1:5]]
            datum = fastavro.schemaless_reader(io.BytesIO(m.value[5:]), schema, None)
            fastavro.schemaless_writer(io.BytesIO(), schema, datum)
    return time.thread_time() - start


def run_stages(args: argparse.Namespace, messages: list[Message], registry: str, tmp: Path,
               digest: hashlib._Hash | None) -> tuple[float, float]:
    """CPU seconds of canonicalize and of unify over the updates (the snapshot first, unmeasured)."""
    store = tmp / f"store-{time.monotonic_ns()}.db"
    cfg = validate_config_text(f"""
kafka: {{bootstrap_servers: "127.0.0.1:1"}}
pipelines: {{mappings: [{tmp / "mappings"}], store: {{url: "sqlite:///{store}"}}}}
""")
    parts = load_parts(cfg)
    serde = AvroSerde(RegistryClient(registry))
    settings = KafkaSettings(bootstrap_servers="127.0.0.1:1")
    canon_out, unify_out = KeepRecords(), KeepRecords()
    canon = CanonWorker(settings, canon_out, serde, parts.mappings, [SRC_TOPIC])  # type: ignore[arg-type]
    unifier = parts.unifier()
    if digest is not None:
        unifier.now_ms = lambda: int(FIXED_S * 1000)
    unify = UnifyWorker(settings, unify_out, serde, unifier)  # type: ignore[arg-type]
    spent = [0.0, 0.0]

    def batch(msgs: list[Message], measured: bool) -> None:
        c0 = time.thread_time()
        canon.handle(msgs)
        c1 = time.thread_time()
        canon_msgs = [Message(r.topic, 0, i, r.key, r.value, 0) for i, r in enumerate(canon_out.out)]
        c2 = time.thread_time()
        unify.handle(canon_msgs)
        c3 = time.thread_time()
        if measured:
            spent[0] += c1 - c0
            spent[1] += c3 - c2
        if digest is not None:
            for r in canon_out.out + unify_out.out:
                digest.update(repr((r.topic, r.key, r.value, tuple(r.headers))).encode())
        canon_out.out, unify_out.out = [], []

    snapshot, updates = messages[:args.customers], messages[args.customers:]
    for i in range(0, len(snapshot), 500):
        batch(snapshot[i:i + 500], False)
    for i in range(0, len(updates), args.batch):
        batch(updates[i:i + args.batch], True)
    unify.drain()  # the last batch's outbox rows, deleted once acknowledged
    unifier.store.dispose()
    if digest is not None:
        with sqlite3.connect(store) as db:
            for table in ("source_record", "golden", "block_key", "credit", "change_log", "outbox", "match_link"):
                for row in db.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):
                    digest.update(repr(row).encode())
    return spent[0], spent[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--changes", type=int, default=7000)
    parser.add_argument("--batch", type=int, default=25, help="records per consumer poll")
    parser.add_argument("--rounds", type=int, default=3, help="the stages this often over the same records")
    parser.add_argument("--digest", action="store_true", help="fix the clock and print a hash of all outputs")
    parser.add_argument("--save", type=Path, help="keep the captured events and their schemas in this file")
    parser.add_argument("--replay", type=Path, help="run the stages on the events a --save kept")
    args = parser.parse_args()
    configure_logging("warning")
    with broker_in_temp_dir() as (tmp, broker):
        hub = None
        try:
            if args.replay:
                messages, registry, hub, args.customers = replay(args.replay, config(broker, tmp))
            else:
                messages, registry, hub = capture(args, tmp, broker)
            if args.save:
                save(args.save, messages, registry, args.customers)
            updates = len(messages) - args.customers
            print(f"{len(messages):,} change events captured ({args.customers:,} snapshot rows, {updates:,} "
                  f"updates), batches of {args.batch}")
            if args.digest:  # the canonical events' ts_ms; the hub's threads keep the real clock
                setattr(workers, "time", SimpleNamespace(time=lambda: FIXED_S, monotonic=time.monotonic))  # noqa: B010
            gc.freeze()  # the captured events stay: the collector would walk them on every full pass, which a
            # pipeline process holding only its batch does not do
            rows = []
            for _ in range(args.rounds):
                digest = hashlib.sha256() if args.digest else None
                rows.append(run_stages(args, messages, registry, tmp, digest))
                if digest is not None:
                    print(f"  outputs and store: sha256 {digest.hexdigest()}")
            raw = min(floor(AvroSerde(RegistryClient(registry)), messages[args.customers:])
                      for _ in range(args.rounds))
            canon_s, unify_s = min(r[0] for r in rows), min(r[1] for r in rows)
            n = max(updates, 1)
            print(f"  CPU per change (best of {args.rounds}): canonicalize {canon_s / n * 1000:.3f} ms, "
                  f"unify {unify_s / n * 1000:.3f} ms, both {(canon_s + unify_s) / n * 1000:.3f} ms")
            print(f"  floor, fastavro decode + encode of each change event: {raw / n * 1000:.3f} ms "
                  f"(stages / floor: {(canon_s + unify_s) / max(raw, 1e-9):.1f}x)")
        finally:
            if hub is not None:
                hub.stop()


if __name__ == "__main__":
    main()
