"""Sending a dead letter's record back to the topic it came from, once its cause is fixed (a mapping or a rule
corrected, a code table completed), so the pipeline reads it again.

- A record a mapping rejected keeps the original change event as JSON-safe values (``original``): it goes back
  to its source topic (``src.<connector>.<table>``, or the table's ``topic``) encoded with the topic's latest
  registered key and value schemas (:func:`avro_value` turns the JSON-safe values back into what Avro writes).
- A change event the pipeline could not decode names its message (``topic``, ``partition``, ``offset``): that
  message is copied back to its topic byte for byte.
- A row its connector could not read never became an event: fix it at the source, where the connector reads it
  again with its next change (or a snapshot). It is refused here.

Every re-sent message carries the header ``crmhub.resent-from`` with the dead letter's id.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import fastavro

from hub.kafka.clients import KafkaSettings
from hub.kafka.common import Record
from hub.registry.client import RegistryClient
from hub.runtime.dlq_read import DEAD_ROW, TOPIC, DeadLetter, Ident
from hub.runtime.dlq_topics import topic_message
from schemas import wire
from schemas.avro_gen import renames_from_schema

RESENT_HEADER = "crmhub.resent-from"


class NotResendable(ValueError):
    """The dead letter holds no record that could go back (or its message is gone)."""


_PRIMITIVE_FITS: dict[str, Callable[[Any], bool]] = {
    "null": lambda v: v is None, "boolean": lambda v: isinstance(v, bool),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "long": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "double": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str), "bytes": lambda v: isinstance(v, str | bytes)}

_LOGICAL: dict[str, Callable[[str], Any]] = {
    "decimal": Decimal, "date": date.fromisoformat, "time-millis": time.fromisoformat,
    "time-micros": time.fromisoformat, "timestamp-millis": datetime.fromisoformat,
    "timestamp-micros": datetime.fromisoformat, "local-timestamp-millis": datetime.fromisoformat,
    "local-timestamp-micros": datetime.fromisoformat}


def _fits(schema: Any, value: Any, named: dict[str, Any]) -> bool:
    if isinstance(schema, str):
        return _fits(named[schema], value, named) if schema in named else _PRIMITIVE_FITS.get(schema,
                                                                                             lambda _: True)(value)
    if isinstance(schema, list):
        return any(_fits(b, value, named) for b in schema)
    if schema.get("logicalType") in _LOGICAL:
        return isinstance(value, str)
    kind = schema.get("type")
    if kind in ("record", "map"):
        return isinstance(value, Mapping)
    if kind == "array":
        return isinstance(value, list)
    if kind == "enum":
        return isinstance(value, str) and value in schema.get("symbols", [])
    return _fits(kind, value, named)


def named_types(schema: Any, space: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every named type (record, enum, fixed) of ``schema`` by its name and its full name."""
    out = {} if out is None else out
    if isinstance(schema, list):
        for branch in schema:
            named_types(branch, space, out)
    elif isinstance(schema, Mapping):
        kind = schema.get("type")
        if kind in ("record", "enum", "fixed") and "name" in schema:
            name = str(schema["name"])
            space = str(schema.get("namespace") or (name.rsplit(".", 1)[0] if "." in name else space))
            out[name] = schema
            out[name if "." in name or not space else f"{space}.{name}"] = schema
        for f in schema.get("fields", []) if kind == "record" else []:
            named_types(f["type"], space, out)
        for part in ("items", "values"):
            if part in schema:
                named_types(schema[part], space, out)
        if isinstance(kind, list | Mapping):
            named_types(kind, space, out)
    return out


