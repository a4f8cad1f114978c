"""End-to-end latency: source commit → unified record published, with a generator making ``--rate`` changes/s.

A local Kafka broker (KRaft, this repo's jars) and the whole hub (registry, the SQL connector on an IBM i-shaped
SQLite ``CUSTMAST`` in timestamp mode, canonicalize and unify into an SQLite store) run in this process. A
generator updates ``--customers`` customers' credit limits at ``--rate`` changes/s for ``--seconds`` (each row
written with its change timestamp, committed in small transactions); a consumer reads ``customer.unified`` and
takes, per received golden record, ``now - lineage.credit_limit.ts_ms`` (the source change time of the value it
carries): source commit → unified record published and delivered. The baseline in the same run is the raw
client: kafka-python producing timestamped records at the same rate and a consumer reading them back, then
the same as fast as it goes (records/s, the median of three runs), over which the changes/s the hub delivered
(first change → last record).

With ``--processes`` the hub runs as ``crmhub run`` processes instead, one per ``--only`` role group
(default ``registry,connectors,canonicalize`` and ``unify``), as an operator spreads the stages over cores.

Over the measured window (generator start → last record received) it prints the CPU each process used
(``/proc/<pid>/stat``), in cores and in ms of CPU per change: the hub's processes, their total, and the broker.

Targets: p50 under 250 ms and p99 under 1 s at 2,000 changes/s (``--processes``); end to end / raw at least 0.1.

``--linger-ms`` and ``--compression`` set the hub's ``kafka.producer`` batching (the raw client keeps its own),
``--fetch-min-bytes`` and ``--fetch-max-wait-ms`` its pipeline consumers' fetches (``pipelines.fetch_*``),
``--pipelines-poll-ms`` how long their polls wait for records (``pipelines.poll_interval_ms``; unset: its default).
``--broker-warmup SECONDS`` first runs raw-client traffic on the new broker (a JVM just started uses several
times the CPU it uses once its JIT has compiled the hot paths) and prints the broker's cores per 10 s;
``--broker-jvm-options`` replaces the local broker's extra JVM options (``''``: the JVM's full JIT).

Usage: ``.venv/bin/python bench/bench_e2e.py [--rate 1000] [--seconds 20] [--customers 2000] [--processes]
[--linger-ms MS] [--compression CODEC] [--fetch-min-bytes N] [--fetch-max-wait-ms MS] [--pipelines-poll-ms MS]
[--broker-warmup S] [--broker-jvm-options OPTIONS]``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.local_broker import broker_in_temp_dir
from bench.proc_cpu import CpuWindow
from bench.raw_client import SMALL_BATCH, WARMUP_RATE, measure_raw, percentiles, raw_max_median, warm_broker
from hub.config import validate_config_text
from hub.kafka.clients import Consumer, KafkaSettings
from hub.kafka.local import LocalKafka, free_port
from hub.logsetup import configure_logging
from hub.registry.client import RegistryClient
from hub.registry.serde import AvroSerde
from hub.runtime.hub import Hub
from schemas.errors import SkippableError
from schemas.unified import UNIFIED_TOPIC

ROOT = Path(__file__).resolve().parent.parent


def now_text() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")


def seed(db: Path, n: int) -> None:
    with sqlite3.connect(db) as c:
        c.execute("""CREATE TABLE CUSTMAST (CUSNO NUMERIC(7,0) NOT NULL PRIMARY KEY, CUSNAM CHAR(30) NOT NULL,
                     CRSTAT CHAR(1) NOT NULL, CRLIMIT DECIMAL(11,2) NOT NULL, CNTRY CHAR(2) NOT NULL,
                     AGENT CHAR(5), CHGTS TIMESTAMP NOT NULL)""")
        c.execute("CREATE INDEX CUSTMAST_CHGTS ON CUSTMAST (CHGTS)")
        c.executemany("INSERT INTO CUSTMAST VALUES (?, ?, 'A', ?, 'DE', 'AGT07', ?)",
                      [(200000 + i, f"CUSTOMER {i} GMBH".ljust(30), "1000.00", now_text()) for i in range(n)])


def generate(db: Path, n: int, rate: float, seconds: float, stop: threading.Event,
             hold: threading.Event | None = None) -> tuple[int, float]:
    """Update credit limits at ``rate`` changes/s in transactions of ~20 ms; returns (changes made, seconds).
    While ``hold`` is set (the database is down) it writes nothing, as an application that cannot reach it."""
    made, tick = 0, 0.02
    per_tick = max(1, round(rate * tick))
    start = time.perf_counter()
    with sqlite3.connect(db, timeout=30) as c:
        while not stop.is_set() and time.perf_counter() - start < seconds:
            due = start + made / rate
            time.sleep(max(0.0, due - time.perf_counter()))  # one clock reading: never a negative sleep
            while hold is not None and hold.is_set() and not stop.is_set():
                time.sleep(0.01)
            rows = [(f"{1000 + (made + k) % 90000}.00", now_text(), 200000 + (made + k) % n) for k in range(per_tick)]
            c.executemany("UPDATE CUSTMAST SET CRLIMIT = ?, CHGTS = ? WHERE CUSNO = ?", rows)
            c.commit()
            made += per_tick
    return made, time.perf_counter() - start


def config(broker: LocalKafka, tmp: Path, log_level: str = "warning", producer: Mapping[str, object] = {},
           pipelines: Mapping[str, object] = {}) -> str:
    """The hub's config; ``producer``: the ``kafka.producer`` section, ``pipelines``: more keys of ``pipelines``."""
    maps = tmp / "mappings"
    maps.mkdir()
    (maps / "ibmi.CUSTMAST.yaml").write_text((ROOT / "config" / "mappings" / "ibmi.CUSTMAST.yaml").read_text())
    return f"""
kafka: {{bootstrap_servers: "{broker.bootstrap}", producer: {{{", ".join(f"{k}: {v}" for k, v in producer.items())}}}}}
registry: {{serve: {{port: {free_port()}, auth: none}}}}  # the bench reads schemas on loopback
admin: {{port: {free_port()}}}
lag: {{enabled: false}}
logging: {{level: "{log_level}"}}
connectors:
  - kind: sql
    name: ibmi
    url: sqlite:///{tmp / "legacy.db"}
    poll_interval_ms: 20
    state_dir: {tmp / "state"}
    tables:
      - {{name: CUSTMAST, mode: timestamp, timestamp_column: CHGTS, key_columns: [CUSNO], safety_delay_ms: 50,
         trim_char: true}}
pipelines:
  mappings: [{maps}]
  store: {{url: "sqlite:///{tmp / "store.db"}"}}
""" + "".join(f"  {k}: {v}\n" for k, v in pipelines.items())


