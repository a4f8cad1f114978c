"""The AsyncAPI document of the topics crmhub writes: valid against the official AsyncAPI 3.0.0 JSON Schema (npm
package @asyncapi/specs, fetched by `make setup` into .crmhub/asyncapi-specs), its Avro schemas are the ones
crmhub registers, and the gateway and the CLI hand out the same document."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fastavro
import jsonschema
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hub.cli import app as cli_app
from hub.cli import commands as cli_commands  # noqa: F401  (registers the commands, as `crmhub` does)
from hub.config import HubConfig, load_config, validate_config_text
from hub.gateway.app import create_gateway_app
from hub.gateway.asyncapi import AVRO_FORMAT, build_asyncapi, channel_ids
from pipelines.store.engine import Store
from schemas.avro_gen import value_schema
from schemas.canonical import event_schema
from schemas.columns import Column, TableMeta
from schemas.unified import unified_schema

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / ".crmhub" / "asyncapi-specs"
DEMO = ROOT / "config" / "demo.yaml"
EXAMPLE = ROOT / "config" / "crmhub.example.yaml"


def _spec(name: str) -> dict[str, Any]:
    path = SPECS / "schemas" / name
    if not path.is_file():  # `make setup` fetches it; a bare pytest run tries the same script once
        subprocess.run(["bash", str(ROOT / "scripts" / "asyncapi-specs.sh"), str(SPECS)], cwd=ROOT, timeout=180,
                       check=False)
    assert path.is_file(), f"{path} is missing: run `make setup` (scripts/asyncapi-specs.sh, needs npm)"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def validators() -> list[jsonschema.Draft7Validator]:
    """The bundled 3.0.0 schema twice: with its definitions keyed by $id URL (resolved inside the file, never
    fetched) and the "without-$id" variant whose references are local JSON pointers."""
    found = []
    for name in ("3.0.0-without-$id.json", "3.0.0.json"):
        schema = _spec(name)
        assert schema["properties"]["asyncapi"]["const"] == "3.0.0"
        jsonschema.Draft7Validator.check_schema(schema)
        found.append(jsonschema.Draft7Validator(schema))
    return found


def errors(validators: list[jsonschema.Draft7Validator], doc: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:300]}" for v in validators for e in v.iter_errors(doc)]


@pytest.fixture(scope="module")
def demo_doc() -> dict[str, Any]:
    return build_asyncapi(load_config(DEMO))


@pytest.mark.parametrize("config", [DEMO, EXAMPLE], ids=["demo", "example"])
def test_the_document_is_valid_asyncapi_3(validators: list[jsonschema.Draft7Validator], config: Path) -> None:
    doc = build_asyncapi(load_config(config, env={}))
    assert doc["asyncapi"] == "3.0.0"
    assert errors(validators, doc) == []


def _broken(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    bad = copy.deepcopy(doc)
    bad["operations"]["publish_customer_unified"]["action"] = "publish"  # AsyncAPI 2's verb
    yield "operation action", bad
    bad = copy.deepcopy(doc)
    del bad["channels"]["customer_unified"]["messages"]["GoldenRecord"]["payload"]["schema"]["fields"][0]["type"]
    yield "Avro field without a type", bad
    bad = copy.deepcopy(doc)
    bad["channels"]["customer_unified"]["messages"]["GoldenRecord"]["bindings"]["kafka"]["schemaIdLocation"] = "body"
    yield "Kafka binding", bad
    bad = copy.deepcopy(doc)
    del bad["info"]["version"]
    yield "info", bad


def test_broken_documents_fail_the_validation(validators: list[jsonschema.Draft7Validator],
                                              demo_doc: dict[str, Any]) -> None:
    for what, bad in _broken(demo_doc):
        assert len(errors(validators, bad)) == len(validators), what  # each schema variant rejects it


def test_every_topic_crmhub_writes_for_the_demo_is_a_channel(demo_doc: dict[str, Any]) -> None:
    addresses = {c["address"] for c in demo_doc["channels"].values()}
    sources = {"src.ibmi.custmast", "src.ibmi.ordhdrv", "src.ibmi.itmbal", "src.ar.ar_customers",
               "src.helpdesk.contacts", "src.helpdesk.tickets", "src.exports.custexp"}
    canon = {f"canon.{e}" for e in ("customer", "credit", "inventory", "order", "case")}
    customer = {"customer.unified", "customer.changes", "customer.alerts"}
    dead = {"dlq.canon", "dlq.ibmi", "dlq.ar", "dlq.helpdesk", "dlq.exports", "dlq.webhooks"}
    assert addresses == sources | canon | customer | dead | {"crmhub.offsets", "_schemas"}
    assert set(demo_doc["operations"]) == {f"publish_{cid}" for cid in demo_doc["channels"]}
    assert {op["action"] for op in demo_doc["operations"].values()} == {"send"}


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_reference_resolves_inside_the_document(demo_doc: dict[str, Any]) -> None:
    refs = list(_refs(demo_doc))
    assert len(refs) >= 2 * len(demo_doc["operations"])
    for ref in refs:
        assert ref.startswith("#/"), ref
        assert _resolve(demo_doc, ref), ref


def test_avro_payloads_and_keys_are_the_registered_schemas(demo_doc: dict[str, Any]) -> None:
    channels = {c["address"]: c for c in demo_doc["channels"].values()}
    unified = channels["customer.unified"]["messages"]["GoldenRecord"]
    assert unified["payload"] == {"schemaFormat": AVRO_FORMAT, "schema": unified_schema()}
    assert unified["bindings"]["kafka"] == {
        "bindingVersion": "0.5.0", "key": unified["bindings"]["kafka"]["key"], "schemaIdLocation": "payload",
        "schemaIdPayloadEncoding": "confluent", "schemaLookupStrategy": "TopicNameStrategy"}
    assert unified["x-crmhub-value-subject"] == "customer.unified-value"
    canon = channels["canon.order"]["messages"]["CanonicalEvent"]
    assert canon["payload"]["schema"] == event_schema("order")
    assert _resolve(demo_doc, canon["x-crmhub-key-schema"]["$ref"]) == {
        "schemaFormat": AVRO_FORMAT, "schema": {"type": "string"}}
    for channel in demo_doc["channels"].values():
        for message in channel["messages"].values():
            if message["payload"]["schemaFormat"] == AVRO_FORMAT:
                fastavro.parse_schema(copy.deepcopy(message["payload"]["schema"]))
    for component in demo_doc["components"]["schemas"].values():
        fastavro.parse_schema(copy.deepcopy(component["schema"]))


def test_compacted_topics_say_so_in_their_binding(demo_doc: dict[str, Any]) -> None:
    compacted = {c["address"] for c in demo_doc["channels"].values()
                 if c["bindings"]["kafka"].get("topicConfiguration", {}).get("cleanup.policy") == ["compact"]}
    assert compacted == {"customer.unified", "crmhub.offsets", "_schemas"}


def test_a_source_topic_names_its_subject_and_keeps_the_generated_envelope(demo_doc: dict[str, Any]) -> None:
    channel = demo_doc["channels"]["src_ibmi_custmast"]
    message = channel["messages"]["ChangeEvent"]
    assert message["x-crmhub-value-subject"] == "src.ibmi.custmast-value"
    assert message["x-crmhub-schema-placeholder"] is True
    assert "src.ibmi.custmast-value" in channel["description"]
    assert message["bindings"]["kafka"]["key"]["required"] == ["CUSNO"]
    envelope = message["payload"]["schema"]
    real = value_schema(TableMeta("ibmi", "db", None, "CUSTMAST", (Column("CUSNO", "int32"),), ("CUSNO",)))
    assert [(f["name"], f.get("default")) for f in envelope["fields"]] == [
        (f["name"], f.get("default")) for f in real["fields"]]
    assert envelope["fields"][2]["type"] == real["fields"][2]["type"]  # the source block, schemas/avro/source.avsc
    assert all(f["doc"] for f in envelope["fields"])
    assert envelope["fields"][0]["type"][1]["fields"] == []


def test_registered_schemas_replace_the_placeholders() -> None:
    cfg = load_config(DEMO)
    table = TableMeta("ibmi", "db", None, "CUSTMAST", (Column("CUSNO", "int32", nullable=False),), ("CUSNO",))
    key = {"type": "record", "name": "Key", "namespace": "crmhub.ibmi.CUSTMAST",
           "fields": [{"name": "CUSNO", "type": "int"}]}
    doc = build_asyncapi(cfg, {"src.ibmi.custmast-value": value_schema(table), "src.ibmi.custmast-key": key})
    message = doc["channels"]["src_ibmi_custmast"]["messages"]["ChangeEvent"]
    assert message["payload"]["schema"] == value_schema(table)
    assert "x-crmhub-schema-placeholder" not in message
    assert message["bindings"]["kafka"]["key"]["properties"] == {"CUSNO": {"type": "integer"}}
    assert _resolve(doc, message["x-crmhub-key-schema"]["$ref"])["schema"] == key


def test_without_pipelines_only_the_connectors_topics() -> None:
    cfg = validate_config_text("""
