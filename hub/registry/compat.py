"""Schema compatibility as the Confluent registry defines it, on top of ``avro.compatibility``.

Pure: no I/O, no registry state. The seven modes:

- ``BACKWARD``: the new schema, as reader, can read data written with the latest registered schema
  (consumers upgrade first). ``BACKWARD_TRANSITIVE``: ... with every registered schema.
- ``FORWARD``: data written with the new schema can be read by the latest schema as reader
  (producers upgrade first). ``FORWARD_TRANSITIVE``: ... by every registered schema.
- ``FULL`` / ``FULL_TRANSITIVE``: both directions, against the latest / every registered schema.
- ``NONE``: no check.

The reader/writer rules themselves (defaults, union branches, promotions, enum symbols, names) are the Avro
project's ``ReaderWriterCompatibilityChecker``; this module only decides which pairs to compare.

De-duplication uses ``canonical``: the ``avro`` library's own normalized JSON rendering of the parsed schema
(the same idea as the Confluent registry's canonical string, i.e. Avro's ``Schema.toString()``). It is not the
Parsing Canonical Form on purpose: that form drops defaults, docs and logical types, so a schema that only adds a
default or a ``decimal`` would wrongly be treated as identical to the old one.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from functools import lru_cache

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

MODES: tuple[str, ...] = ("BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE",
                          "FULL", "FULL_TRANSITIVE", "NONE")
DEFAULT_MODE = "BACKWARD"


class InvalidSchemaError(ValueError):
    """The text is not a valid Avro schema."""


class InvalidModeError(ValueError):
    """The compatibility level is not one of ``MODES``."""


def normalize_mode(mode: str) -> str:
    """Upper-case ``mode`` and check it is one of the seven levels."""
    level = mode.strip().upper() if isinstance(mode, str) else ""
    if level not in MODES:
        raise InvalidModeError(f"Invalid compatibility level {mode!r}. Valid values are "
                               + ", ".join(m.lower() for m in MODES))
    return level


@lru_cache(maxsize=2048)
def parse(schema_json: str) -> avro.schema.Schema:
    """Parse (and cache) an Avro schema given as JSON text; raises ``InvalidSchemaError``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # avro warns about ignored logical types; not our concern here
            return avro.schema.parse(schema_json)
    except Exception as exc:  # the parser raises many kinds (JSON, KeyError, SchemaParseException ...)
        raise InvalidSchemaError(f"Invalid schema: {type(exc).__name__}: {exc}") from exc


def canonical(schema_json: str) -> str:
    """The normalized, compact JSON text of a schema: equal for schemas that differ only in layout."""
    return json.dumps(parse(schema_json).to_json(), separators=(",", ":"))


def _describe(reader: avro.schema.Schema, writer: avro.schema.Schema) -> str | None:
    """None when ``reader`` can read what ``writer`` wrote, else a one-line reason."""
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    result = checker.get_compatibility(reader, writer)
    if result.compatibility is SchemaCompatibilityType.compatible:
        return None
    kinds = ", ".join(sorted({k.value.upper() for k in result.incompatibilities})) or "INCOMPATIBLE"
    where = ", ".join(sorted(result.locations))
    what = "; ".join(sorted(result.messages))
    return f"{kinds} at {where}" + (f": {what}" if what else "")


def check(mode: str, new_schema_json: str, existing: Sequence[str]) -> list[str]:
    """Messages explaining why ``new_schema_json`` is incompatible under ``mode``; empty when compatible.

    ``existing`` are the subject's registered schemas, oldest first; non-transitive modes compare with the
    last one only. Raises ``InvalidModeError`` and ``InvalidSchemaError``.
    """
    level = normalize_mode(mode)
    new = parse(new_schema_json)
    if level == "NONE" or not existing:
        return []
    transitive = level.endswith("_TRANSITIVE")
    base = level.removesuffix("_TRANSITIVE")
    count = len(existing)
    positions = range(count) if transitive else range(count - 1, count)
    messages: list[str] = []
    for pos in positions:
        old = parse(existing[pos])
        label = f"existing schema {pos + 1} of {count}" + (" (the latest)" if pos == count - 1 else "")
        if base in ("BACKWARD", "FULL"):
            reason = _describe(new, old)
            if reason:
                messages.append(f"{level}: the new schema cannot read data written with {label}: {reason}")
        if base in ("FORWARD", "FULL"):
            reason = _describe(old, new)
            if reason:
                messages.append(f"{level}: {label} cannot read data written with the new schema: {reason}")
    return messages
