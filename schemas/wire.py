"""The Confluent wire format: magic byte 0, the schema id as a 4-byte big-endian integer, then the payload.

Pure functions, no I/O. Every Avro message crmhub writes to Kafka starts with this 5-byte header, so any
Confluent-compatible consumer (and the registry's deserializers) can find the writer schema by id.
A message that does not carry the header cannot be decoded: ``split`` raises ``SkippableError`` so that the
record goes to the dead-letter topic instead of stopping the pipeline.
"""

from __future__ import annotations

import struct

from schemas.errors import SkippableError

MAGIC = 0
HEADER_SIZE = 5
MAX_SCHEMA_ID = 2**31 - 1  # registries store ids as a signed 32-bit int

_HEADER = struct.Struct(">BI")


def header(schema_id: int) -> bytes:
    """The 5 bytes that precede the payload of a message written with schema ``schema_id``."""
    if not 0 <= schema_id <= MAX_SCHEMA_ID:
        raise ValueError(f"schema id {schema_id} is outside 0..{MAX_SCHEMA_ID}")
    return _HEADER.pack(MAGIC, schema_id)


def encode(schema_id: int, payload: bytes) -> bytes:
    """Prefix ``payload`` (the schemaless Avro encoding) with the wire-format header."""
    return header(schema_id) + payload


def split(data: bytes | bytearray | memoryview) -> tuple[int, memoryview]:
    """Return ``(schema_id, payload)``; the payload is a zero-copy view into ``data``.

    Raises ``SkippableError`` when the message is too short or does not start with the magic byte.
    """
    if len(data) < HEADER_SIZE:
        raise SkippableError(f"not Confluent wire format: {len(data)} bytes, the header alone needs "
                             f"{HEADER_SIZE}", record=bytes(data))
    magic, schema_id = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise SkippableError(f"not Confluent wire format: magic byte {magic}, expected {MAGIC}",
                             record=bytes(data))
    return schema_id, memoryview(data)[HEADER_SIZE:]
