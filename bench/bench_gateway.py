"""Gateway benchmark: a golden record by id over loopback at a fixed request rate, latency percentiles.

A SQLite store is filled with ``--records`` golden records through the real unify engine; the real gateway
app (token check, field policy, audit row per request, queued and written in batches) is served by uvicorn in a
thread, as ``crmhub run`` does. A load client sends ``GET /customers/{id}`` for random ids at ``--rate``
requests/s (open loop: each request is sent on its schedule, whatever the previous one's latency) and prints
p50/p90/p99/max of the time from sending a request to having read its whole response. The baseline in the same
run: a bare FastAPI route on the same server stack answering a fixed JSON body (what HTTP, the framework and
the client cost without the store, the auth and the audit). The two alternate in ``--rounds`` slices of
``--seconds / --rounds`` each, so a neighbour's load on the machine falls on both alike.

The load client (``--client process``, the default) is a separate process, as a CRM front end would be: one
asyncio loop over ``--connections`` keep-alive connections, a few tens of microseconds per request, and it
does not compete with the server for the GIL. ``--client threads`` is the earlier client: 8 httpx threads in
the server's own process (its figures include the client's share of the GIL).

Target: p99 under 5 ms at 200 requests/s.

Usage: ``.venv/bin/python bench/bench_gateway.py [--records 2000] [--rate 200] [--seconds 15] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.identity_data import generate
from hub.config import validate_config_text
from hub.gateway.app import close_gateway_app, create_gateway_app
from hub.gateway.tokens import create_token
from hub.kafka.local import free_port
from hub.logsetup import configure_logging
from hub.registry.server import serve_in_thread
from pipelines.store import views
from pipelines.store.engine import Store
from pipelines.unify.engine import Unifier
from schemas.canonical import UPSERT, CanonicalEvent, coerce, make_version

TARGET_P99_MS, TARGET_RATE = 5.0, 200.0


# --- the load client (its own process) ----------------------------------------------------------------------------


async def _one(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes) -> int:
    reader, writer = conn
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line[:15].lower() == b"content-length:"), None)
    if length is None:
        raise RuntimeError(f"HTTP {status} without Content-Length")
    await reader.readexactly(length)
    return status


async def _load(host: str, port: int, paths: list[str], headers: dict[str, str], rate: float, seconds: float,
                connections: int) -> dict[str, object]:
    """Open loop: request i is due at start + i / rate, on the next free keep-alive connection. Latency: from
    sending to the last byte of the response; ``late``: how long after its due time a request was sent."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    requests = [f"GET {p} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode() for p in paths]
    free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        free.put_nowait(await asyncio.open_connection(host, port))
    loop = asyncio.get_running_loop()
    n, start = int(rate * seconds), loop.time() + 0.2
    latencies: list[float] = []
    late: list[float] = []
    failures: list[str] = []

    async def fire(i: int) -> None:
        conn = await free.get()
        t0 = time.perf_counter()
        late.append((loop.time() - (start + i / rate)) * 1000)
        try:
            status = await _one(conn, requests[i % len(requests)])
            latencies.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                failures.append(f"HTTP {status} for {paths[i % len(paths)]}")
        finally:
            free.put_nowait(conn)

    tasks = []
    for i in range(n):
        pause = start + i / rate - loop.time()
        if pause > 0:
            await asyncio.sleep(pause)
        tasks.append(asyncio.create_task(fire(i)))
    await asyncio.gather(*tasks)
    while not free.empty():
        free.get_nowait()[1].close()
    return {"latencies": latencies, "late": late, "failures": failures[:5], "failed": len(failures)}


def load_client_main() -> None:
    """``--load-client``: for each job (a JSON line) on stdin, its result as a JSON line on stdout."""
    for line in sys.stdin:
        print(json.dumps(asyncio.run(_load(**json.loads(line)))), flush=True)


# --- the bench -----------------------------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    url: str
    paths: list[str]
    headers: dict[str, str]
    latencies: list[float] = field(default_factory=list)
    late: list[float] = field(default_factory=list)
    cpu_s: float = 0.0  # CPU time of this process (the servers, the audit writer) while this target was loaded


