"""Gateway benchmark: a golden record by id over loopback at a fixed request rate, latency percentiles.

A SQLite store is filled with ``--records`` golden records through the real unify engine; the real gateway
app (token check, field policy, audit row per request) is served by uvicorn in a thread, as ``crmhub run``
does. A client sends ``GET /customers/{id}`` for random ids at ``--rate`` requests/s (open loop: each request
is sent on its schedule, whatever the previous one's latency) for ``--seconds``, and prints p50/p90/p99/max.
The baseline in the same run: a bare FastAPI route on the same server stack answering a fixed JSON body
(what HTTP, the framework and the client cost without the store, the auth and the audit).

Target (issue 5): p99 under 5 ms at 200 requests/s.

Usage: ``.venv/bin/python bench/bench_gateway.py [--records 2000] [--rate 200] [--seconds 15]``
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.identity_data import generate
from hub.config import validate_config_text
from hub.gateway.app import create_gateway_app
from hub.gateway.tokens import create_token
from hub.kafka.local import free_port
from hub.logsetup import configure_logging
from hub.registry.server import serve_in_thread
from pipelines.store import views
from pipelines.store.engine import Store
from pipelines.unify.engine import Unifier
from schemas.canonical import UPSERT, CanonicalEvent, coerce, make_version


def fill(store: Store, n: int, seed: int) -> list[str]:
    events = []
    for i, (source, key, data, _eid) in enumerate(generate(n, seed)[:n]):
        record, _ = coerce("customer", data)
        events.append(CanonicalEvent("customer", source, "CUSTOMER", key, UPSERT, make_version(1_000 + i, 0, i),
                                     1_000 + i, 1_000 + i, f"canon/0/{i}", record))
    unifier = Unifier(store)
    for i in range(0, len(events), 500):
        unifier.apply(events[i:i + 500])
    unifier.flush(lambda records: None)
    with store.read() as conn:
        return [g.golden_id for g in views.iter_golden(conn)]


def run_load(url_of: list[str], headers: dict[str, str], rate: float, seconds: float) -> list[float]:
    """Open-loop load: request i is due at start + i / rate; latencies in ms (errors raise)."""
    latencies: list[float] = []
    lock = threading.Lock()
    n = int(rate * seconds)
    start = time.perf_counter() + 0.2

    def worker(k: int, workers: int) -> None:
        with httpx.Client(headers=headers, timeout=10) as client:
            for i in range(k, n, workers):
                due = start + i / rate
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                t0 = time.perf_counter()
                r = client.get(url_of[i % len(url_of)])
                ms = (time.perf_counter() - t0) * 1000
                if r.status_code != 200:
                    raise RuntimeError(f"HTTP {r.status_code}: {r.text[:200]}")
                with lock:
                    latencies.append(ms)

    threads = [threading.Thread(target=worker, args=(k, 8)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, lat: list[float]) -> float:
    p99 = pct(lat, 0.99)
    print(f"  {name:<34} n={len(lat):>5}  p50 {statistics.median(lat):6.2f} ms  p90 {pct(lat, 0.90):6.2f} ms  "
          f"p99 {p99:6.2f} ms  max {max(lat):6.2f} ms")
    return p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    configure_logging("warning")  # as the hub runs: no line per request
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cfg = validate_config_text(f"gateway: {{tokens_file: {folder / 'tokens.yaml'}}}\n"
                                   f"pipelines: {{store: {{url: 'sqlite:///{folder / 'store.db'}'}}}}\n")
        store = Store(cfg.pipelines.store.url if cfg.pipelines else "")
        ids = fill(store, args.records, args.seed)
        random.Random(args.seed).shuffle(ids)
        token = create_token(cfg.gateway.tokens_file, "bench", "agent", set(cfg.gateway.effective_roles()))
        gateway = serve_in_thread(create_gateway_app(cfg, store), "127.0.0.1", free_port())
        bare = FastAPI()
        body = {"golden_id": "G000000001", "data": {"org_name": "Mueller GmbH"}}
        bare.get("/customers/{golden_id}")(lambda golden_id: body)
        baseline = serve_in_thread(bare, "127.0.0.1", free_port())
        try:
            print(f"{len(ids):,} golden records; {args.rate:.0f} requests/s for {args.seconds:.0f} s each, open loop")
            auth = {"Authorization": f"Bearer {token}"}
            run_load([f"{gateway.url}/customers/{g}" for g in ids[:50]], auth, 50, 1)  # warm up
            p99 = report("gateway GET /customers/{id}", run_load([f"{gateway.url}/customers/{g}" for g in ids],
                                                                 auth, args.rate, args.seconds))
            raw = report("bare FastAPI route (baseline)", run_load([f"{baseline.url}/customers/{g}" for g in ids],
                                                                   {}, args.rate, args.seconds))
            print(f"  p99 ratio gateway / baseline: {p99 / raw:.1f}")
            print(f"  target p99 < 5 ms at 200 requests/s: {'met' if p99 < 5 and args.rate >= 200 else 'not met'}")
        finally:
            gateway.stop()
            baseline.stop()
            store.dispose()


if __name__ == "__main__":
    main()
