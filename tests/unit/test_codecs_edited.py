"""Numeric-edited pictures read back as numbers, by the editing rules of the IBM Enterprise COBOL Language
Reference (PICTURE clause: fixed and floating insertion, zero suppression, CR/DB, B/0/ insertion). Record bytes
are the EBCDIC text a COBOL MOVE to the edited item writes, spelled out by hand."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from connectors.codecs import Column, FieldDecodeError, compile_columns, compile_layout, parse_copybook
from connectors.filedrop.config import Feed
from connectors.filedrop.connector import build_reader
from connectors.filedrop.ebcdic import copybook_column, flat_fields
from connectors.filedrop.formats import Record
from schemas.columns import ColumnType
from schemas.errors import ConfigError

CASES = [
    ("+9(6)V99", "-30503932", Decimal("-305039.32")),
    ("+9(6)V99", "+30503932", Decimal("305039.32")),
    ("Z(6)VZZ-", "30503932-", Decimal("-305039.32")),
    ("Z(6)VZZ-", "    3932 ", Decimal("39.32")),
    ("+9(8)", "+00001234", 1234),
    ("-9(8)", "-00001234", -1234),
    ("-9(8)", " 00001234", 1234),
    ("Z(8)-", "    1234-", -1234),
    ("S9(3).99", "012.34", Decimal("12.34")),
    ("S9(3).99", "-12.34", Decimal("-12.34")),
    ("S9(3).99", "12.34-", Decimal("-12.34")),
    ("S9(3).99", "012.3M", Decimal("-12.34")),  # overpunched last digit (X'D4': -4)
    ("ZZ,ZZ9.99CR", " 1,234.56CR", Decimal("-1234.56")),
    ("ZZ,ZZ9.99DB", " 1,234.56DB", Decimal("-1234.56")),
    ("ZZ,ZZ9.99CR", " 1,234.56  ", Decimal("1234.56")),
    ("$$$,$$9.99", "   $123.45", Decimal("123.45")),
    ("***,**9.99", "******1.50", Decimal("1.50")),
    ("+++++9.99", "   -12.50", Decimal("-12.50")),
    ("-----9", "   -12", -12),
    ("99/99/99", "12/31/99", 123199),
    ("9(3)B9(3)0", "123 4560", 123456),
    ("ZZZ9.99", "   0.00", Decimal("0.00")),
    ("ZZZ.ZZ", "      ", None),  # BLANK WHEN ZERO / zero suppressed to nothing: null
]


@pytest.mark.parametrize(("picture", "text", "value"), CASES)
def test_edited_values_on_both_paths(picture: str, text: str, value: object) -> None:
    decoder = compile_layout(parse_copybook(f"01 R.\n  05 N PIC {picture}."))
    assert decoder.length == len(text)
    raw = text.encode("cp037")
    if picture == "S9(3).99" and text.endswith("M"):
        raw = raw[:-1] + b"\xd4"
    decoded = decoder.decode(raw)["n"]
    assert decoded == value and type(decoded) is type(value)
    if isinstance(value, Decimal):
        assert str(decoded) == str(value)  # the picture's scale, exactly
    assert decoder._fallback(raw, None)["n"] == value


def test_the_reference_hex_record() -> None:
    decoder = compile_layout(parse_copybook("01 R.\n  05 N PIC +9(6)V99."))
    assert decoder.decode(bytes.fromhex("60F3F0F5F0F3F9F3F2")) == {"n": Decimal("-305039.32")}


@pytest.mark.parametrize(
    ("picture", "text", "problem"),
    [
        ("Z(6)VZZ-", "3050X932-", "'X' at position 5"),
        ("+9(8)", "*00001234", "'*' at position 1"),
        ("ZZ9.99CR", "  1.00XY", "'X' at position 7"),
        ("ZZ9.99CR", "  1.00RC", "'R' at position 7"),
        ("+9(6)V99", "-3050393 ", "' ' at position 9"),  # a 9 always shows a digit
        ("ZZ,ZZ9.99", " 1;234.56", "';' at position 3"),
        ("ZZZ9.99", "   1,50", "',' at position 5"),  # the point shows itself
        ("+9(4)", " 1234", "' ' at position 1"),  # a fixed + always shows + or -
        ("S9(3).99", "01A.34", "invalid number"),
    ],
)
def test_bad_characters_are_named(picture: str, text: str, problem: str) -> None:
    decoder = compile_layout(parse_copybook(f"01 R.\n  05 N PIC {picture}."))
    with pytest.raises(FieldDecodeError, match=problem):
        decoder.decode(text.encode("cp037"))


def test_logical_types_follow_digits_and_scale() -> None:
    layout = parse_copybook("01 R.\n  05 A PIC Z(6)VZZ-.\n  05 B PIC -9(8).\n  05 C PIC ZZ,ZZ9.99CR.")
    columns = {flat.name: copybook_column(flat) for flat in flat_fields(layout)}
    assert (columns["a"].type, columns["a"].precision, columns["a"].scale) == (ColumnType.DECIMAL, 8, 2)
    assert columns["b"].type == ColumnType.INT32
    assert (columns["c"].precision, columns["c"].scale) == (7, 2)


def test_edited_column_needs_a_matching_picture() -> None:
    decoder = compile_columns([Column("N", "edited", 0, 9, picture="Z(8)-")], "cp037")
    assert decoder.decode("    1234-".encode("cp037")) == {"N": -1234}
    with pytest.raises(ConfigError, match="10 characters, not 9"):
        compile_columns([Column("N", "edited", 0, 9, picture="ZZ,ZZ9.99-")])
    with pytest.raises(ConfigError, match="numeric-edited picture"):
        compile_columns([Column("N", "edited", 0, 9, picture="")])


# SPECIAL-NAMES. DECIMAL-POINT IS COMMA: "the functions of the comma and the period are exchanged in the
# character-string of the PICTURE clause and in numeric literals" (IBM Enterprise COBOL Language Reference).
COMMA_CASES = [
    ("ZZ.ZZ9,99-", " 1.234,56-", Decimal("-1234.56")),
    ("ZZ.ZZ9,99CR", " 1.234,56  ", Decimal("1234.56")),
    ("S9(3),99", "012,34", Decimal("12.34")),
    ("S9(3),99", "-12,34", Decimal("-12.34")),
    ("+9(6),99", "-305039,32", Decimal("-305039.32")),
    ("ZZZ.ZZ9", "  1.234", 1234),
    ("$$$.$$9,99", "   $123,45", Decimal("123.45")),
]


@pytest.mark.parametrize(("picture", "text", "value"), COMMA_CASES)
def test_decimal_point_is_comma_exchanges_the_roles_of_comma_and_period(
    picture: str, text: str, value: object
) -> None:
    layout = parse_copybook(f"01 R.\n  05 V PIC {picture}.\n  05 T PIC X.", decimal_comma=True)
    decoded = compile_layout(layout, decimal_comma=True).decode(text.encode("cp037") + b"\x40")["v"]
    assert decoded == value and type(decoded) is type(value)
    if isinstance(value, Decimal):
        assert decoded.as_tuple().exponent == value.as_tuple().exponent  # type: ignore[union-attr]
        column = copybook_column(flat_fields(layout)[0])
        assert column.type is ColumnType.DECIMAL and column.scale == -value.as_tuple().exponent  # type: ignore[operator]


def test_without_decimal_point_is_comma_the_same_pictures_read_otherwise() -> None:
    layout = parse_copybook("01 R.\n  05 V PIC ZZ.ZZ9,99.")
    assert flat_fields(layout)[0].item.scale == 5  # "." is the point: five digit positions after it
    with pytest.raises(ConfigError, match="S goes only first"):
        parse_copybook("01 R.\n  05 V PIC S9(3),99.")
    assert compile_columns([Column("V", "edited", 0, 6, picture="S9(3),99")], decimal_comma=True).decode(
        "-12,34".encode("cp037")
    ) == {"V": Decimal("-12.34")}


def test_a_feed_with_decimal_point_is_comma_reads_its_edited_columns(tmp_path: Path) -> None:
    copybook = tmp_path / "r.cpy"
    copybook.write_text("01 R.\n  05 ID PIC 9(2).\n  05 AMOUNT PIC ZZ.ZZ9,99-.\n")
    feed = Feed.model_validate({"name": "f", "pattern": "*", "format": "ebcdic", "mode": "snapshot",
                                "key_columns": ["id"], "copybook": str(copybook), "decimal_point_is_comma": True})
    (item,) = build_reader(feed).read("07 1.234,56-".encode("cp037"))
    assert isinstance(item, Record) and item.row == {"id": 7, "amount": Decimal("-1234.56")}
