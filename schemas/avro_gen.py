"""Avro key and value schemas for a source table, generated from its column metadata.

The value schema is a Debezium-compatible change-event envelope::

    <namespace>.<connector>.<schema>.<table>.Envelope
        before  ["null", ...Value]   row image before the change
        after   ["null", ...Value]   row image after the change
        source  crmhub.Source        the record in ``schemas/avro/source.avsc``
        op      string               c / u / d / r
        ts_ms   long                 when crmhub saw the change (epoch ms)

and the key schema is ``<namespace>.<connector>.<schema>.<table>.Key`` with the key columns.

Names are made valid for Avro (``[A-Za-z_][A-Za-z0-9_]*``: every other character becomes ``_``, a leading
digit gets a ``_`` in front). When that changes a column name (IBM i names such as ``CUST#``, ``ADDR@1``),
the field keeps the original in the property ``crmhub.column``; :func:`field_renames` gives the same
mapping for the producer and :func:`renames_from_schema` recovers it from a schema on the consumer side.

Column types map to Avro as follows (nullable columns become ``["null", T]`` with ``"default": null``):

    STRING, CHAR       string (property ``crmhub.length`` when the length is known)
    INT16, INT32       int                      INT64     long
    FLOAT32            float                    FLOAT64   double
    BOOLEAN            boolean                  BYTES     bytes (``crmhub.length`` when known)
    DECIMAL(p,s)       bytes, logicalType decimal, precision p, scale s
    DATE               int, logicalType date
    TIME               long, logicalType time-micros
    TIMESTAMP          long, logicalType local-timestamp-micros (wall-clock time without a zone)
    TIMESTAMP_TZ       long, logicalType timestamp-micros, property ``crmhub.timezone: UTC``

Output is deterministic: the same table gives equal dicts and byte-identical :func:`schema_json`, so a
schema registry does not register a new version for an unchanged table.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from importlib import resources
from typing import Any

from fastavro import parse_schema
from fastavro.schema import fingerprint, to_parsing_canonical_form

from schemas.columns import Column, ColumnType, TableMeta
from schemas.errors import ConfigError

Schema = dict[str, Any]
"""An Avro schema as a JSON-like dict (what ``json.loads`` of an ``.avsc`` gives)."""

COLUMN_PROP = "crmhub.column"
LENGTH_PROP = "crmhub.length"
SOURCE_TYPE_PROP = "crmhub.source_type"
TIMEZONE_PROP = "crmhub.timezone"
SOURCE_RECORD = "crmhub.Source"

_INVALID = re.compile(r"[^A-Za-z0-9_]")

_PRIMITIVES: dict[ColumnType, str] = {
    ColumnType.STRING: "string",
    ColumnType.CHAR: "string",
    ColumnType.INT16: "int",
    ColumnType.INT32: "int",
    ColumnType.INT64: "long",
    ColumnType.FLOAT32: "float",
    ColumnType.FLOAT64: "double",
    ColumnType.BOOLEAN: "boolean",
    ColumnType.BYTES: "bytes",
}

_LOGICAL: dict[ColumnType, Schema] = {
    ColumnType.DATE: {"type": "int", "logicalType": "date"},
    ColumnType.TIME: {"type": "long", "logicalType": "time-micros"},
    ColumnType.TIMESTAMP: {"type": "long", "logicalType": "local-timestamp-micros"},
    ColumnType.TIMESTAMP_TZ: {"type": "long", "logicalType": "timestamp-micros", TIMEZONE_PROP: "UTC"},
}


def avro_name(text: str) -> str:
    """``text`` made a valid Avro name: invalid characters become ``_``; a leading digit gets ``_``."""
    name = _INVALID.sub("_", text)
    if not name or name[0].isdigit():
        name = "_" + name
    return name


def record_namespace(table: TableMeta, namespace: str = "crmhub") -> str:
    """``<namespace>.<connector>.<schema>.<table>``, each part a valid Avro name (schema left out if None)."""
    parts = [*namespace.split("."), table.connector, *([table.schema] if table.schema else []), table.name]
    return ".".join(avro_name(p) for p in parts)


def field_renames(table: TableMeta) -> dict[str, str]:
    """Column name -> Avro field name, for the columns whose name had to change (in column order).

    Raises :class:`ConfigError` when two columns end up with the same field name (``A#`` and ``A@``).
    """
    owners: dict[str, str] = {}
    problems: list[str] = []
    for col in table.columns:
        field = avro_name(col.name)
        if field in owners:
            problems.append(
                f"table {table.qualified_name}: columns {owners[field]} and {col.name} both become "
                f"Avro field {field}"
            )
        owners.setdefault(field, col.name)
    if problems:
        raise ConfigError(problems)
    return {col.name: avro_name(col.name) for col in table.columns if avro_name(col.name) != col.name}


def renames_from_schema(schema: Schema) -> dict[str, str]:
    """Column name -> Avro field name, read from the ``crmhub.column`` properties of a key or value schema."""
    found: dict[str, str] = {}
    _collect_renames(schema, found, set())
    return found


def _collect_renames(node: Any, found: dict[str, str], seen: set[int]) -> None:
    if isinstance(node, list):
        for branch in node:
            _collect_renames(branch, found, seen)
    elif isinstance(node, dict) and node.get("type") == "record" and id(node) not in seen:
        seen.add(id(node))
        for field in node.get("fields", []):
            if COLUMN_PROP in field:
                found[str(field[COLUMN_PROP])] = str(field["name"])
            _collect_renames(field.get("type"), found, seen)


def column_type(col: Column) -> str | Schema:
    """The Avro type of one column, without nullability."""
    if col.type is ColumnType.DECIMAL:
        return {"type": "bytes", "logicalType": "decimal", "precision": col.precision, "scale": col.scale}
    if col.type in _LOGICAL:
        return dict(_LOGICAL[col.type])
    primitive = _PRIMITIVES[col.type]
    if col.length is not None and col.type in (ColumnType.CHAR, ColumnType.STRING, ColumnType.BYTES):
        return {"type": primitive, LENGTH_PROP: col.length}
    return primitive


def column_field(col: Column) -> Schema:
    """The Avro record field for one column (nullable -> ``["null", T]`` with default null)."""
    name = avro_name(col.name)
    field: Schema = {"name": name}
    if col.nullable:
        field["type"] = ["null", column_type(col)]
        field["default"] = None
    else:
        field["type"] = column_type(col)
    if name != col.name:
        field[COLUMN_PROP] = col.name
    if col.source_type:
        field[SOURCE_TYPE_PROP] = col.source_type
    return field


@cache
def _source_text() -> str:
    return resources.files("schemas").joinpath("avro", "source.avsc").read_text(encoding="utf-8")


def source_schema() -> Schema:
    """The ``crmhub.Source`` record from ``schemas/avro/source.avsc`` (a fresh copy each call)."""
    loaded: Schema = json.loads(_source_text())
    return loaded


def value_schema(table: TableMeta, namespace: str = "crmhub") -> Schema:
    """The change-event envelope schema (Kafka message value) for ``table``."""
    field_renames(table)  # fails early, naming the columns, if two columns collide
    ns = record_namespace(table, namespace)
    row: Schema = {
        "type": "record",
        "name": "Value",
        "namespace": ns,
        "fields": [column_field(c) for c in table.columns],
    }
    return {
        "type": "record",
        "name": "Envelope",
        "namespace": ns,
        "fields": [
            {"name": "before", "type": ["null", row], "default": None},
            {"name": "after", "type": ["null", f"{ns}.Value"], "default": None},
            {"name": "source", "type": source_schema()},
            {"name": "op", "type": "string"},
            {"name": "ts_ms", "type": "long"},
        ],
    }


def key_schema(table: TableMeta, namespace: str = "crmhub") -> Schema:
    """The key schema (Kafka message key) for ``table``: its key columns in key order.

    Raises :class:`ConfigError` for a table without key columns (configure them, as Debezium's
    ``message.key.columns`` does).
    """
    if not table.key:
        raise ConfigError(f"table {table.qualified_name}: has no key columns; configure the key columns")
    field_renames(table)
    return {
        "type": "record",
        "name": "Key",
        "namespace": record_namespace(table, namespace),
        "fields": [column_field(c) for c in table.key_columns],
    }


def schema_json(schema: Schema) -> str:
    """The schema as compact JSON, the same bytes for equal schemas (what goes to the registry)."""
    return json.dumps(schema, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def schema_fingerprint(schema: Schema) -> str:
    """SHA-256 (hex) of the schema's Parsing Canonical Form, as the Avro specification defines it.

    The canonical form keeps only what decides the binary encoding: names, types, fields, order. It
    drops defaults, docs, properties and logical types, so DECIMAL(11,2) and DECIMAL(9,4) fingerprint
    alike. Use it to ask "can these bytes be read the same way", not as a cache key for decoders that
    turn bytes into Decimal or datetime values.
    """
    canonical = to_parsing_canonical_form(parse_schema(copy.deepcopy(schema)))
    return str(fingerprint(canonical, "SHA-256"))
