"""The EBCDIC file-drop reader decodes straight into its flat columns; its rows must be identical, value, type,
Decimal exponent and column order, to decoding with ``compile_layout`` and then spreading the OCCURS lists and
making every Decimal exact at its column's scale (the general path every reader shares)."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.codecs import compile_layout, compile_variable, parse_copybook
from connectors.codecs.layout import Layout
from connectors.filedrop.config import Feed
from connectors.filedrop.ebcdic import EbcdicReader, flatten
from connectors.filedrop.formats import BadRecord, Record
from schemas.columns import ColumnType

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from ebcdic_wide import WIDE_COPYBOOK, make_wide

REDEFINED = """\
       01  R.
           05  KEY-NO        PIC 9(5).
           05  AMOUNTS OCCURS 3.
               10  AMT       PIC S9(5)V99 COMP-3.
               10  AMT-Z     PIC S9(3)V9.
           05  RAW           PIC X(4).
           05  NUM REDEFINES RAW PIC S9(7) COMP-3.
           05  EDITED        PIC ZZ,ZZ9.99-.
           05  SCALED        PIC SPPP99 COMP-3.
           05  RATE          PIC S9(3)V9(3) COMP.
           05  BIG           PIC 9(19) COMP-3.
           05  UNSIGNED-8    PIC 9(18) COMP.
           05  THOUSANDS     PIC S9(16)PPP COMP-3.
"""


def reference_rows(reader: EbcdicReader, layout: Layout, records: list[bytes]) -> list[tuple[str, Any]]:
    """Decode with the nested decoder, spread lists, quantize Decimals to their column scale."""
    decoder = compile_variable(layout) if layout.variable else compile_layout(layout)
    scales = {c.name: c.scale or 0 for c in reader.columns if c.type is ColumnType.DECIMAL}
    names = [c.name for c in reader.columns]
    out: list[tuple[str, Any]] = []
    for record in records:
        row = flatten(decoder.decode(record))
        row = {name: row.get(name) for name in names} if layout.variable else row
        for name, scale in scales.items():
            if row[name] is not None:
                row[name] = Decimal(row[name]).quantize(Decimal(1).scaleb(-scale))
        out.append(("row", row))
    return out


def read(layout: Layout, data: bytes, key: str) -> EbcdicReader:
    feed = Feed.model_validate({"name": "f", "pattern": "*", "format": "ebcdic", "mode": "snapshot",
                                "key_columns": [key], "copybook": "x.cpy"})  # fmt: skip
    return EbcdicReader(feed, layout)


def as_pairs(items: list[Any]) -> list[tuple[str, Any]]:
    assert all(isinstance(item, Record) for item in items), [i for i in items if isinstance(i, BadRecord)][:1]
    return [("row", item.row) for item in items]


def test_the_wide_record_reads_identically_to_decode_then_flatten() -> None:
    layout = parse_copybook(WIDE_COPYBOOK)
    records = [make_wide(layout, i) for i in range(60)]
    reader = read(layout, b"", "account_no")
    got = as_pairs(list(reader.read(b"".join(records))))
    expected = reference_rows(reader, layout, records)
    assert repr(got) == repr(expected)  # exponents and key order included
    assert list(got[0][1]) == [c.name for c in reader.columns]


@pytest.mark.parametrize("amount", ["0.00", "-0.01", "12345.67", "-99999.99"])
def test_occurs_redefines_edited_and_scaled_values_read_identically(amount: str) -> None:
    layout = parse_copybook(REDEFINED)
    value = Decimal(amount)
    cents = int(value.scaleb(2))
    packed = f"{abs(cents):07d}{'D' if cents < 0 else 'C'}"
    zoned = bytes([0xF0, 0xF1, 0xF2, 0xD3 if cents < 0 else 0xC3])
    record = b"".join((
        bytes([0xF0, 0xF0, 0xF0, 0xF4, 0xF2]),
        (bytes.fromhex(packed) + zoned) * 3,
        "ABCD".encode("cp037"),
        f"{abs(value):9,.2f}{'-' if value < 0 else ' '}".encode("cp037"),
        bytes.fromhex("012C"),
        (cents * 10).to_bytes(4, "big", signed=True),
        bytes.fromhex(f"{abs(cents) * 10**12:019d}F"),
        (abs(cents) * 10**12).to_bytes(8, "big"),
        bytes.fromhex(f"{abs(cents) * 10**9:017d}{'D' if cents < 0 else 'C'}"),
    ))  # fmt: skip
    reader = read(layout, b"", "key_no")
    got = as_pairs(list(reader.read(record)))
    assert repr(got) == repr(reference_rows(reader, layout, [record]))
