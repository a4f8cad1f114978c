"""The demo's round trip on the real broker and crmhub's registry: the event read back equals the one sent."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from hub.config import validate_config_text
from hub.demo import run_demo
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
