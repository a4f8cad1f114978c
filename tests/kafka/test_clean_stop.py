"""A clean stop of a real hub process: SIGTERM or SIGINT ends it within its stop deadline (5 s), also while
the broker does not answer, and whatever was acknowledged before the stop is kept."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.kafka.local import LocalKafka, free_port
from tests.kafka.test_faults import config_text, make_source, start_hub, wait_events

pytestmark = pytest.mark.kafka

PIPELINES = """
pipelines:
  store: {{url: "sqlite:///{store}"}}
"""


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    broker = LocalKafka(data_dir=tmp_path_factory.mktemp("stop-kafka"), port=free_port(), controller_port=free_port())
    broker.up(timeout=120)
    yield broker
    pid = broker.pid()
    if pid is not None:
        os.kill(pid, signal.SIGCONT)
    broker.down()


def seconds_to_exit(hub: subprocess.Popen[bytes], sig: signal.Signals, limit: float = 30.0) -> float:
    start = time.monotonic()
    os.kill(hub.pid, sig)
    try:
        hub.wait(limit)
    except subprocess.TimeoutExpired:
        kill_if_running(hub)
        return limit
    return time.monotonic() - start


def start_own_hub(broker: LocalKafka, tmp_path: Path, rows: int) -> tuple[subprocess.Popen[bytes], int]:
    """A hub over a legacy table of ``rows`` rows with the pipelines on: the process and its admin port. Its
    source positions go to a topic of its own, so it reads its table from the start whatever an earlier test's
    hub saved on the shared broker."""
    db = tmp_path / "legacy.db"
    make_source(db, rows)
    admin_port = free_port()
    cfg = tmp_path / "hub.yaml"
    text = config_text(broker, db, tmp_path, free_port(), admin_port)  # positions of its own: the broker is shared
    text = text.replace("crmhub.offsets.faults", f"crmhub.offsets.{tmp_path.name}")
    cfg.write_text(text + PIPELINES.format(store=tmp_path / "store.db"))
    return start_hub(cfg, tmp_path / "hub.log"), admin_port


def kill_if_running(hub: subprocess.Popen[bytes]) -> None:
    if hub.poll() is None:
        os.killpg(hub.pid, signal.SIGKILL)
        hub.wait(10)


@pytest.mark.parametrize(("sig", "broker_stopped"), [(signal.SIGTERM, True), (signal.SIGINT, False)])
def test_a_signal_stops_the_hub_within_its_deadline(own_broker: LocalKafka, tmp_path: Path,
                                                    sig: signal.Signals, broker_stopped: bool) -> None:
    hub, admin_port = start_own_hub(own_broker, tmp_path, 3000)
    broker_pid = own_broker.pid()
    assert broker_pid is not None
    try:
        wait_events(f"http://127.0.0.1:{admin_port}", tmp_path, 300)
        if broker_stopped:
            os.kill(broker_pid, signal.SIGSTOP)  # the broker holds every connection and answers nothing
            time.sleep(1.0)
        took = seconds_to_exit(hub, sig)
    finally:
        os.kill(broker_pid, signal.SIGCONT)
        kill_if_running(hub)
    log = (tmp_path / "hub.log").read_text(errors="replace")
    assert took < 8.0, f"the hub took {took:.1f} s to stop (deadline 5 s); log tail:\n{log[-3000:]}"
    assert hub.returncode in (0, -sig.value, 128 + sig.value), log[-2000:]


def test_a_signal_while_the_hub_starts_stops_it_once_started(own_broker: LocalKafka, tmp_path: Path) -> None:
    """SIGINT the moment the admin API answers, while the gateway is still starting: the hub stops once started
    (before, Python's KeyboardInterrupt could land in a library callback that swallowed it, and the hub ran on)."""
    hub, admin_port = start_own_hub(own_broker, tmp_path, 10)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and hub.poll() is None:
            try:
                httpx.get(f"http://127.0.0.1:{admin_port}/connectors", timeout=0.5)
                break  # any answer, even 401: the admin API is up
            except httpx.HTTPError:
                time.sleep(0.01)
        assert hub.poll() is None, (tmp_path / "hub.log").read_text(errors="replace")[-2000:]
        took = seconds_to_exit(hub, signal.SIGINT)
    finally:
        kill_if_running(hub)
    log = (tmp_path / "hub.log").read_text(errors="replace")
    assert took < 8.0, f"the hub took {took:.1f} s to stop; log tail:\n{log[-3000:]}"
    assert "crmhub running roles" in log, log[-2000:]  # it had finished starting before it stopped
    assert hub.returncode == 0, log[-2000:]
