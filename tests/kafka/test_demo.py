"""The demo's round trip on the real broker and crmhub's registry: the event read back equals the one sent."""

from __future__ import annotations

import io
import os
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from hub.config import validate_config_text
from hub.demo import run_capture_demo, run_demo
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


def test_capture_demo_shows_snapshot_and_every_change(kafka_broker: LocalKafka, tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2] / "config" / "demo.yaml").read_text()
    text = text.replace(".crmhub/demo", str(tmp_path / "demo"))
    text = text.replace("bootstrap_servers: 127.0.0.1:9092", f"bootstrap_servers: {kafka_broker.bootstrap}")
    text = text.replace("port: 8081", f"port: {free_port()}").replace("port: 8083", f"port: {free_port()}")
    cfg = validate_config_text(text, base_dir=Path(__file__).resolve().parents[2])
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(Path(__file__).resolve().parents[2])  # the copybook path in demo.yaml is relative to the repo
    try:
        events = run_capture_demo(cfg, Console(file=out, width=200), start_broker=False)
    finally:
        os.chdir(cwd)
    by = {(d.topic, d.event.op.value, tuple(d.event.key.values())) for d in events}
    assert ("src.ibmi.custmast", "r", (Decimal("104711"),)) in by
    assert ("src.ibmi.ordhdr", "c", (500003,)) in by
    assert ("src.exports.custexp", "d", (104713,)) in by
    assert ("src.exports.custexp", "c", (104715,)) in by
    freeze = [d for d in events if d.topic == "src.ibmi.custmast" and d.event.op.value == "u"]
    assert freeze and freeze[0].event.after is not None and freeze[0].event.after["CRSTAT"] == "F"
    assert "Credit freeze of 104711: source change -> event in Kafka in" in out.getvalue()
