"""Copybook clauses as the IBM Enterprise COBOL Language Reference writes them: usages, continued clauses."""

from __future__ import annotations

import pytest

from connectors.codecs import FieldDecodeError, compile_layout, parse_copybook
from connectors.codecs.layout import Field


def _field(text: str, name: str = "A") -> Field:
    item = parse_copybook(text).find(name)
    assert isinstance(item, Field)
    return item


@pytest.mark.parametrize("usage", ["COMP-0", "COMPUTATIONAL-0", "USAGE IS COMP-0", "USAGE COMP-0"])
def test_comp_0_is_binary(usage: str) -> None:
    field = _field(f"01 R.\n  05 A PIC S9(4) {usage}.\n  05 B PIC 9(9) {usage}.")
    assert (field.kind, field.length) == ("binary", 2)
    assert (_field(f"01 R.\n  05 A PIC S9(4) {usage}.\n  05 B PIC 9(9) {usage}.", "B").length) == 4
    decoder = compile_layout(parse_copybook(f"01 R.\n  05 A PIC S9(4) {usage}.\n  05 B PIC 9(9) {usage}."))
    assert decoder.decode(b"\xff\xfe\x00\x00\x01\x00") == {"a": -2, "b": 256}


@pytest.mark.parametrize(
    "text",
    [
        "       01 R.\n           05 A PIC S9(9) SIGN IS\n\t\tLEADING SEPARATE.\n",  # fixed format
        "01 R.\n\t05 A PIC S9(9) SIGN IS\n\t\tLEADING SEPARATE.\n",  # free format
        "       01 R.\n           05 A PIC S9(9)\tSIGN\tIS\t\n\t\tLEADING\tSEPARATE\tCHARACTER.\n",
        "       01 R.\n\t   05 A PIC S9(9) SIGN IS\r\n\t\tLEADING SEPARATE.\r\n",
    ],
)
def test_clause_continued_after_tabs(text: str) -> None:
    field = _field(text)
    assert (field.length, field.sign_leading, field.sign_separate) == (10, True, True)
    decoder = compile_layout(parse_copybook(text))
    assert decoder.decode(b"\x60" + b"\xf0" * 8 + b"\xf7") == {"a": -7}


@pytest.mark.parametrize(
    ("picture", "hexed", "problem"),
    [
        ("9(8)", "C1C2C3C4C5404040", "invalid zoned decimal: X'C1' at position 1"),
        ("9(8)", "F1F2F3F4F5404040", "invalid zoned decimal: X'40' at position 6"),
        ("S9(4)", "F1F2F3C1", None),  # overpunched +1 in the sign position: valid
        ("S9(4)", "F1C2F3F1", "invalid zoned decimal: X'C2' at position 2"),
        ("S9(4)", "F1F2F3E1", "invalid zoned decimal: X'E1' at position 4"),
        ("9(4)", "F1F2F3D1", "negative sign in an unsigned zoned field: X'D1' at position 4"),
        ("S9(3) SIGN LEADING SEPARATE", "40F1F2F3", "invalid zoned decimal: X'40' at position 1"),
    ],
)
def test_bad_display_number_names_its_first_bad_byte(picture: str, hexed: str, problem: str | None) -> None:
    decoder = compile_layout(parse_copybook(f"01 R.\n  05 N PIC {picture}."))
    record = bytes.fromhex(hexed)
    if problem is None:
        assert decoder.decode(record) == {"n": 1231}
        return
    with pytest.raises(FieldDecodeError) as info:
        decoder.decode(record)
    assert problem in str(info.value)
    assert info.value.raw_hex == bytes.fromhex(hexed).hex(" ").upper()


@pytest.mark.parametrize(
    ("clause", "length"), [("OCCURS 3", 4), ("OCCURS 3 TIMES", 4), ("OCCURS 2 TIMES VALUE 'A'", 3)]
)
def test_fixed_occurs_forms(clause: str, length: int) -> None:
    assert parse_copybook(f"01 R.\n  05 N PIC 9.\n  05 A PIC X {clause}.").length == length
