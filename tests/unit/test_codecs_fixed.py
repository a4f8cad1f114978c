"""Fixed-width text layouts from YAML."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connectors.codecs import FixedField, FixedLayout
from schemas.errors import ConfigError, SkippableError

LAYOUT_YAML = """
record_length: 45
fields:
  - {name: cust_no, start: 1, length: 8, type: int}
  - {name: name, start: 9, length: 20}
  - {name: balance, start: 29, length: 9, type: decimal, scale: 2}
  - {name: opened, start: 38, length: 8, type: date, format: "%Y%m%d"}
"""


def line(cust_no: str, name: str, balance: str, opened: str) -> str:
    """Build a line column by column (the inverse of the layout above)."""
    return cust_no.rjust(8) + name.ljust(20) + balance.rjust(9) + opened.ljust(8)


@pytest.fixture(scope="module")
def layout() -> FixedLayout:
    return FixedLayout.from_yaml(LAYOUT_YAML)


def test_decode_line(layout: FixedLayout) -> None:
    values = layout.decode_line(line("00001234", "ACME GMBH", "000012345", "20240131") + "\r\n")
    assert values == {"cust_no": 1234, "name": "ACME GMBH", "balance": Decimal("123.45"), "opened": date(2024, 1, 31)}
    balance = values["balance"]
    assert isinstance(balance, Decimal) and balance.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-12.50", Decimal("-12.50")),
        ("12.50-", Decimal("-12.50")),
        ("+7", Decimal("0.07")),
        ("-000", Decimal("0.00")),
        ("", None),
        (".5", Decimal("0.5")),
    ],
)
def test_decimal_signs_and_points(layout: FixedLayout, text: str, expected: Decimal | None) -> None:
    assert layout.decode_line(line("1", "X", text, "20240101"))["balance"] == expected


def test_blank_and_zero_dates_are_none(layout: FixedLayout) -> None:
    assert layout.decode_line(line("1", "X", "0", "00000000"))["opened"] is None
    assert layout.decode_line(line("1", "X", "0", ""))["opened"] is None


def test_short_line_reads_as_blank(layout: FixedLayout) -> None:
    values = layout.decode_line("00000001SHORT")
    assert values == {"cust_no": 1, "name": "SHORT", "balance": None, "opened": None}


@pytest.mark.parametrize(
    ("cust_no", "balance", "opened", "field"),
    [
        ("12A4", "1", "20240101", "cust_no"),
        ("1", "1.2.3", "20240101", "balance"),
        ("1", "-1-", "20240101", "balance"),
        ("1", "1", "20241399", "opened"),
        ("1.5", "1", "20240101", "cust_no"),
    ],
)
def test_bad_values_are_skippable(layout: FixedLayout, cust_no: str, balance: str, opened: str, field: str) -> None:
    with pytest.raises(SkippableError, match=f"field {field} \\(columns"):
        layout.decode_line(line(cust_no, "X", balance, opened))


def test_overlapping_and_out_of_range_fields() -> None:
    spec = {
        "record_length": 20,
        "fields": [
            {"name": "a", "start": 1, "length": 10},
            {"name": "b", "start": 10, "length": 5},
            {"name": "c", "start": 18, "length": 5},
        ],
    }
    with pytest.raises(ConfigError) as info:
        FixedLayout.from_mapping(spec)
    problems = info.value.problems
    assert any("'a' (columns 1-10) and 'b' (columns 10-14) overlap" in p for p in problems)
    assert any("'c' (columns 18-22) ends past record_length 20" in p for p in problems)


def test_every_field_problem_has_its_path() -> None:
    spec = {
        "fields": [
            {"name": "a", "start": 0, "length": 3},
            {"start": 5, "length": 2, "type": "money"},
            {"name": "c", "start": 9, "length": 2, "scale": 2},
            {"name": "a", "start": 20, "length": 1, "colour": "red"},
        ]
    }
    with pytest.raises(ConfigError) as info:
        FixedLayout.from_mapping(spec)
    text = "\n".join(info.value.problems)
    for expected in ("fields[0].start", "fields[1].name", "fields[1].type", "fields[2].scale", "fields[3].colour"):
        assert expected in text


def test_duplicate_names_and_missing_fields() -> None:
    with pytest.raises(ConfigError, match="duplicate name 'a'"):
        FixedLayout.from_mapping(
            {"fields": [{"name": "a", "start": 1, "length": 1}, {"name": "a", "start": 2, "length": 1}]}
        )
    with pytest.raises(ConfigError, match="fields"):
        FixedLayout.from_yaml("record_length: 3")
    with pytest.raises(ConfigError, match="invalid YAML"):
        FixedLayout.from_yaml("fields: [")


def test_layout_from_code() -> None:
    layout = FixedLayout([FixedField("k", 1, 2, "int"), FixedField("v", 3, 3)])
    assert layout.decode_line("07abc") == {"k": 7, "v": "abc"}
    with pytest.raises(ConfigError, match="overlap"):
        FixedLayout([FixedField("k", 1, 3), FixedField("v", 3, 3)])
