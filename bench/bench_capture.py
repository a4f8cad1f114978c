"""Capture against Debezium: crmhub's SQL connector and Debezium's PostgreSQL connector in the same run.

Same database, same broker, same workloads, the tools one after the other.

PostgreSQL 15 comes from ``scripts/services.sh start`` (``wal_level=logical``); the broker is a local one on
free ports (``hub.kafka.local.LocalKafka``, as the tests start it); crmhub's registry serves the Avro schemas.

- **crmhub**: ``bench/capture_crmhub.py`` in a process of its own: the hub's ``ConnectorRunner`` over the SQL
  connector, mode timestamp+incrementing (``updated_at``, ``id``), ``poll_interval_ms`` 20, safety delay 50 ms,
  Avro (Confluent wire format) through crmhub's registry.
- **debezium**: Kafka Connect standalone with Debezium's PostgreSQL connector (``bench/capture_debezium.py``;
  ``pgoutput``, JSON converter with its defaults), ``poll.interval.ms`` 20; for the latency workload also
  ``debezium-default`` (poll.interval.ms left at its default).

Workloads, each on a fresh table, topic, tool process (and slot and publication for Debezium):

- ``bulk``: ``--events`` inserts in transactions of ``--tx-rows`` rows, as fast as the database takes them;
- ``warm``: the same, after a warm-up of ``--events`` inserts in the same tool process;
- ``latency``: ``--rate`` updates/s for ``--latency-seconds`` over ``--rate * 5`` preloaded rows, measured after
  ``--latency-warmup`` seconds of the same updates (a fresh JVM takes several seconds to reach its pace; the
  fresh process is what ``bulk`` measures).

Per run: events/s (writes delivered / time from the first write to the last first delivery), latency p50/p99
(the writer's commit time -> the broker's LogAppendTime of the record), lost and duplicated (every record of
the tool's topic read back and compared by id and version with what was written). Tools alternate in order
between repeats. The table ends with the medians over repeats and the ratio crmhub / debezium (poll 20 ms).

``--exactly-once`` adds crmhub with ``exactly_once: true`` (``crmhub-exactly-once``: each batch, its dead letters
and its position in one Kafka transaction) and a second table of its ratios to crmhub at-least-once.

Usage: ``.venv/bin/python bench/bench_capture.py [--workload all] [--events 100000] [--repeat 1] [--quick]
[--exactly-once]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.capture_accounting import Outcome, account, median_outcome, table
from bench.capture_debezium import ConnectWorker, PgTarget
from bench.capture_workloads import (
    Decoder,
    Source,
    Writes,
    create_topic,
    crmhub_after,
    debezium_after,
    delete_topics,
    dsn_of,
    read_back,
    wait_for_records,
)
from bench.local_broker import broker_in_temp_dir
from hub.kafka.clients import KafkaSettings
from hub.kafka.local import free_port
from hub.logsetup import configure_logging
from hub.registry.client import RegistryClient
from hub.registry.serde import AvroSerde
from hub.registry.server import run_registry

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ROOT / "scripts" / "services.sh"
WORKLOADS = ("bulk", "warm", "latency")
POLL_MS, SAFETY_MS = 20, 50


@dataclass(frozen=True)
class Tool:
    label: str
    kind: str  # crmhub | debezium
    poll_ms: int | None  # None: the tool's default
    exactly_once: bool = False  # crmhub: each batch and its position in one Kafka transaction


CRMHUB = Tool("crmhub", "crmhub", POLL_MS)
CRMHUB_EOS = Tool("crmhub-exactly-once", "crmhub", POLL_MS, exactly_once=True)
DEBEZIUM = Tool("debezium", "debezium", POLL_MS)
DEBEZIUM_DEFAULT = Tool("debezium-default", "debezium", None)


@dataclass
class Env:
    args: argparse.Namespace
    settings: KafkaSettings
    registry_url: str
    serde: AvroSerde
    pg_url: str
    dsn: str
    pg: PgTarget
    tmp: Path


class Running(Protocol):
    @property
    def topic(self) -> str: ...

    def terminate(self) -> None: ...  # ask it to stop, without waiting

    def stop(self) -> None: ...


@dataclass
class CrmhubProcess:
    """``bench/capture_crmhub.py`` running one connector."""

    topic: str
    offsets_topic: str
    proc: subprocess.Popen[bytes]

    def terminate(self) -> None:
        self.proc.terminate()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_crmhub(env: Env, name: str, tbl: str, exactly_once: bool = False) -> CrmhubProcess:
    from sqlalchemy.engine import make_url

    url = make_url(env.pg_url)
    folder = env.tmp / name
    folder.mkdir()
    offsets_topic = f"bench.offsets.{name}"
    spec = {"bootstrap": env.settings.bootstrap_servers, "registry": env.registry_url,
            "url": url.set(password=None).render_as_string(hide_password=False), "password": url.password,
            "name": name, "table": tbl, "poll_ms": POLL_MS, "safety_ms": SAFETY_MS,
            "offsets_topic": offsets_topic, "ready": str(folder / "ready"), "exactly_once": exactly_once}
    spec_file = folder / "spec.json"
    spec_file.touch(mode=0o600)
    spec_file.write_text(json.dumps(spec))
    out = open(folder / "crmhub.out", "ab")  # noqa: SIM115 - owned by the child
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "capture_crmhub.py"), str(spec_file)],
                            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    out.close()
    running = CrmhubProcess(f"src.{name}.{tbl}", offsets_topic, proc)
    deadline = time.monotonic() + 180
    while not (folder / "ready").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            running.stop()
            raise RuntimeError(f"crmhub's connector did not start; see {folder / 'crmhub.out'}")
        time.sleep(0.05)
    return running


@dataclass
class DebeziumProcess:
    worker: ConnectWorker

    @property
    def topic(self) -> str:
        return self.worker.topic

    def terminate(self) -> None:
        self.worker.terminate()

    def stop(self) -> None:
        self.worker.stop()


def start_debezium(env: Env, tool: Tool, name: str, tbl: str) -> DebeziumProcess:
    worker = ConnectWorker(env.tmp / name, env.settings.bootstrap_servers, env.pg, name, f"public.{tbl}",
                           tool.poll_ms)
    create_topic(env.settings, worker.topic)
    worker.start()
    try:
        worker.wait_running()
    except Exception:
        worker.stop()
        raise
    return DebeziumProcess(worker)


@contextlib.contextmanager
def started(env: Env, tool: Tool, name: str, tbl: str) -> Iterator[Running]:
    if tool.kind == "crmhub":
        create_topic(env.settings, f"src.{name}.{tbl}")
        proc: Running = start_crmhub(env, name, tbl, tool.exactly_once)
    else:
        proc = start_debezium(env, tool, name, tbl)
    try:
        yield proc
    finally:
        proc.stop()


def run_one(env: Env, tool: Tool, workload: str, name: str) -> Outcome:
    """One tool on one workload, from a fresh table, topic and process; the accounting of its topic."""
    args, tbl = env.args, name
    publication = f"{name}_pub" if tool.kind == "debezium" else None
    src = Source(env.dsn)
    try:
        src.create(tbl, publication)
        keys = list(range(1, args.rate * 5 + 1)) if workload == "latency" else []
        if keys:
            src.insert(tbl, 1, len(keys), args.tx_rows)
        snapshot = len(keys) if tool.kind == "crmhub" else 0  # crmhub reads the preloaded rows first
        decode: Decoder = crmhub_after(env.serde) if tool.kind == "crmhub" else debezium_after
        with started(env, tool, name, tbl) as proc:
            before = snapshot
            if workload == "warm":
                src.insert(tbl, 1, args.events, args.tx_rows)
                before += args.events
                wait_for_records(env.settings, proc.topic, before, args.stall,
                                 quiet_s=3.0 if tool.exactly_once else 0.0)
            if workload == "latency" and args.latency_warmup > 0:  # not measured: the stream runs on into it
                before += len(src.update(tbl, keys, args.rate, args.latency_warmup).commits)
            writes: Writes
            if workload == "latency":
                writes = src.update(tbl, keys, args.rate, args.latency_seconds)
            else:
                writes = src.insert(tbl, before - snapshot + 1, args.events, args.tx_rows)
            wait_for_records(env.settings, proc.topic, before + len(writes.commits), args.stall,
                             quiet_s=3.0 if tool.exactly_once else 0.0)
            time.sleep(1.0)  # a record sent twice right after the last one is still counted
            proc.terminate()  # it stops (a connector waits for its next poll or heartbeat) while the topic is read
            outcome = account(tool.label, workload, writes.commits, read_back(env.settings, proc.topic, decode),
                              writes.started_ms)
        extra = [proc.offsets_topic, f"dlq.{name}"] if isinstance(proc, CrmhubProcess) else []
        delete_topics(env.settings, [proc.topic, *extra])
        return outcome
    finally:
        src.drop(tbl, publication, f"{name}_slot" if publication else None)
        src.close()


def tools_for(workload: str, exactly_once: bool = False) -> list[Tool]:
    tools = [CRMHUB, DEBEZIUM, DEBEZIUM_DEFAULT] if workload == "latency" else [CRMHUB, DEBEZIUM]
    return [CRMHUB, CRMHUB_EOS, *tools[1:]] if exactly_once else tools


def run_all(env: Env) -> list[Outcome]:
    workloads = WORKLOADS if env.args.workload == "all" else (env.args.workload,)
    outcomes: list[Outcome] = []
    n = 0
    for rep in range(env.args.repeat):
        for workload in workloads:
            tools = tools_for(workload, env.args.exactly_once)
            for tool in tools if rep % 2 == 0 else tools[::-1]:  # alternate who goes first
                n += 1
                name = f"cap{os.getpid() % 100000}r{n}"
                out = run_one(env, tool, workload, name)
                outcomes.append(out)
                print(f"  run {rep + 1} {tool.label:<16} {workload:<7} {out.events_per_s:>9,.0f} events/s  "
                      f"p50 {out.p50_ms:8.1f} ms  p99 {out.p99_ms:8.1f} ms  lost {out.lost:,}  "
                      f"duplicated {out.duplicated:,}  load {os.getloadavg()[0]:.2f}", flush=True)
    return outcomes


def summary(outcomes: list[Outcome]) -> list[Outcome]:
    """One row per tool and workload (medians over the repeats), in the order they first ran."""
    groups: dict[tuple[str, str], list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault((o.workload, o.tool), []).append(o)
    order = {t.label: i for i, t in enumerate((CRMHUB, CRMHUB_EOS, DEBEZIUM, DEBEZIUM_DEFAULT))}
    keys = sorted(groups, key=lambda k: (WORKLOADS.index(k[0]), order[k[1]]))
    return [median_outcome(groups[k]) for k in keys]


def pg_url() -> str:
    """The test server's URL, the server started (with logical decoding) if needed."""
    subprocess.run(["bash", str(SERVICES), "start"], check=True, capture_output=True, timeout=300)
    env = subprocess.run(["bash", str(SERVICES), "env"], check=True, capture_output=True, text=True).stdout
    return dict(line.split("=", 1) for line in env.splitlines() if "=" in line)["CRMHUB_TEST_PG_URL"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workload", choices=[*WORKLOADS, "all"], default="all")
    parser.add_argument("--events", type=int, default=100_000, help="inserts of bulk and warm (and the warm-up)")
    parser.add_argument("--tx-rows", type=int, default=1000, help="rows per insert transaction")
    parser.add_argument("--rate", type=int, default=1000, help="updates/s of the latency workload")
    parser.add_argument("--latency-seconds", type=float, default=60.0)
    parser.add_argument("--latency-warmup", type=float, default=10.0,
                        help="seconds of updates before the measured ones (same rate, same process)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--stall", type=float, default=60.0,
                        help="seconds without a new record after which a run counts what is missing as lost")
    parser.add_argument("--exactly-once", action="store_true",
                        help="also run crmhub with exactly_once (ratio to at-least-once printed)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 5,000 events, 4 s of updates after 3 s of warm-up, each workload once")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.latency_seconds, args.latency_warmup, args.repeat = 5000, 4.0, 3.0, 1
    return args


FULL_JIT = ("-XX:TieredStopAtLevel=4",)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    configure_logging("warning")
    logging.getLogger("kafka").setLevel(logging.ERROR)  # the client's own warnings of a busy event loop
    url = pg_url()
    dsn, parts = dsn_of(url)
    # The full JIT: with the local broker's default (the quick compiler only) the broker, not the tools, limited
    # the bulk workloads (docs/benchmarks.md, "Capture against Debezium").
    with broker_in_temp_dir(heap="1g", jvm_options=FULL_JIT) as (tmp, broker):
        settings = KafkaSettings(bootstrap_servers=broker.bootstrap, client_id="bench-capture")
        registry = run_registry(settings, topic="_schemas", port=free_port())
        try:
            env = Env(args, settings, registry.url, AvroSerde(RegistryClient(registry.url)), url, dsn,
                      PgTarget(**parts), tmp)
            print(f"{args.workload}: {args.events:,} inserts per run in transactions of {args.tx_rows:,}; "
                  f"{args.rate:,} updates/s for {args.latency_seconds:.0f} s after {args.latency_warmup:.0f} s; "
                  f"{args.repeat} repeat(s); "
                  f"load {os.getloadavg()[0]:.2f}", flush=True)
            outcomes = run_all(env)
            print("\nmedians over the repeats:\n" + table(summary(outcomes)))
            if args.exactly_once:
                eos = [o for o in summary(outcomes) if o.tool in (CRMHUB.label, CRMHUB_EOS.label)]
                print("\nexactly-once against at-least-once:\n" + table(eos, reference=CRMHUB.label))
        finally:
            registry.stop()


if __name__ == "__main__":
    main()