@contextlib.contextmanager
def running_hub(cfg: Any, cfg_text: str, tmp: Path, groups: list[str]) -> Iterator[dict[str, int]]:
    """The hub's roles in this process (no ``groups``), or one ``crmhub run --only`` process per group; yields
    the hub's process ids by name."""
    if not groups:
        hub = Hub(cfg, frozenset({"registry", "connectors", "pipelines"}))
        hub.start()
        try:
            yield {"this process (hub, generator, consumer)": os.getpid()}
        finally:
            hub.stop()
        return
    path = tmp / "crmhub.yaml"
    path.write_text(cfg_text)
    assert cfg.registry.serve is not None
    registry = f"http://127.0.0.1:{cfg.registry.serve.port}/subjects"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for group in groups:
            procs.append(subprocess.Popen([sys.executable, "-m", "hub", "run", "-c", str(path), "--only", group],
                                          cwd=ROOT, stdin=subprocess.DEVNULL))
            if "registry" in group:  # the others read schemas from it
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    with contextlib.suppress(httpx.HTTPError):
                        if httpx.get(registry, timeout=1).status_code == 200:
                            break
                    time.sleep(0.2)
        yield {f"crmhub run --only {group}": proc.pid for group, proc in zip(groups, procs, strict=True)}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def measure_hub(cfg_text: str, tmp: Path, args: argparse.Namespace,
                broker_pid: int | None) -> tuple[list[float], int, float, float]:
    cfg = validate_config_text(cfg_text)
    with running_hub(cfg, cfg_text, tmp, args.processes or []) as hub_pids:
        pids = dict(hub_pids)
        if args.processes:
            pids["bench (generator, consumer)"] = os.getpid()
        if broker_pid is not None:
            pids["broker"] = broker_pid
        cpu = CpuWindow(pids)
        out = _measure(cfg, tmp, args, cpu)
        print(f"  CPU over {cpu.wall_s:.1f} s, per process and per change ({out[1]:,} changes):")
        print("\n".join(cpu.report(out[1], {"hub total": list(hub_pids)})))
        return out


