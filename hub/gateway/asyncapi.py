"""The AsyncAPI 3.0 document of every topic crmhub writes for a configuration (``GET /asyncapi.json``,
``crmhub asyncapi -c FILE``).

:func:`build_asyncapi` is a pure function: config in, JSON-ready dict out, the same dict for the same config.
Per topic (:mod:`hub.gateway.topic_catalog`) it gives a channel (address = topic), one message with its key and
payload schema, and a ``send`` operation (crmhub publishes). Avro payloads carry ``schemaFormat``
``application/vnd.apache.avro;version=1.9.0`` and the Kafka message binding says where the schema id is: in
the payload, Confluent's wire format (magic byte 0 and a 4-byte big-endian id), looked up by TopicNameStrategy
(subjects ``<topic>-key`` / ``<topic>-value``). Avro key schemas are components the message binding refers
to; compacted topics carry their ``cleanup.policy`` in the channel binding.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hub.config import HubConfig
from hub.gateway.topic_catalog import GROUPS, Part, Schema, TopicInfo, written_topics
from hub.kafka.clients import COMPACTED
from schemas.secrets import mask_text

ASYNCAPI_VERSION = "3.0.0"
API_VERSION = "1"
AVRO_FORMAT = "application/vnd.apache.avro;version=1.9.0"
JSON_SCHEMA_FORMAT = "application/schema+json;version=draft-07"
AVRO_CONTENT_TYPE = "application/vnd.apache.avro+binary"
JSON_CONTENT_TYPE = "application/json"
KAFKA_BINDING = "0.5.0"
_ID_INVALID = re.compile(r"[^A-Za-z0-9_-]")

_GROUP_TEXT = {
    "source": "Change events of the source tables, one topic per captured table (src.<connector>.<table>).",
    "canonical": "Source records mapped to the canonical entities (canon.<entity>).",
    "customer": "Golden records, their changes and alerts: what CRM front ends subscribe to.",
    "dead-letter": "Records crmhub could not process, with the reason: never silently dropped.",
    "internal": "crmhub's own state: connector positions and the schema registry's topic.",
}


def channel_ids(topics: list[str]) -> dict[str, str]:
    """A channel id per topic: the topic with ``.`` (and anything else but letters, digits, ``_``, ``-``) made
    ``_``; a clash gets a numeric suffix, in topic order, so ids stay stable for the same topics."""
    ids: dict[str, str] = {}
    used: set[str] = set()
    for topic in sorted(topics):
        base = _ID_INVALID.sub("_", topic)
        cid, n = base, 2
        while cid in used:
            cid, n = f"{base}_{n}", n + 1
        used.add(cid)
        ids[topic] = cid
    return ids


def _multi_format(part: Part) -> dict[str, Any]:
    fmt = AVRO_FORMAT if part.encoding == "avro" else JSON_SCHEMA_FORMAT
    return {"schemaFormat": fmt, "schema": part.schema}


_AVRO_JSON = {"string": "string", "int": "integer", "long": "integer", "float": "number", "double": "number",
              "boolean": "boolean", "bytes": "string", "null": "null"}


def key_schema_object(info: TopicInfo) -> dict[str, Any]:
    """The message key as an AsyncAPI Schema Object (what the Kafka binding's ``key`` takes): the JSON view of
    an Avro key, or the JSON Schema of a text key. The Avro key schema itself is a component the message names
    in ``x-crmhub-key-schema`` (the binding's ``key`` cannot hold a reference: the official JSON Schema of
    bindings 0.5.0 accepts a ``$ref`` there as both a Reference and a Schema Object, so it rejects it)."""
    part = info.key
    if part.encoding != "avro":
        return dict(part.schema)
    described = f"Avro {part.name} (registry subject {part.subject})"
    if not part.placeholder:
        return {**_avro_as_json(part.schema), "description": described}
    keys = info.key_columns
    return {"type": "object", "description": f"{described}: the key columns "
                                             f"({', '.join(keys) if keys else 'the primary key'}) with the types "
                                             "the source table gives them.",
            "properties": {k: {} for k in keys}, "required": list(keys)}


def _avro_as_json(schema: Any) -> dict[str, Any]:
    if isinstance(schema, list):
        return {"anyOf": [_avro_as_json(s) for s in schema]}
    if isinstance(schema, str):
        return {"type": _AVRO_JSON[schema]} if schema in _AVRO_JSON else {}
    kind = schema.get("type")
    if kind == "record":
        fields = schema.get("fields", [])
        return {"type": "object", "properties": {f["name"]: _avro_as_json(f["type"]) for f in fields},
                "required": [f["name"] for f in fields if "default" not in f]}
    if isinstance(kind, str) and kind in _AVRO_JSON:
        return {"type": _AVRO_JSON[kind], **({"format": schema["logicalType"]} if "logicalType" in schema else {})}
    return {}


def _message(info: TopicInfo, key_ref: str | None) -> dict[str, Any]:
    binding: dict[str, Any] = {"bindingVersion": KAFKA_BINDING}
    if info.key.encoding != "none":
        binding["key"] = key_schema_object(info)
    if info.value.encoding == "avro":
        binding.update(schemaIdLocation="payload", schemaIdPayloadEncoding="confluent",
                       schemaLookupStrategy="TopicNameStrategy")
    message: dict[str, Any] = {
        "name": info.message, "title": info.summary, "summary": info.summary,
        "contentType": AVRO_CONTENT_TYPE if info.value.encoding == "avro" else JSON_CONTENT_TYPE,
        "payload": _multi_format(info.value), "bindings": {"kafka": binding},
    }
    if info.headers is not None:
        message["headers"] = info.headers
    if info.value.subject is not None:
        message["x-crmhub-value-subject"] = info.value.subject
    if info.key.subject is not None:
        message["x-crmhub-key-subject"] = info.key.subject
    if key_ref is not None:
        message["x-crmhub-key-schema"] = {"$ref": key_ref}
    if info.value.placeholder:
        message["x-crmhub-schema-placeholder"] = True
    return message


def _topic_configuration(info: TopicInfo) -> dict[str, Any]:
    if not info.compacted:
        return {}
    conf: dict[str, Any] = {k: int(v) if v.isdigit() else v for k, v in sorted(COMPACTED.items())}
    conf["cleanup.policy"] = [p.strip() for p in COMPACTED["cleanup.policy"].split(",")]
    return {"topicConfiguration": conf}


def _channel(info: TopicInfo, message: dict[str, Any]) -> dict[str, Any]:
    return {
        "address": info.topic, "title": info.topic, "summary": info.summary, "description": info.description,
        "messages": {info.message: message}, "tags": [{"name": info.group}],
        "bindings": {"kafka": {"topic": info.topic, **_topic_configuration(info), "bindingVersion": KAFKA_BINDING}},
    }


def _operation(info: TopicInfo, cid: str, client_id: str) -> dict[str, Any]:
    return {
        "action": "send", "channel": {"$ref": f"#/channels/{cid}"},
        "title": f"Publish {info.topic}", "summary": f"{info.writer} writes {info.topic}",
        "messages": [{"$ref": f"#/channels/{cid}/messages/{info.message}"}], "tags": [{"name": info.group}],
        "bindings": {"kafka": {"clientId": {"type": "string", "enum": [client_id]}, "bindingVersion": KAFKA_BINDING}},
    }


def _server(cfg: HubConfig) -> dict[str, Any]:
    servers = [s.strip() for s in cfg.kafka.bootstrap_servers.split(",") if s.strip()]
    protocol = str(cfg.kafka.security.get("security_protocol", "PLAINTEXT")).upper()
    registry = mask_text(cfg.registry.effective_url())
    return {
        "host": servers[0], "protocol": "kafka-secure" if "SSL" in protocol else "kafka",  # SSL, SASL_SSL: TLS
        "description": f"Bootstrap servers: {', '.join(servers)} (kafka.bootstrap_servers); security protocol "
                       f"{protocol}. Schemas: the registry at {registry}.",
        "bindings": {"kafka": {"schemaRegistryUrl": registry, "schemaRegistryVendor": "confluent",
                               "bindingVersion": KAFKA_BINDING}},
    }


def _description(cfg: HubConfig, topics: list[TopicInfo]) -> str:
    groups = [f"- **{g}**: {_GROUP_TEXT[g]}" for g in GROUPS if any(t.group == g for t in topics)]
    return "\n".join([
        "Every Kafka topic crmhub writes for this configuration. Avro messages use the Confluent wire format "
        "(magic byte 0, 4-byte big-endian schema id, Avro binary) with subjects `<topic>-key` and `<topic>-value` "
        f"(TopicNameStrategy) in the schema registry at {mask_text(cfg.registry.effective_url())}; "
        "dead letters, positions and the registry's own records are JSON.",
        "", *groups])


def build_asyncapi(cfg: HubConfig, registered: Mapping[str, Schema] | None = None) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every topic crmhub writes for ``cfg`` (offline: no broker, no registry).

    ``registered``: Avro schemas by registry subject (``src.erp.orders-value``) to use instead of the
    placeholders of the source topics, whose row fields only the running connector knows."""
    topics = written_topics(cfg, registered)
    ids = channel_ids([t.topic for t in topics])
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    key_schemas: dict[str, Any] = {}
    for info in topics:
        cid = ids[info.topic]
        key_ref = None
        if info.key.encoding == "avro":
            name = _key_component(info, cid, key_schemas)
            key_ref = f"#/components/schemas/{name}"
        channels[cid] = _channel(info, _message(info, key_ref))
        operations[f"publish_{cid}"] = _operation(info, cid, cfg.kafka.client_id)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": "crmhub topics", "version": API_VERSION, "description": _description(cfg, topics),
                 "tags": [{"name": g, "description": _GROUP_TEXT[g]} for g in GROUPS
                          if any(t.group == g for t in topics)]},
        "defaultContentType": AVRO_CONTENT_TYPE,
        "servers": {"kafka": _server(cfg)},
        "channels": channels,
        "operations": operations,
        "components": {"schemas": dict(sorted(key_schemas.items()))},
    }


def _key_component(info: TopicInfo, cid: str, components: dict[str, Any]) -> str:
    """The component holding the Avro key schema: shared by topics with the same key schema (canon.*: string,
    customer.*: the golden id), else one per channel."""
    shared = {"canonical": "canonicalKey", "customer": "goldenId"}.get(info.group)
    name = shared or f"{cid}.key"
    components.setdefault(name, _multi_format(info.key))
    return name
