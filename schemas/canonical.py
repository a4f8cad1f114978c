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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

Record = dict[str, Any]

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
                    {"name": "message", "type": "string"}]}}, "default": []},
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
                "warnings": [{"rule": w.rule, "field": w.field, "message": w.message} for w in self.warnings]}

    @classmethod
    def from_avro(cls, datum: Mapping[str, Any]) -> CanonicalEvent:
        warnings = tuple(Warning_(w["rule"], w.get("field"), w["message"]) for w in datum.get("warnings", ()))
        return cls(entity=datum["entity"], source=datum["source"], table=datum["table"],
                   source_key=datum["source_key"], op=datum["op"], version=datum["version"],
                   source_ts_ms=datum["source_ts_ms"], ts_ms=datum["ts_ms"], origin=datum["origin"],
                   data=datum.get("data"), warnings=warnings, snapshot=bool(datum.get("snapshot", False)))


# --- checking a record against its entity schema -------------------------------------------------------------

def coerce(entity: str, data: Mapping[str, Any]) -> tuple[Record, list[str]]:
    """``data`` checked against the entity's schema: defaults filled, numbers made ``Decimal`` with the
    schema's scale, ``datetime`` made ``date`` where a date is expected. Returns the record and the problems
    (``"field.path: what is wrong"``); the record is only usable when there are none."""
    schema = entity_schema(entity)
    try:
        return _compiled(schema)(data), []
    except _Slow:  # something to report: the checking walk below names every problem with its path
        pass
    problems: list[str] = []
    out = _record(schema, data, "", problems)
    return out, problems


@dataclass(frozen=True, slots=True)
class _Fields:
    """A record schema's fields, read once: names, and per field (name, type, has a default, the default,
    whether the default is mutable and must be copied)."""

    names: frozenset[str]
    fields: tuple[tuple[str, Any, bool, Any, bool], ...]


_FIELDS: dict[int, tuple[Mapping[str, Any], _Fields]] = {}  # by id(schema); keeps the schema alive
_MISSING = object()


def _fields(schema: Mapping[str, Any]) -> _Fields:
    hit = _FIELDS.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    plan = _Fields(frozenset(f["name"] for f in schema["fields"]),
                   tuple((f["name"], f["type"], "default" in f, f.get("default"),
                          isinstance(f.get("default"), (list, dict))) for f in schema["fields"]))
    _FIELDS[id(schema)] = (schema, plan)
    return plan


class _Slow(Exception):
    """A value the compiled conversion does not take as it is (:func:`_record` then names the problem)."""


_COMPILED: dict[int, tuple[Mapping[str, Any], Callable[[Any], Any]]] = {}  # by id(schema); keeps it alive


def _compiled(schema: Mapping[str, Any]) -> Callable[[Any], Any]:
    """:func:`_record` as nested functions for records without problems: the same result without reading the
    schema or building field paths per value; raises :class:`_Slow` where ``_record`` reports a problem."""
    hit = _COMPILED.get(id(schema))
    if hit is None or hit[0] is not schema:
        hit = _COMPILED[id(schema)] = (schema, _compile(schema))
    return hit[1]


def _compile(schema: Any) -> Callable[[Any], Any]:
    if isinstance(schema, list):  # every function below fails on None: a union without "null" does too
        inner = _compile(next(s for s in schema if s != "null")) if any(s != "null" for s in schema) else _fail
        nullable = "null" in schema
        return lambda v: None if v is None and nullable else inner(v)
    kind = schema.get("type") if isinstance(schema, dict) else schema
    if kind == "record":
        plan = _fields(schema)
        fields = [(name, _compile(t), has, _fresh(default) if mutable else None, default)
                  for name, t, has, default, mutable in plan.fields]
        return lambda v: _convert_record(v, plan.names, fields)
    if kind == "array":
        item = _compile(schema["items"])
        return lambda v: [item(x) for x in v] if isinstance(v, (list, tuple)) else _fail(v)
    if isinstance(schema, dict) and schema.get("logicalType") not in ("decimal", "date"):
        return _compile(kind)
    if schema == "string":
        return lambda v: v if type(v) is str else _checked(schema, v)
    return lambda v: _checked(schema, v)


def _fresh(default: Any) -> Callable[[], Any]:
    """A new copy of a mutable default per record (``[]`` and ``{}`` without a deep copy)."""
    return type(default) if default in ([], {}) else lambda: copy.deepcopy(default)


