"""Scaling position P, per the IBM Enterprise COBOL Language Reference (PICTURE symbol P): P takes no storage;
leading P's are implied zeros right after the decimal point (PPP99 holds .000dd), trailing P's implied zeros
before it (99PPP holds dd000). Record bytes are written by hand from IBM's data formats."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.codecs import compile_layout, decode_binary, decode_packed, decode_zoned, parse_copybook
from connectors.codecs.layout import Field
from connectors.codecs.picture import parse_picture
from connectors.filedrop.ebcdic import copybook_column, flat_fields
from schemas.columns import ColumnType
from schemas.errors import ConfigError

CASES = [
    # picture and usage, storage bytes (hex), value
    ("SPPP9(5) COMP-3", "12345C", Decimal("0.00012345")),
    ("SPPP9(5) COMP-3", "12345D", Decimal("-0.00012345")),
    ("S9(5)PPP COMP-3", "12345D", -12345000),
    ("SPPP9(10) COMP", "00000002540BE3FF", Decimal("0.0009999999999")),
    ("S9(4)PP COMP", "FFFE", -200),
    ("PPP9(5)", "F1F2F3F4F5", Decimal("0.00012345")),
    ("S9(5)PPP", "F1F2F3F4D5", -12345000),
    ("VPPP99", "F0F7", Decimal("0.00007")),
    ("99PPPV", "F4F2", 42000),
    ("SP(2)9(3) SIGN LEADING SEPARATE", "60F1F2F3", Decimal("-0.00123")),
]


@pytest.mark.parametrize(("clause", "hexed", "value"), CASES)
def test_scaled_values_on_both_paths(clause: str, hexed: str, value: object) -> None:
    layout = parse_copybook(f"01 R.\n  05 N PIC {clause}.")
    assert layout.length == len(bytes.fromhex(hexed))  # P takes no storage
    decoder = compile_layout(layout)
    decoded = decoder.decode(bytes.fromhex(hexed))["n"]
    assert decoded == value and type(decoded) is type(value)
    if isinstance(value, Decimal):
        assert decoded.as_tuple().exponent == value.as_tuple().exponent  # type: ignore[union-attr]
    assert decoder._fallback(bytes.fromhex(hexed), None)["n"] == value


@pytest.mark.parametrize(
    ("picture", "digits", "scale"),
    [("SPPP9(5)", 5, 8), ("S9(5)PPP", 5, -3), ("P(3)9(2)", 2, 5), ("VPPP99", 2, 5), ("99PPPV", 2, -3)],
)
def test_picture_digits_and_scale(picture: str, digits: int, scale: int) -> None:
    parsed = parse_picture(picture)
    assert (parsed.digits, parsed.scale, parsed.length) == (digits, scale, digits)


@pytest.mark.parametrize("picture", ["P9P", "9PP9", "PP9V9", "PPPV99", "9V9PP", "PPP"])
def test_p_elsewhere_is_refused_naming_the_picture(picture: str) -> None:
    with pytest.raises(ConfigError, match=f"line 2: .*{picture}"):
        parse_copybook(f"01 R.\n  05 N PIC {picture}.")


def test_storage_follows_the_nines_only() -> None:
    layout = parse_copybook("01 R.\n  05 A PIC SPPP9(5) COMP-3.\n  05 B PIC S9(4)PPPPPP COMP.\n  05 C PIC PP9(3).")
    sizes = {item.name: item.length for item in layout.walk() if isinstance(item, Field)}
    assert sizes == {"a": 3, "b": 2, "c": 3}


def test_public_decoders_take_negative_and_large_scales() -> None:
    assert decode_packed(bytes.fromhex("123C"), -2) == 12300
    assert decode_zoned(bytes.fromhex("F1F2"), -1) == 120
    assert decode_binary(bytes.fromhex("0007"), -3) == 7000
    assert decode_packed(bytes.fromhex("123C"), 5) == Decimal("0.00123")


def test_logical_column_types() -> None:
    layout = parse_copybook("01 R.\n  05 A PIC SPPP9(5) COMP-3.\n  05 B PIC S9(5)PPP.\n  05 C PIC 9(18)PPP.")
    columns = {flat.name: copybook_column(flat) for flat in flat_fields(layout)}
    assert (columns["a"].type, columns["a"].precision, columns["a"].scale) == (ColumnType.DECIMAL, 8, 8)
    assert columns["b"].type == ColumnType.INT32
    assert (columns["c"].type, columns["c"].precision, columns["c"].scale) == (ColumnType.DECIMAL, 21, 0)
