"""Compiled record decoders: copybook layouts and generic column lists, fast path and error path."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from connectors.codecs import (
    Column,
    FieldDecodeError,
    compile_columns,
    compile_layout,
    iter_records,
    parse_copybook,
)
from connectors.codecs import encode as enc
from connectors.codecs.record import _evaluate
from schemas.errors import ConfigError, SkippableError
from tests.unit.test_codecs_copybook import CUSTOMER_MASTER


def customer_record(seed: int = 0, cp: str = "cp037") -> tuple[bytes, dict[str, object]]:
    """A CUSTMAST record built field by field, and what it must decode to."""
    rnd = random.Random(seed)
    balance = Decimal(rnd.randint(-(10**11) + 1, 10**11 - 1)).scaleb(-2)
    sales = [Decimal(rnd.randint(-(10**9) + 1, 10**9 - 1)).scaleb(-2) for _ in range(12)]
    expected: dict[str, object] = {
        "cust_company": 1,
        "cust_no": 12345678,
        "cust_name": "Müller & Söhne [EU]",
        "cust_address": [
            {"addr_line": "Hauptstr. 1", "addr_city": "München", "addr_postcode": "80331", "addr_country": "DE"},
            {"addr_line": "", "addr_city": "", "addr_postcode": "", "addr_country": ""},
        ],
        "cust_phone": "+49 89 1234",
        "credit_limit": Decimal("50000.00"),
        "balance": balance,
        "last_payment_amt": Decimal("-1.50"),
        "discount_pct": Decimal("-2.50"),
        "order_count": -3,
        "lifetime_orders": 123456789,
        "customer_since": 19990101,
        "last_change_ts": -(2**62),
        "risk_score": 0.125,
        "avg_days_to_pay": 31.5,
        "status_code": "F",
        "hold_reason": "CR",
        "hold_amount": Decimal("-12345.67"),
        "tax_id": "000123456789",
        "tax_id_num": 123456789,
        "sales_rep": 0,
        "monthly_sales": sales,
    }
    parts = [
        enc.zoned(1, 3, signed=False),
        enc.zoned(12345678, 8, signed=False),
        enc.text("Müller & Söhne [EU]", 40, cp),
        enc.text("Hauptstr. 1", 30, cp),
        enc.text("München", 20, cp),
        enc.text("80331", 10, cp),
        enc.text("DE", 3, cp),
        enc.text("", 63, cp),
        enc.text("+49 89 1234", 15, cp),
        enc.packed(Decimal("50000.00"), 11, 2),
        enc.packed(balance, 11, 2),
        enc.packed(Decimal("-1.50"), 9, 2),
        enc.zoned(Decimal("-2.50"), 4, 2),
        enc.binary(-3, 2),
        enc.binary(123456789, 4),
        enc.zoned(19990101, 8, signed=False),
        enc.binary(-(2**62), 8),
        enc.comp2(0.125),
        enc.comp1(31.5),
        enc.text("F", 1, cp),
        enc.text("CR", 2, cp),
        enc.zoned(Decimal("-12345.67"), 7, 2, separate=True),
        enc.text("000123456789", 12, cp),
        enc.zoned(0, 5, signed=False),
        *(enc.packed(v, 9, 2) for v in sales),
        enc.text("", 15, cp),
    ]
    return b"".join(parts), expected


@pytest.fixture(scope="module")
def layout():  # type: ignore[no-untyped-def]
    return parse_copybook(CUSTOMER_MASTER)


@pytest.mark.parametrize("cp", ["cp037", "cp273", "cp500", "cp1140"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_customer_master_decodes(layout, cp: str, seed: int) -> None:  # type: ignore[no-untyped-def]
    record, expected = customer_record(seed, cp)
    assert len(record) == layout.length
    decoder = compile_layout(layout, cp)
    assert decoder.decode(record) == expected
    assert decoder.decode(memoryview(record)) == expected
    assert decoder.decode(bytearray(record) + b"trailing bytes are ignored") == expected
    assert _evaluate(decoder._root, record, None) == expected  # the field-by-field path agrees


def test_filler_is_left_out_and_groups_are_flat(layout) -> None:  # type: ignore[no-untyped-def]
    values = compile_layout(layout).decode(customer_record()[0])
    assert "filler" not in values and "cust_key" not in values and "credit_hold_data" not in values
    assert values["hold_reason"] == "CR"


def test_code_page_matters(layout) -> None:  # type: ignore[no-untyped-def]
    record, _ = customer_record(0, "cp037")
    as_273 = compile_layout(layout, "cp273").decode(record)
    assert as_273["cust_name"] != "Müller & Söhne [EU]"
    assert as_273["balance"] == compile_layout(layout, "cp037").decode(record)["balance"]


def test_trim_off(layout) -> None:  # type: ignore[no-untyped-def]
    values = compile_layout(layout, trim=False).decode(customer_record()[0])
    assert values["cust_phone"] == "+49 89 1234    "


def test_bad_packed_nibble_raises_skippable_with_field(layout) -> None:  # type: ignore[no-untyped-def]
    record, _ = customer_record()
    offset = layout.find("BALANCE").offset
    bad = record[:offset] + enc.packed_from_nibbles([0, 0, 0, 0, 0, 0xF, 0, 0, 0, 0, 0, 0xC]) + record[offset + 6 :]
    with pytest.raises(SkippableError) as info:
        compile_layout(layout).decode(bad)
    error = info.value
    assert isinstance(error, FieldDecodeError)
    assert error.field.startswith("BALANCE (balance)") and error.offset == offset
    assert error.raw_hex == "00 00 0F 00 00 0C" and error.record == bad


def test_bad_field_inside_occurs_names_the_occurrence(layout) -> None:  # type: ignore[no-untyped-def]
    record, _ = customer_record()
    offset = layout.find("MONTHLY-SALES").offset + 5 * 3
    bad = record[:offset] + enc.packed_from_nibbles([1, 2, 3, 4, 5, 6, 7, 8, 9, 3]) + record[offset + 5 :]
    with pytest.raises(FieldDecodeError, match=r"monthly_sales\[3\]") as info:
        compile_layout(layout).decode(bad)
    assert info.value.offset == offset


def test_short_record_is_skippable(layout) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SkippableError, match="349 bytes"):
        compile_layout(layout).decode(customer_record()[0][:-1])


COPY_REDEFINES = """
       01  PAY-REC.
           05  PAY-TYPE         PIC X.
           05  PAY-DATA         PIC X(6).
           05  PAY-CARD REDEFINES PAY-DATA.
               10  CARD-AMT     PIC S9(9)V99 COMP-3.
           05  PAY-ITEMS OCCURS 2 TIMES.
               10  SKU          PIC X(4).
               10  QTY          PIC S9(3).
               10  FILLER       PIC X.
