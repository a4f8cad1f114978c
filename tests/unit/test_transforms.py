"""The transform library: each transform on legacy values, failures, and the config form of a chain."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from pipelines.names import name_case, split_name
from pipelines.transforms import TRANSFORMS, Chain, TransformError, build_chain


def chain(*specs: Any) -> Chain:
    problems: list[str] = []
    built = build_chain(list(specs), "t", problems)
    assert problems == []
    return built


def run(spec: Any, value: Any) -> Any:
    return chain(spec)(value)


def fails(spec: Any, value: Any) -> TransformError:
    with pytest.raises(TransformError) as caught:
        run(spec, value)
    return caught.value


def problems_of(*specs: Any) -> list[str]:
    problems: list[str] = []
    build_chain(list(specs), "f.transforms", problems)
    return problems


# --- text ------------------------------------------------------------------------------------------------------

def test_text_transforms() -> None:
    assert run("trim", "  ACME  ") == "ACME"
    assert run({"trim": "*"}, "**ACME**") == "ACME"
    assert run("trim", 12) == 12  # not text: unchanged
    assert run("upper", "acme") == "ACME"
    assert run("lower", "ACME") == "acme"
    assert run("collapse_spaces", "  SMITH   &  SONS ") == "SMITH & SONS"
    assert run({"replace": {"old": "&", "new": "AND"}}, "A&B") == "AANDB"
    assert run({"regex_replace": {"pattern": "[^0-9]", "repl": ""}}, "DE 123-45") == "12345"
    assert run({"regex_replace": {"pattern": "gmbh", "repl": "GmbH", "ignore_case": True}}, "x GMBH") == "x GmbH"
    assert run({"left": 3}, "ABCDEF") == "ABC"
    assert run({"right": 2}, "ABCDEF") == "EF"
    assert run({"right": 0}, "ABCDEF") == ""
    assert run({"substring": {"start": 2, "length": 3}}, "ABCDEF") == "BCD"
    assert run({"substring": {"start": 4}}, "ABCDEF") == "DEF"
    assert run({"left": 3}, 104711) == "104"
    assert run("upper", None) is None


@pytest.mark.parametrize(("raw", "expected"), [
    ("MCDONALD", "McDonald"),
    ("O'BRIEN", "O'Brien"),
    ("JAN VAN DER BERG", "Jan van der Berg"),
    ("VAN DER BERG", "Van der Berg"),
    ("SMITH-JONES", "Smith-Jones"),
    ("MUELLER GMBH", "Mueller GmbH"),
    ("ROSSI SPA", "Rossi SpA"),
    ("SMITH & SONS LTD", "Smith & Sons Ltd"),
    ("BMW AG", "BMW AG"),
    ("HENRY VIII", "Henry VIII"),
    ("anna lee", "Anna Lee"),
    ("McDonald's Restaurants", "McDonald's Restaurants"),  # mixed case: typed with care, kept
])
def test_title_casing_of_names(raw: str, expected: str) -> None:
    assert run("title", raw) == expected


def test_title_force_recases_mixed_text() -> None:
    assert run({"title": {"force": True}}, "mUELLER gmbh") == "Mueller GmbH"
    assert name_case("ACME", force=False) == "Acme"


@pytest.mark.parametrize(("raw", "parts"), [
    ("DOE, JOHN", (None, "JOHN", None, "DOE")),
    ("DOE, JOHN PAUL", (None, "JOHN", "PAUL", "DOE")),
    ("JOHN DOE", (None, "JOHN", None, "DOE")),
    ("DR. JAN VAN DER BERG", ("Dr", "JAN", None, "VAN DER BERG")),
    ("JOHN PAUL  JONES", (None, "JOHN", "PAUL", "JONES")),
    ("MADONNA", (None, None, None, "MADONNA")),
])
def test_split_name(raw: str, parts: tuple[str | None, ...]) -> None:
    got = split_name(raw)
    assert (got.title, got.given, got.middle, got.family) == parts


def test_split_name_transform_then_title() -> None:
    assert chain({"split_name": "given"}, "title")("DOE, JOHN") == "John"
    assert chain({"split_name": {"part": "family"}}, "title")("jan van der berg") == "Van der Berg"
    assert run({"split_name": "family"}, "  ") is None


# --- nulls and defaults -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["", "   ", "0", "*", "n/a", "NULL", 0, Decimal("0.00"), date(1, 1, 1)])
def test_null_if_defaults(value: Any) -> None:
    assert run("null_if", value) is None


def test_null_if_keeps_real_values_and_takes_a_list() -> None:
    assert run("null_if", "ACME") == "ACME"
    assert run("null_if", Decimal("12")) == Decimal("12")
    assert run({"null_if": ["UNKNOWN", 99]}, "unknown ") is None
    assert run({"null_if": ["UNKNOWN", 99]}, 99) is None
    assert run({"null_if": ["UNKNOWN", 99]}, "0") == "0"


def test_default() -> None:
    assert run({"default": "UNKNOWN"}, None) == "UNKNOWN"
    assert run({"default": "UNKNOWN"}, "  ") == "UNKNOWN"
    assert run({"default": {"value": 0}}, None) == 0
    assert run({"default": "UNKNOWN"}, "A") == "A"


# --- numbers ----------------------------------------------------------------------------------------------------

def test_numbers() -> None:
    assert run("number", "1234.50") == Decimal("1234.50")
    assert run("decimal", 12) == Decimal(12)
    assert run("number", 0.1) == Decimal("0.1")
    assert run("number", "123.45-") == Decimal("-123.45")  # legacy trailing minus
    assert run({"number": {"decimal_sep": ",", "thousands_sep": "."}}, "1.234,56") == Decimal("1234.56")
    assert run("number", "  ") is None
    assert run("int", "007") == 7
    assert run("int", Decimal("42")) == 42
    assert "not a whole number" in fails("int", "4.5").message
    assert fails("number", "12A").transform == "number"
    assert fails("decimal", "12A").transform == "decimal"
    assert "not a number" in fails("number", True).message


def test_implied_decimals() -> None:
    assert run({"implied_decimals": 2}, 12345) == Decimal("123.45")
    assert run({"implied_decimals": {"scale": 3}}, "-12345") == Decimal("-12.345")
    assert run({"implied_decimals": 2}, "12345-") == Decimal("-123.45")
    assert run({"implied_decimals": 0}, 5) == Decimal(5)
    assert fails({"implied_decimals": 2}, "12.5").transform == "implied_decimals"


def test_string() -> None:
    assert run("string", Decimal("104711")) == "104711"
    assert run("string", 104711) == "104711"
    assert run("string", Decimal("12.50")) == "12.50"
    assert run("string", 3.0) == "3"
    assert run("string", date(2024, 2, 29)) == "2024-02-29"
    assert run("string", None) is None
    assert "bytes" in fails("string", b"\x00").message


# --- dates ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    (1230115, date(2023, 1, 15)),
    ("1230115", date(2023, 1, 15)),
    (991231, date(1999, 12, 31)),
    ("0991231", date(1999, 12, 31)),
    (Decimal("1000229"), date(2000, 2, 29)),
    (0, None),
    ("", None),
    (None, None),
])
def test_cyymmdd(value: Any, expected: date | None) -> None:
    assert run("cyymmdd", value) == expected


@pytest.mark.parametrize("value", [1231399, 1230230, "12A0101", -1, 99999999, date(2023, 1, 1)])
def test_cyymmdd_rejects_invalid(value: Any) -> None:
    error = fails("cyymmdd", value)
    assert error.transform == "cyymmdd"
    assert error.value == value


def test_yyyymmdd() -> None:
    assert run("yyyymmdd", 20230115) == date(2023, 1, 15)
    assert run("yyyymmdd", "20230115") == date(2023, 1, 15)
    assert run("yyyymmdd", 0) is None
    assert "not a valid YYYYMMDD" in fails("yyyymmdd", 20231301).message


def test_julian_dates() -> None:
    assert run("cyyddd", 123032) == date(2023, 2, 1)
    assert run("cyyddd", 99365) == date(1999, 12, 31)
    assert run("cyyddd", 100366) == date(2000, 12, 31)  # leap year
    assert run("yyddd", 23032) == date(2023, 2, 1)
    assert run("yyddd", 99365) == date(1999, 12, 31)
    assert run({"yyddd": 10}, 23032) == date(1923, 2, 1)
    assert run({"julian": "yyddd"}, 24060) == date(2024, 2, 29)
    assert run("julian", 124060) == date(2024, 2, 29)
    assert "day 366" in fails("cyyddd", 123366).message
    assert fails("yyddd", 23000).transform == "yyddd"


def test_date_with_formats() -> None:
    assert run("date", "2024-03-01") == date(2024, 3, 1)
    assert run("date", datetime(2024, 3, 1, 12, 30)) == date(2024, 3, 1)
    assert run({"date": "%d.%m.%Y"}, "01.03.2024") == date(2024, 3, 1)
    assert run({"date": {"format": ["%d/%m/%Y", "%Y%m%d"]}}, 20240301) == date(2024, 3, 1)
    assert run("date", "") is None
    assert "does not match" in fails({"date": "%d.%m.%Y"}, "2024-03-01").message


def test_timestamp_ms() -> None:
    assert run("timestamp_ms", "2024-01-01 00:00:00") == 1704067200000
    assert run("timestamp_ms", datetime(2024, 1, 1, 0, 0, 0, 123456)) == 1704067200123
    assert run("timestamp_ms", datetime(2024, 1, 1, 1, 0, tzinfo=UTC)) == 1704070800000
    assert run("timestamp_ms", date(2024, 1, 1)) == 1704067200000
    assert run("timestamp_ms", 5) == 5
    assert "ISO timestamp" in fails("timestamp_ms", "yesterday").message


@pytest.mark.parametrize("naive", [datetime(1969, 12, 31, 23, 59, 59, 999500), datetime(1, 1, 1),
                                   datetime(9999, 12, 31, 23, 59, 59, 999999), datetime(2021, 3, 28, 2, 30, fold=1)])
def test_a_naive_timestamp_counts_as_the_same_time_in_utc(naive: datetime) -> None:
    assert run("timestamp_ms", naive) == run("timestamp_ms", naive.replace(tzinfo=UTC))


# --- codes and contact data ------------------------------------------------------------------------------------

CODES = {"code": {"map": {"A": "OK", "H": "HOLD", "F": "FROZEN"}}}


def test_code_table() -> None:
    assert run(CODES, "F") == "FROZEN"
    assert run(CODES, " A ") == "OK"
    assert run(CODES, "  ") is None  # a blank code is no code
    assert run(CODES, None) is None
    error = fails(CODES, "X")
    assert error.transform == "code" and "unknown code 'X'" in error.message and "A, F, H" in error.message
    assert run({"code": {"map": {"A": "OK"}, "default": "UNKNOWN"}}, "X") == "UNKNOWN"
    assert run({"code": {"map": {"A": "OK"}, "default": None}}, "X") is None
    assert run({"code": {"map": {"A": "OK"}, "passthrough": True}}, "X") == "X"
    assert run({"code": {"map": {"a": "OK"}, "ignore_case": True}}, "A") == "OK"
    assert run({"code": {"A": "OK"}}, "A") == "OK"  # shorthand: the mapping is the map
    assert run({"code": {"map": {1: "ONE", "02": "TWO"}}}, Decimal("1")) == "ONE"
    assert run({"code": {"map": {1: "ONE", "02": "TWO"}}}, "02") == "TWO"


@pytest.mark.parametrize(("spec", "value", "expected"), [
    ({"phone": "DE"}, "089 1234567", "+49891234567"),
    ({"phone": {"default_region": "de"}}, "(089) 123-4567", "+49891234567"),
    ("phone", "+44 20 7946 0958", "+442079460958"),
    ({"phone": "DE"}, "+33 1 44556677", "+33144556677"),
    ({"phone": "DE"}, "  ", None),
])
def test_phone(spec: Any, value: Any, expected: str | None) -> None:
    assert run(spec, value) == expected


@pytest.mark.parametrize(("spec", "value", "fragment"), [
    ({"phone": "DE"}, "abc", "not a phone number"),
    ("phone", "089 1234567", "give default_region"),
    ({"phone": "DE"}, "+49 1", "too short"),
    ({"phone": "DE"}, "+49 123456789012345678", "too long"),
    ({"phone": {"default_region": "DE", "check": "valid"}}, "+49 12 3", "not a valid phone number"),
])
def test_phone_rejects(spec: Any, value: Any, fragment: str) -> None:
    error = fails(spec, value)
    assert error.transform == "phone"
    assert fragment in error.message


def test_email() -> None:
    assert run("email", " John.Doe@Example.COM ") == "john.doe@example.com"
    assert run("email", "mailto:a+b@x.de") == "a+b@x.de"
    assert run("email", "") is None
    for bad in ("foo@bar", "no-at.example.com", "a..b@x.de", "a@-x.de", "a b@x.de", "a@x.c0m"):
        assert fails("email", bad).transform == "email", bad


@pytest.mark.parametrize(("value", "expected"), [
    ("Germany", "DE"), ("DE", "DE"), ("deu", "DE"), ("276", "DE"), (276, "DE"), ("UK", "GB"),
    ("United Kingdom", "GB"), ("U.S.A.", "US"), ("Holland", "NL"), ("Russia", "RU"), ("NO", "NO"), (" it ", "IT"),
])
def test_country(value: Any, expected: str) -> None:
    assert run("country", value) == expected


def test_country_options_and_failures() -> None:
    assert run({"country": {"output": "alpha3"}}, "Germany") == "DEU"
    assert run({"country": {"aliases": {"D": "DE", "BRD": "Germany"}}}, "d") == "DE"
    assert run("country", "") is None
    assert "unknown country 'Atlantis'" in fails("country", "Atlantis").message


# --- chains and their configuration ----------------------------------------------------------------------------

def test_chain_applies_in_order_and_names_the_failing_step() -> None:
    c = chain("trim", "upper", CODES)
    assert c.names == ("trim", "upper", "code")
    assert c(" f ") == "FROZEN"
    with pytest.raises(TransformError) as caught:
        c(" q ")
    assert caught.value.transform == "code" and caught.value.value == "Q"
    assert not build_chain(None, "t", [])
    assert build_chain("trim", "t", [])(" a ") == "a"


def test_config_problems_name_the_place() -> None:
    assert problems_of("trim", "cod") == ["f.transforms[1]: unknown transform 'cod' (did you mean 'code'?)"]
    assert problems_of({"code": 5}) == ["f.transforms[0].code: expected a mapping (key: value pairs)"]
    assert problems_of({"upper": 1}) == ["f.transforms[0]: transform 'upper' takes no parameters"]
    assert problems_of({"phone": {"region": "DE"}}) == [
        "f.transforms[0].phone.region: unknown key (did you mean 'default_region'?)"]
    assert problems_of({"regex_replace": {"pattern": "["}})[0].startswith(
        "f.transforms[0].regex_replace.pattern: bad regular expression")
    assert problems_of({"left": -1})[0].startswith("f.transforms[0].left.length: input should be greater")
    assert problems_of({"substring": {}}) == ["f.transforms[0].substring.start: field required"]
    assert problems_of({"a": 1, "b": 2}) == [
        "f.transforms[0]: a transform is a name or a one-key mapping {name: parameters}"]
    assert problems_of("replace") == ["f.transforms[0].replace.old: field required"]
    assert problems_of({"code": {"A": "OK"}, "default": "X"}) == [
        "f.transforms[0]: parameters go inside the transform: {code: {..., default: ...}}"]
    assert problems_of({"code": {"map": {}}})[0].startswith("f.transforms[0].code.map:")
    bad: list[str] = []
    build_chain(7, "g", bad)
    assert bad == ["g: expected a list of transforms"]


def test_every_registered_transform_builds_with_its_defaults_or_a_scalar() -> None:
    needs = {"replace": {"old": "x"}, "regex_replace": {"pattern": "x"}, "left": 1, "right": 1,
             "substring": {"start": 1}, "split_name": "given", "default": "x", "implied_decimals": 2,
             "code": {"A": "B"}}
    for name in TRANSFORMS:
        spec = {name: needs[name]} if name in needs else name
        assert problems_of(spec) == [], name
