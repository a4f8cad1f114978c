"""Copybook parsing: formats, PICTURE and USAGE forms, IBM storage lengths and offsets, errors with lines."""

from __future__ import annotations

import pytest

from connectors.codecs import Field, Group, Layout, parse_copybook, snake_name
from connectors.codecs.encode import binary_size, fixed_line
from schemas.errors import ConfigError

# A customer master as it might come from an IBM i shop: fixed format, sequence numbers in columns 1-6,
# program id in columns 73-80, comments with '*' in column 7.
CUSTOMER_MASTER_LINES = [
    ("*", "CUSTOMER MASTER - CUSTMAST"),
    (" ", "01  CUSTOMER-MASTER."),
    (" ", "    05  CUST-KEY."),
    (" ", "        10  CUST-COMPANY        PIC 9(3)."),
    (" ", "        10  CUST-NO             PIC 9(8)."),
    (" ", "    05  CUST-NAME               PIC X(40)."),
    (" ", "    05  CUST-ADDRESS OCCURS 2 TIMES."),
    (" ", "        10  ADDR-LINE           PIC X(30)."),
    (" ", "        10  ADDR-CITY           PIC X(20)."),
    (" ", "        10  ADDR-POSTCODE       PIC X(10)."),
    (" ", "        10  ADDR-COUNTRY        PIC XXX."),
    (" ", "    05  CUST-PHONE              PIC X(15)."),
    (" ", "    05  CREDIT-LIMIT            PIC S9(9)V99 COMP-3."),
    (" ", "    05  BALANCE                 PIC S9(9)V99"),
    (" ", "                    USAGE IS COMPUTATIONAL-3."),
    (" ", "    05  LAST-PAYMENT-AMT        PIC S9(7)V99 PACKED-DECIMAL."),
    (" ", "    05  DISCOUNT-PCT            PIC S99V99."),
    (" ", "    05  ORDER-COUNT             PIC S9(4) COMP."),
    (" ", "    05  LIFETIME-ORDERS         PIC S9(9) BINARY."),
    (" ", "    05  CUSTOMER-SINCE          PIC 9(8)."),
    (" ", "    05  LAST-CHANGE-TS          PIC S9(18) COMP-5."),
    (" ", "    05  RISK-SCORE              COMP-2."),
    (" ", "    05  AVG-DAYS-TO-PAY         USAGE COMP-1."),
    (" ", "    05  STATUS-CODE             PIC X."),
    (" ", "        88  STATUS-ACTIVE       VALUE 'A'."),
    (" ", "        88  STATUS-FROZEN       VALUE 'F' 'H'."),
    (" ", "    05  CREDIT-HOLD-DATA."),
    (" ", "        10  HOLD-REASON         PIC X(2)."),
    (" ", "        10  HOLD-AMOUNT         PIC S9(5)V99"),
    (" ", "                    SIGN IS TRAILING SEPARATE CHARACTER."),
    (" ", "    05  TAX-ID                  PIC X(12)."),
    (" ", "    05  TAX-ID-NUM REDEFINES TAX-ID PIC 9(12)."),
    (" ", "    05  SALES-REP               PIC 9(5) VALUE ZERO."),
    (" ", "    05  MONTHLY-SALES           PIC S9(7)V99 COMP-3"),
    (" ", "                    OCCURS 12 TIMES."),
    (" ", "    05  FILLER                  PIC X(15)."),
]
CUSTOMER_MASTER = "\n".join(
    fixed_line(code, seq=f"{(i + 1) * 100:06d}", indicator=ind, ident="CUSTMAST")
    for i, (ind, code) in enumerate(CUSTOMER_MASTER_LINES)
)

# (name, storage bytes of one occurrence, occurrences), in storage order, worked out by hand from the IBM
# Enterprise COBOL rules: zoned = digits (+1 sign separate), packed = digits // 2 + 1, binary 2/4/8.
SEQUENCE = [
    ("CUST-COMPANY", 3, 1),
    ("CUST-NO", 8, 1),
    ("CUST-NAME", 40, 1),
    ("CUST-ADDRESS", 30 + 20 + 10 + 3, 2),
    ("CUST-PHONE", 15, 1),
    ("CREDIT-LIMIT", 6, 1),  # 11 digits
    ("BALANCE", 6, 1),
    ("LAST-PAYMENT-AMT", 5, 1),  # 9 digits
    ("DISCOUNT-PCT", 4, 1),
    ("ORDER-COUNT", 2, 1),
    ("LIFETIME-ORDERS", 4, 1),
    ("CUSTOMER-SINCE", 8, 1),
    ("LAST-CHANGE-TS", 8, 1),
    ("RISK-SCORE", 8, 1),
    ("AVG-DAYS-TO-PAY", 4, 1),
    ("STATUS-CODE", 1, 1),
    ("HOLD-REASON", 2, 1),
    ("HOLD-AMOUNT", 8, 1),  # 7 digits + separate sign
    ("TAX-ID", 12, 1),
    ("SALES-REP", 5, 1),
    ("MONTHLY-SALES", 5, 12),
    ("FILLER", 15, 1),
]


