"""File-drop readers: CSV (cp1252, BOM, header, typed columns), fixed-width text, EBCDIC records by copybook."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.codecs import encode as enc
from connectors.codecs import parse_copybook
from connectors.filedrop.config import Feed
from connectors.filedrop.connector import build_reader
from connectors.filedrop.ebcdic import EbcdicReader, flat_fields
from connectors.filedrop.formats import BadFile, BadRecord, CsvReader, FixedTextReader, Item, Record
from schemas.columns import ColumnType
from schemas.errors import ConfigError

# ------------------------------------------------------------------------------------------------ builders

COPYBOOK = "\n".join(
    enc.fixed_line(code, seq=f"{(i + 1) * 10:06d}", ident="CUSTEXP")
    for i, code in enumerate(
        [
            "01  CUST-EXPORT.",
            "    05  CUST-NO             PIC 9(6).",
            "    05  CUST-NAME           PIC X(20).",
            "    05  BALANCE             PIC S9(7)V99 COMP-3.",
            "    05  CREDIT-DAYS         PIC S9(3).",
            "    05  PHONE               PIC X(12) OCCURS 2 TIMES.",
            "    05  ORDERS OCCURS 2 TIMES.",
            "        10  ORD-NO          PIC 9(5).",
            "        10  ORD-AMT         PIC S9(5)V99 COMP-3.",
            "    05  FILLER              PIC X(4).",
        ]
    )
)
RECORD_LENGTH = 6 + 20 + 5 + 3 + 2 * 12 + 2 * (5 + 4) + 4


def customer(no: int, name: str, balance: str, days: int, phones: tuple[str, str] = ("", ""),
             orders: tuple[tuple[int, str], ...] = ((0, "0"), (0, "0"))) -> dict[str, Any]:  # fmt: skip
    """The row a record decodes to (OCCURS flattened)."""
    row: dict[str, Any] = {"cust_no": no, "cust_name": name, "balance": Decimal(balance), "credit_days": days,
                           "phone_1": phones[0], "phone_2": phones[1]}  # fmt: skip
    for i, (ord_no, amount) in enumerate(orders, start=1):
        row[f"orders_{i}_ord_no"] = ord_no
        row[f"orders_{i}_ord_amt"] = Decimal(amount)
    return row


def customer_record(row: dict[str, Any], cp: str, *, bad_balance: bool = False) -> bytes:
    """The EBCDIC record image of ``row``, field by field, with the encoders (independent of the decoder)."""
    balance = enc.packed_from_nibbles([1, 2, 3, 4, 5, 6, 7, 8, 9, 0x7]) if bad_balance else \
        enc.packed(row["balance"], 9, 2)  # fmt: skip
    parts = [
        enc.zoned(row["cust_no"], 6, signed=False),
        enc.text(row["cust_name"], 20, cp),
        balance,
        enc.zoned(row["credit_days"], 3),
        enc.text(row["phone_1"], 12, cp),
        enc.text(row["phone_2"], 12, cp),
    ]
    for i in (1, 2):
        parts += [enc.zoned(row[f"orders_{i}_ord_no"], 5, signed=False), enc.packed(row[f"orders_{i}_ord_amt"], 7, 2)]
    parts.append(enc.text("", 4, cp))
    record = b"".join(parts)
    assert len(record) == RECORD_LENGTH
    return record


def feed(**values: Any) -> Feed:
    base: dict[str, Any] = {"name": "f", "pattern": "*", "mode": "delta", "key_columns": ["id"]}
    return Feed.model_validate(base | values)


def ebcdic_feed(tmp_path: Path, cp: str, **values: Any) -> Feed:
    path = tmp_path / "custexp.cpy"
    path.write_text(COPYBOOK)
    return feed(format="ebcdic", copybook=str(path), codepage=cp, key_columns=["cust_no"], **values)


def rows(items: list[Item]) -> list[dict[str, Any]]:
    return [i.row for i in items if isinstance(i, Record)]


def bad(items: list[Item]) -> list[BadRecord]:
    return [i for i in items if isinstance(i, BadRecord)]


CSV_COLUMNS = [
    "kundennr",
    "name",
    {"name": "limit", "type": "decimal", "precision": 11, "scale": 2},
    {"name": "seit", "type": "date", "format": "%d.%m.%Y"},
    "waehrung",
]


def csv_feed(**csv: Any) -> Feed:
    options = {"delimiter": ";", "columns": CSV_COLUMNS, "decimal_separator": ","} | csv
    return feed(encoding="cp1252", key_columns=["kundennr"], csv=options)


def csv_line(*fields: str) -> str:
    return ";".join(f'"{f}"' if ";" in f else f for f in fields) + "\r\n"


# ----------------------------------------------------------------------------------------------------- CSV


def test_csv_cp1252_with_umlauts_euro_and_typed_columns() -> None:
    people = [("1001", "Müller; Jürgen", Decimal("1234.50"), date(2019, 3, 1), "€"),
              ("1002", "Straße & Söhne", Decimal("-0.75"), date(2021, 12, 31), "€")]  # fmt: skip
    text = csv_line("waehrung", "seit", "limit", "name", "kundennr", "extra")  # header order differs
    for no, name, limit, since, cur in people:
        text += csv_line(cur, since.strftime("%d.%m.%Y"), str(limit).replace(".", ","), name, no, "x")
    items = list(CsvReader(csv_feed()).read(text.encode("cp1252")))
    assert rows(items) == [
        {"kundennr": no, "name": name, "limit": limit, "seit": since, "waehrung": cur}
        for no, name, limit, since, cur in people
    ]
    assert [i.number for i in items] == [1, 2]


def test_csv_utf8_bom_is_skipped_and_header_names_match() -> None:
    data = "\ufeffid,name\n7,Zoë\n".encode("utf-8")
    reader = CsvReader(feed(key_columns=["id"], csv={"columns": ["id", "name"]}))
    assert rows(list(reader.read(data))) == [{"id": "7", "name": "Zoë"}]


def test_csv_bom_with_another_declared_encoding_is_a_bad_file() -> None:
    data = "\ufeffkundennr;name;limit;seit;waehrung\n".encode()
    with pytest.raises(BadFile, match="byte-order mark"):
        CsvReader(csv_feed()).read(data)


def test_csv_malformed_record_in_the_middle_is_bad_the_rest_flows() -> None:
    text = csv_line("kundennr", "name", "limit", "seit", "waehrung")
    text += csv_line("1", "A", "1,00", "01.01.2020", "€")
    text += csv_line("2", "B", "zwölf", "01.01.2020", "€")
    text += csv_line("3", "C", "3,00", "01.01.2020", "€")
    text += csv_line("4", "D", "4,005", "01.01.2020", "€")  # more places than the scale
    items = list(CsvReader(csv_feed()).read(text.encode("cp1252")))
    assert [r["kundennr"] for r in rows(items)] == ["1", "3"]
    assert [(b.number, b.key) for b in bad(items)] == [(2, {"kundennr": "2"}), (4, None)]
    assert "column limit" in bad(items)[0].reason and "'zwölf'" in bad(items)[0].reason
    assert bad(items)[0].raw == {"fields": ["2", "B", "zwölf", "01.01.2020", "€"]}


def test_csv_invalid_byte_spoils_one_record_and_a_whole_wrong_file_is_bad() -> None:
    reader = CsvReader(feed(key_columns=["id"], csv={"columns": ["id", "name"]}))
    data = b"id,name\n1,ok\n2,M" + "ä".encode("cp1252") + b"ller\n3,fine\n"
    items = list(reader.read(data))
    assert [r["id"] for r in rows(items)] == ["1", "3"]
    assert bad(items)[0].number == 2 and "0xE4 is not valid utf-8" in bad(items)[0].reason
    with pytest.raises(BadFile, match="NUL"):
        reader.read("id,name\n1,x\n".encode("utf-16"))
    with pytest.raises(BadFile, match="every line"):
        reader.read("Größe\nÄrger\n".encode("cp1252"))


def test_csv_header_missing_a_column_is_a_bad_file_and_no_header_uses_positions() -> None:
    with pytest.raises(BadFile, match="lacks the columns seit"):
        CsvReader(csv_feed()).read(b"kundennr;name;limit;waehrung\n")
    positional = csv_feed(header=False)
    items = list(CsvReader(positional).read(csv_line("9", "X", "1,5", "02.01.2000", "€", "extra").encode("cp1252")))
    assert bad(items)[0].reason == "6 fields, expected 5"
    good = CsvReader(positional).read(csv_line("9", "X", "1,5", "02.01.2000", "").encode("cp1252"))
    assert rows(list(good))[0]["limit"] == Decimal("1.50")


def test_csv_columns_are_needed_to_describe() -> None:
    with pytest.raises(ConfigError, match=r"csv\.columns"):
        build_reader(feed())
    columns = CsvReader(csv_feed()).columns
    assert [(c.name, c.type, c.nullable) for c in columns][:3] == [
        ("kundennr", ColumnType.STRING, False), ("name", ColumnType.STRING, True), ("limit", ColumnType.DECIMAL, True)]


# ----------------------------------------------------------------------------------------------- fixed-width

FIXED_YAML = """
fields:
  - {name: item, start: 1, length: 6}
  - {name: qty, start: 7, length: 5, type: int}
  - {name: price, start: 12, length: 8, type: decimal, scale: 2}
