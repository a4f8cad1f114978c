"""The generated fast path against the field-by-field path: same values (types, signs, exponents) or same error.

The fast path converts packed and zoned values of either sign inline, slices text with ``itemgetter``, trims
with ``str.rstrip(' ')`` and unpacks binary fields with one ``struct``; every case it does not handle itself
goes to the step's own function or the field-by-field fallback. These tests feed it valid and invalid bytes and
compare with ``_evaluate`` (the field-by-field path, built on the public primitive decoders).
"""

from __future__ import annotations

import decimal
import random
from decimal import Decimal

import pytest

from connectors.codecs import Column, FieldDecodeError, RecordDecoder, compile_columns, compile_layout, parse_copybook
from connectors.codecs import encode as enc
from connectors.codecs.record import _evaluate
from connectors.ibmi_journal.layout import CatalogColumn, TableDecoder

COLUMNS = [
    Column("P2", "packed", 0, 6, 11, 2),  # signed packed with decimals
    Column("P0", "packed", 6, 4, 7, 0),  # signed packed integer
    Column("PU", "packed", 10, 3, 5, 1, signed=False),
    Column("PU0", "packed", 13, 2, 3, 0, signed=False),
    Column("Z2", "zoned", 15, 7, 7, 2),  # trailing overpunch
    Column("Z0", "zoned", 22, 5, 5, 0),
    Column("ZL", "zoned", 27, 4, 4, 1, sign_leading=True),
    Column("ZU", "zoned", 31, 3, 3, 0, signed=False),
    Column("ZS", "zoned", 34, 4, 3, 0, sign_separate=True),
    Column("T", "text", 38, 6),
    Column("B2", "binary", 44, 2, scale=1),
    Column("B4", "binary", 46, 4),
    Column("F8", "float", 50, 8),
    Column("T1", "text", 58, 1),
]
LENGTH = 59


