"""The demo's round trip on the real broker and crmhub's registry: the event read back equals the one sent."""

from __future__ import annotations

import io
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from hub.config import HubConfig, validate_config_text
from hub.demo import demo_tokens, run_capture_demo, run_demo
from hub.demo_scenario import run_scenario
from hub.kafka.local import LocalKafka, free_port

pytestmark = pytest.mark.kafka


def test_demo_round_trip_decodes_the_same_event(kafka_broker: LocalKafka) -> None:
    cfg = validate_config_text(
        f"kafka: {{bootstrap_servers: '{kafka_broker.bootstrap}'}}\n"
        f"registry: {{serve: {{port: {free_port()}, topic: _schemas_demo_test}}}}\n")
    out = io.StringIO()
    trip = run_demo(cfg, Console(file=out, width=200), start_broker=False)
    assert trip.received == trip.sent
    assert trip.received.after is not None and trip.received.after["CRSTAT"] == "F"
    assert trip.key_schema_id != trip.value_schema_id
    text = out.getvalue()
    assert f"{trip.topic}[{trip.partition}] at offset {trip.offset}" in text
    assert "identical to the one produced" in text


ROOT = Path(__file__).resolve().parents[2]


def _demo_config(kafka_broker: LocalKafka, tmp_path: Path) -> HubConfig:
    """config/demo.yaml on the test broker: free ports, files under tmp_path, consumer groups of its own."""
    text = (ROOT / "config" / "demo.yaml").read_text()
    text = text.replace(".crmhub/", f"{tmp_path}/")
    text = text.replace("bootstrap_servers: 127.0.0.1:9092", f"bootstrap_servers: {kafka_broker.bootstrap}")
    for port in (8080, 8081, 8083):
        assert f"port: {port}\n" in text
        text = text.replace(f"port: {port}\n", f"port: {free_port()}\n")
    assert "group_id_prefix: crmhub-demo" in text
    text = text.replace("group_id_prefix: crmhub-demo", f"group_id_prefix: demo-{uuid.uuid4().hex[:8]}")
    return validate_config_text(text, base_dir=ROOT)


@contextmanager
def _in_repo() -> Iterator[None]:
    cwd = os.getcwd()
    os.chdir(ROOT)  # the copybook and mapping paths in demo.yaml are relative to the repo
    try:
        yield
    finally:
        os.chdir(cwd)


def test_capture_demo_shows_snapshot_and_every_change(hub_broker: LocalKafka, tmp_path: Path) -> None:
    cfg = _demo_config(hub_broker, tmp_path)
    out = io.StringIO()
    with _in_repo():
        events = run_capture_demo(cfg, Console(file=out, width=200), start_broker=False)
    by = {(d.topic, d.event.op.value, tuple(d.event.key.values())) for d in events}
    assert ("src.ibmi.custmast", "r", (Decimal("104711"),)) in by
    assert ("src.ibmi.ordhdr", "c", (500003,)) in by
    assert ("src.exports.custexp", "d", (104713,)) in by
    assert ("src.exports.custexp", "c", (104715,)) in by
    freeze = [d for d in events if d.topic == "src.ibmi.custmast" and d.event.op.value == "u"]
    assert freeze and freeze[0].event.after is not None and freeze[0].event.after["CRSTAT"] == "F"
    text = out.getvalue()
    assert "Credit freeze of 104711: source change -> event in Kafka in" in text
    base = f"http://127.0.0.1:{cfg.gateway.port}"
    assert f"{base}/ui/agent.html#token=crmhub_" in text and f"{base}/ui/ops.html#token=crmhub_" in text
    assert f"{base}/docs" in text


def test_credit_freeze_scenario_measures_commit_to_agent_stream(hub_broker: LocalKafka, tmp_path: Path) -> None:
    cfg = _demo_config(hub_broker, tmp_path)
    out = io.StringIO()
    with _in_repo():
        code = run_scenario("credit-freeze", cfg, Console(file=out, width=200), start_broker=False)
    text = out.getvalue()
    assert code == 0, text
    m = re.search(r"source commit -> agent's screen: change (-?\d+) ms, alert (-?\d+) ms", text)
    assert m, text
    change_ms, alert_ms = int(m.group(1)), int(m.group(2))
    assert change_ms > 0 and alert_ms > 0
    assert f"banner shown after {change_ms} ms" in text
    assert "Agent AGT07 has Mueller GmbH" in text
    # the tokens the demo created are kept and reused by the next run
    first = demo_tokens(cfg)
    assert demo_tokens(cfg) == first
