"""Primitive decoders: packed, zoned (EBCDIC and ASCII), binary, float, code-page text."""

from __future__ import annotations

import codecs
from decimal import Decimal

import pytest

from connectors.codecs import (
    FieldDecodeError,
    available_ebcdic_codepages,
    decode_binary,
    decode_float,
    decode_packed,
    decode_text,
    decode_zoned,
    register_codepage,
    resolve_codepage,
)
from connectors.codecs import encode as enc
from connectors.codecs.fields import EBCDIC_CODEPAGES
from schemas.errors import ConfigError, SkippableError

OVERPUNCH = "{ABCDEFGHI}JKLMNOPQR"


# ------------------------------------------------------------------------------------------------- packed


@pytest.mark.parametrize(
    ("value", "digits", "scale"),
    [
        (0, 1, 0),
        (7, 1, 0),
        (-7, 1, 0),
        (12345, 5, 0),
        (-12345, 5, 0),
        (Decimal("12345.67"), 7, 2),
        (Decimal("-12345.67"), 7, 2),
        (Decimal("0.00"), 7, 2),
        (Decimal("-0.01"), 7, 2),
        (99999999999, 11, 0),  # max digits, odd
        (-9999, 4, 0),  # even digit count: 3 bytes with a leading zero nibble
        (Decimal("9" * 29 + ".99"), 31, 2),  # 31 digits (ARITH(EXTEND))
    ],
)
def test_packed_round_trip(value: int | Decimal, digits: int, scale: int) -> None:
    raw = enc.packed(value, digits, scale)
    assert len(raw) == digits // 2 + 1
    decoded = decode_packed(raw, scale)
    assert decoded == Decimal(value)
    if scale:
        assert isinstance(decoded, Decimal)
        assert decoded.as_tuple().exponent == -scale
    else:
        assert type(decoded) is int


@pytest.mark.parametrize(
    ("nibble", "negative"), [(0xC, False), (0xF, False), (0xA, False), (0xE, False), (0xD, True), (0xB, True)]
)
def test_packed_sign_nibbles(nibble: int, negative: bool) -> None:
    raw = enc.packed(123, 5, sign_nibble=nibble)
    assert decode_packed(raw) == (-123 if negative else 123)


def test_packed_negative_zero_is_plain_zero() -> None:
    value = decode_packed(enc.packed(0, 5, 2, sign_nibble=0xD), 2)
    assert value == 0 and not value.is_signed()  # type: ignore[union-attr]


def test_unsigned_packed_rejects_minus() -> None:
    assert decode_packed(enc.packed(5, 3, signed=False), signed=False) == 5
    with pytest.raises(FieldDecodeError, match="sign nibble D"):
        decode_packed(enc.packed(-5, 3), signed=False)


def test_bad_packed_digit_nibble_names_field_and_offset() -> None:
    raw = enc.packed_from_nibbles([0, 1, 0xA, 3, 4, 0xC])
    with pytest.raises(SkippableError) as info:
        decode_packed(raw, field="BALANCE", offset=42)
    error = info.value
    assert isinstance(error, FieldDecodeError)
    assert error.field == "BALANCE" and error.offset == 42
    assert error.raw_hex == "01 A3 4C"
    assert "BALANCE" in error.reason and "42" in error.reason and "01 A3 4C" in error.reason


@pytest.mark.parametrize("sign", [0x0, 0x5, 0x9])
def test_bad_packed_sign_nibble(sign: int) -> None:
    with pytest.raises(FieldDecodeError, match=f"sign nibble {sign:X}"):
        decode_packed(enc.packed_from_nibbles([1, 2, 3, sign]))


# ------------------------------------------------------------------------------------------------- zoned


