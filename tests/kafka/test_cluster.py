"""Connectors shared by two `crmhub run` workers through Kafka's group membership protocol: each connector runs
in exactly one worker; after kill -9 of the worker running one, the other runs it within the session timeout,
resuming from its saved position, and no source row is missing from its topic."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.kafka.clients import KafkaSettings
from hub.kafka.local import LocalKafka, free_port
from hub.registry.server import RegistryService, run_registry
from tests.kafka.test_faults import ids_in_topic, insert, make_source

pytestmark = pytest.mark.kafka

NAMES = ("orders_a", "orders_b")


@pytest.fixture()
def own_registry(kafka_settings: KafkaSettings) -> Iterator[RegistryService]:
    service = run_registry(kafka_settings, topic=f"_schemas_cluster_{os.getpid()}_{time.monotonic_ns()}",
                           port=free_port())
    yield service
    service.stop()


def worker_config(broker: LocalKafka, registry: str, tmp: Path, admin_port: int, group: str) -> str:
    connectors = "".join(f"""
  - kind: sql
    name: {name}
    url: "sqlite:///{tmp / (name + '.db')}"
    poll_interval_ms: 100
    batch_size: 200
    tables: [{{name: orders, mode: incrementing, incrementing_column: id}}]
""" for name in NAMES)
    return f"""
kafka: {{bootstrap_servers: "{broker.bootstrap}"}}
registry: {{url: "{registry}"}}
admin: {{port: {admin_port}}}
gateway: {{tokens_file: {tmp / "tokens.yaml"}}}
offsets: {{topic: crmhub.offsets.{group}}}
cluster: {{group: {group}, session_timeout_ms: 6000, heartbeat_interval_ms: 1000}}
logging: {{level: INFO}}
connectors:{connectors}"""


def running(admin_port: int, tmp: Path) -> list[str] | None:
    token = (tmp / "service-token").read_text().strip() if (tmp / "service-token").exists() else ""
    try:
        answer = httpx.get(f"http://127.0.0.1:{admin_port}/cluster", timeout=2,
                           headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError:
        return None
    return list(answer.json()["connectors"]) if answer.status_code == 200 else None


def wait_until(check: object, timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():  # type: ignore[operator]
            return time.monotonic() - start
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def cluster_status(cfg: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub", "cluster", "status", "-c", str(cfg)], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "COLUMNS": "200"})


def test_a_killed_workers_connector_moves_to_the_other_and_loses_nothing(
        kafka_broker: LocalKafka, kafka_settings: KafkaSettings, own_registry: RegistryService,
        tmp_path: Path) -> None:
    for name in NAMES:
        make_source(tmp_path / f"{name}.db", 1500)
    group = f"g{os.getpid()}{time.monotonic_ns() % 100000}"
    ports = [free_port(), free_port()]
    workers: list[subprocess.Popen[bytes]] = []
    for i, port in enumerate(ports):
        cfg = tmp_path / f"worker{i}.yaml"
        cfg.write_text(worker_config(kafka_broker, own_registry.url, tmp_path, port, group))
        workers.append(subprocess.Popen([sys.executable, "-m", "hub", "run", "-c", str(cfg), "--only",
                                         "connectors,admin"], stdout=(tmp_path / f"w{i}.log").open("ab"),
                                        stderr=subprocess.STDOUT, start_new_session=True))
    try:
        def spread() -> bool:
            shares = [running(p, tmp_path) for p in ports]
            return all(s is not None and len(s) == 1 for s in shares) and \
                sorted(s[0] for s in shares if s) == sorted(NAMES)

        wait_until(spread, 60, "each worker runs one connector")
        table = cluster_status(tmp_path / "worker0.yaml")
        assert table.returncode == 0, table.stdout
        assert "2 worker(s)" in table.stdout and "orders_a" in table.stdout and "orders_b" in table.stdout
        victim = next(i for i, p in enumerate(ports) if running(p, tmp_path) == ["orders_a"])
        survivor = 1 - victim
        os.killpg(workers[victim].pid, signal.SIGKILL)
        workers[victim].wait(10)
        insert(tmp_path / "orders_a.db", 1501, 500)  # changes while nobody runs orders_a
        took = wait_until(lambda: running(ports[survivor], tmp_path) == sorted(NAMES), 45,
                          "the surviving worker runs both connectors")
        assert took < 30, f"orders_a moved after {took:.1f} s (session timeout 6 s)"
        table = cluster_status(tmp_path / "worker0.yaml")
        assert table.returncode == 0 and "1 worker(s)" in table.stdout, table.stdout
        assert "orders_a, orders_b" in table.stdout
        seen = ids_in_topic(kafka_settings, own_registry.url, set(range(1, 2001)), None, 60,
                            "src.orders_a.orders")
        assert set(seen) == set(range(1, 2001)), f"missing: {sorted(set(range(1, 2001)) - set(seen))[:20]}"
        seen_b = ids_in_topic(kafka_settings, own_registry.url, set(range(1, 1501)), None, 60,
                              "src.orders_b.orders")
        assert set(seen_b) == set(range(1, 1501))
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
                try:
                    w.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(w.pid, signal.SIGKILL)
                    w.wait(10)