def expected_offsets() -> dict[str, tuple[int, int]]:
    offsets: dict[str, tuple[int, int]] = {}
    position = 0
    for name, size, count in SEQUENCE:
        offsets[name] = (position, size)
        position += size * count
    offsets["TOTAL"] = (position, 0)
    return offsets


def field(layout: Layout, name: str) -> Field:
    item = layout.find(name)
    assert isinstance(item, Field)
    return item


def test_customer_master_offsets_and_lengths() -> None:
    layout = parse_copybook(CUSTOMER_MASTER)
    expected = expected_offsets()
    assert layout.length == expected["TOTAL"][0] == 350
    for name, (offset, size) in expected.items():
        if name == "TOTAL":
            continue
        item = layout.find(name)
        assert (item.offset, item.length) == (offset, size), name
    redefined = layout.find("TAX-ID-NUM")
    assert redefined.offset == expected["TAX-ID"][0] and redefined.redefines == "TAX-ID"
    address = layout.find("CUST-ADDRESS")
    assert isinstance(address, Group) and address.occurs == 2
    assert [c.offset - address.offset for c in address.children] == [0, 30, 50, 60]
    hold = layout.find("CREDIT-HOLD-DATA")
    assert isinstance(hold, Group) and (hold.offset, hold.length) == (expected["HOLD-REASON"][0], 10)


def test_customer_master_kinds() -> None:
    layout = parse_copybook(CUSTOMER_MASTER)
    credit = field(layout, "CREDIT-LIMIT")
    assert (credit.kind, credit.digits, credit.scale, credit.signed) == ("packed", 11, 2, True)
    assert field(layout, "BALANCE").kind == "packed"  # USAGE on a continuation line
    assert (field(layout, "CUST-NO").kind, field(layout, "CUST-NO").signed) == ("zoned", False)
    assert field(layout, "ORDER-COUNT").kind == "binary"
    assert field(layout, "LAST-CHANGE-TS").usage == "COMP-5"
    assert (field(layout, "RISK-SCORE").kind, field(layout, "AVG-DAYS-TO-PAY").length) == ("float", 4)
    hold = field(layout, "HOLD-AMOUNT")
    assert (hold.sign_separate, hold.sign_leading, hold.scale) == (True, False, 2)
    assert field(layout, "MONTHLY-SALES").occurs == 12
    assert field(layout, "CUST-NO").line == 5  # 1-based line of the copybook text
    assert snake_name("CUST-NO") == field(layout, "CUST-NO").name == "cust_no"


def test_88_levels_are_ignored() -> None:
    names = [item.cobol_name for item in parse_copybook(CUSTOMER_MASTER).walk()]
    assert "STATUS-ACTIVE" not in names and "STATUS-FROZEN" not in names


@pytest.mark.parametrize(("digits", "size"), [(1, 2), (4, 2), (5, 4), (9, 4), (10, 8), (18, 8)])
@pytest.mark.parametrize("usage", ["COMP", "BINARY", "COMP-4", "COMP-5", "COMPUTATIONAL"])
def test_binary_sizes(digits: int, size: int, usage: str) -> None:
    assert binary_size(digits) == size
    layout = parse_copybook(f"01 R.\n   05 N PIC S9({digits}) {usage}.\n   05 AFTER PIC X.")
    assert field(layout, "N").length == size
    assert field(layout, "AFTER").offset == size


@pytest.mark.parametrize(
    ("picture", "usage", "length", "digits", "scale", "signed"),
    [
        ("X(10)", "", 10, 0, 0, False),
        ("XXX", "", 3, 0, 0, False),
        ("A(4)", "", 4, 0, 0, False),
        ("9(5)", "", 5, 5, 0, False),
        ("S9(5)", "", 5, 5, 0, True),
        ("S9(7)V9(2)", "", 9, 9, 2, True),
        ("9(5)V99", "", 7, 7, 2, False),
        ("SV999", "", 3, 3, 3, True),
        ("S9(7)V99", "COMP-3", 5, 9, 2, True),
        ("S9(4)", "PACKED-DECIMAL", 3, 4, 0, True),
        ("9(6)", "COMP-3", 4, 6, 0, False),
        ("S9(3)V99", "SIGN LEADING SEPARATE", 6, 5, 2, True),
        ("S9(3)V99", "SIGN IS TRAILING", 5, 5, 2, True),
        ("ZZ,ZZ9.99-", "", 10, 7, 2, True),  # numeric-edited: a number with its digit positions and scale
        ("$$$9.99CR", "", 9, 5, 2, True),
    ],
)
def test_picture_forms(picture: str, usage: str, length: int, digits: int, scale: int, signed: bool) -> None:
    layout = parse_copybook(f"01 R.\n   05 F PIC {picture} {usage}.")
    item = field(layout, "F")
    assert (item.length, item.digits, item.scale, item.signed) == (length, digits, scale, signed)