@pytest.mark.parametrize(
    ("value", "digits", "scale"),
    [
        (0, 1, 0),
        (5, 1, 0),
        (-5, 1, 0),
        (1234, 4, 0),
        (-1234, 4, 0),
        (Decimal("-12.34"), 4, 2),
        (Decimal("999999999999999999"), 18, 0),
        (Decimal("-0.50"), 5, 2),
    ],
)
@pytest.mark.parametrize("ascii", [False, True])
def test_zoned_overpunch_round_trip(value: int | Decimal, digits: int, scale: int, ascii: bool) -> None:
    raw = enc.zoned(value, digits, scale, ascii=ascii)
    assert len(raw) == digits
    assert decode_zoned(raw, scale, ascii=ascii) == Decimal(value)


@pytest.mark.parametrize("index", range(20))
def test_each_overpunch_character(index: int) -> None:
    char = OVERPUNCH[index]
    digit, negative = index % 10, index >= 10
    expected = -(120 + digit) if negative else 120 + digit
    as_text = enc.text("12" + char, 3)  # how the field reads as EBCDIC text
    assert decode_zoned(as_text) == expected
    assert decode_zoned(("12" + char).encode("ascii"), ascii=True) == expected
    # ...and the same byte built from zone and digit nibbles
    assert as_text == enc.zoned(expected, 3)


def test_zoned_positive_zone_f_and_c() -> None:
    assert decode_zoned(enc.zoned(42, 3, positive_zone=0xF)) == 42
    assert decode_zoned(enc.zoned(42, 3, positive_zone=0xC)) == 42


def test_zoned_unsigned_rejects_negative_zone() -> None:
    assert decode_zoned(enc.zoned(42, 3, signed=False), signed=False) == 42
    with pytest.raises(FieldDecodeError, match="unsigned"):
        decode_zoned(enc.zoned(-42, 3), signed=False)


@pytest.mark.parametrize("ascii", [False, True])
@pytest.mark.parametrize("leading", [False, True])
def test_zoned_separate_sign(leading: bool, ascii: bool) -> None:
    raw = enc.zoned(Decimal("-123.45"), 5, 2, leading=leading, separate=True, ascii=ascii)
    assert len(raw) == 6
    assert decode_zoned(raw, 2, leading=leading, separate=True, ascii=ascii) == Decimal("-123.45")
    positive = enc.zoned(7, 3, leading=leading, separate=True, ascii=ascii)
    assert decode_zoned(positive, leading=leading, separate=True, ascii=ascii) == 7


def test_zoned_leading_overpunch() -> None:
    raw = enc.zoned(-1234, 4, leading=True)
    assert raw[0] >> 4 == 0xD and raw[-1] >> 4 == 0xF
    assert decode_zoned(raw, leading=True) == -1234
    assert decode_zoned(enc.zoned(1234, 4, leading=True), leading=True) == 1234


def test_ascii_negative_sign_nibble_7() -> None:
    raw = b"12" + bytes([0x70 | 3])  # ASCII COBOL compilers: last byte zone 7 means minus
    assert decode_zoned(raw, ascii=True) == -123


@pytest.mark.parametrize("raw", [enc.text("12 ", 3), enc.text("1A3", 3), bytes([0xF1, 0xF2, 0x40])])
def test_bad_zoned(raw: bytes) -> None:
    with pytest.raises(FieldDecodeError) as info:
        decode_zoned(raw, field="QTY", offset=7)
    assert info.value.field == "QTY" and info.value.offset == 7


def test_separate_sign_missing() -> None:
    with pytest.raises(FieldDecodeError):
        decode_zoned(enc.zoned(12, 3, signed=False), separate=True)


# -------------------------------------------------------------------------------------- binary and float


@pytest.mark.parametrize(
    ("value", "size", "signed"),
    [
        (0, 2, True),
        (-1, 2, True),
        (32767, 2, True),
        (-32768, 2, True),
        (65535, 2, False),
        (2**31 - 1, 4, True),
        (-(2**31), 4, True),
        (2**32 - 1, 4, False),
        (2**63 - 1, 8, True),
        (-(2**63), 8, True),
        (2**64 - 1, 8, False),
    ],
)
def test_binary(value: int, size: int, signed: bool) -> None:
    assert decode_binary(enc.binary(value, size, signed=signed), signed=signed) == value


