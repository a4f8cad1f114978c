"""Exactly-once capture with Kafka transactions: every batch and its position are committed together, a
second runner of the same connector fences the first, and a kill -9 repeats nothing a read_committed reader
sees."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import pytest

from hub.kafka.clients import Consumer, KafkaSettings
from hub.kafka.local import LocalKafka, free_port
from hub.registry.client import RegistryClient
from hub.registry.serde import AvroSerde
from hub.registry.server import RegistryService
from hub.runtime.offsets import OffsetStore
from hub.runtime.runner import ConnectorState
from tests.kafka.helpers import wait_for
from tests.kafka.test_faults import config_text, insert, make_source, service_token, start_hub, wait_events
from tests.kafka.test_runner import ListSource, make_runner, rows

pytestmark = pytest.mark.kafka


def events(settings: KafkaSettings, registry_url: str, topic: str, expect: int, *, token: str = "",
           timeout: float = 30.0) -> list[tuple[int, str]]:
    """``(key id, op)`` of every record in ``topic`` (repeats kept), read with read_committed."""
    serde = AvroSerde(RegistryClient(registry_url, token=token or None))
    consumer = Consumer(settings, group_id=None)  # crmhub's consumers read committed records only
    consumer.assign(topic)
    seen: list[tuple[int, str]] = []
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        batch = consumer.poll(300, max_records=5000)
        for msg in batch:
            key, value = serde.deserialize(msg.key or b""), serde.deserialize(msg.value or b"")
            assert isinstance(key, dict) and isinstance(value, dict)
            seen.append((int(next(iter(key.values()))), str(value["op"])))
        if len({k for k, _ in seen}) >= expect:  # everything is there: read on until a second of quiet
            quiet_since = quiet_since or time.monotonic()
            if batch:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > 1.0:
                break
    consumer.close()
    return seen


def test_batches_and_positions_commit_together(kafka_settings: KafkaSettings, registry: RegistryService) -> None:
    source = ListSource(f"eo{uuid.uuid4().hex[:6]}", rows(95), batch=10)
    runner, offsets = make_runner(kafka_settings, registry, source, exactly_once=True)
    runner.start()
    try:
        wait_for(lambda: runner.status.events == 95)
    finally:
        runner.stop()
    topic = f"src.{source.name}.t1"
    seen = events(kafka_settings, registry.url, topic, 95)
    assert sorted(k for k, _ in seen) == list(range(95))
    state = OffsetStore(kafka_settings, runner.producer, offsets.topic).load(source.name)
    assert state is not None and state["next"] == 95


def test_a_second_runner_of_the_connector_fences_the_first(kafka_settings: KafkaSettings,
                                                           registry: RegistryService) -> None:
    name = f"eo{uuid.uuid4().hex[:6]}"
    first_source = ListSource(name, rows(50), batch=10)
    first, offsets = make_runner(kafka_settings, registry, first_source, exactly_once=True)
    first.start()
    wait_for(lambda: first.status.events == 50)
    second_source = ListSource(name, rows(80), batch=10)  # the same connector, taken over with more rows
    second, _ = make_runner(kafka_settings, registry, second_source, exactly_once=True)
    second.offsets = offsets
    second.start()
    try:
        wait_for(lambda: second.status.state is ConnectorState.RUNNING)
        first_source.rows.extend(rows(30, start=50))  # the stalled first one finds more rows too
        wait_for(lambda: first.status.state is ConnectorState.FAILED, timeout=30)
        assert "fenced" in (first.status.last_error or "")
        wait_for(lambda: second.status.events >= 30)
    finally:
        first.stop()
        second.stop()
    seen = events(kafka_settings, registry.url, f"src.{name}.t1", 80)
    assert sorted(k for k, _ in seen) == list(range(80)), "every row once: nothing of the fenced runner's after"


def test_kill_dash_9_repeats_nothing_a_committed_reader_sees(tmp_path: Path, kafka_broker: LocalKafka) -> None:
    db = tmp_path / "legacy.db"
    make_source(db, 4000)
    reg_port, admin_port = free_port(), free_port()
    cfg = tmp_path / "hub.yaml"
    text = config_text(kafka_broker, db, tmp_path, reg_port, admin_port)
    text = text.replace("crmhub.offsets.faults", f"crmhub.offsets.eo{uuid.uuid4().hex[:6]}")
    text = text.replace("_schemas_faults", f"_schemas_eo{uuid.uuid4().hex[:6]}")
    text = text.replace("    batch_size: 300\n", "    batch_size: 300\n    exactly_once: true\n")
    cfg.write_text(text)
    log = tmp_path / "hub.log"
    admin = f"http://127.0.0.1:{admin_port}"
    hub = start_hub(cfg, log)
    try:
        wait_events(admin, tmp_path, 900)
    finally:
        os.killpg(hub.pid, signal.SIGKILL)
        hub.wait(10)
    insert(db, 4001, 500)
    hub = start_hub(cfg, log)
    try:
        wait_events(admin, tmp_path, 1, timeout=90)
        settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
        seen = events(settings, f"http://127.0.0.1:{reg_port}", "src.orders_src.orders", 4500,
                      token=service_token(tmp_path), timeout=90)
    finally:
        hub.send_signal(signal.SIGTERM)
        hub.wait(30)
    ids = {k for k, _ in seen}
    assert ids == set(range(1, 4501)), f"missing: {sorted(set(range(1, 4501)) - ids)[:20]}"
    # Rows inserted while the snapshot ran are read by it (op r) and streamed (op c), by design; no event is
    # there twice.
    assert len(seen) == len(set(seen)), f"{len(seen) - len(set(seen))} events repeated for a committed reader"
