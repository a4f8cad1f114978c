"""Checking a canonical record against its Avro record schema (:func:`schemas.canonical.coerce`).

:func:`check` normalises a record (defaults filled, numbers made ``Decimal`` with the schema's scale,
``datetime`` made ``date`` where a date is expected) and lists every problem with its field path. Most records
have none, so each schema is first compiled into nested converters that take the usual values as they are
and give up (:class:`_Slow`) on anything else; the checking walk then runs and names the problems. Both give
the same record for the same input (``tests/unit/test_canonical_coerce.py``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

Record = dict[str, Any]
Convert = Callable[[Any], Any]


def check(schema: Mapping[str, Any], data: Any) -> tuple[Record, list[str]]:
    """``data`` checked against the record ``schema``: the record and the problems (``"field.path: what is
    wrong"``); the record is only usable when there are none."""
    try:
        return _compiled(schema)(data), []
    except _Slow:  # something to report: the checking walk below names every problem with its path
        pass
    problems: list[str] = []
    out = walk(schema, data, "", problems)
    return out, problems


# --- the compiled conversion ---------------------------------------------------------------------------------

class _Slow(Exception):
    """A value the compiled conversion does not take as it is (:func:`walk` then names the problem)."""


_MISSING = object()
_COMPILED: dict[int, tuple[Mapping[str, Any], Convert]] = {}  # by id(schema); keeps the schema alive
#: The schema types whose values of exactly this Python type the checking walk returns unchanged.
_AS_IS: dict[str, type] = {"string": str, "int": int, "long": int, "boolean": bool, "date": date}


def _compiled(schema: Mapping[str, Any]) -> Convert:
    """:func:`walk` as nested functions for records without problems: the same result without reading the
    schema or building field paths per value; raises :class:`_Slow` where ``walk`` reports a problem."""
    hit = _COMPILED.get(id(schema))
    if hit is None or hit[0] is not schema:
        hit = _COMPILED[id(schema)] = (schema, _compile(schema))
    return hit[1]


def _compile(schema: Any) -> Convert:
    if isinstance(schema, list):  # every function below fails on None: a union without "null" does too
        branches = [s for s in schema if s != "null"]
        inner = _compile(branches[0]) if branches else _fail
        if "null" not in schema:
            return inner
        exact = _as_is(branches[0]) if branches else None
        if exact is not None:
            return lambda v: v if v is None or type(v) is exact else inner(v)
        return lambda v: None if v is None else inner(v)
    kind = schema.get("type") if isinstance(schema, dict) else schema
    if kind == "record":
        plan = _RecordPlan.of(schema)
        return lambda v: _convert_record(v, plan)
    if kind == "array":
        item = _compile(schema["items"])
        return lambda v: [item(x) for x in v] if isinstance(v, (list, tuple)) else _fail(v)
    logical = schema.get("logicalType") if isinstance(schema, dict) else None
    if logical == "decimal":
        return _decimal_converter(schema, schema["precision"], schema["scale"])
    if isinstance(schema, dict) and logical != "date":
        return _compile(kind)
    exact = _as_is(schema)
    if exact is date:
        return lambda v: v if type(v) is date else _iso_date(v) if type(v) is str else _checked(schema, v)
    if exact is not None:
        return lambda v: v if type(v) is exact else _checked(schema, v)
    return lambda v: _checked(schema, v)


def _iso_date(text: str) -> date:
    """A date in the JSON form (ISO text), as :func:`_date` reads it; anything else is for the walk to name."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _Slow from None


def _as_is(schema: Any) -> type | None:
    """The Python type whose values ``schema`` takes unchanged, if any."""
    if isinstance(schema, dict):
        return date if schema.get("logicalType") == "date" else None
    return _AS_IS.get(schema) if isinstance(schema, str) else None


def _decimal_converter(schema: Any, precision: int, scale: int) -> Convert:
    """A ``Decimal`` quantized to ``scale`` as :func:`_decimal` does it; other values through the walk."""
    step = Decimal(1).scaleb(-scale)
    below = precision - scale  # at most ``precision`` digits: the leading digit's exponent is under this

    def convert(v: Any) -> Any:
        if type(v) is str:  # the JSON form (a stored golden record): the walk reads it with Decimal too
            try:
                v = Decimal(v)
            except InvalidOperation:
                return _checked(schema, v)
        if type(v) is not Decimal or not v.is_finite():
            return _checked(schema, v)
        try:
            number = v.quantize(step)
        except InvalidOperation:
            raise _Slow from None
        if number.adjusted() >= below:
            raise _Slow
        return number

    return convert


@dataclass(frozen=True, slots=True)
class _RecordPlan:
    """A record schema's fields, read once for the compiled conversion."""

    template: Record  # every field in schema order: its default, or _MISSING when it has none or a mutable one
    converters: dict[str, Convert]
    to_default: frozenset[str]  # fields whose null becomes their (non-null) default
    fill: tuple[tuple[str, Callable[[], Any] | None], ...]  # the _MISSING ones: a fresh default, None: required

    @classmethod
    def of(cls, schema: Mapping[str, Any]) -> _RecordPlan:
        template: Record = {}
        fill: list[tuple[str, Callable[[], Any] | None]] = []
        for name, _, has_default, default, mutable in _fields(schema).fields:
            template[name] = default if has_default and not mutable else _MISSING
            if not has_default or mutable:
                fill.append((name, _fresh(default) if has_default else None))
        return cls(template, {f["name"]: _compile(f["type"]) for f in schema["fields"]},
                   frozenset(f["name"] for f in schema["fields"] if f.get("default") is not None), tuple(fill))


def _fresh(default: Any) -> Callable[[], Any]:
    """A new copy of a mutable default per record (``[]`` and ``{}`` without a deep copy)."""
    return type(default) if default in ([], {}) else lambda: copy.deepcopy(default)


def _convert_record(v: Any, plan: _RecordPlan) -> Record:
    if type(v) is not dict and not isinstance(v, Mapping):
        raise _Slow
    out = plan.template.copy()
    converters, to_default = plan.converters, plan.to_default
    for name, value in v.items():
        convert = converters.get(name)
        if convert is None:
            raise _Slow
        if value is None and name in to_default:
            continue  # the template's default
        out[name] = convert(value)
    for name, fresh in plan.fill:
        if out[name] is _MISSING:
            if fresh is None:
                raise _Slow
            out[name] = fresh()
    return out


def _checked(schema: Any, v: Any) -> Any:
    problems: list[str] = []
    out = None if v is None else _value(schema, v, "", problems)
    if v is None or problems:
        raise _Slow
    return out


def _fail(_v: Any) -> Any:
    raise _Slow


# --- the checking walk ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Fields:
    """A record schema's fields, read once: names, and per field (name, type, has a default, the default,
    whether the default is mutable and must be copied)."""

    names: frozenset[str]
    fields: tuple[tuple[str, Any, bool, Any, bool], ...]


_FIELDS: dict[int, tuple[Mapping[str, Any], _Fields]] = {}  # by id(schema); keeps the schema alive


def _fields(schema: Mapping[str, Any]) -> _Fields:
    hit = _FIELDS.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    plan = _Fields(frozenset(f["name"] for f in schema["fields"]),
                   tuple((f["name"], f["type"], "default" in f, f.get("default"),
                          isinstance(f.get("default"), (list, dict))) for f in schema["fields"]))
    _FIELDS[id(schema)] = (schema, plan)
    return plan


def walk(schema: Mapping[str, Any], data: Any, path: str, problems: list[str]) -> Record:
    """``data`` checked against the record ``schema`` field by field, appending every problem to ``problems``
    (with its path after ``path``)."""
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
            return walk(schema, value, path + ".", problems)
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