def shape(value: object) -> object:
    """Value, type and printed form: tells Decimal('-0.00') from Decimal('0.00') and 0.00 from 0.0."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    return (type(value).__name__, str(value))


def outcome(decode: RecordDecoder, record: bytes, fast: bool) -> object:
    try:
        values = decode.decode(record) if fast else _evaluate(decode._root, record, None)
    except FieldDecodeError as exc:
        return ("error", str(exc))
    return shape(values)


def valid_record(rnd: random.Random) -> bytes:
    def number(digits: int, scale: int, signed: bool = True) -> Decimal:
        low = -(10**digits) + 1 if signed else 0
        return Decimal(rnd.choice([0, rnd.randint(low, 10**digits - 1)])).scaleb(-scale)

    return b"".join(
        (
            enc.packed(number(11, 2), 11, 2, sign_nibble=rnd.choice([None, 0xF, 0xA, 0xE])),
            enc.packed(number(7, 0), 7, 0),
            enc.packed(number(5, 1, False), 5, 1, signed=False),
            enc.packed(number(3, 0, False), 3, 0, signed=False),
            enc.zoned(number(7, 2), 7, 2, positive_zone=rnd.choice([0xC, 0xF])),
            enc.zoned(number(5, 0), 5, positive_zone=rnd.choice([0xC, 0xF])),
            enc.zoned(number(4, 1), 4, 1, leading=True),
            enc.zoned(number(3, 0, False), 3, signed=False),
            enc.zoned(number(3, 0), 3, separate=True),
            enc.text(rnd.choice(["", "a b", "ab\t", "abcdef", " x  "]), 6),
            enc.binary(rnd.randint(-32768, 32767), 2),
            enc.binary(rnd.randint(-(2**31), 2**31 - 1), 4),
            enc.comp2(rnd.random() * 1e6),
            enc.text(rnd.choice(["", "Y"]), 1),
        )
    )


@pytest.fixture(scope="module")
def decoder() -> RecordDecoder:
    return compile_columns(COLUMNS)


def test_valid_records_never_leave_the_fast_path_and_match_field_by_field(decoder: RecordDecoder) -> None:
    fast = compile_columns(COLUMNS)

    def no_fallback(*args: object) -> None:
        raise AssertionError("a valid record left the fast path")

    fast.decode.__globals__["_fallback"] = no_fallback  # type: ignore[attr-defined]
    rnd = random.Random(11)
    for _ in range(2000):
        record = valid_record(rnd)
        assert len(record) == LENGTH
        assert outcome(fast, record, True) == outcome(decoder, record, False)


def test_mutated_records_give_the_same_value_or_the_same_error(decoder: RecordDecoder) -> None:
    """Random nibbles and overpunch bytes in the numeric fields: bad digits, bad signs, C/D zones anywhere."""
    rnd = random.Random(5)
    interesting = [*range(0xC0, 0xCA), *range(0xD0, 0xDA), *range(0xF0, 0xFA), 0x40, 0x4E, 0x60, 0x6D, 0xC1, 0x00]
    errors = 0
    for _ in range(4000):
        record = bytearray(valid_record(rnd))
        for _ in range(rnd.randint(1, 3)):
            position = rnd.randrange(38)  # the packed and zoned fields
            record[position] = rnd.choice([rnd.randrange(256), rnd.choice(interesting)])
        got = outcome(decoder, bytes(record), True)
        assert got == outcome(decoder, bytes(record), False)
        errors += isinstance(got, tuple)
    assert errors > 500  # the mutations do reach the error path


@pytest.mark.parametrize(
    ("raw", "column", "expected"),
    [
        (enc.packed_from_nibbles([0, 0, 0, 0xD]), Column("P", "packed", 0, 2, 3, 0), ("int", "0")),
        (enc.packed_from_nibbles([0, 0, 0, 0xD]), Column("P", "packed", 0, 2, 3, 2), ("Decimal", "0.00")),
        (enc.packed_from_nibbles([0, 1, 2, 0xB]), Column("P", "packed", 0, 2, 3, 2), ("Decimal", "-0.12")),
        (enc.packed_from_nibbles([0, 1, 2, 0xA]), Column("P", "packed", 0, 2, 3, 0), ("int", "12")),
        (b"\xf0\xf0\xd0", Column("Z", "zoned", 0, 3, 3, 1), ("Decimal", "0.0")),
        (b"\xf0\xf0\xd0", Column("Z", "zoned", 0, 3, 3, 0), ("int", "0")),
        (b"\xf1\xf2\xd3", Column("Z", "zoned", 0, 3, 3, 0), ("int", "-123")),
        (b"\xf1\xf2\xc3", Column("Z", "zoned", 0, 3, 3, 2), ("Decimal", "1.23")),
        (b"\xd1\xf2\xf3", Column("Z", "zoned", 0, 3, 3, 0, sign_leading=True), ("int", "-123")),
        (b"\xf1\xf2\xc3", Column("Z", "zoned", 0, 3, 3, 0, signed=False), ("int", "123")),
        (b"\xc1\x40\x05\x40", Column("T", "text", 0, 4), ("str", "A \t")),  # only blanks are trimmed (X'05' is tab)
    ],
)
def test_signs_negative_zero_and_trimming(raw: bytes, column: Column, expected: tuple[str, str]) -> None:
    assert shape(compile_columns([column]).decode(raw)[column.name]) == expected


@pytest.mark.parametrize(
    ("raw", "column", "reason"),
    [
        (enc.packed_from_nibbles([0, 0xA, 2, 0xC]), Column("P", "packed", 0, 2, 3, 0), "digit nibble"),
        (enc.packed_from_nibbles([0, 0xA, 2, 0xC]), Column("P", "packed", 0, 2, 3, 2), "digit nibble"),
        (enc.packed_from_nibbles([0, 1, 2, 0x7]), Column("P", "packed", 0, 2, 3, 0), "sign nibble 7"),
        (enc.packed_from_nibbles([0, 1, 2, 0xD]), Column("P", "packed", 0, 2, 3, 0, signed=False), "sign nibble D"),
        (b"\xf1\xd2\xf3", Column("Z", "zoned", 0, 3, 3, 0), "X'D2' at position 2"),
        (b"\xf1\xf2\xd3", Column("Z", "zoned", 0, 3, 3, 0, signed=False), "unsigned zoned"),
        (b"\xf1\x40\xf3", Column("Z", "zoned", 0, 3, 3, 2), "X'40' at position 2"),
        (b"\xf1\xf2\x6d", Column("Z", "zoned", 0, 3, 3, 0), "X'6D' at position 3"),
    ],
)
def test_bad_numbers_are_rejected_with_the_field_by_field_reason(raw: bytes, column: Column, reason: str) -> None:
    with pytest.raises(FieldDecodeError, match=reason) as info:
        compile_columns([column]).decode(raw)
    assert info.value.field == column.name and info.value.offset == 0


def test_a_thread_context_that_does_not_trap_cannot_let_bad_digits_through() -> None:
    """Decimal('1a') is NaN, not an error, under a context without the InvalidOperation trap; the fast path
    converts with its own exact context, so a hex letter in a digit position still rejects the record."""
    columns = [Column("P", "packed", 0, 3, 5, 2), Column("Z", "zoned", 3, 3, 3, 1)]
    decoder = compile_columns(columns)
    bad_packed = enc.packed_from_nibbles([0, 1, 0xA, 3, 4, 0xC]) + enc.zoned(Decimal("1.5"), 3, 1)
    bad_zoned = enc.packed(Decimal("1.5"), 5, 2) + b"\xf1\xfa\xf3"
    with decimal.localcontext() as ctx:
        ctx.traps[decimal.InvalidOperation] = False
        ctx.prec = 3  # and no rounding either: 9 digits stay 9 digits
        with pytest.raises(FieldDecodeError, match="digit nibble"):
            decoder.decode(bad_packed)
        with pytest.raises(FieldDecodeError, match="X'FA' at position 2"):
            decoder.decode(bad_zoned)
        wide = compile_columns([Column("W", "packed", 0, 5, 9, 2)])
        assert wide.decode(enc.packed(Decimal("-1234567.89"), 9, 2)) == {"W": Decimal("-1234567.89")}


def test_null_flagged_columns_tolerate_bad_bytes_and_flags_win() -> None:
    columns = [Column("A", "packed", 0, 2, 3, 0, nullable=True), Column("B", "zoned", 2, 2, 2, 0, nullable=True)]
    decoder = compile_columns(columns)
    bad_a = enc.packed_from_nibbles([0, 0xA, 2, 0xC]) + b"\xf4\xd2"
    assert decoder.decode(bad_a, (True, False)) == {"A": None, "B": -42}
    assert decoder.decode(bad_a[:2] + b"\xf4\xf2", [True, True]) == {"A": None, "B": None}
    with pytest.raises(FieldDecodeError, match="digit nibble"):
        decoder.decode(bad_a, (False, True))


def test_merged_struct_and_overlapping_binaries() -> None:
    merged = compile_columns(
        [
            Column("I", "binary", 2, 4),
            Column("S", "binary", 8, 2, scale=2),
            Column("F", "float", 10, 4),
            Column("T", "text", 0, 2),
        ]
    )
    record = enc.text("ab", 2) + enc.binary(-7, 4) + b"\x00\x00" + enc.binary(1234, 2) + bytes.fromhex("3fa00000")
    assert "b = _B(d)" in merged.source
    assert merged.decode(record) == {"I": -7, "S": Decimal("12.34"), "F": 1.25, "T": "ab"}
    overlapping = compile_columns([Column("I", "binary", 2, 4), Column("H", "binary", 4, 2)])
    assert "_B" not in overlapping.source
    assert overlapping.decode(record) == {"I": -7, "H": -7}


def test_spans_far_into_a_long_record() -> None:
    """Text and packed fields far apart: the converted spans start inside the record (an EBCDIC zoned field is
    read from the hex, so the hex span reaches it)."""
    columns = [Column("P", "packed", 100, 3, 5, 2), Column("T", "text", 300, 4), Column("Z", "zoned", 304, 2, 2, 0)]
    record = bytearray(b"\x00" * 400)
    record[100:103] = enc.packed(Decimal("-123.45"), 5, 2)
    record[300:306] = enc.text("XY", 4) + enc.zoned(-5, 2)
    decoder = compile_columns(columns)
    assert "d[100:306].hex()" in decoder.source and "d[300:304].translate" in decoder.source
    assert decoder.decode(bytes(record)) == {"P": Decimal("-123.45"), "T": "XY", "Z": -5}


@pytest.mark.parametrize(
    ("codepage", "negative"), [("cp1140", b"\xf4\xd2"), ("latin-1", b"4r"), ("cp273", b"\xf4\xd2")]
)
def test_other_record_code_pages(codepage: str, negative: bytes) -> None:
    """cp1140 (euro sign: charmap table), Latin-1 (ASCII overpunch p-y) and cp273 (translate)."""
    columns = [Column("T", "text", 0, 3), Column("Z", "zoned", 3, 2, 2, 1)]
    text = "€ab" if codepage == "cp1140" else "Äab"
    decoder = compile_columns(columns, codepage)
    assert decoder.decode(text.encode(codepage) + negative) == {"T": text, "Z": Decimal("-4.2")}


def test_copybook_occurs_and_redefines_stay_equal_to_field_by_field() -> None:
    copybook = """
       01  R.
           05  AMOUNTS OCCURS 3 TIMES.
               10  AMT   PIC S9(5)V99 COMP-3.
               10  QTY   PIC S9(3).
           05  CODE      PIC X(4).
           05  CODE-N REDEFINES CODE PIC S9(4).
    """
    decoder = compile_layout(parse_copybook(copybook))
    rnd = random.Random(3)
    for _ in range(200):
        parts = [
            enc.packed(Decimal(rnd.randint(-9999999, 9999999)).scaleb(-2), 7, 2) + enc.zoned(rnd.randint(-999, 999), 3)
            for _ in range(3)
        ]
        record = b"".join(parts) + rnd.choice([enc.text("AB", 4), enc.zoned(rnd.randint(-9999, 9999), 4)])
        assert outcome(decoder, record, True) == outcome(decoder, record, False)


def test_table_decoder_fast_entry_matches_the_general_one() -> None:
    rows = [
        {"COLUMN_NAME": "A", "ORDINAL_POSITION": 1, "DATA_TYPE": "DECIMAL", "LENGTH": 5, "NUMERIC_SCALE": 2},
        {"COLUMN_NAME": "B", "ORDINAL_POSITION": 2, "DATA_TYPE": "CHAR", "LENGTH": 4, "CCSID": 37, "IS_NULLABLE": "Y"},
        {"COLUMN_NAME": "C", "ORDINAL_POSITION": 3, "DATA_TYPE": "NUMERIC", "LENGTH": 3, "NUMERIC_SCALE": 0},
    ]
    decoder = TableDecoder([CatalogColumn.from_row(r) for r in rows])
    image = enc.packed(Decimal("-1.50"), 5, 2) + enc.text("ab", 4) + enc.zoned(-12, 3)
    expected = {"A": Decimal("-1.50"), "B": "ab", "C": -12}
    for nulls in (None, "000", "00", b"\xf0\xf0\xf0", "   "):
        assert decoder.decode(image, nulls) == expected
        assert decoder.decode(memoryview(image), nulls) == expected
        assert decoder.decode(image.hex(), nulls) == expected
    assert decoder.decode(image, "010") == {**expected, "B": None}
    assert decoder.decode(image, b"\xf0\xf1\xf0") == {**expected, "B": None}
