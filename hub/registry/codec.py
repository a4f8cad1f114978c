"""Compiled Avro codecs: cavro (Cython) for the schemas it reads and writes exactly as fastavro does.

cavro writes a capture event in about half of fastavro's time and reads it in about 60 % (8 against 15-18 µs,
7 against 12-17 µs; ``bench/bench_stages.py`` shows what that saves per change). :func:`compile_schema` gives a
cavro codec only for schemas where the two libraries cannot differ: every union is one type or ``null`` and one
type (no choice between two types to make), and every logical type is converted by fastavro's own functions
(``fastavro.write.LOGICAL_WRITERS`` and ``fastavro.read.LOGICAL_READERS``, the tables fastavro documents for
custom logical types), so cavro only moves the bytes. For any other schema it returns None, and the caller uses
fastavro. The caller hands a value cavro refuses to fastavro as well, which writes it or raises as before: what
is written, and every error message, stay fastavro's. Tests compare both libraries' bytes and values on every
schema crmhub writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import cavro
from fastavro.read import LOGICAL_READERS
from fastavro.write import LOGICAL_WRITERS

_BASES: dict[str, tuple[type, ...]] = {"int": (cavro.IntType,), "long": (cavro.LongType,),
                                       "bytes": (cavro.BytesType,), "fixed": (cavro.FixedType,)}


def _fastavro_logical(logical: str) -> type:
    """A cavro logical type whose conversions are fastavro's for ``logical`` (on each base type fastavro has)."""
    bases = tuple(t for base, types in _BASES.items() if f"{base}-{logical}" in LOGICAL_WRITERS for t in types)

    def for_type(cls: type, underlying: Any) -> Any:
        base = next(name for name, types in _BASES.items() if isinstance(underlying, types))
        node = {"type": base, "logicalType": logical, **dict(underlying.metadata)}
        if base == "fixed":
            node["size"] = underlying.size
        return cls(LOGICAL_WRITERS[f"{base}-{logical}"], LOGICAL_READERS[f"{base}-{logical}"], node)

    def init(self: Any, write: Callable[..., Any], read: Callable[..., Any], node: dict[str, Any]) -> None:
        self.write, self.read, self.node = write, read, node
        self.written_as = int if node["type"] in ("int", "long") else bytes

    def encode(self: Any, value: Any) -> Any:
        # a value already of the base type: fastavro's writers leave it as it is (an event's converted columns)
        return value if type(value) is self.written_as else self.write(value, self.node)

    def decode(self: Any, value: Any) -> Any:
        return self.read(value, self.node, self.node)

    return type(f"Fastavro_{logical.replace('-', '_')}", (cavro.CustomLogicalType,), {
        "logical_name": logical, "underlying_types": bases, "_for_type": classmethod(for_type), "__init__": init,
        "custom_encode_value": encode, "custom_decode_value": decode})


_LOGICAL = {name.split("-", 1)[1] for name in LOGICAL_WRITERS if name.split("-", 1)[0] in _BASES}
_OPTIONS = cavro.DEFAULT_OPTIONS.replace(
    record_decodes_to_dict=True,
    logical_types=tuple(_fastavro_logical(name) for name in sorted(_LOGICAL)),
)


def _types(schema: Any) -> Iterator[Any]:
    """Every type in ``schema``, depth first (named references are strings, yielded as they are)."""
    yield schema
    if isinstance(schema, list):
        for branch in schema:
            yield from _types(branch)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in ("record", "error"):
            for f in schema.get("fields", ()):
                yield from _types(f.get("type"))
        elif kind == "array":
            yield from _types(schema.get("items"))
        elif kind == "map":
            yield from _types(schema.get("values"))
        elif isinstance(kind, dict | list):
            yield from _types(kind)


def _same_in_both(node: Any) -> bool:
    if isinstance(node, list):  # a union: nothing to choose
        others = [b for b in node if b != "null"]
        return len(node) - len(others) <= 1 and len(others) <= 1
    if isinstance(node, dict) and "logicalType" in node:
        return node.get("type") in _BASES and f"{node['type']}-{node['logicalType']}" in LOGICAL_WRITERS
    return True


def compile_schema(schema: Any) -> Any | None:
    """The cavro codec of ``schema`` (a schema as JSON-decoded dicts), or None where fastavro must do it."""
    if not all(_same_in_both(node) for node in _types(schema)):
        return None
    try:
        return cavro.Schema(schema, _OPTIONS, parse_json=False)
    except Exception:  # a schema cavro does not take: fastavro does it
        return None