def _convert_record(v: Any, names: frozenset[str],
                    fields: list[tuple[str, Callable[[Any], Any], bool, Callable[[], Any] | None, Any]]) -> Record:
    if not isinstance(v, Mapping) or not names.issuperset(v):
        raise _Slow
    out: Record = {}
    for name, conv, has_default, fresh, default in fields:
        value = v.get(name, _MISSING)
        if value is _MISSING or (value is None and has_default and default is not None):
            if not has_default:
                raise _Slow
            out[name] = default if fresh is None else fresh()
        else:
            out[name] = conv(value)
    return out


def _checked(schema: Any, v: Any) -> Any:
    problems: list[str] = []
    out = None if v is None else _value(schema, v, "", problems)
    if v is None or problems:
        raise _Slow
    return out


def _fail(_v: Any) -> Any:
    raise _Slow


def _record(schema: Mapping[str, Any], data: Any, path: str, problems: list[str]) -> Record:
    if not isinstance(data, Mapping):
        problems.append(f"{path or '.'}: expected a record, got {type(data).__name__}")
        return {}
    plan = _fields(schema)
    if not plan.names.issuperset(data):
        for extra in sorted(set(data) - plan.names):
            problems.append(f"{path}{extra}: not a field of {schema['name']}")
    out: Record = {}
    for name, kind, has_default, default, mutable in plan.fields:
        value = data.get(name, _MISSING)
        if value is _MISSING or (value is None and has_default and default is not None):
            if not has_default:
                problems.append(f"{path}{name}: required")
                continue
            out[name] = copy.deepcopy(default) if mutable else default
            continue
        out[name] = _value(kind, value, path + name, problems)
    return out


def _value(schema: Any, value: Any, path: str, problems: list[str]) -> Any:
    if isinstance(schema, list):
        if value is None:
            if "null" in schema:
                return None
            problems.append(f"{path}: required")
            return None
        branch = schema[1] if len(schema) == 2 and schema[0] == "null" else next(s for s in schema if s != "null")
        return _value(branch, value, path, problems)
    if value is None:
        problems.append(f"{path}: required")
        return None
    if isinstance(schema, dict):
        kind = schema.get("type")
        if kind == "record":
            return _record(schema, value, path + ".", problems)
        if kind == "array":
            if not isinstance(value, (list, tuple)):
                problems.append(f"{path}: expected a list, got {type(value).__name__}")
                return []
            return [_value(schema["items"], v, f"{path}[{i}]", problems) for i, v in enumerate(value)]
        logical = schema.get("logicalType")
        if logical == "decimal":
            return _decimal(value, schema["precision"], schema["scale"], path, problems)
        if logical == "date":
            return _date(value, path, problems)
        return _value(kind, value, path, problems)
    return _primitive(schema, value, path, problems)


def _primitive(kind: str, value: Any, path: str, problems: list[str]) -> Any:
    if kind == "string":
        if isinstance(value, (str, int, Decimal)) and not isinstance(value, bool):
            return str(value)
    elif kind in ("int", "long"):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, Decimal) and value == value.to_integral_value():
            return int(value)
    elif kind == "boolean" and isinstance(value, bool):
        return value
    problems.append(f"{path}: expected {kind}, got {type(value).__name__} {value!r}"[:200])
    return None


def _decimal(value: Any, precision: int, scale: int, path: str, problems: list[str]) -> Decimal | None:
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        number = Decimal(str(value)) if isinstance(value, (int, float, str)) else value
        if not isinstance(number, Decimal) or not number.is_finite():
            raise InvalidOperation
        number = number.quantize(Decimal(1).scaleb(-scale))
    except (InvalidOperation, ValueError):
        problems.append(f"{path}: expected a number, got {value!r}"[:200])
        return None
    if len(number.as_tuple().digits) > precision:
        problems.append(f"{path}: {number} has more than {precision} digits")
        return None
    return number


def _date(value: Any, path: str, problems: list[str]) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(f"{path}: expected a date, got {value!r}"[:200])
    return None


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


def from_json(entity: str, data: Mapping[str, Any]) -> Record:
    """The inverse of :func:`to_json` for one entity record (through :func:`coerce`)."""
    record, problems = coerce(entity, data)
    if problems:
        raise ValueError(f"stored {entity} record does not fit its schema: {'; '.join(problems)}")
    return record
