"""Record images of every supported column type, built with encoders, decoded by the compiled table decoder."""

from __future__ import annotations

import struct
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pytest

from connectors.codecs import encode
from connectors.ibmi_journal.layout import CatalogColumn, TableDecoder, parse_null_map
from schemas.columns import ColumnType
from schemas.errors import ConfigError, SkippableError


def col(name: str, ordinal: int, data_type: str, length: int, scale: int | None = None, ccsid: int | None = None,
        nullable: bool = False) -> dict[str, Any]:
    """A QSYS2.SYSCOLUMNS row as the server returns it (CHAR columns padded, IS_NULLABLE Y/N)."""
    return {"COLUMN_NAME": name.ljust(10), "ORDINAL_POSITION": ordinal, "DATA_TYPE": data_type.ljust(8),
            "LENGTH": length, "NUMERIC_SCALE": scale, "CCSID": ccsid, "IS_NULLABLE": "Y" if nullable else "N"}


def ebcdic_chars(text: str) -> bytes:
    return text.encode("cp037")


ALL_TYPES = [
    col("ID", 1, "DECIMAL", 7, 0),
    col("NAME", 2, "CHAR", 10, ccsid=37),
    col("CITY", 3, "VARCHAR", 12, ccsid=37, nullable=True),
    col("AMOUNT", 4, "NUMERIC", 9, 2),
    col("SMALL", 5, "SMALLINT", 2, 0),
    col("COUNT", 6, "INTEGER", 4, 0),
    col("BIG", 7, "BIGINT", 8, 0),
    col("RATE", 8, "FLOAT", 8),
    col("RATIO", 9, "FLOAT", 4),
    col("BORN", 10, "DATE", 4, nullable=True),
    col("AT", 11, "TIME", 3),
    col("CHANGED", 12, "TIMESTMP", 10, 6),
    col("NOTE", 13, "GRAPHIC", 3, ccsid=1200),
    col("NOTEV", 14, "VARG", 5, ccsid=13488),
    col("RAW", 15, "CHAR", 4, ccsid=65535),
    col("BIN", 16, "VARBIN", 6),
    col("DANISH", 17, "CHAR", 3, ccsid=277),
    col("PRICE", 18, "INTEGER", 4, 2),
]


def all_types_image(*, city: str | None = "Zürich", born: str = "1999-12-31") -> bytes:
    return b"".join([
        encode.packed(-1234567, 7),
        encode.text("Müller", 10),
        encode.varchar(city or "", 12),
        encode.zoned(Decimal("-1234.56"), 9, 2),
        encode.binary(-2, 2),
        encode.binary(70000, 4),
        encode.binary(-(2**40), 8),
        struct.pack(">d", 1.25),
        struct.pack(">f", 0.5),
        ebcdic_chars(born),
        ebcdic_chars("13.45.59"),
        ebcdic_chars("2024-02-29-23.59.58.123456"),
        "Ωé ".encode("utf-16-be"),
        (2).to_bytes(2, "big") + "日本".encode("utf-16-be") + bytes(6),
        b"\x00\x01\xfe\xff",
        (3).to_bytes(2, "big") + b"\x01\x02\x03" + bytes(3),
        "ÆØÅ".encode("cp277"),
        encode.binary(12345, 4),
    ])


def test_every_type_decodes_from_its_storage_form() -> None:
    decoder = TableDecoder([CatalogColumn.from_row(r) for r in ALL_TYPES])
    row = decoder.decode(all_types_image(), "0" * 18)
    assert row == {
        "ID": -1234567, "NAME": "Müller", "CITY": "Zürich", "AMOUNT": Decimal("-1234.56"), "SMALL": -2,
        "COUNT": 70000, "BIG": -(2**40), "RATE": 1.25, "RATIO": 0.5, "BORN": date(1999, 12, 31),
        "AT": time(13, 45, 59), "CHANGED": datetime(2024, 2, 29, 23, 59, 58, 123456), "NOTE": "Ωé",
        "NOTEV": "日本", "RAW": b"\x00\x01\xfe\xff", "BIN": b"\x01\x02\x03", "DANISH": "ÆØÅ",
        "PRICE": Decimal("123.45"),
    }
    assert decoder.length == len(all_types_image())
    types = {c.name: c.type for c in decoder.columns}
    assert types["AMOUNT"] is ColumnType.DECIMAL and types["BORN"] is ColumnType.DATE
    assert types["RAW"] is ColumnType.BYTES and types["CHANGED"] is ColumnType.TIMESTAMP