class ProcessClient:
    """The load client in its own process (this file with ``--load-client``), kept for the whole run."""

    def __init__(self, connections: int) -> None:
        self.connections = connections
        self.proc = subprocess.Popen([sys.executable, __file__, "--load-client"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def run(self, target: Target, rate: float, seconds: float) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        host, port = target.url.removeprefix("http://").rsplit(":", 1)
        job = {"host": host, "port": int(port), "paths": target.paths, "headers": target.headers, "rate": rate,
               "seconds": seconds, "connections": self.connections}
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the load client exited ({self.proc.wait()})")
        result = json.loads(line)
        if result["failed"]:
            raise RuntimeError(f"{result['failed']} requests failed, e.g. {result['failures']}")
        target.latencies.extend(result["latencies"])
        target.late.extend(result["late"])

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(10)


def run_thread_load(target: Target, rate: float, seconds: float, workers: int = 8) -> None:
    """The earlier client: ``workers`` httpx threads in this process, request i due at start + i / rate."""
    import httpx

    lock = threading.Lock()
    n = int(rate * seconds)
    start = time.perf_counter() + 0.2

    def worker(k: int) -> None:
        with httpx.Client(headers=target.headers, timeout=10) as client:
            for i in range(k, n, workers):
                pause = start + i / rate - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                t0 = time.perf_counter()
                r = client.get(target.url + target.paths[i % len(target.paths)])
                ms = (time.perf_counter() - t0) * 1000
                if r.status_code != 200:
                    raise RuntimeError(f"HTTP {r.status_code}: {r.text[:200]}")
                with lock:
                    target.latencies.append(ms)
                    target.late.append((t0 - (start + i / rate)) * 1000)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(target: Target) -> tuple[float, float]:
    lat = target.latencies
    p50, p99 = statistics.median(lat), pct(lat, 0.99)
    print(f"  {target.name:<34} n={len(lat):>5}  p50 {p50:6.2f} ms  p90 {pct(lat, 0.90):6.2f} ms  "
          f"p99 {p99:6.2f} ms  max {max(lat):6.2f} ms  (sent late: p99 {pct(target.late, 0.99):5.2f} ms)")
    return p50, p99


def verdict(p50: float, p99: float, baseline_p99: float, rate: float) -> None:
    met = p99 < TARGET_P99_MS and rate >= TARGET_RATE
    print(f"  target: p99 < {TARGET_P99_MS:g} ms at {TARGET_RATE:.0f} requests/s -> "
          f"{'MET' if met else 'NOT MET'} (p50 {p50:.2f} ms, p99 {p99:.2f} ms at {rate:.0f}/s)")
    if not met and baseline_p99 >= TARGET_P99_MS:
        print(f"  note: the bare route misses the target too (p99 {baseline_p99:.2f} ms): the machine was busy "
              "during this run; measure again when it is quiet")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=TARGET_RATE)
    parser.add_argument("--seconds", type=float, default=15.0, help="per target, over all rounds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--client", choices=("process", "threads"), default="process")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections (--client process)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--load-client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_client:
        load_client_main()
        return
    bench(args)


def bench(args: argparse.Namespace) -> None:
    configure_logging("warning")  # as the hub runs: no line per request
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cfg = validate_config_text(f"gateway: {{tokens_file: {folder / 'tokens.yaml'}}}\n"
                                   f"pipelines: {{store: {{url: 'sqlite:///{folder / 'store.db'}'}}}}\n")
        store = Store(cfg.pipelines.store.url if cfg.pipelines else "")
        ids = fill(store, args.records, args.seed)
        random.Random(args.seed).shuffle(ids)
        gc.collect()  # the fill's garbage is the bench's, not the gateway's: no full collection during the load
        token = create_token(cfg.gateway.tokens_file, "bench", "agent", set(cfg.gateway.effective_roles()))
        app = create_gateway_app(cfg, store)
        gateway = serve_in_thread(app, "127.0.0.1", free_port())
        bare = FastAPI()
        body = {"golden_id": "G000000001", "data": {"org_name": "Mueller GmbH"}}
        bare.get("/customers/{golden_id}")(lambda golden_id: body)
        baseline = serve_in_thread(bare, "127.0.0.1", free_port())
        paths = [f"/customers/{g}" for g in ids]
        targets = [Target("gateway GET /customers/{id}", gateway.url, paths, {"Authorization": f"Bearer {token}"}),
                   Target("bare FastAPI route (baseline)", baseline.url, paths, {})]
        slice_s = args.seconds / args.rounds
        client = ProcessClient(args.connections) if args.client == "process" else None
        try:
            print(f"{len(ids):,} golden records; {args.rate:.0f} requests/s, {args.seconds:.0f} s per target in "
                  f"{args.rounds} alternating rounds, open loop; client: {args.client}")
            for target in targets:  # warm up (connections, caches); not counted
                run_thread_load(Target(target.name, target.url, paths[:50], target.headers), 50, 1, workers=2)
            load_before = os.getloadavg()[0]
            for _ in range(args.rounds):
                for target in targets:
                    cpu = time.process_time()
                    if client is not None:
                        client.run(target, args.rate, slice_s)
                    else:
                        run_thread_load(target, args.rate, slice_s)
                    target.cpu_s += time.process_time() - cpu
            (p50, p99), (_, raw99) = report(targets[0]), report(targets[1])
            audit = app.state.audit
            audit.flush()
            print(f"  p99 ratio gateway / baseline: {p99 / raw99:.1f}; audit rows written {audit.written:,}, "
                  f"refused {audit.rejected}; load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after "
                  f"({os.cpu_count()} CPUs)")
            if args.client == "process":
                per = [t.cpu_s / len(t.latencies) * 1e6 for t in targets]
                print(f"  server CPU per request: gateway {per[0]:.0f} us, baseline {per[1]:.0f} us "
                      f"(ratio {per[0] / per[1]:.1f})")
            verdict(p50, p99, raw99, args.rate)
        finally:
            if client is not None:
                client.close()
            gateway.stop()
            baseline.stop()
            close_gateway_app(app)
            store.dispose()


if __name__ == "__main__":
    main()
