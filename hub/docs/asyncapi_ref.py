"""The topics reference: a summary of the AsyncAPI document (:func:`hub.gateway.asyncapi.build_asyncapi`) of
``config/demo.yaml``: the server, every channel with its key, payload schema and bindings, and the top-level
fields of every Avro payload record."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from hub.config import load_config
from hub.docs.markdown import code, escape, page, table
from hub.gateway.asyncapi import AVRO_FORMAT, build_asyncapi

CONFIG = Path("config") / "demo.yaml"


def _avro_type(schema: Any) -> str:
    if isinstance(schema, str):
        return schema.rsplit(".", 1)[-1]  # a named type by its short name
    if isinstance(schema, list):
        return " or ".join(_avro_type(s) for s in schema)
    kind = schema.get("type")
    if kind in ("record", "enum", "fixed"):
        return str(schema["name"])
    if kind == "array":
        return f"array of {_avro_type(schema['items'])}"
    if kind == "map":
        return f"map of {_avro_type(schema['values'])}"
    return str(schema.get("logicalType", kind))


def _record_name(schema: Any) -> str:
    if isinstance(schema, dict) and schema.get("type") == "record":
        return f"{schema['namespace']}.{schema['name']}" if schema.get("namespace") else str(schema["name"])
    return _avro_type(schema)


def _message(channel: Mapping[str, Any]) -> dict[str, Any]:
    return dict(next(iter(channel["messages"].values())))


def _key(message: Mapping[str, Any]) -> str:
    key = message["bindings"]["kafka"].get("key")
    if key is None:
        return "none"
    subject = message.get("x-crmhub-key-subject")
    if subject:
        return f"Avro {_avro_type(key.get('type', 'record')) if key.get('type') != 'object' else 'record'} " \
               f"({code(subject)})"
    kind = "JSON" if key.get("type") == "object" else str(key.get("type", "any"))
    return f"{kind}: {key.get('description', '')}"


def _value(message: Mapping[str, Any]) -> str:
    payload = message["payload"]
    if payload["schemaFormat"] != AVRO_FORMAT:
        return "JSON"
    name = code(_record_name(payload["schema"]))
    placeholder = " (fields from the registry)" if message.get("x-crmhub-schema-placeholder") else ""
    return f"Avro {name}{placeholder}, {code(message['x-crmhub-value-subject'])}"


def _bindings(channel: Mapping[str, Any], message: Mapping[str, Any]) -> str:
    notes = []
    policy = channel["bindings"]["kafka"].get("topicConfiguration", {}).get("cleanup.policy")
    if policy:
        notes.append(f"cleanup.policy {code(','.join(policy))}")
    kafka = message["bindings"]["kafka"]
    if "schemaIdLocation" in kafka:
        notes.append(f"schema id in the {kafka['schemaIdLocation']} ({kafka['schemaIdPayloadEncoding']})")
    if message.get("headers"):
        notes.append("header " + ", ".join(code(h) for h in message["headers"].get("properties", {})))
    return "; ".join(notes)


def channel_tables(doc: Mapping[str, Any]) -> Iterator[str]:
    writers = {op["channel"]["$ref"].rsplit("/", 1)[-1]: op["summary"] for op in doc["operations"].values()}
    for tag in doc["info"]["tags"]:
        group = tag["name"]
        yield f"### {group}"
        yield ""
        yield escape(tag["description"])
        yield ""
        rows = []
        for cid, channel in doc["channels"].items():
            if channel["tags"][0]["name"] != group:
                continue
            message = _message(channel)
            rows.append((code(channel["address"]), _key(message), _value(message), _bindings(channel, message),
                         writers[cid].split(" writes ")[0]))
        yield from table(("topic", "key", "value", "bindings", "written by"), rows)
        yield ""


def fields_table(schema: Mapping[str, Any]) -> list[str]:
    return table(("field", "type", "doc"), [(code(f["name"]), _avro_type(f["type"]), f.get("doc", ""))
                                           for f in schema["fields"]])


def _record(title: str, schema: Mapping[str, Any]) -> Iterator[str]:
    yield f"### {escape(title)}"
    yield ""
    if schema.get("doc"):
        yield escape(str(schema["doc"]))
        yield ""
    yield from fields_table(schema)
    yield ""


def payload_records(doc: Mapping[str, Any]) -> Iterator[str]:
    """The canonical event once and each entity's record, then the other Avro payloads."""
    avro = [(c, _message(c)) for c in doc["channels"].values()]
    avro = [(c, m) for c, m in avro if m["payload"]["schemaFormat"] == AVRO_FORMAT
            and not m.get("x-crmhub-schema-placeholder")]
    canonical = [(c, m) for c, m in avro if c["tags"][0]["name"] == "canonical"]
    if canonical:
        event = canonical[0][1]["payload"]["schema"]
        yield "### Canonical event (`canon.*`)"
        yield ""
        yield ("Every `canon.<entity>` value is this event (record `crmhub.canon.<entity>.Event`); `data` holds the "
               "entity's record, below.")
        yield ""
        yield from fields_table({"fields": [f for f in event["fields"] if f["name"] != "data"]})
        yield "| `data` | null or the entity's record | Null for a delete. |"
        yield ""
        for channel, message in canonical:
            data = next(f["type"] for f in message["payload"]["schema"]["fields"] if f["name"] == "data")[1]
            yield from _record(f"{channel['address']}: data ({_record_name(data)})", data)
    for channel, message in avro:
        if channel["tags"][0]["name"] not in ("canonical", "source"):
            schema = message["payload"]["schema"]
            yield from _record(f"{channel['address']} ({_record_name(schema)})", schema)


