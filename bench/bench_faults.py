"""Faults, counted: three `crmhub run` workers sharing one connector (`cluster.group`) and the pipelines on a
PostgreSQL store, a writer updating credit limits at ``--rate`` changes/s throughout, and in turn: kill -9 of
the worker running the connector, kill -9 of another worker, the broker frozen (SIGSTOP) for ``--freeze`` s,
the source database unavailable for ``--source-outage`` s (the SQLite file locked exclusively: no reads, no
writes), kill -9 of every worker and a fresh start. Afterwards every topic is read back and the table printed:

- lost: source rows whose final credit limit is not what unify applied last for that record (the store's
  source records; golden records merge customers, so their values are survivorship's choice);
- duplicated: ``customer.changes`` versions of a golden record published more than once;
- causes: a change whose cause names a record that is not a member of it (merges move members: an upper
  bound), a change that repeats the previous version's canonical event for other fields (a fault), and apart
  from those, one source change that made two versions through two canonical events (customer and credit:
  correct);
- moved in: seconds from the kill until another worker ran the connector (``GET /cluster``).

A benchmark, not a test: it needs the PostgreSQL of ``scripts/services.sh`` and takes a few minutes.

It found workers racing on the store's CREATE TABLE at start (fixed since).

    .venv/bin/python bench/bench_faults.py [--rate 200] [--customers 1000] [--freeze 10]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.bench_e2e import config as e2e_config
from bench.bench_e2e import generate, seed
from hub.kafka.clients import Consumer, KafkaSettings
from hub.kafka.local import LocalKafka, free_port
from hub.registry.client import RegistryClient
from hub.registry.serde import AvroSerde
from schemas.errors import SkippableError

ROOT = Path(__file__).resolve().parents[1]
#: the SQL connector's default: on this busy machine the writer's commits came more than bench_e2e's 50 ms after
#: it stamped their rows (SQLite's writer waits for the connector's reads), and the last ones were never read
SAFETY_DELAY_MS = 2000


def pg_url() -> str:
    out = subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), "env"], capture_output=True, text=True,
                         check=True).stdout
    return next(line.split("=", 1)[1] for line in out.splitlines() if line.startswith("CRMHUB_TEST_PG_URL="))


def store_schema(url: str) -> str:
    name = f"crmhub_faults_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    admin.dispose()
    return sa.engine.make_url(url).update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(
        hide_password=False)


def worker_config(base: str, store: str, admin_port: int, registry_port: int, group: str) -> str:
    lines = []
    for line in base.splitlines():
        if line.startswith("registry:"):
            line = f"registry: {{serve: {{port: {registry_port}, auth: none}}}}"
        elif line.startswith("admin:"):
            line = f"admin: {{port: {admin_port}, auth: none}}"
        elif line.strip().startswith("store:"):
            line = f'  store: {{url: "{store}"}}'
        line = line.replace("safety_delay_ms: 50,", f"safety_delay_ms: {SAFETY_DELAY_MS},")
        lines.append(line)
    return "\n".join(lines) + f"\ncluster: {{group: {group}}}\noffsets: {{flush_interval_ms: 0}}\n"


class Worker:
    def __init__(self, index: int, cfg: Path, admin_port: int, log: Path) -> None:
        self.index, self.cfg, self.admin_port, self.log = index, cfg, admin_port, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "hub", "run", "-c", str(self.cfg), "--only",
                                      "registry,connectors,pipelines,admin"], stdout=self.log.open("ab"),
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def connectors(self) -> list[str]:
        try:
            answer = httpx.get(f"http://127.0.0.1:{self.admin_port}/cluster", timeout=2)
            return list(answer.json().get("connectors") or []) if answer.status_code == 200 else []
        except (httpx.HTTPError, ValueError):
            return []


def owner(workers: list[Worker], timeout: float = 90.0) -> Worker:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = [w for w in workers if "ibmi" in w.connectors()]
        if len(running) == 1:
            return running[0]
        time.sleep(0.2)
    raise SystemExit("no worker runs the connector")


def moved(workers: list[Worker], gone: Worker, since: float) -> float:
    new = owner([w for w in workers if w is not gone])
    print(f"    connector now on worker {new.index}")
    return time.monotonic() - since


def read_back(settings: KafkaSettings, registries: list[str], topic: str) -> list[dict[str, Any]]:
    serdes = [AvroSerde(RegistryClient(url)) for url in registries]  # a follower may not know a new id yet

    def decode(raw: bytes) -> Any:
        for serde in serdes:
            try:
                return serde.deserialize(raw)
            except SkippableError:
                continue
        raise SystemExit(f"no registry knows the schema of a record of {topic}")

    consumer = Consumer(settings, group_id=None)
    consumer.assign(topic)
    out: list[dict[str, Any]] = []
    quiet_since = time.monotonic() + 25.0  # the first records may take a while (a fresh consumer's metadata)
    while time.monotonic() - quiet_since < 5.0:  # then until five seconds bring nothing more
        for m in consumer.poll(500, max_records=5000):
            quiet_since = min(quiet_since, time.monotonic()) if not out else time.monotonic()
            if m.value is not None:
                value = decode(m.value)
                assert isinstance(value, dict)
                out.append(value)
    consumer.close()
    return out


def cause_check(before: dict[str, Any] | None, change: dict[str, Any], members: set[str]) -> str:
    """"" when the cause looks right; else why not: ``not a member`` (the cause names a record that is not a
    member of the golden record's last version: merges move members, so this over-counts), ``same event`` (the
    previous version named the very same canonical event, origin included, for other fields: a real fault) or
    ``same source change`` (the same source row version through another canonical event, e.g. the customer and
    the credit event one source update produces: two versions, one cause, correct)."""
    cause = change.get("cause") or {}
    if cause.get("source_key") not in members | {None}:
        return "not a member"
    if before is None or before["version"] == change["version"] or before.get("fields") == change.get("fields"):
        return ""
    prior = before.get("cause") or {}
    if prior.get("version") != cause.get("version"):
        return ""
    return "same event" if prior.get("origin") == cause.get("origin") else "same source change"


def unapplied(db: Path, store: str) -> list[tuple[str, Decimal, Decimal | None]]:
    """Source rows whose final credit limit is not what unify applied last for them (the store's records)."""
    with sqlite3.connect(db) as c:
        final = {str(int(k)): Decimal(str(v)).quantize(Decimal("0.01")) for k, v in
                 c.execute("SELECT CUSNO, CRLIMIT FROM CUSTMAST")}
    engine = sa.create_engine(store)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT source_key, data FROM source_record WHERE source = 'ibmi'")).all()
    finally:
        engine.dispose()
    applied: dict[str, Decimal | None] = {}
    for key, data in rows:
        body = json.loads(data) if isinstance(data, str) else (data or {})
        limit = body.get("credit_limit")
        applied[str(key)] = None if limit is None else Decimal(str(limit)).quantize(Decimal("0.01"))
    return [(key, limit, applied.get(key)) for key, limit in final.items() if applied.get(key) != limit]


def settle(db: Path, store: str, patience: float = 180.0, limit: float = 400.0) -> tuple[int, float]:
    """Wait until every source row is applied, or nothing moved for ``patience`` s; (rows left, seconds)."""
    start = last_move = shown = time.monotonic()
    left = len(unapplied(db, store))
    while left and time.monotonic() - last_move < patience and time.monotonic() - start < limit:
        time.sleep(2.0)
        now_left = len(unapplied(db, store))
        if now_left < left:
            last_move = time.monotonic()
        left = now_left
        if time.monotonic() - shown >= 10.0:
            shown = time.monotonic()
            print(f"    {shown - start:5.0f} s: {left} rows not applied yet", flush=True)
    return left, time.monotonic() - start


def count(db: Path, store: str, unified: list[dict[str, Any]], changes: list[dict[str, Any]]) -> dict[str, int]:
    missing = unapplied(db, store)
    if missing:
        print(f"  first lost: source key {missing[0][0]} limit {missing[0][1]}, applied {missing[0][2]}")
    lost = len(missing)
    versions: dict[tuple[str, int], int] = defaultdict(int)
    by_golden: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for change in changes:
        versions[(change["golden_id"], change["version"])] += 1
        by_golden[change["golden_id"]].append(change)
    duplicated = sum(n - 1 for n in versions.values() if n > 1)
    members = {v["golden_id"]: {m["source_key"] for m in v.get("members") or ()} for v in unified}
    checks: dict[str, int] = defaultdict(int)
    for gid, seq in by_golden.items():
        seq.sort(key=lambda c: c["version"])
        for before, change in zip([None, *seq], seq, strict=False):
            checks[cause_check(before, change, members.get(gid, set()))] += 1
    with sqlite3.connect(db) as c:
        total = int(c.execute("SELECT COUNT(*) FROM CUSTMAST").fetchone()[0])
    return {"source rows": total, "lost": lost, "changes": len(changes), "duplicated": duplicated,
            "cause not a member": checks["not a member"], "cause repeated": checks["same event"],
            "one source change, two versions": checks["same source change"]}


def source_outage(db: Path, seconds: float, hold: threading.Event) -> str:
    """The SQLite source (rollback journal) locked exclusively: no connection can read or write it, as when its
    server is down; the connector's reads fail until the lock is gone. The writer holds off meanwhile (an
    application cannot write to a database that is down; rows it stamped before blocking would commit with
    stamps older than the safety delay)."""
    hold.set()
    time.sleep(0.2)  # a write already under way finishes
    try:
        with sqlite3.connect(db, timeout=30, isolation_level=None) as lock:
            lock.execute("BEGIN EXCLUSIVE")
            time.sleep(seconds)
            lock.execute("ROLLBACK")
    finally:
        hold.clear()
    return "resumed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--freeze", type=float, default=10.0)
    parser.add_argument("--pause", type=float, default=8.0, help="seconds between faults")
    parser.add_argument("--source-outage", type=float, default=10.0, help="seconds the source is locked")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="crmhub-faults-"))
    broker = LocalKafka(data_dir=tmp / "kafka", port=free_port(), controller_port=free_port())
    broker.up(timeout=120)
    workers: list[Worker] = []
    stop = threading.Event()
    try:
        seed(tmp / "legacy.db", args.customers)
        base = e2e_config(broker, tmp, pipelines={"poll_interval_ms": 20})
        store = store_schema(pg_url())
        group = f"faults{uuid.uuid4().hex[:6]}"
        registry_ports = [free_port() for _ in range(3)]
        for i in range(3):
            cfg = tmp / f"worker{i}.yaml"
            admin_port = free_port()
            cfg.write_text(worker_config(base, store, admin_port, registry_ports[i], group))
            workers.append(Worker(i, cfg, admin_port, tmp / f"worker{i}.log"))
        for w in workers:
            w.start()
        first = owner(workers)
        hold = threading.Event()
        writer = threading.Thread(target=generate, args=(tmp / "legacy.db", args.customers, args.rate, 3600, stop,
                                                         hold), daemon=True)
        writer.start()
        print(f"3 workers, connector on worker {first.index}; writer at {args.rate:.0f} changes/s; logs in {tmp}")
        rows: list[tuple[str, str]] = []
        time.sleep(args.pause)
        print("  kill -9 of the worker running the connector")
        t0 = time.monotonic()
        first.kill()
        rows.append(("kill -9 connector worker", f"moved in {moved(workers, first, t0):.1f} s"))
        first.start()
        time.sleep(args.pause)
        other = next(w for w in workers if "ibmi" not in w.connectors())
        print(f"  kill -9 of worker {other.index} (pipelines only)")
        other.kill()
        time.sleep(2)
        other.start()
        rows.append(("kill -9 pipeline worker", "restarted"))
        time.sleep(args.pause)
        pid = broker.pid()
        assert pid is not None
        print(f"  broker frozen {args.freeze:.0f} s")
        os.kill(pid, signal.SIGSTOP)
        time.sleep(args.freeze)
        os.kill(pid, signal.SIGCONT)
        rows.append((f"broker SIGSTOP {args.freeze:.0f} s", "resumed"))
        time.sleep(args.pause)
        print(f"  source database unavailable {args.source_outage:.0f} s")
        rows.append((f"source database locked {args.source_outage:.0f} s",
                     source_outage(tmp / "legacy.db", args.source_outage, hold)))
        time.sleep(args.pause)
        print("  kill -9 of every worker, then a fresh start")
        t0 = time.monotonic()
        for w in workers:
            w.kill()
        for w in workers:
            w.start()
        owner(workers)
        rows.append(("kill -9 all, start again", f"connector running after {time.monotonic() - t0:.1f} s"))
        time.sleep(args.pause)
        stop.set()
        writer.join(30)
        print("  writer stopped; waiting until unify has applied every source row")
        left, took = settle(tmp / "legacy.db", store)
        rows.append(("catching up after the writer stopped", f"{took:.0f} s ({left} rows not applied)"))
        settings = KafkaSettings(bootstrap_servers=broker.bootstrap)
        registries = [f"http://127.0.0.1:{port}" for port in registry_ports]
        counts = count(tmp / "legacy.db", store, read_back(settings, registries, "customer.unified"),
                       read_back(settings, registries, "customer.changes"))
        print("\n| fault | outcome |\n|---|---|")
        for fault, outcome in rows:
            print(f"| {fault} | {outcome} |")
        print("\n| " + " | ".join(counts) + " |\n|" + "---|" * len(counts) + "\n| "
              + " | ".join(f"{v:,}" for v in counts.values()) + " |")
    finally:
        stop.set()
        for w in workers:
            w.stop()
        broker.down()


if __name__ == "__main__":
    main()