"""


def pay_record(card: bool) -> bytes:
    data = enc.packed(Decimal("-99.95"), 11, 2) if card else enc.text("CHEQUE", 6)
    items = enc.text("AB12", 4) + enc.zoned(-5, 3) + b"\x40" + enc.text("ZZ99", 4) + enc.zoned(120, 3) + b"\x00"
    return enc.text("C" if card else "Q", 1) + data + items


def test_redefines_outputs_both_views_and_tolerates_the_wrong_one() -> None:
    decoder = compile_layout(parse_copybook(COPY_REDEFINES))
    card = decoder.decode(pay_record(card=True))
    assert card["card_amt"] == Decimal("-99.95")
    cheque = decoder.decode(pay_record(card=False))
    assert cheque["pay_data"] == "CHEQUE" and cheque["card_amt"] is None
    assert cheque["pay_items"] == [{"sku": "AB12", "qty": -5}, {"sku": "ZZ99", "qty": 120}]


def test_redefines_view_can_be_omitted() -> None:
    decoder = compile_layout(parse_copybook(COPY_REDEFINES), omit=["PAY-CARD"])
    assert decoder.decode(pay_record(card=True)).keys() == {"pay_type", "pay_data", "pay_items"}
    decoder = compile_layout(parse_copybook(COPY_REDEFINES), omit=["pay_data"])
    assert "pay_data" not in decoder.decode(pay_record(card=True))


def test_duplicate_names_are_qualified_by_group() -> None:
    text = "01 R.\n 05 BILL.\n  10 CITY PIC X(3).\n 05 SHIP.\n  10 CITY PIC X(3).\n 05 ZIP PIC 9(2)."
    values = compile_layout(parse_copybook(text)).decode(enc.text("ABCDEF", 6) + enc.zoned(7, 2, signed=False))
    assert values == {"bill_city": "ABC", "ship_city": "DEF", "zip": 7}


def test_generated_source_is_kept() -> None:
    decoder = compile_layout(parse_copybook(COPY_REDEFINES))
    assert decoder.source.startswith("def decode(d, nulls=None):")
    assert len(decoder.steps) == 1 + 1 + 1 + 2 * 2


def test_non_total_code_page_decodes_field_by_field() -> None:
    layout = parse_copybook("01 R.\n 05 T PIC X(3).\n 05 N PIC S9(3).\n 05 P PIC S9(3) COMP-3.")
    decoder = compile_layout(layout, "cp424")  # EBCDIC Hebrew: some bytes are undefined in Python's table
    record = enc.text("ABC", 3, "cp424") + enc.zoned(-42, 3) + enc.packed(7, 3)
    assert decoder.decode(record) == {"t": "ABC", "n": -42, "p": 7}


# ------------------------------------------------------------------------------------------ iter_records


def test_iter_records_numbers_and_keeps_a_short_tail() -> None:
    data = b"".join(enc.text(f"R{i}", 4) for i in range(3)) + b"\xc1"
    chunks = list(iter_records(data, 4))
    assert [n for n, _ in chunks] == [1, 2, 3, 4]
    assert [len(c) for _, c in chunks] == [4, 4, 4, 1]
    decoder = compile_layout(parse_copybook("01 R.\n 05 K PIC X(4)."))
    assert decoder.decode(chunks[1][1]) == {"k": "R1"}
    with pytest.raises(SkippableError):
        decoder.decode(chunks[3][1])
    with pytest.raises(ConfigError):
        list(iter_records(data, 0))


# ----------------------------------------------------------------------------------------- compile_columns


def journal_columns() -> list[Column]:
    return [
        Column("CUSNUM", "DECIMAL", 0, 4, 7, 0),
        Column("LSTNAM", "CHAR", 4, 8),
        Column("CDTLMT", "NUMERIC", 12, 4, 4, 0, nullable=True),
        Column("BALDUE", "decimal", 16, 4, 6, 2, nullable=True),
        Column("NOTE", "VARCHAR", 20, 12),
        Column("FLAGS", "CHAR", 32, 2, ccsid=65535),
        Column("ZIPCOD", "INTEGER", 34, 4),
        Column("RATE", "double", 38, 8),
        Column("NAME_DE", "CHAR", 46, 3, ccsid=273),
    ]


def journal_image() -> bytes:
    return b"".join(
        [
            enc.packed(938472, 7),
            enc.text("Henning", 8),
            enc.zoned(5000, 4),
            enc.packed(Decimal("-37.00"), 6, 2),
            enc.varchar("hello", 10),
            b"\x01\xff",
            enc.binary(75217, 4),
            enc.comp2(0.5),
            enc.text("§@ä", 3, "cp273"),
        ]
    )


def test_compile_columns_decodes_an_ibm_i_image() -> None:
    decoder = compile_columns(journal_columns(), 37)
    assert decoder.length == 49
    assert decoder.decode(journal_image()) == {
        "CUSNUM": 938472,
        "LSTNAM": "Henning",
        "CDTLMT": 5000,
        "BALDUE": Decimal("-37.00"),
        "NOTE": "hello",
        "FLAGS": b"\x01\xff",
        "ZIPCOD": 75217,
        "RATE": 0.5,
        "NAME_DE": "§@ä",
    }


def test_compile_columns_null_map() -> None:
    decoder = compile_columns(journal_columns())
    nulls = [False, False, True, False, False, False, False, False, False]
    values = decoder.decode(journal_image(), nulls)
    assert values["CDTLMT"] is None and values["BALDUE"] == Decimal("-37.00")
    garbage = bytearray(journal_image())
    garbage[16:20] = b"\x40\x40\x40\x40"  # a null column's bytes need not be valid
    nulls[3] = True
    assert decoder.decode(bytes(garbage), nulls)["BALDUE"] is None
    with pytest.raises(FieldDecodeError, match="BALDUE"):
        decoder.decode(bytes(garbage))


def test_varchar_longer_than_allocated_is_skippable() -> None:
    image = bytearray(journal_image())
    image[20:22] = (11).to_bytes(2, "big")
    with pytest.raises(FieldDecodeError, match="NOTE"):
        compile_columns(journal_columns()).decode(bytes(image))


def test_compile_columns_reports_every_problem() -> None:
    columns = [
        Column("A", "DECIMAL", 0, 3, 7, 0),  # 7 digits need 4 bytes
        Column("B", "blob", 3, 1),
        Column("C", "INTEGER", 4, 3),
        Column("A", "CHAR", 7, 1),
    ]
    with pytest.raises(ConfigError) as info:
        compile_columns(columns)
    problems = info.value.problems
    assert len(problems) == 4
    assert any("columns[0] (A)" in p and "4 bytes" in p for p in problems)
    assert any("columns[1] (B)" in p and "unknown kind" in p for p in problems)
    assert any("columns[3] (A)" in p and "duplicate" in p for p in problems)


def test_fast_and_field_by_field_paths_agree_on_random_records() -> None:
    columns = [
        Column("P", "packed", 0, 5, 9, 3),
        Column("Z", "zoned", 5, 6, 6, 1),
        Column("T", "text", 11, 5),
        Column("B", "binary", 16, 2, scale=1),
        Column("U", "zoned", 18, 3, 3, 0, signed=False),
    ]
    decoder = compile_columns(columns)

    def no_fallback(*args: object) -> None:
        raise AssertionError("a valid record left the fast path")

    decoder.decode.__globals__["_fallback"] = no_fallback  # type: ignore[attr-defined]  # valid records must stay on the generated path
    rnd = random.Random(7)
    for _ in range(300):
        p = Decimal(rnd.randint(-(10**9) + 1, 10**9 - 1)).scaleb(-3)
        z = Decimal(rnd.randint(-999999, 999999)).scaleb(-1)
        b = rnd.randint(-32768, 32767)
        u = rnd.randint(0, 999)
        record = (
            enc.packed(p, 9, 3)
            + enc.zoned(z, 6, 1)
            + enc.text("x" * rnd.randint(0, 5), 5)
            + enc.binary(b, 2)
            + enc.zoned(u, 3, signed=False)
        )
        fast = decoder.decode(record)
        assert fast == _evaluate(decoder._root, record, None)
        assert (fast["P"], fast["Z"], fast["B"], fast["U"]) == (p, z, Decimal(b).scaleb(-1), u)