def envelope_section(doc: Mapping[str, Any]) -> Iterator[str]:
    sources = [c for c in doc["channels"].values() if c["tags"][0]["name"] == "source"]
    if not sources:
        return
    schema = _message(sources[0])["payload"]["schema"]
    yield "### Change-event envelope (`src.*`)"
    yield ""
    yield ("Every source topic's value is this envelope; `before` and `after` are a record of the table's "
           "columns, generated from the source catalog when the connector starts (column types map to Avro as "
           "`schemas/avro_gen.py` describes) and registered under the subject `<topic>-value`: ask the registry "
           "for it (`GET /subjects/<topic>-value/versions/latest`), or run `crmhub asyncapi --registry` once the "
           "connectors have run. The key is a record of the key columns (subject `<topic>-key`).")
    yield ""
    yield from fields_table(schema)
    yield ""
    source = next(f["type"] for f in schema["fields"] if f["name"] == "source")
    yield f"`source` ({code(_record_name(source))}):"
    yield ""
    yield from fields_table(source)
    yield ""


def intro(doc: Mapping[str, Any]) -> list[str]:
    server = doc["servers"]["kafka"]
    return [
        "crmhub describes every topic it writes in an AsyncAPI 3.0 document: one channel per topic (address = "
        "the topic), its message with the key and the payload schema (Avro, `schemaFormat` "
        f"{code(AVRO_FORMAT)}, as registered), a `send` operation, and Kafka bindings (topic configuration of "
        "the compacted topics; where the schema id is: in the payload, Confluent's wire format). Get the whole "
        "document for your configuration with `crmhub asyncapi -c FILE -o asyncapi.json` (add `--registry` to "
        "take the source tables' row schemas from the schema registry), or from a running gateway at "
        "`GET /asyncapi.json` (no token needed). The document is built from the configuration alone: no broker "
        "and no registry are needed.",
        "",
        f"Below, the document of `{CONFIG.as_posix()}` (the demo), summarised: Kafka at {code(server['host'])} "
        f"(protocol {code(server['protocol'])}), schema registry "
        f"{code(server['bindings']['kafka']['schemaRegistryUrl'])}; "
        f"{len(doc['channels'])} channels and {len(doc['operations'])} operations.",
    ]


def render(root: Path) -> str:
    doc = build_asyncapi(load_config(root / CONFIG, env={}))
    body = ["## Channels", "", *channel_tables(doc), "## Payload schemas", "", *envelope_section(doc),
            *payload_records(doc)]
    return page("Topics reference (AsyncAPI)", intro(doc), body)