"""


def test_fixed_width_lines_with_a_bad_line(tmp_path: Path) -> None:
    (tmp_path / "stock.yaml").write_text(FIXED_YAML)
    reader = build_reader(feed(format="fixed", layout=str(tmp_path / "stock.yaml"), encoding="latin-1",
                               key_columns=["item"]))  # fmt: skip
    assert isinstance(reader, FixedTextReader)
    lines = ["A-1".ljust(6) + "12".rjust(5) + "1999".rjust(8), "", "B-2".ljust(6) + "x".rjust(5) + "0".rjust(8),
             "Ü-3".ljust(6) + "-4".rjust(5) + "12.5".rjust(8)]  # fmt: skip
    items = list(reader.read(("\r\n".join(lines) + "\r\n").encode("latin-1")))
    assert rows(items) == [{"item": "A-1", "qty": 12, "price": Decimal("19.99")},
                           {"item": "Ü-3", "qty": -4, "price": Decimal("12.50")}]  # fmt: skip
    assert [(b.number, b.key) for b in bad(items)] == [(3, {"item": "B-2"})]
    assert "qty" in bad(items)[0].reason
    assert [c.type for c in reader.columns] == [ColumnType.STRING, ColumnType.INT64, ColumnType.DECIMAL]


# --------------------------------------------------------------------------------------------------- EBCDIC


@pytest.mark.parametrize(("cp", "name"), [("cp037", "Muller & Sons [US]"), ("cp273", "Müller & Söhne {ß}")])
def test_ebcdic_records_by_copybook(tmp_path: Path, cp: str, name: str) -> None:
    reader = build_reader(ebcdic_feed(tmp_path, cp))
    assert isinstance(reader, EbcdicReader)
    expected = [
        customer(1, name, "-1234.56", -30, ("+49 89 1", "0171 2"), ((11, "10.00"), (12, "-0.01"))),
        customer(2, "Ärger" if cp == "cp273" else "Anger", "0.00", 7),
        customer(999999, "", "9999999.99", 999, ("", "x"), ((99999, "99999.99"), (0, "0"))),
    ]
    items = list(reader.read(b"".join(customer_record(row, cp) for row in expected)))
    assert rows(items) == expected
    assert [c.name for c in reader.columns] == list(expected[0])


def test_ebcdic_bad_field_in_the_middle_keeps_the_key_and_the_rest_flows(tmp_path: Path) -> None:
    reader = build_reader(ebcdic_feed(tmp_path, "cp037"))
    good = [customer(n, f"C{n}", f"{n}.00", n) for n in (1, 2, 3)]
    data = customer_record(good[0], "cp037") + customer_record(good[1], "cp037", bad_balance=True) + \
        customer_record(good[2], "cp037")  # fmt: skip
    items = list(reader.read(data))
    assert rows(items) == [good[0], good[2]]
    (broken,) = bad(items)
    assert broken.number == 2 and broken.key == {"cust_no": 2}
    assert "BALANCE" in broken.reason and "offset 26" in broken.reason
    assert bytes.fromhex(broken.raw["hex"]) == data[RECORD_LENGTH : 2 * RECORD_LENGTH]


def test_ebcdic_size_not_a_multiple_and_padded_records(tmp_path: Path) -> None:
    reader = build_reader(ebcdic_feed(tmp_path, "cp037"))
    record = customer_record(customer(5, "X", "1.00", 1), "cp037")
    with pytest.raises(BadFile, match=f"not a multiple of the record length {RECORD_LENGTH}"):
        reader.read(record + record[:10])
    padded = build_reader(ebcdic_feed(tmp_path, "cp037", record_length=RECORD_LENGTH + 2))
    assert rows(list(padded.read((record + b"\x40\x40") * 2))) == [customer(5, "X", "1.00", 1)] * 2
    with pytest.raises(ConfigError, match="shorter than the copybook"):
        build_reader(ebcdic_feed(tmp_path, "cp037", record_length=10))


def test_copybook_columns_types_and_names(tmp_path: Path) -> None:
    layout = parse_copybook(COPYBOOK)
    names = [f.name for f in flat_fields(layout)]
    assert names == list(customer(1, "", "0", 0))
    columns = {c.name: c for c in build_reader(ebcdic_feed(tmp_path, "cp037")).columns}
    assert columns["cust_no"].type is ColumnType.INT32 and not columns["cust_no"].nullable
    assert (columns["balance"].type, columns["balance"].precision, columns["balance"].scale) == (
        ColumnType.DECIMAL, 9, 2)
    assert columns["credit_days"].type is ColumnType.INT16
    assert columns["phone_2"].type is ColumnType.STRING and columns["phone_2"].length == 12


def test_copybook_errors_and_unknown_key_are_config_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.cpy"
    broken.write_text("01 REC.\n   05 A PIC X(3) SYNC.\n")
    with pytest.raises(ConfigError, match=r"feeds\.f: line 2"):
        build_reader(feed(format="ebcdic", copybook=str(broken), key_columns=["a"]))
    with pytest.raises(ConfigError, match="not in the record description"):
        build_reader(ebcdic_feed(tmp_path, "cp037").model_copy(update={"key_columns": ["nope"]}))