@pytest.mark.parametrize("nulls", ["0011" + "0" * 5 + "1" + "0" * 8, b"\xf0\xf0\xf1\xf1" + b"\xf0" * 5 + b"\xf1"
                                   + b"\xf0" * 8, bytes([0, 0, 1, 1, 0, 0, 0, 0, 0, 1] + [0] * 8)])
def test_null_indicators_in_every_shape_the_driver_returns(nulls: object) -> None:
    decoder = TableDecoder([CatalogColumn.from_row(r) for r in ALL_TYPES])
    # null columns hold whatever bytes: here a blank date that would not parse
    row = decoder.decode(all_types_image(city=None, born="          "), nulls)
    assert row["CITY"] is None and row["BORN"] is None and row["NAME"] == "Müller"


def test_blank_null_map_means_no_nulls_and_a_minimized_image_is_skippable() -> None:
    assert parse_null_map("   ") is None and parse_null_map(b"\x40\x40") is None and parse_null_map(None) is None
    with pytest.raises(SkippableError, match="MINENTDTA"):
        parse_null_map("0900")


def test_bad_bytes_and_short_images_are_skippable_naming_the_field() -> None:
    decoder = TableDecoder([CatalogColumn.from_row(r) for r in ALL_TYPES])
    image = bytearray(all_types_image())
    image[3] = 0x17  # bad packed sign nibble in ID
    with pytest.raises(SkippableError, match="ID"):
        decoder.decode(bytes(image), None)
    with pytest.raises(SkippableError, match="bytes long"):
        decoder.decode(all_types_image()[:20], None)
    with pytest.raises(SkippableError, match="BORN"):
        decoder.decode(all_types_image(born="1999/12/31"), None)


def test_hex_text_entry_data_is_accepted() -> None:
    decoder = TableDecoder([CatalogColumn.from_row(r) for r in ALL_TYPES])
    assert decoder.decode(all_types_image().hex())["ID"] == -1234567


def test_ccsid_65535_as_bytes_or_a_configured_ccsid_and_overrides() -> None:
    wide = [col("K", 1, "CHAR", 3, ccsid=65535), col("T", 2, "CHAR", 3, ccsid=37)]
    image = "Åre".encode("cp278") + "abc".encode("cp037")
    assert TableDecoder([CatalogColumn.from_row(r) for r in wide]).decode(image)["K"] == "Åre".encode("cp278")
    assert TableDecoder([CatalogColumn.from_row(r) for r in wide], binary_ccsid=278).decode(image)["K"] == "Åre"
    assert TableDecoder([CatalogColumn.from_row(r) for r in wide], ccsid_overrides={"k": 278}).decode(image) == {
        "K": "Åre", "T": "abc"}


def test_record_code_page_follows_the_columns_and_other_ccsids_still_decode() -> None:
    rows = [col("A", 1, "CHAR", 3, ccsid=1141), col("B", 2, "CHAR", 3, ccsid=1141), col("C", 3, "CHAR", 2, ccsid=37)]
    decoder = TableDecoder([CatalogColumn.from_row(r) for r in rows])
    assert decoder.record_codec == "cp1141"
    image = "€Äx".encode("cp1141") + "Öß".encode("cp1141") + b"\x40" + "[]".encode("cp037")
    assert decoder.decode(image) == {"A": "€Äx", "B": "Öß", "C": "[]"}


def test_usa_eur_dates_and_usa_time_and_short_timestamps() -> None:
    rows = [col("D1", 1, "DATE", 4), col("D2", 2, "DATE", 4), col("T", 3, "TIME", 3), col("TS", 4, "TIMESTMP", 10, 0)]
    image = ebcdic_chars("12/31/1999" + "31.12.1999" + "01:30 PM" + "2024-01-02-03.04.05")
    assert TableDecoder([CatalogColumn.from_row(r) for r in rows]).decode(image) == {
        "D1": date(1999, 12, 31), "D2": date(1999, 12, 31), "T": time(13, 30), "TS": datetime(2024, 1, 2, 3, 4, 5)}


