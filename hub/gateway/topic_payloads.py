"""JSON Schemas (draft-07) of the topics crmhub writes as JSON rather than Avro: the dead-letter topics, the
connector positions and the registry's own ``_schemas`` topic.

Each schema mirrors the code that writes the message; the function named in its description is that code.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

_STR: Schema = {"type": "string"}
_NULL_STR: Schema = {"type": ["string", "null"]}
_INT: Schema = {"type": "integer"}
_STR_MAP: Schema = {"type": "object", "additionalProperties": {"type": "string"}}
_ANY: Schema = {}


def _object(description: str, properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    return {"type": "object", "description": description, "properties": properties,
            "required": sorted(properties) if required is None else required}


def connector_dead_letter() -> Schema:
    """``dlq.<connector>``: a source record its connector could not turn into a change event."""
    return _object(
        "A source record the connector could not read or encode, with the reason (hub.runtime.encode.dlq_record; "
        "the initial load writes the same shape).",
        {"connector": {**_STR, "description": "Connector name."},
         "table": {**_STR, "description": "Table or feed the record belongs to."},
         "reason": {**_STR, "description": "Why the record could not become a change event."},
         "position": {**_STR_MAP, "description": "The connector's position of the record, when known."},
         "record": {**_ANY, "description": "The record as read (column name -> value)."},
         "ts_ms": {**_INT, "description": "When crmhub dead-lettered it (epoch ms)."}},
        ["connector", "table", "reason", "record"])


def _original_event() -> Schema:
    source = _object("The change event's source block.", {
        "connector": _STR, "name": _STR, "db": _STR, "schema": _NULL_STR, "table": _STR, "ts_ms": _INT,
        "snapshot": _STR, "position": _STR_MAP, "tx_id": _NULL_STR})
    return _object("The change event that was rejected, as JSON.", {
        "op": {**_STR, "enum": ["c", "u", "d", "r"]}, "key": {"type": "object"},
        "before": {"type": ["object", "null"]}, "after": {"type": ["object", "null"]}, "ts_ms": _INT,
        "source": source})


def pipeline_dead_letter() -> Schema:
    """``dlq.<pipeline>``: a record a mapping or data-quality rule rejected, or a message that did not decode."""
    rejected = _object(
        "A source record a mapping target rejected (pipelines.canonicalize.Rejected.to_json).",
        {"source": {**_STR, "description": "Connector name."}, "table": _STR, "source_key": _STR,
         "entity": {**_STR, "description": "Canonical entity the mapping targets."},
         "rule": {**_STR, "description": "The rule or transform that rejected it."},
         "field": _NULL_STR, "level": _NULL_STR, "reason": _STR,
         "values": {"type": "object", "description": "The values the rule saw."},
         "original": _original_event()},
        ["source", "table", "source_key", "entity", "rule", "reason", "original"])
    undecodable = _object(
        "A message the pipeline could not decode (hub.runtime.pipeline_workers.undecodable_record).",
        {"reason": _STR, "rule": {"const": "decode"}, "topic": _STR, "partition": _INT, "offset": _INT,
         "value_hex": {**_STR, "description": "The message value, hex-encoded."}, "ts_ms": _INT})
    return {"description": "A rejected record or an undecodable message.", "oneOf": [rejected, undecodable]}


def webhook_dead_letter() -> Schema:
    """``gateway.webhooks.dlq_topic``: an event a webhook could not take after every attempt."""
    return _object(
        "An event a webhook subscription failed to take after gateway.webhooks.max_attempts attempts "
        "(hub.gateway.webhooks.DeadLetter).",
        {"subscription_id": _NULL_STR, "url": _NULL_STR, "reason": _STR, "attempts": _INT,
         "event_id": {**_STR, "description": "The stream event id (<topic>-<partition>-<offset>)."},
         "event": {"type": "object", "description": "The event as the webhook would have received it."}})


def connector_position() -> Schema:
    """``offsets.topic``: a connector's saved position (hub.runtime.offsets)."""
    return {"type": "object", "description": "The connector's JSON-safe state: its position (journal sequence, SCN, "
                                             "LSN, watermark ...) in a connector-specific shape. A tombstone (null "
                                             "value) resets the connector: it snapshots again on its next start."}


def schema_record_key() -> Schema:
    """The key of a ``_schemas`` record, as the Confluent registry writes it (hub.registry.store)."""
    return {"type": "object", "description": "Record key: a SCHEMA or CONFIG record of a subject.", "properties": {
        "keytype": {"enum": ["SCHEMA", "CONFIG"]}, "subject": _NULL_STR, "version": _INT, "magic": _INT},
        "required": ["keytype", "magic"]}


def schema_record_value() -> Schema:
    """The value of a ``_schemas`` record (hub.registry.store); a tombstone deletes permanently."""
    schema = _object("A schema version of a subject.", {
        "subject": _STR, "version": _INT, "id": _INT, "schema": {**_STR, "description": "The schema text."},
        "deleted": {"type": "boolean"}}, ["subject", "version", "id", "schema"])
    level = _object("A compatibility level (null subject: the global level).",
                    {"compatibilityLevel": _STR})
    return {"description": "A schema version or a compatibility level.", "oneOf": [schema, level]}


def reason_header(name: str) -> Schema:
    """The headers of a dead letter: the reason, UTF-8, cut to fit."""
    return {"type": "object", "properties": {name: {**_STR, "description": "Why the record was dead-lettered."}}}
