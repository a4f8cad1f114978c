"""Confluent wire format: magic byte 0, 4-byte big-endian schema id, payload."""

from __future__ import annotations

import pytest

from schemas import wire
from schemas.errors import SkippableError


def test_encode_writes_magic_and_big_endian_id_before_payload() -> None:
    assert wire.encode(0x01020304, b"avro") == b"\x00\x01\x02\x03\x04avro"
    assert wire.encode(1, b"") == b"\x00\x00\x00\x00\x01"


def test_split_round_trips_and_returns_a_view_of_the_payload() -> None:
    data = bytearray(wire.encode(2**31 - 1, b"\x02\x06abc"))
    schema_id, payload = wire.split(data)
    assert schema_id == 2**31 - 1
    assert isinstance(payload, memoryview)
    assert payload.tobytes() == b"\x02\x06abc"
    data[5] = 0x7F  # zero-copy: the view sees the underlying buffer
    assert payload[0] == 0x7F


def test_split_accepts_a_header_with_an_empty_payload() -> None:
    schema_id, payload = wire.split(b"\x00\x00\x00\x01\x00")
    assert (schema_id, len(payload)) == (256, 0)


@pytest.mark.parametrize("data", [b"", b"\x00", b"\x00\x00\x00\x01"])
def test_short_messages_are_skippable(data: bytes) -> None:
    with pytest.raises(SkippableError, match="header alone needs 5") as info:
        wire.split(data)
    assert info.value.record == data


@pytest.mark.parametrize("first", [1, 0xFF, ord("{")])
def test_wrong_magic_byte_is_skippable(first: int) -> None:
    data = bytes([first]) + b"\x00\x00\x00\x01payload"
    with pytest.raises(SkippableError, match=f"magic byte {first}, expected 0"):
        wire.split(data)


@pytest.mark.parametrize("schema_id", [-1, 2**31])
def test_ids_outside_the_signed_32_bit_range_are_refused(schema_id: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        wire.encode(schema_id, b"x")


def test_header_matches_encode_prefix() -> None:
    assert wire.header(77) == wire.encode(77, b"rest")[: wire.HEADER_SIZE]