def test_free_format_with_inline_comments() -> None:
    text = "01 REC. *> a record\n  05 A PIC X(3).\n*> whole-line comment\n  05 B PIC 9(2)V9 COMP-3.\n"
    layout = parse_copybook(text)
    assert [(i.name, i.offset, i.length) for i in layout.root.children] == [("a", 0, 3), ("b", 3, 2)]


def test_fixed_format_ignores_columns_73_to_80_and_sequence() -> None:
    text = "\n".join(
        [
            fixed_line("01  R.", seq="AB0001", ident="99999999"),
            fixed_line("    05  A   PIC X(2).", seq="AB0002", ident="PIC X(9)"),
            fixed_line("  ignored", seq="AB0003", indicator="*"),
            fixed_line("    05  B   PIC X(3).", seq="AB0004", ident="CHG 1234"),
        ]
    )
    layout = parse_copybook(text, source_format="fixed")
    assert layout.length == 5


def test_copybook_without_01_gets_a_record_root() -> None:
    layout = parse_copybook("05 A PIC X(2).\n05 B PIC 9(3).")
    assert layout.root.cobol_name == "RECORD" and layout.length == 5


def test_occurs_on_group_and_redefines_of_group() -> None:
    text = """
       01  ORDER-REC.
           05  LINES OCCURS 3 TIMES INDEXED BY LX.
               10  ITEM     PIC X(6).
               10  QTY      PIC S9(5) COMP-3.
           05  TOTALS.
               10  NET      PIC S9(7)V99 COMP-3.
               10  TAX      PIC S9(7)V99 COMP-3.
           05  TOTALS-ALT REDEFINES TOTALS.
               10  RAW      PIC X(10).
           05  TRAILER      PIC X.
    """
    layout = parse_copybook(text)
    lines = layout.find("LINES")
    assert (lines.length, lines.occurs) == (9, 3)
    assert layout.find("TOTALS").offset == layout.find("TOTALS-ALT").offset == 27
    assert layout.find("TRAILER").offset == 37 and layout.length == 38


def test_redefines_larger_than_redefined_extends_the_group() -> None:
    layout = parse_copybook("01 R.\n 05 A PIC X(2).\n 05 B REDEFINES A PIC X(4).\n 05 C PIC X.")
    assert layout.find("C").offset == 4 and layout.length == 5


def test_several_records_need_a_choice() -> None:
    text = "01 HEAD-REC.\n  05 H PIC X(4).\n01 DETAIL-REC.\n  05 D PIC X(9)."
    with pytest.raises(ConfigError, match="HEAD-REC, DETAIL-REC"):
        parse_copybook(text)
    assert parse_copybook(text, record="detail-rec").length == 9


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("01 R.\n  05 A PIC X(3).\n  05 B PIC Q(3).", 3, "PICTURE"),
        ("01 R.\n  05 A.\n     10 B PIC X.\n    07 C PIC X.", 4, "nesting"),
        ("01 R.\n  05 A PIC X.\n  05 B PIC X OCCURS 1 TO 5 DEPENDING ON N.", 3, "DEPENDING"),
        ("01 R.\n  05 A PIC X.\n  05 B PIC X FROBNICATE.", 3, "FROBNICATE"),
        ("01 R.\n  05 A PIC S9(4) COMP SYNC.", 2, "SYNCHRONIZED"),
        ("01 R.\n  05 A PIC S9(19) COMP.", 2, "18 digits"),
        ("01 R.\n  05 A PIC X COMP-3.", 2, "numeric PICTURE"),
        ("01 R.\n  05 A.\n  05 B PIC X.", 2, "without a PICTURE"),
        ("01 R.\n  05 A PIC X(2).\n    10 B PIC X.", 2, "subordinate"),
        ("01 R.\n  05 A PIC X.\n  05 B PIC X.\n  05 C REDEFINES A PIC X.", 4, "REDEFINES A"),
        ("01 R.\n  05 A PIC 9P9.", 2, "P's must stand together"),
        ("01 R.\n  05 A PIC 9(3) SIGN LEADING.", 2, "unsigned"),
        ("01 R.\n  05 A COMP-1 PIC 9.", 2, "no PICTURE"),
        ("01 R.\n  05 A PIC X.\n77 B PIC X.", 3, "77"),
    ],
)
def test_errors_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_copybook(text)
    message = str(info.value)
    assert f"line {line}:" in message and words in message


def test_all_clause_errors_are_reported_at_once() -> None:
    text = "01 R.\n  05 A PIC Q.\n  05 B PIC X.\n  05 C PIC X WHATEVER."
    with pytest.raises(ConfigError) as info:
        parse_copybook(text)
    assert [p.split(":")[0] for p in info.value.problems] == ["line 2", "line 4"]
