"""Interop: confluent-kafka's own registry client and Avro serde against crmhub's registry, through Kafka."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient, SchemaRegistryError
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from hub.config import validate_config_text
from hub.gateway.tokens import create_token
from hub.kafka.clients import Consumer, KafkaSettings, Producer, Record
from hub.kafka.local import free_port
from hub.registry.client import RegistryClient
from hub.registry.serde import AvroSerde
from hub.registry.server import RegistryService
from hub.wiring import registry_client, serve_registry

pytestmark = pytest.mark.kafka

INVOICE: dict[str, Any] = {
    "type": "record", "name": "Invoice", "namespace": "crm.finance",
    "fields": [
        {"name": "number", "type": "string"},
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}},
        {"name": "customer", "type": ["null", "long"], "default": None},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["OPEN", "PAID"]}},
    ],
}
ROWS = [
    {"number": "INV-1", "amount": Decimal("1234.50"), "customer": 42, "status": "OPEN"},
    {"number": "INV-2", "amount": Decimal("-0.07"), "customer": None, "status": "PAID"},
    {"number": "INV-3", "amount": Decimal("9999999999.99"), "customer": 2**40, "status": "OPEN"},
]


@pytest.fixture()
def confluent(registry: RegistryService) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": registry.url})


def through_kafka(settings: KafkaSettings, topic: str, values: list[bytes]) -> list[bytes]:
    """Produce, then consume back: what a real consumer of the topic would get."""
    producer = Producer(settings)
    producer.send_batch(Record(topic, None, v) for v in values)
    producer.close()
    consumer = Consumer(settings, group_id=None)
    consumer.assign(topic)
    got: list[bytes] = []
    for _ in range(40):
        got.extend(m.value or b"" for m in consumer.poll(500))
        if len(got) >= len(values):
            break
    consumer.close()
    return got


def test_crmhub_writes_confluent_reads(registry: RegistryService, confluent: SchemaRegistryClient,
                                       kafka_settings: KafkaSettings, topic: str) -> None:
    serde = AvroSerde(RegistryClient(registry.url))
    consumed = through_kafka(kafka_settings, topic, [serde.serialize(topic, INVOICE, r) for r in ROWS])
    deserializer = AvroDeserializer(confluent)
    ctx = SerializationContext(topic, MessageField.VALUE)
    assert [deserializer(v, ctx) for v in consumed] == ROWS
    latest = confluent.get_latest_version(f"{topic}-value")
    assert latest.schema_id == serde.schema_id(topic, INVOICE) and latest.version == 1


def test_confluent_writes_crmhub_reads(registry: RegistryService, confluent: SchemaRegistryClient,
                                       kafka_settings: KafkaSettings, topic: str) -> None:
    serializer = AvroSerializer(confluent, json.dumps(INVOICE))
    ctx = SerializationContext(topic, MessageField.VALUE)
    consumed = through_kafka(kafka_settings, topic, [serializer(r, ctx) for r in ROWS])
    serde = AvroSerde(RegistryClient(registry.url))
    assert [serde.deserialize(v) for v in consumed] == ROWS
    mine = RegistryClient(registry.url)
    assert mine.versions(f"{topic}-value") == [1]  # confluent's serializer registered it with crmhub
    assert int.from_bytes(consumed[0][1:5], "big") == mine.lookup(f"{topic}-value", INVOICE).schema_id


def test_confluent_client_sees_confluent_errors_and_config(confluent: SchemaRegistryClient) -> None:
    subject = f"inv.{uuid.uuid4().hex[:6]}-value"
    schema_id = confluent.register_schema(subject, Schema(json.dumps(INVOICE), "AVRO"))
    assert confluent.lookup_schema(subject, Schema(json.dumps(INVOICE), "AVRO")).schema_id == schema_id
    required = dict(INVOICE, fields=[*INVOICE["fields"], {"name": "region", "type": "string"}])
    assert confluent.test_compatibility(subject, Schema(json.dumps(required), "AVRO")) is False
    with pytest.raises(SchemaRegistryError) as info:
        confluent.register_schema(subject, Schema(json.dumps(required), "AVRO"))
    assert info.value.http_status_code == 409 and info.value.error_code == 409
    assert "region" in info.value.error_message
    with pytest.raises(SchemaRegistryError) as missing:
        confluent.get_latest_version("no-such-subject")
    assert (missing.value.http_status_code, missing.value.error_code) == (404, 40401)
    confluent.set_compatibility(subject, "NONE")
    assert confluent.get_compatibility(subject) == "NONE"
    assert confluent.register_schema(subject, Schema(json.dumps(required), "AVRO")) > schema_id
    assert confluent.get_versions(subject) == [1, 2]


def test_confluent_clients_authenticate_with_a_token_as_basic_auth(kafka_settings: KafkaSettings,
                                                                   tmp_path: Path) -> None:
    cfg = validate_config_text(
        f"kafka: {{bootstrap_servers: '{kafka_settings.bootstrap_servers}'}}\n"
        f"gateway: {{tokens_file: {tmp_path / 'tokens.yaml'}}}\n"
        f"registry: {{serve: {{port: {free_port()}, topic: _schemas-{uuid.uuid4().hex[:8]}}}}}\n")
    known = set(cfg.gateway.effective_roles())
    admin = create_token(cfg.gateway.tokens_file, "schema-ci", "admin", known)
    agent = create_token(cfg.gateway.tokens_file, "crm-reader", "agent", known)
    served = serve_registry(cfg, kafka_settings)
    assert served is not None
    try:
        def client(user_info: str | None) -> SchemaRegistryClient:
            conf = {"url": served.url}
            if user_info is not None:
                conf["basic.auth.user.info"] = user_info
            return SchemaRegistryClient(conf)

        schema = Schema(json.dumps(INVOICE), "AVRO")
        with pytest.raises(SchemaRegistryError) as anonymous:
            client(None).register_schema("inv-value", schema)
        assert anonymous.value.http_status_code == 401
        with pytest.raises(SchemaRegistryError) as reader_writes:
            client(f"crm-reader:{agent}").register_schema("inv-value", schema)
        assert reader_writes.value.http_status_code == 403
        schema_id = client(f"schema-ci:{admin}").register_schema("inv-value", schema)
        assert json.loads(client(f"crm-reader:{agent}").get_schema(schema_id).schema_str or "")["name"] == "Invoice"
        mine = registry_client(cfg, served)  # the hub's own client: the service token
        assert mine.versions("inv-value") == [1]
    finally:
        served.stop()
