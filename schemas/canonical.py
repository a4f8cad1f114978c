"""The canonical entities every source is mapped to, and the event that carries one through ``canon.<entity>``.

Entities are the named Avro records in ``schemas/avro/canonical.avsc``: ``customer``, ``credit``,
``inventory``, ``order`` and ``case``. In Python a canonical record is a plain dict shaped like its Avro
record (``Decimal`` for decimals, ``date`` for dates, ints for ``*_ms`` times, lists of dicts for addresses,
phones, e-mails, order lines and cross-references). :func:`coerce` checks and normalises one against its
schema and lists every problem with its field path, so a mapping that produces a wrong type is a data
problem (dead-letter topic), not a crash.

A :class:`CanonicalEvent` is one canonical record from one source record: which source and key it came from,
an upsert or a delete, the source commit time, and a ``version`` that orders changes of the same source
record (source commit time, then the Kafka position of the source event), so applying an event twice is a
no-op downstream. :func:`event_schema` gives the Avro value schema of ``canon.<entity>``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import orjson

from schemas.canonical_coerce import Record, check

ENTITIES: dict[str, str] = {
    "customer": "crmhub.canon.Customer",
    "credit": "crmhub.canon.Credit",
    "inventory": "crmhub.canon.Inventory",
    "order": "crmhub.canon.Order",
    "case": "crmhub.canon.Case",
}
UPSERT = "upsert"
DELETE = "delete"
KEY_SEPARATOR = "|"


@cache
def _named_types() -> dict[str, dict[str, Any]]:
    text = resources.files("schemas").joinpath("avro/canonical.avsc").read_text(encoding="utf-8")
    types: list[dict[str, Any]] = json.loads(text)
    return {f"{t['namespace']}.{t['name']}": t for t in types}


def _inline(schema: Any, seen: set[str]) -> Any:
    """``schema`` with every named-type reference replaced by its definition the first time it appears."""
    if isinstance(schema, str):
        named = _named_types().get(schema)
        if named is None or schema in seen:
            return schema
        seen.add(schema)
        return _inline(copy.deepcopy(named), seen)
    if isinstance(schema, list):
        return [_inline(s, seen) for s in schema]
    if isinstance(schema, dict):
        if schema.get("type") == "record":
            for f in schema["fields"]:
                f["type"] = _inline(f["type"], seen)
            seen.add(f"{schema['namespace']}.{schema['name']}" if "namespace" in schema else schema["name"])
            return schema
        if schema.get("type") == "array":
            return {**schema, "items": _inline(schema["items"], seen)}
        if schema.get("type") == "map":
            return {**schema, "values": _inline(schema["values"], seen)}
    return schema


@cache
def entity_schema(entity: str) -> dict[str, Any]:
    """The self-contained Avro record schema of one canonical entity (shared: do not modify it)."""
    if entity not in ENTITIES:
        raise KeyError(f"unknown canonical entity {entity!r} (known: {', '.join(ENTITIES)})")
    return _inline(ENTITIES[entity], set())  # type: ignore[no-any-return]


@cache
def _entity_fields(entity: str) -> tuple[str, ...]:
    return tuple(f["name"] for f in entity_schema(entity)["fields"])


def entity_fields(entity: str) -> list[str]:
    return list(_entity_fields(entity))


@cache
def event_schema(entity: str) -> dict[str, Any]:
    """Avro value schema of ``canon.<entity>``: the event metadata plus ``data`` (null for a delete)."""
    return {
        "type": "record", "name": "Event", "namespace": f"crmhub.canon.{entity}",
        "doc": f"One source record mapped to the canonical {entity}.",
        "fields": [
            {"name": "entity", "type": "string"},
            {"name": "source", "type": "string", "doc": "Connector name."},
            {"name": "table", "type": "string"},
            {"name": "source_key", "type": "string"},
            {"name": "op", "type": "string", "doc": "upsert or delete."},
            {"name": "version", "type": "string", "doc": "Orders the changes of one source record."},
            {"name": "source_ts_ms", "type": "long", "doc": "Commit time at the source (epoch ms)."},
            {"name": "ts_ms", "type": "long", "doc": "When the pipeline mapped it (epoch ms)."},
            {"name": "origin", "type": "string", "doc": "The source event: topic/partition/offset."},
            {"name": "snapshot", "type": "boolean", "default": False, "doc": "A snapshot read, not a change."},
            {"name": "warnings", "type": {"type": "array", "items": {
                "type": "record", "name": "Warning", "fields": [
                    {"name": "rule", "type": "string"}, {"name": "field", "type": ["null", "string"], "default": None},
                    {"name": "message", "type": "string"},
                    {"name": "value", "type": ["null", "string"], "default": None,
                     "doc": "The value set to null, as text (an impossible birth date's digits still help matching)."},
                ]}}, "default": []},
            {"name": "data", "type": ["null", entity_schema(entity)], "default": None},
        ],
    }


KEY_SCHEMA: dict[str, Any] = {"type": "string"}
"""Key of ``canon.*`` topics: ``<source>/<source_key>``, so one source record stays on one partition."""


def make_version(source_ts_ms: int, partition: int, offset: int) -> str:
    """A string that sorts like (source commit time, partition, offset) of the source event."""
    return f"{source_ts_ms:015d}.{partition:04d}.{offset:015d}"


def source_key(key: Mapping[str, Any]) -> str:
    """The primary-key values of a source row as one string (in key order, joined with ``|``)."""
    return KEY_SEPARATOR.join("" if v is None else str(v).strip() for v in key.values())


@dataclass(frozen=True, slots=True)
class Warning_:
    rule: str
    field: str | None
    message: str
    value: str | None = None  # the value set to null, as text


def nulled_text(warnings: tuple[Warning_, ...], field_name: str) -> str | None:
    """The text of the value a warning says was set to null in ``field_name``, if any."""
    return next((w.value for w in warnings if w.field == field_name and w.value), None)


@dataclass(frozen=True, slots=True)
class CanonicalEvent:
    entity: str
    source: str
    table: str
    source_key: str
    op: str
    version: str
    source_ts_ms: int
    ts_ms: int
    origin: str
    data: Record | None
    warnings: tuple[Warning_, ...] = field(default=())
    snapshot: bool = False  # read by a snapshot (``op`` r at the source), not a change

    @property
    def kafka_key(self) -> str:
        return f"{self.source}/{self.source_key}"

    def to_avro(self) -> Record:
        return {"entity": self.entity, "source": self.source, "table": self.table, "source_key": self.source_key,
                "op": self.op, "version": self.version, "source_ts_ms": self.source_ts_ms, "ts_ms": self.ts_ms,
                "origin": self.origin, "snapshot": self.snapshot, "data": self.data,
                "warnings": [{"rule": w.rule, "field": w.field, "message": w.message, "value": w.value}
                             for w in self.warnings]}

    @classmethod
    def from_avro(cls, datum: Mapping[str, Any]) -> CanonicalEvent:
        warnings = tuple(Warning_(w["rule"], w.get("field"), w["message"], w.get("value"))
                         for w in datum.get("warnings", ()))
        return cls(entity=datum["entity"], source=datum["source"], table=datum["table"],
                   source_key=datum["source_key"], op=datum["op"], version=datum["version"],
                   source_ts_ms=datum["source_ts_ms"], ts_ms=datum["ts_ms"], origin=datum["origin"],
                   data=datum.get("data"), warnings=warnings, snapshot=bool(datum.get("snapshot", False)))


# --- checking a record against its entity schema -------------------------------------------------------------

def coerce(entity: str, data: Mapping[str, Any]) -> tuple[Record, list[str]]:
    """``data`` checked against the entity's schema: defaults filled, numbers made ``Decimal`` with the
    schema's scale, ``datetime`` made ``date`` where a date is expected. Returns the record and the problems
    (``"field.path: what is wrong"``); the record is only usable when there are none."""
    return check(entity_schema(entity), data)


# --- JSON form (store, exports, HTTP) --------------------------------------------------------------------------

_JSON_AS_IS = frozenset({str, int, float, bool, type(None)})


def to_json(value: Any) -> Any:
    """A canonical value in JSON-safe form: decimals and dates as strings, recursively."""
    if isinstance(value, Mapping):
        return {k: v if type(v) in _JSON_AS_IS else to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [v if type(v) in _JSON_AS_IS else to_json(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def record_json(data: Mapping[str, Any] | None) -> Any:
    """:func:`to_json` of a canonical record (a plain dict as the Avro decoder gives it: text, integers, booleans,
    decimals, dates, lists and dicts of them), through orjson in C: decimals as their text, dates and times as
    ISO text. The same value in about a third of the time, and what the store's JSON text reads back as."""
    return orjson.loads(orjson.dumps(data, default=str))


def from_json(entity: str, data: Mapping[str, Any]) -> Record:
    """The inverse of :func:`to_json` for one entity record (through :func:`coerce`)."""
    record, problems = coerce(entity, data)
    if problems:
        raise ValueError(f"stored {entity} record does not fit its schema: {'; '.join(problems)}")
    return record
