"""crmhub's schema registry against the real broker: REST API, compatibility, restart survival, serde."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from hub.kafka.clients import Consumer, KafkaSettings
from hub.kafka.local import free_port
from hub.registry.client import RegistryClient, SchemaIncompatibleError
from hub.registry.serde import AvroSerde
from hub.registry.server import MEDIA_TYPE, RegistryService, run_registry
from schemas import wire
from schemas.errors import RetriableError, SkippableError

pytestmark = pytest.mark.kafka


def record(*fields: dict[str, Any], name: str = "Customer") -> dict[str, Any]:
    return {"type": "record", "name": name, "namespace": "crm", "fields": list(fields)}


ID = {"name": "id", "type": "long"}
EMAIL_DEFAULT = {"name": "email", "type": "string", "default": ""}
EMAIL = {"name": "email", "type": "string"}
V1 = record(ID)
V2 = record(ID, EMAIL_DEFAULT)
V3_NO_DEFAULT = record(ID, EMAIL)


@pytest.fixture()
def http(registry: RegistryService) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=registry.url, headers={"Content-Type": MEDIA_TYPE, "Accept": MEDIA_TYPE}) as c:
        yield c


@pytest.fixture()
def client(registry: RegistryService) -> Iterator[RegistryClient]:
    with RegistryClient(registry.url) as c:
        yield c


@pytest.fixture()
def subject() -> str:
    return f"crm.{uuid.uuid4().hex[:8]}-value"


def body(schema: dict[str, Any]) -> dict[str, str]:
    return {"schema": json.dumps(schema)}


def test_register_list_get_lookup_round_trip(http: httpx.Client, subject: str) -> None:
    first = http.post(f"/subjects/{subject}/versions", json=body(V1))
    assert first.status_code == 200 and first.headers["content-type"] == MEDIA_TYPE
    schema_id = first.json()["id"]
    # the same schema laid out differently is the same registration
    again = http.post(f"/subjects/{subject}/versions",
                      json={"schema": json.dumps(V1, indent=2), "schemaType": "AVRO", "references": []})
    assert again.json() == {"id": schema_id}
    assert subject in http.get("/subjects").json()
    assert http.get(f"/subjects/{subject}/versions").json() == [1]
    got = http.get(f"/subjects/{subject}/versions/1").json()
    assert got.keys() == {"subject", "version", "id", "schema"}  # schemaType omitted for AVRO
    assert (got["subject"], got["version"], got["id"]) == (subject, 1, schema_id)
    assert json.loads(got["schema"]) == V1
    assert http.get(f"/subjects/{subject}/versions/latest").json() == got
    assert http.get(f"/subjects/{subject}/versions/-1").json() == got
    assert http.get(f"/subjects/{subject}/versions/1/schema").json() == json.loads(got["schema"])
    assert http.get(f"/schemas/ids/{schema_id}").json() == {"schema": got["schema"]}
    assert http.post(f"/subjects/{subject}", json=body(V1)).json() == got
    other = f"{subject}-other"
    assert http.post(f"/subjects/{other}/versions", json=body(V1)).json() == {"id": schema_id}
    assert http.get(f"/schemas/ids/{schema_id}/versions").json() == [
        {"subject": s, "version": 1} for s in sorted([subject, other])]
    assert http.get(f"/schemas/ids/{schema_id}/subjects").json() == sorted([subject, other])


def test_new_schema_gets_next_id_and_version(client: RegistryClient, subject: str) -> None:
    id1 = client.register(subject, V1)
    id2 = client.register(subject, V2)
    assert id2 > id1
    latest = client.latest(subject)
    assert (latest.version, latest.schema_id) == (2, id2)
    assert client.versions(subject) == [1, 2]
    assert client.lookup(subject, V1).version == 1
    assert json.loads(client.get_by_id(id2))["fields"][1]["default"] == ""


def test_errors_have_confluent_codes(http: httpx.Client, subject: str) -> None:
    http.post(f"/subjects/{subject}/versions", json=body(V1)).raise_for_status()

    def error(resp: httpx.Response) -> tuple[int, int, str]:
        assert resp.headers["content-type"] == MEDIA_TYPE
        return resp.status_code, resp.json()["error_code"], resp.json()["message"]

    assert error(http.get("/subjects/nobody/versions")) == (404, 40401, "Subject 'nobody' not found.")
    assert error(http.get(f"/subjects/{subject}/versions/7")) == (404, 40402, "Version 7 not found.")
    assert error(http.get("/schemas/ids/987654")) == (404, 40403, "Schema 987654 not found.")
    assert error(http.post(f"/subjects/{subject}", json=body(V2)))[:2] == (404, 40403)
    assert error(http.post(f"/subjects/{subject}/versions", json={"schema": "{nope"}))[:2] == (422, 42201)
    assert error(http.post(f"/subjects/{subject}/versions",
                           json={"schema": '"string"', "schemaType": "PROTOBUF"}))[:2] == (422, 42201)
    for bad in ("0", "abc", "2147483648"):
        assert error(http.get(f"/subjects/{subject}/versions/{bad}"))[:2] == (422, 42202)
    assert error(http.put(f"/config/{subject}", json={"compatibility": "SIDEWAYS"}))[:2] == (422, 42203)
    assert error(http.get(f"/config/{subject}"))[:2] == (404, 40408)


def test_backward_by_default_and_none_lets_anything_through(http: httpx.Client, client: RegistryClient,
                                                            subject: str) -> None:
    assert http.get("/config").json() == {"compatibilityLevel": "BACKWARD"}
    client.register(subject, V1)
    client.register(subject, V2)  # a field with a default: accepted
    refused = http.post(f"/subjects/{subject}/versions", json=body(record(ID, EMAIL_DEFAULT, EMAIL | {
        "name": "phone"})))
    assert refused.status_code == 409 and refused.json()["error_code"] == 409
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in refused.json()["message"]
    with pytest.raises(SchemaIncompatibleError, match="phone") as info:
        client.register(subject, record(ID, EMAIL_DEFAULT, EMAIL | {"name": "phone"}))
    assert info.value.subject == subject
    assert http.put(f"/config/{subject}", json={"compatibility": "none"}).json() == {"compatibility": "NONE"}
    assert http.get(f"/config/{subject}").json() == {"compatibilityLevel": "NONE"}
    assert client.get_compatibility(subject) == "NONE" and client.get_compatibility() == "BACKWARD"
    assert client.register(subject, record(ID, EMAIL_DEFAULT, EMAIL | {"name": "phone"})) > 0
    assert client.versions(subject) == [1, 2, 3]
    assert http.delete(f"/config/{subject}").json() == {"compatibilityLevel": "NONE"}
    assert http.get(f"/config/{subject}?defaultToGlobal=true").json() == {"compatibilityLevel": "BACKWARD"}


def test_forward_accepts_a_new_required_field_and_refuses_removing_one(client: RegistryClient,
                                                                       subject: str) -> None:
    assert client.set_compatibility("FORWARD", subject) == "FORWARD"
    client.register(subject, V1)
    client.register(subject, V3_NO_DEFAULT)  # old readers ignore the new field
    without_email = record(ID, {"name": "vip", "type": "boolean", "default": False})
    with pytest.raises(SchemaIncompatibleError, match="FORWARD"):
        client.register(subject, without_email)  # a v2 reader needs email, the new data lacks it
    assert client.register(subject, V1) == client.lookup(subject, V1).schema_id  # already v1: no check
    assert client.versions(subject) == [1, 2]


def test_full_needs_defaults_both_ways(client: RegistryClient, subject: str) -> None:
    client.set_compatibility("FULL", subject)
    client.register(subject, V1)
    with pytest.raises(SchemaIncompatibleError, match="FULL"):
        client.register(subject, V3_NO_DEFAULT)
    client.register(subject, V2)
    assert client.versions(subject) == [1, 2]


def test_transitive_checks_whole_history(client: RegistryClient, subject: str) -> None:
    # v1 (id), v2 (email with default), then v3 (email without default): v3 reads v2 data, not v1 data.
    plain, transitive = subject, f"{subject}-transitive"
    client.set_compatibility("BACKWARD_TRANSITIVE", transitive)
    for name in (plain, transitive):
        client.register(name, V1)
        client.register(name, V2)
    client.register(plain, V3_NO_DEFAULT)
    with pytest.raises(SchemaIncompatibleError, match="existing schema 1 of 2"):
        client.register(transitive, V3_NO_DEFAULT)
    assert client.versions(plain) == [1, 2, 3] and client.versions(transitive) == [1, 2]


def test_compatibility_endpoint(http: httpx.Client, client: RegistryClient, subject: str) -> None:
    client.register(subject, V1)
    ok = http.post(f"/compatibility/subjects/{subject}/versions/latest", json=body(V2))
    assert ok.json() == {"is_compatible": True}
    bad = http.post(f"/compatibility/subjects/{subject}/versions/1?verbose=true", json=body(V3_NO_DEFAULT))
    assert bad.json()["is_compatible"] is False and "email" in bad.json()["messages"][0]
    assert client.check_compatibility(subject, V2) == []
    assert client.check_compatibility(subject, V3_NO_DEFAULT)
    assert client.versions(subject) == [1]  # checking never registers


def test_soft_and_permanent_delete(http: httpx.Client, client: RegistryClient, subject: str) -> None:
    client.register(subject, V1)
    id2 = client.register(subject, V2)
    assert http.delete(f"/subjects/{subject}/versions/2?permanent=true").json()["error_code"] == 40407
    assert http.delete(f"/subjects/{subject}/versions/2").json() == 2
    assert client.versions(subject) == [1]
    assert http.get(f"/subjects/{subject}/versions?deleted=true").json() == [1, 2]
    assert client.get_by_id(id2)  # ids stay resolvable for data already written
    assert http.delete(f"/subjects/{subject}/versions/2?permanent=true").json() == 2
    assert http.get(f"/subjects/{subject}/versions?deleted=true").json() == [1]
    assert http.delete(f"/subjects/{subject}").json() == [1]
    assert subject not in client.subjects() and subject in http.get("/subjects?deleted=true").json()
    assert http.delete(f"/subjects/{subject}").json()["error_code"] == 40404
    assert http.delete(f"/subjects/{subject}?permanent=true").json() == [1]
    assert http.get(f"/subjects/{subject}/versions").json()["error_code"] == 40401


def test_state_survives_a_restart(kafka_settings: KafkaSettings) -> None:
    topic = f"_schemas-{uuid.uuid4().hex[:8]}"
    first = run_registry(kafka_settings, topic=topic, port=free_port())
    with RegistryClient(first.url) as c:
        ids = [c.register("a-value", V1), c.register("a-value", V2), c.register("b-value", V3_NO_DEFAULT)]
        c.set_compatibility("FULL", "b-value")
        c.set_compatibility("FORWARD")
        httpx.delete(f"{first.url}/subjects/a-value/versions/1").raise_for_status()
    first.stop()

    second = run_registry(kafka_settings, topic=topic, port=free_port())
    try:
        with RegistryClient(second.url) as c:
            assert c.subjects() == ["a-value", "b-value"]
            assert c.versions("a-value") == [2]
            assert c.latest("a-value").schema_id == ids[1] and c.latest("b-value").schema_id == ids[2]
            assert [json.loads(c.get_by_id(i))["name"] for i in ids] == ["Customer"] * 3
            assert c.get_compatibility("b-value") == "FULL" and c.get_compatibility() == "FORWARD"
            new_id = c.register("c-value", record(ID, name="Order"))
            assert new_id == max(ids) + 1
            assert c.register("d-value", V1) == ids[0]  # a known schema keeps its id
    finally:
        second.stop()
    keys = _topic_keys(kafka_settings, topic)
    assert {"keytype": "SCHEMA", "subject": "a-value", "version": 2, "magic": 1} in keys
    assert {"keytype": "CONFIG", "subject": None, "magic": 0} in keys


def _topic_keys(settings: KafkaSettings, topic: str) -> list[dict[str, Any]]:
    consumer = Consumer(settings, group_id=None)
    consumer.assign(topic)
    end = consumer.end_offsets(topic)[0]
    keys: list[dict[str, Any]] = []
    while consumer.position(topic, 0) < end:
        keys.extend(json.loads(m.key or b"null") for m in consumer.poll(500))
    consumer.close()
    return keys


class CountingTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(f"{request.method} {request.url.path}")
        return super().handle_request(request)


PAYMENT = record(ID, {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12,
                                                 "scale": 2}},
                 {"name": "note", "type": ["null", "string"], "default": None}, name="Payment")


def test_serde_round_trip_calls_http_once_per_schema(registry: RegistryService) -> None:
    transport = CountingTransport()
    topic = f"pay.{uuid.uuid4().hex[:6]}"
    writer = AvroSerde(RegistryClient(registry.url, transport=transport))
    data = [{"id": i, "amount": Decimal(f"{i}.25"), "note": None if i % 2 else f"n{i}"} for i in range(200)]
    encoded = [writer.serialize(topic, PAYMENT, d) for d in data]
    assert transport.paths == [f"POST /subjects/{topic}-value/versions"]
    schema_id = writer.schema_id(topic, PAYMENT)
    assert all(wire.split(e)[0] == schema_id for e in encoded)
    key_id = writer.schema_id(topic, {"type": "long"}, is_key=True)
    assert writer.serialize(topic, {"type": "long"}, 5, is_key=True) == wire.encode(key_id, b"\x0a")
    reader_transport = CountingTransport()
    reader = AvroSerde(RegistryClient(registry.url, transport=reader_transport))
    assert [reader.deserialize(e) for e in encoded] == data
    assert reader_transport.paths == [f"GET /schemas/ids/{schema_id}"]


def test_serde_evolution_and_bad_records(registry: RegistryService) -> None:
    topic = f"cust.{uuid.uuid4().hex[:6]}"
    serde = AvroSerde(RegistryClient(registry.url))
    old = serde.serialize(topic, V1, {"id": 7})
    assert serde.deserialize(old, reader_schema=V2) == {"id": 7, "email": ""}
    with pytest.raises(SkippableError, match="email"):
        serde.serialize(topic, V2 | {}, {"id": 1, "email": 5})
    with pytest.raises(SkippableError, match="unknown writer schema id"):
        serde.deserialize(wire.encode(2_000_000, b"\x02"))
    with pytest.raises(SkippableError, match="cannot decode"):
        serde.deserialize(old[:5])  # header only: the long is missing
    with pytest.raises(SkippableError, match="magic byte"):
        serde.deserialize(b"\x01" + old[1:])


def test_unreachable_registry_is_retriable() -> None:
    with RegistryClient(f"http://127.0.0.1:{free_port()}", timeout=2) as c, \
            pytest.raises(RetriableError, match="unreachable"):
        c.register("x-value", V1)