def _measure(cfg: Any, tmp: Path, args: argparse.Namespace, cpu: CpuWindow) -> tuple[list[float], int, float, float]:
    """Latencies, changes made, the generator's seconds, and seconds from its start to the last record received."""
    settings = KafkaSettings(bootstrap_servers=cfg.kafka.bootstrap_servers)
    assert cfg.registry.serve is not None
    serde = AvroSerde(RegistryClient(f"http://127.0.0.1:{cfg.registry.serve.port}"))
    latencies: list[float] = []
    received: list[float] = []  # when each latency was taken (monotonic s), for --timeline
    consumer = Consumer(settings, group_id=None)
    try:
        deadline = time.monotonic() + 120  # the snapshot first: every customer's golden record
        seen: set[str] = set()
        while len(seen) < args.customers and time.monotonic() < deadline:
            for m in _poll_unified(consumer, serde):
                seen.add(m["golden_id"])
        print(f"  snapshot: {len(seen):,} golden records")
        stop = threading.Event()
        made: list[tuple[int, float]] = []
        started_ms = time.time() * 1000
        gen = threading.Thread(target=lambda: made.append(generate(tmp / "legacy.db", args.customers, args.rate,
                                                                   args.seconds, stop)))
        cpu.start()
        gen.start()
        gen_start = time.monotonic()
        tail_until = time.monotonic() + args.seconds + 30
        last = time.monotonic()
        while time.monotonic() < tail_until:
            for value in _poll_unified(consumer, serde):
                ts = value["lineage"].get("credit_limit", {}).get("ts_ms")
                if ts and ts > 0:
                    latencies.append(time.time() * 1000 - ts)
                    last = time.monotonic()
                    received.append(last)
            # done when every change arrived, or nothing did for 5 s after the generator stopped (two changes
            # of one customer in one unify batch give one golden record)
            if not gen.is_alive() and (len(latencies) >= made[0][0] or time.monotonic() - last > 5):
                break
        gen.join()
        cpu.stop()
        if args.timeline:
            timeline(received, latencies)
        stages(settings, serde, started_ms)
        return latencies, made[0][0], made[0][1], (received[-1] - gen_start) if received else float("inf")
    finally:
        consumer.close()