def test_unsupported_types_and_ccsids_are_config_errors_listing_every_column() -> None:
    rows = [col("L", 1, "CLOB", 100, ccsid=37), col("G", 2, "GRAPHIC", 4, ccsid=16684), col("X", 3, "CHAR", 2,
                                                                                             ccsid=1025)]
    with pytest.raises(ConfigError) as info:
        TableDecoder([CatalogColumn.from_row(r) for r in rows], ccsid_overrides={"NOPE": 37}, where="t[0].")
    text = "\n".join(info.value.problems)
    assert "column L: CLOB" in text and "column G: GRAPHIC CCSID 16684" in text and "CCSID 1025" in text
    assert "t[0].ccsid.NOPE: no such column" in text


DDS_DATES = [
    ("MDY", "06/21/90", date(1990, 6, 21)), ("*MDY", "12-31-39", date(2039, 12, 31)),
    ("DMY", "21.06.40", date(1940, 6, 21)), ("dmy", "01,02,00", date(2000, 2, 1)),
    ("YMD", "90 06 21", date(1990, 6, 21)), ("JUL", "90/172", date(1990, 6, 21)),
    ("*JUL", "00-366", date(2000, 12, 31)), ("USA", "06/21/1990", date(1990, 6, 21)),
]


@pytest.mark.parametrize(("fmt", "text", "expected"), DDS_DATES)
def test_dds_date_formats_have_their_own_length_and_the_next_field_stays_aligned(fmt: str, text: str,
                                                                                expected: date) -> None:
    """A DDS date field is stored in its DATFMT (8 bytes for MDY/DMY/YMD, 6 for JUL, 10 for the rest); the
    packed field after it must still decode, which it only does when the date's length is right."""
    rows = [col("ID", 1, "DECIMAL", 5, 0), col("SHIPPED", 2, "DATE", 4), col("QTY", 3, "DECIMAL", 5, 0)]
    decoder = TableDecoder([CatalogColumn.from_row(r) for r in rows], date_formats={"shipped": fmt})
    image = encode.packed(4711, 5) + ebcdic_chars(text) + encode.packed(-12, 5)
    assert decoder.length == 3 + len(text) + 3
    assert decoder.decode(image) == {"ID": 4711, "SHIPPED": expected, "QTY": -12}


@pytest.mark.parametrize(("fmt", "text"), [("MDY", "13/01/90"), ("MDY", "06/21-90"), ("JUL", "90/000"),
                                           ("JUL", "91/366"), ("YMD", "9a/01/01"), ("DMY", "1 /01/01")])
def test_bad_dds_dates_are_skippable_naming_the_column(fmt: str, text: str) -> None:
    rows = [col("SHIPPED", 1, "DATE", 4)]
    decoder = TableDecoder([CatalogColumn.from_row(r) for r in rows], date_formats={"SHIPPED": fmt})
    with pytest.raises(SkippableError, match="column SHIPPED"):
        decoder.decode(ebcdic_chars(text))


def test_time_formats_and_separators() -> None:
    rows = [col(f"T{i}", i, "TIME", 3) for i in range(1, 6)]
    image = ebcdic_chars("14.05.02" + "14:05:02" + "14,05,02" + "14 05 02" + "12:15 AM")
    assert TableDecoder([CatalogColumn.from_row(r) for r in rows]).decode(image) == {
        "T1": time(14, 5, 2), "T2": time(14, 5, 2), "T3": time(14, 5, 2), "T4": time(14, 5, 2), "T5": time(0, 15)}


def test_date_formats_for_unknown_or_non_date_columns_and_unknown_formats_are_config_errors() -> None:
    rows = [CatalogColumn.from_row(r) for r in (col("ID", 1, "DECIMAL", 5, 0), col("SHIPPED", 2, "DATE", 4))]
    with pytest.raises(ConfigError) as info:
        TableDecoder(rows, date_formats={"ID": "MDY", "GONE": "MDY"}, where="t.")
    assert info.value.problems == ["t.date_format.GONE: no such DATE column", "t.date_format.ID: no such DATE column"]
    with pytest.raises(ConfigError, match=r"t\.column SHIPPED: unknown date format 'YYMMDD'"):
        TableDecoder(rows, date_formats={"SHIPPED": "YYMMDD"}, where="t.")