def test_binary_with_implied_decimals() -> None:
    value = decode_binary(enc.binary(-12345, 4), 2)
    assert value == Decimal("-123.45") and isinstance(value, Decimal)


def test_binary_bad_length_is_config_error() -> None:
    with pytest.raises(ConfigError):
        decode_binary(b"\x00\x01\x02")


def test_floats_are_ieee_big_endian() -> None:
    assert decode_float(enc.comp1(1.5)) == 1.5
    assert decode_float(enc.comp1(-0.25)) == -0.25
    assert decode_float(enc.comp2(-1234.5678)) == -1234.5678


# ------------------------------------------------------------------------------------------------- text


def test_cp037_and_cp273_differ_where_ibm_says() -> None:
    # IBM code page charts: 0x7C is '@' in cp037 and '§' in cp273; '@' is 0xB5 in cp273.
    assert decode_text(bytes([0x7C]), "cp037") == "@"
    assert decode_text(bytes([0x7C]), "cp273") == "§"
    assert decode_text(bytes([0xB5]), "cp273") == "@"
    brackets = enc.text("[X]", 3, "cp037")
    assert decode_text(brackets, "cp037") == "[X]"
    assert decode_text(brackets, "cp273") != "[X]"
    assert decode_text(enc.text("[X]", 3, "cp273"), "cp273") == "[X]"


def test_text_trim() -> None:
    raw = enc.text("ACME", 10)
    assert decode_text(raw) == "ACME"
    assert decode_text(raw, trim=False) == "ACME      "
    assert decode_text(enc.text("  LEAD", 8)) == "  LEAD"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (37, "cp037"),
        ("37", "cp037"),
        ("IBM037", "cp037"),
        (273, "crmhub_cp273"),
        ("cp500", "cp500"),
        (1208, "utf-8"),
        (65535, "binary"),
    ],
)
def test_resolve_codepage(given: str | int, expected: str) -> None:
    assert resolve_codepage(given) == expected


def test_missing_codepage_lists_what_python_lacks() -> None:
    missing = [cp for cp in EBCDIC_CODEPAGES if cp not in available_ebcdic_codepages()]
    if not missing:
        pytest.skip("this Python has every EBCDIC code page")
    with pytest.raises(ConfigError) as info:
        resolve_codepage(missing[0])
    message = str(info.value)
    assert missing[0] in message and "missing:" in message and "cp037" in message


def test_available_codepages_really_decode() -> None:
    available = available_ebcdic_codepages()
    assert "cp037" in available
    for cp in available:
        assert codecs.decode(bytes([0xC1]), cp) == "A"  # letters are invariant in EBCDIC


def test_register_codepage() -> None:
    table = "".join(chr(0x2500 + i) if i == 0x7C else bytes([i]).decode("cp037") for i in range(256))
    register_codepage("crmhub-test-cp", table)
    assert resolve_codepage("crmhub-test-cp") == "crmhub-test-cp"
    assert decode_text(bytes([0xC1, 0x7C]), "crmhub-test-cp") == "A\u257c"
    with pytest.raises(ConfigError):
        register_codepage("short", "abc")


def test_cp1047_differs_from_cp037_exactly_where_ibm_documents() -> None:
    from connectors.codecs.fields import resolve_codepage

    assert resolve_codepage(1047) == "cp1047"
    both = "Hello, World 0123 {} @#$"
    assert both.encode("cp1047") == both.encode("cp037")  # invariant characters agree
    assert "[]^¬".encode("cp1047") == bytes([0xAD, 0xBD, 0x5F, 0xB0])
    assert "[]^¬".encode("cp037") == bytes([0xBA, 0xBB, 0xB0, 0x5F])
    assert bytes([0x15]).decode("cp1047") == "\n" and bytes([0x25]).decode("cp037") == "\n"
    assert sum(a != b for a, b in zip(bytes(range(256)).decode("cp037"), bytes(range(256)).decode("cp1047"),
                                      strict=True)) == 8