def timeline(received: list[float], latencies: list[float], step_s: float = 2.0) -> None:
    """p50 / max of the latencies received in each ``step_s`` window: a stall shows as one bad window."""
    if not received:
        return
    t0 = received[0]
    windows: dict[int, list[float]] = {}
    for at, ms in zip(received, latencies, strict=True):
        windows.setdefault(int((at - t0) // step_s), []).append(ms)
    cells = []
    for i in sorted(windows):
        s = sorted(windows[i])
        cells.append(f"{i * step_s:>4.0f}s {s[len(s) // 2]:5.0f}/{s[-1]:5.0f}")
    print(f"  by {step_s:.0f} s window (p50/max ms): " + "  ".join(cells))


def stages(settings: KafkaSettings, serde: AvroSerde, since_ms: float) -> None:
    """Where the time goes: per topic on the way, Kafka's record time (when it was produced) minus the source
    commit time the record carries, for the changes of the measured run."""
    hops: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
        ("src.ibmi.custmast", lambda v: v["source"]["ts_ms"]), ("canon.customer", lambda v: v["source_ts_ms"]),
        (UNIFIED_TOPIC, lambda v: v["lineage"].get("credit_limit", {}).get("ts_ms", 0))]
    for topic, source_ts in hops:
        consumer = Consumer(settings, group_id=None)
        consumer.assign(topic)
        delays: list[float] = []
        while batch := consumer.poll(1000):
            for m in batch:
                try:
                    value = serde.deserialize(m.value) if m.value else None
                except SkippableError:
                    continue
                ts = source_ts(value) if isinstance(value, dict) else 0
                if ts and ts >= since_ms:
                    delays.append(m.timestamp_ms - ts)
        consumer.close()
        print(f"    produced to {topic:<22} {percentiles(delays)}")


_assigned: set[int] = set()


def _poll_unified(consumer: Consumer, serde: AvroSerde) -> list[dict[str, Any]]:
    if id(consumer) not in _assigned:
        consumer.assign(UNIFIED_TOPIC)
        _assigned.add(id(consumer))
    out = []
    for m in consumer.poll(100):
        if m.value is None:
            continue
        try:
            value = serde.deserialize(m.value)
        except SkippableError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--timeline", action="store_true", help="also print p50/max per 2 s window")
    parser.add_argument("--log-level", default="warning", help="the hub's log level (e.g. info)")
    parser.add_argument("--processes", nargs="*", metavar="ROLES",
                        help="run the hub as one `crmhub run --only ROLES` process per argument "
                             "(no argument: registry,connectors,canonicalize and unify)")
    parser.add_argument("--linger-ms", type=int, help="the hub's kafka.producer.linger_ms (default: the config's)")
    parser.add_argument("--compression", help="the hub's kafka.producer.compression_type (gzip, lz4 ...)")
    parser.add_argument("--fetch-min-bytes", type=int, help="the hub's pipelines.fetch_min_bytes")
    parser.add_argument("--fetch-max-wait-ms", type=int, help="the hub's pipelines.fetch_max_wait_ms")
    parser.add_argument("--pipelines-poll-ms", type=int,
                        help="the hub's pipelines.poll_interval_ms (default: the config's default)")
    parser.add_argument("--broker-warmup", type=float, default=0.0, metavar="SECONDS",
                        help="raw-client traffic on the new broker before the hub starts, until its JIT has "
                             "compiled its hot paths (0: measure on a cold broker)")
    parser.add_argument("--broker-jvm-options", metavar="OPTIONS",
                        help="the broker's extra JVM options, space-separated (default: kafka.local.jvm_options' "
                             "default; '': none, the JVM's full JIT)")
    args = parser.parse_args()
    if args.processes == []:
        args.processes = ["registry,connectors,canonicalize", "unify"]
    configure_logging("warning")
    jvm = {} if args.broker_jvm_options is None else {"jvm_options": tuple(args.broker_jvm_options.split())}
    with broker_in_temp_dir(**jvm) as (tmp, broker):
        seed(tmp / "legacy.db", args.customers)
        print(f"{args.rate:.0f} changes/s for {args.seconds:.0f} s over {args.customers:,} customers")
        if args.broker_warmup > 0:
            pid = broker.pid()
            assert pid is not None
            cores = warm_broker(KafkaSettings(bootstrap_servers=broker.bootstrap), pid, args.broker_warmup)
            print(f"  broker warmed up for {args.broker_warmup:.0f} s (raw client, {WARMUP_RATE:,.0f} records/s in "
                  f"batches of {SMALL_BATCH}): {', '.join(f'{c:.2f}' for c in cores)} cores per 10 s")
        producer = {"linger_ms": args.linger_ms, "compression_type": args.compression}
        pipelines = {"fetch_min_bytes": args.fetch_min_bytes, "fetch_max_wait_ms": args.fetch_max_wait_ms,
                     "poll_interval_ms": args.pipelines_poll_ms}
        cfg_text = config(broker, tmp, args.log_level, {k: v for k, v in producer.items() if v is not None},
                          {k: v for k, v in pipelines.items() if v is not None})
        latencies, made, elapsed, span = measure_hub(cfg_text, tmp, args, broker.pid())
        print(f"  hub, source commit -> unified record received: {percentiles(latencies)}  ({made:,} changes "
              f"made, {made / elapsed:,.0f}/s; delivered {made / span:,.0f}/s, first change to last record)")
        raw = measure_raw(KafkaSettings(bootstrap_servers=broker.bootstrap), args.rate, args.seconds)
        print(f"  raw kafka-python produce -> consume:           {percentiles(raw)}")
        raw_max, runs = raw_max_median(KafkaSettings(bootstrap_servers=broker.bootstrap))
        print(f"  raw kafka-python produce + consume as fast as it goes: {raw_max:,.0f} records/s (median of "
              f"{', '.join(f'{r:,.0f}' for r in runs)}); end to end (delivered) / raw: {made / span / raw_max:.3f} "
              "(target >= 0.1)")
        s = sorted(latencies) or [float("inf")]  # p50 and p99 read as percentiles() reads them
        p50, p99 = s[len(s) // 2], s[min(len(s) - 1, int(0.99 * len(s)))]
        met = p50 < 250 and p99 < 1000 and made >= 0.99 * args.rate * elapsed
        print(f"  p50 < 250 ms and p99 < 1 s at {args.rate:,.0f}/s (target 2,000): {'met' if met else 'not met'}")


if __name__ == "__main__":
    main()