def avro_value(schema: Any, value: Any, named: dict[str, Any] | None = None) -> Any:
    """A JSON-safe ``value`` (decimals and times as text, bytes base64, as a dead letter keeps them) as the
    Python value fastavro writes for ``schema``. Pure."""
    named = named_types(schema) if named is None else named
    if isinstance(schema, str):
        if schema in named:
            return avro_value(named[schema], value, named)
        if schema == "bytes" and isinstance(value, str):
            return base64.b64decode(value)
        return value
    if isinstance(schema, list):
        if value is None:
            return None
        branch = next((b for b in schema if b != "null" and _fits(b, value, named)), None)
        return value if branch is None else avro_value(branch, value, named)
    logical = _LOGICAL.get(str(schema.get("logicalType")))
    if logical is not None and isinstance(value, str):
        return logical(value)
    kind = schema.get("type")
    if kind == "record" and isinstance(value, Mapping):
        return {f["name"]: avro_value(f["type"], value.get(f["name"], f.get("default")), named)
                for f in schema["fields"]}
    if kind == "array" and isinstance(value, list):
        return [avro_value(schema["items"], v, named) for v in value]
    if kind == "map" and isinstance(value, Mapping):
        return {k: avro_value(schema["values"], v, named) for k, v in value.items()}
    if kind == "fixed" and isinstance(value, str):
        return base64.b64decode(value)
    if isinstance(kind, str | list | dict) and kind not in ("record", "enum", "array", "map", "fixed"):
        return avro_value(kind, value, named)
    return value


def _renamed(row: Any, renames: Mapping[str, str]) -> Any:
    return {renames.get(k, k): v for k, v in row.items()} if isinstance(row, Mapping) else row


def event_datums(original: Mapping[str, Any], key_schema: Any, value_schema: Any) -> tuple[Any, Any]:
    """The key and value datums of a dead letter's ``original`` change event for the topic's schemas. Pure."""
    renames = renames_from_schema(value_schema)
    value = {"before": _renamed(original.get("before"), renames), "after": _renamed(original.get("after"), renames),
             "source": original.get("source"), "op": original.get("op"), "ts_ms": original.get("ts_ms")}
    key = original.get("key")
    key_datum = avro_value(key_schema, _renamed(key, renames_from_schema(key_schema))) if key else None
    return key_datum, avro_value(value_schema, value)


def _encode(schema_id: int, schema: Any, datum: Any) -> bytes:
    buf = io.BytesIO()
    buf.write(wire.header(schema_id))
    fastavro.schemaless_writer(buf, fastavro.parse_schema(schema), datum)
    return buf.getvalue()


@dataclass(frozen=True, slots=True)
class Resend:
    """Where to read and what to write with: the broker, the registry, and the topic of a source table."""

    settings: KafkaSettings
    registry: RegistryClient
    topic_of: Callable[[str, str | None, str], str]  # (connector name, schema, table) -> its source topic

    def record(self, letter: DeadLetter, timeout_s: float = 5.0) -> Record:
        """The record to produce for ``letter`` (``NotResendable`` says why there is none)."""
        body = letter.body if isinstance(letter.body, Mapping) else {}
        header = ((RESENT_HEADER, letter.id.encode()),)
        if letter.rule == DEAD_ROW:
            raise NotResendable("a row its connector could not read: fix it at the source, the connector reads it "
                                "again with its next change (or snapshot the connector)")
        original = body.get("original")
        if isinstance(original, Mapping):
            src = original.get("source") or {}
            topic = self.topic_of(str(src.get("name")), src.get("schema"), str(src.get("table")))
            key_reg = self.registry.latest(f"{topic}-key")
            value_reg = self.registry.latest(f"{topic}-value")
            key_schema, value_schema = json.loads(key_reg.schema), json.loads(value_reg.schema)
            key, value = event_datums(original, key_schema, value_schema)
            key_bytes = None if key is None else _encode(key_reg.schema_id, key_schema, key)
            return Record(topic, key_bytes, _encode(value_reg.schema_id, value_schema, value), header)
        if body.get("rule") == "decode" and {"topic", "partition", "offset"} <= body.keys():
            ident = Ident(TOPIC, topic=str(body["topic"]), partition=int(body["partition"]),
                          offset=int(body["offset"]))
            m = topic_message(self.settings, ident, timeout_s)
            if m is None:
                raise NotResendable(f"{ident.topic}/{ident.partition}/{ident.offset} is no longer on its topic")
            return Record(m.topic, m.key, m.value, header)
        raise NotResendable("this dead letter keeps no original record")
