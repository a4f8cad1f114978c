"""Avro in the Confluent wire format, with schemas from any Confluent-compatible registry.

Subjects follow the TopicNameStrategy (``<topic>-value`` / ``<topic>-key``), as Confluent's serializers do.

Hot path: ``serialize`` finds everything it needs (schema id header, fastavro-parsed schema) with one dict
lookup keyed by the identity of the schema object the caller passes (the object is kept referenced, so its
id cannot be reused) and writes into a per-thread reused ``BytesIO``. Treat schema dicts as immutable once
used. A top-level field typed ``["null", <record>]`` is handed to fastavro in its tuple notation
(``(record name, value)``): fastavro then writes the branch without first validating the whole value against
every branch, which made such records 3-4x slower to write (a canonical customer event: 101 -> 26 us).
``deserialize`` looks the writer schema up by id (cached in the client), so neither direction makes an
HTTP request after the first message of each schema. Both directions go through cavro's compiled codec first
where it writes and reads exactly as fastavro (``hub/registry/codec.py``: about twice as fast); what it cannot
take, fastavro takes as above.

A record that cannot be encoded or decoded raises ``SkippableError`` (to the dead-letter topic); registry
outages raise ``RetriableError``; an incompatible schema raises ``SchemaIncompatibleError``.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import cavro
import fastavro

from hub.registry.client import RegistryClient, RegistryRequestError, Schema
from hub.registry.codec import compile_schema
from schemas import wire
from schemas.errors import SkippableError

# What fastavro raises for a datum that does not fit the schema, or bytes that do not decode.
_DATA_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError, EOFError,
                UnicodeDecodeError)


@dataclass(frozen=True, slots=True)
class _Writer:
    schema: object  # the caller's schema object, kept alive so id(schema) stays unique
    schema_id: int
    header: bytes
    parsed: Any
    record_unions: tuple[tuple[str, str], ...] = ()  # (field, record name) of top-level ["null", record] fields
    codec: Any | None = None  # cavro's, where it writes exactly as fastavro (``hub/registry/codec.py``)


_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


def record_unions(parsed: Any) -> tuple[tuple[str, str], ...]:
    """The top-level fields of a parsed record schema typed ``["null", <named type>]``, with that type's full
    name (``fastavro.parse_schema`` has made every name full)."""
    if not isinstance(parsed, dict) or parsed.get("type") != "record":
        return ()
    out = []
    for f in parsed["fields"]:
        branches = f["type"]
        if not isinstance(branches, list) or len(branches) != 2 or "null" not in branches:
            continue
        other = branches[0] if branches[1] == "null" else branches[1]
        if isinstance(other, dict) and other.get("type") == "record":
            out.append((f["name"], other["name"]))
        elif isinstance(other, str) and other not in _PRIMITIVES:
            out.append((f["name"], other))
    return tuple(out)


def _tagged(datum: dict[str, Any], unions: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    out = dict(datum)
    for name, record in unions:
        value = out.get(name)
        if value is not None and not isinstance(value, tuple):
            out[name] = (record, value)
    return out


def _as_dict(schema: Schema) -> Any:
    return json.loads(schema) if isinstance(schema, str) else schema


class AvroSerde:
    def __init__(self, client: RegistryClient) -> None:
        self.client = client
        self._writers: dict[tuple[int, str, bool], _Writer] = {}
        self._readers: dict[int, tuple[object, Any]] = {}
        self._codecs: dict[int, Any | None] = {}  # cavro's reader of a writer schema id, or None: fastavro's
        self._local = threading.local()
        self._lock = threading.Lock()

    @staticmethod
    def subject(topic: str, *, is_key: bool = False) -> str:
        return f"{topic}-key" if is_key else f"{topic}-value"

    def _writer(self, topic: str, schema: Schema, is_key: bool) -> _Writer:
        with self._lock:
            cache_key = (id(schema), topic, is_key)
            entry = self._writers.get(cache_key)
            if entry is None:
                schema_id = self.client.register(self.subject(topic, is_key=is_key), schema)
                parsed = fastavro.parse_schema(_as_dict(schema))
                entry = _Writer(schema, schema_id, wire.header(schema_id), parsed, record_unions(parsed),
                                compile_schema(_as_dict(schema)))
                self._writers[cache_key] = entry
            return entry

    def schema_id(self, topic: str, schema: Schema, *, is_key: bool = False) -> int:
        """The registry id ``serialize`` writes for ``schema`` on ``topic`` (registering it if needed)."""
        return self._writer(topic, schema, is_key).schema_id

    def serialize(self, topic: str, schema: Schema, datum: object, *, is_key: bool = False) -> bytes:
        """Wire-format Avro bytes of ``datum``; the schema is registered under the topic's subject once."""
        entry = self._writers.get((id(schema), topic, is_key)) or self._writer(topic, schema, is_key)
        if entry.codec is not None:
            try:
                return entry.header + entry.codec.binary_encode(datum)  # type: ignore[no-any-return]
            except Exception:  # fastavro writes it, or says why not
                pass
        try:
            buf: io.BytesIO = self._local.buf
        except AttributeError:
            buf = self._local.buf = io.BytesIO()
        buf.seek(0)
        buf.truncate()
        buf.write(entry.header)
        if entry.record_unions and type(datum) is dict:
            datum = _tagged(datum, entry.record_unions)
        try:
            fastavro.schemaless_writer(buf, entry.parsed, datum)
        except _DATA_ERRORS as exc:
            raise SkippableError(f"cannot encode a record for {topic} with its Avro schema: "
                                 f"{type(exc).__name__}: {exc}", record=datum) from exc
        return buf.getvalue()

    def _reader(self, schema: Schema) -> Any:
        cached = self._readers.get(id(schema))
        if cached is None:
            cached = self._readers[id(schema)] = (schema, fastavro.parse_schema(_as_dict(schema)))
        return cached[1]

    def _codec(self, schema_id: int) -> Any | None:
        """cavro's reader of the writer schema ``schema_id``, or None where fastavro reads it."""
        try:
            return self._codecs[schema_id]
        except KeyError:
            codec = self._codecs[schema_id] = compile_schema(json.loads(self.client.get_by_id(schema_id)))
            return codec

    def deserialize(self, data: bytes | bytearray | memoryview, reader_schema: Schema | None = None) -> object:
        """Decode wire-format Avro; with ``reader_schema`` the datum is resolved to it (schema evolution)."""
        schema_id, payload = wire.split(data)
        try:
            writer = self.client.parsed(schema_id)
        except RegistryRequestError as exc:
            if exc.http_status == 404:
                raise SkippableError(f"unknown writer schema id {schema_id}: {exc.message}",
                                     record=bytes(data)) from exc
            raise
        codec = self._codec(schema_id) if reader_schema is None else None
        if codec is not None:
            try:
                return codec.binary_read(cavro.MemoryReader(payload))
            except Exception:  # fastavro reads it, or says why not
                pass
        reader = None if reader_schema is None else self._reader(reader_schema)
        try:
            return fastavro.schemaless_reader(io.BytesIO(payload), writer, reader)
        except (*_DATA_ERRORS, fastavro.read.SchemaResolutionError) as exc:
            raise SkippableError(f"cannot decode an Avro record written with schema id {schema_id}: "
                                 f"{type(exc).__name__}: {exc}", record=bytes(data)) from exc


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class FirstSeen(Generic[K, V]):
    """``make(key)``, computed once per key while the key is among the ``limit`` most recently first seen: the
    encoded or decoded keys of records that change again and again."""

    __slots__ = ("_make", "_values", "limit")

    def __init__(self, make: Callable[[K], V], limit: int = 65536) -> None:
        self._make, self.limit = make, limit
        self._values: dict[K, V] = {}

    def __len__(self) -> int:
        return len(self._values)

    def __call__(self, key: K) -> V:
        values = self._values
        if key in values:
            return values[key]
        value = values[key] = self._make(key)  # a failure raises: not kept
        if len(values) > self.limit:
            del values[next(iter(values))]
        return value
