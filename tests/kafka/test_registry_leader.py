"""Several registries of one cluster.group: one leader, elected by Kafka's group protocol, writes the schemas;
a follower forwards changes to it and serves reads; when the leader goes, the other one leads."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest

from hub.config import validate_config_text
from hub.kafka.clients import KafkaSettings
from hub.kafka.local import LocalKafka, free_port
from hub.registry.server import RegistryService
from hub.wiring import serve_registry

pytestmark = pytest.mark.kafka

HEADERS = {"Content-Type": "application/vnd.schemaregistry.v1+json"}


def schema(name: str) -> str:
    return json.dumps({"schema": json.dumps({"type": "record", "name": name, "fields": [
        {"name": "id", "type": "long"}]})})


def start(broker: LocalKafka, settings: KafkaSettings, topic: str, group: str) -> RegistryService:
    cfg = validate_config_text(f"""
kafka: {{bootstrap_servers: "{broker.bootstrap}"}}
registry: {{serve: {{port: {free_port()}, topic: {topic}, auth: none}}}}
cluster: {{group: {group}, session_timeout_ms: 6000, heartbeat_interval_ms: 1000}}
""")
    service = serve_registry(cfg, settings)
    assert service is not None and service.leadership is not None
    return service


def wait_for(check: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.2)


def test_a_follower_forwards_changes_and_the_other_leads_when_the_leader_goes(
        kafka_broker: LocalKafka, kafka_settings: KafkaSettings) -> None:
    tag = uuid.uuid4().hex[:6]
    topic, group = f"_schemas_lead_{tag}", f"reg{tag}"
    first = start(kafka_broker, kafka_settings, topic, group)
    second = start(kafka_broker, kafka_settings, topic, group)
    services = [first, second]
    try:
        wait_for(lambda: sum(bool(s.leadership and s.leadership.leading) for s in services) == 1)
        leader = next(s for s in services if s.leadership and s.leadership.leading)
        follower = next(s for s in services if s is not leader)
        answer = httpx.post(f"{follower.url}/subjects/a-value/versions", content=schema("A"), headers=HEADERS)
        assert answer.status_code == 200, answer.text
        first_id = answer.json()["id"]
        assert leader.store.subjects() == ["a-value"]  # the leader wrote it
        wait_for(lambda: httpx.get(f"{follower.url}/subjects").json() == ["a-value"])  # the follower reads it
        leader.stop()
        services.remove(leader)
        assert follower.leadership is not None
        wait_for(lambda: bool(follower.leadership and follower.leadership.leading), timeout=30)
        answer = httpx.post(f"{follower.url}/subjects/b-value/versions", content=schema("B"), headers=HEADERS)
        assert answer.status_code == 200, answer.text
        assert answer.json()["id"] != first_id
        assert sorted(follower.store.subjects()) == ["a-value", "b-value"]
    finally:
        for s in services:
            s.stop()