kafka: {bootstrap_servers: "k1:9093,k2:9093", security: {security_protocol: SASL_SSL, sasl_plain_password: s3cr3t}}
registry: {url: "http://registry.example:8081"}
connectors:
  - {kind: sql, name: erp, url: "sqlite:///erp.db", tables: [{name: dbo.Orders, mode: incrementing,
     incrementing_column: id}]}
""")
    doc = build_asyncapi(cfg)
    assert {c["address"] for c in doc["channels"].values()} == {"src.erp.orders", "dlq.erp", "crmhub.offsets"}
    assert doc["servers"]["kafka"]["bindings"]["kafka"]["schemaRegistryUrl"] == "http://registry.example:8081"
    assert (doc["servers"]["kafka"]["host"], doc["servers"]["kafka"]["protocol"]) == ("k1:9093", "kafka-secure")
    assert "s3cr3t" not in json.dumps(doc)


def test_the_document_is_the_same_for_the_same_config() -> None:
    first, second = build_asyncapi(load_config(DEMO)), build_asyncapi(load_config(DEMO))
    assert json.dumps(first) == json.dumps(second)


def test_channel_ids_stay_unique() -> None:
    assert channel_ids(["a.b", "a_b", "a-b"]) == {"a-b": "a-b", "a.b": "a_b", "a_b": "a_b_2"}


def _gateway_config(tmp: Path) -> HubConfig:
    return validate_config_text(f"""
gateway: {{tokens_file: {tmp / "tokens.yaml"}}}
connectors:
  - {{kind: filedrop, name: exports, path: {tmp}, feeds: [{{name: credit, pattern: "*.csv", mode: snapshot,
      key_columns: [cust], csv: {{columns: [cust, limit]}}}}]}}
pipelines: {{store: {{url: "sqlite:///{tmp / 'store.db'}"}}}}
""")


def test_the_gateway_serves_the_document_without_a_token(tmp_path: Path) -> None:
    cfg = _gateway_config(tmp_path)
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with TestClient(create_gateway_app(cfg, store), base_url="http://localhost") as client:
            answer = client.get("/asyncapi.json")
            assert answer.status_code == 200
            assert answer.json() == json.loads(json.dumps(build_asyncapi(cfg)))
            assert "src.exports.credit" in {c["address"] for c in answer.json()["channels"].values()}
            assert client.get("/customers", params={"name": "x"}).status_code == 401  # the API still needs one
    finally:
        store.dispose()


def test_the_cli_writes_the_document(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "asyncapi.json"
    written = runner.invoke(cli_app, ["asyncapi", "-c", str(DEMO), "-o", str(out)])
    assert written.exit_code == 0, written.output
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(json.dumps(build_asyncapi(load_config(DEMO))))
    printed = runner.invoke(cli_app, ["asyncapi", "-c", str(DEMO)])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout)["channels"].keys() == json.loads(out.read_text())["channels"].keys()
    missing = runner.invoke(cli_app, ["asyncapi", "-c", str(tmp_path / "nope.yaml")])
    assert missing.exit_code != 0
