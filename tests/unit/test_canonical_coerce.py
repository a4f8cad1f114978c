"""coerce: the compiled conversion gives what the checking walk gives, and every problem still reaches it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from schemas.canonical import ENTITIES, coerce, entity_schema
from schemas.canonical_coerce import walk

CUSTOMER: dict[str, Any] = {
    "kind": "organisation", "org_name": "Acme GmbH", "given_name": None, "credit_limit": Decimal("1000.5"),
    "credit_status": "OK", "birth_date": datetime(1980, 5, 17, 10, 30), "owning_agent": "AGT07",
    "addresses": [{"type": "main", "line1": "Hauptstr. 5", "city": "München", "country": "DE"}],
    "phones": [{"number": "+49 89 1234567"}], "emails": [], "xrefs": [{"source": "sap", "key": "42"}],
}
CASES: list[tuple[str, Any]] = [
    ("customer", CUSTOMER),
    ("customer", {}),
    ("customer", {"kind": None, "addresses": None}),
    ("customer", {**CUSTOMER, "credit_limit": "12.345"}),  # text to decimal, rounded to the scale
    ("customer", {**CUSTOMER, "credit_limit": 7, "birth_date": "1990-02-03"}),
    ("customer", {**CUSTOMER, "credit_limit": Decimal("1E+40")}),  # too many digits
    ("customer", {**CUSTOMER, "credit_limit": Decimal("9999999999999999.99")}),  # 18 digits: the most there are
    ("customer", {**CUSTOMER, "credit_limit": Decimal("-9999999999999999.995")}),  # rounds to 19 digits
    ("customer", {**CUSTOMER, "credit_limit": Decimal("10000000000000000")}),
    ("customer", {**CUSTOMER, "credit_limit": Decimal("-0.00")}),
    ("customer", {**CUSTOMER, "credit_limit": Decimal("0E+5")}),
    ("customer", {**CUSTOMER, "credit_limit": Decimal("1.5E+3")}),
    ("customer", {**CUSTOMER, "credit_limit": Decimal("1E+30")}),  # more digits than quantize can give
    ("customer", {**CUSTOMER, "credit_limit": Decimal("NaN")}),
    ("customer", {**CUSTOMER, "credit_limit": Decimal("-Infinity")}),
    ("customer", {**CUSTOMER, "credit_limit": 1.25, "birth_date": date(1990, 2, 3)}),
    ("customer", {**CUSTOMER, "kind": None, "org_name": None, "addresses": [{"type": None, "line1": "x"}]}),
    ("customer", {**CUSTOMER, "credit_limit": "lots"}),
    # the JSON form of a stored golden record: decimals and dates as text
    ("customer", {**CUSTOMER, "credit_limit": "1000.00", "birth_date": "1980-05-17"}),
    ("customer", {**CUSTOMER, "credit_limit": " -0.5 ", "birth_date": "19800517"}),
    ("customer", {**CUSTOMER, "credit_limit": "NaN"}),
    ("customer", {**CUSTOMER, "credit_limit": "1E+40"}),
    ("customer", {**CUSTOMER, "credit_limit": "9999999999999999.995"}),
    ("customer", {**CUSTOMER, "birth_date": "1980-02-30"}),
    ("customer", {**CUSTOMER, "birth_date": ""}),
    ("customer", {**CUSTOMER, "birth_date": "03.02.1990"}),
    ("customer", {**CUSTOMER, "org_name": True}),  # a boolean is no string
    ("customer", {**CUSTOMER, "org_name": 42}),  # a number is
    ("customer", {**CUSTOMER, "unknown": 1}),
    ("customer", {**CUSTOMER, "addresses": "Hauptstr. 5"}),
    ("customer", {**CUSTOMER, "addresses": [{"line1": "x", "zip": "1"}]}),
    ("customer", {**CUSTOMER, "addresses": [None]}),
    ("customer", {**CUSTOMER, "phones": ({"number": 491234},)}),
    ("customer", ["not", "a", "record"]),
    ("credit", {"customer_key": "200001", "status": "HOLD", "limit": Decimal("10.00"), "changed_at_ms": 5}),
    ("credit", {"customer_key": "200001", "changed_at_ms": Decimal("5")}),
    ("credit", {"customer_key": "200001", "changed_at_ms": Decimal("5.5")}),
    ("credit", {"customer_key": None}),
    ("credit", {"customer_key": "200001", "changed_at_ms": False}),
]


@pytest.mark.parametrize(("entity", "data"), CASES)
def test_coerce_gives_what_the_checking_walk_gives(entity: str, data: Any) -> None:
    problems: list[str] = []
    expected = walk(entity_schema(entity), data, "", problems)
    got, got_problems = coerce(entity, data)
    assert got_problems == problems
    assert repr(got) == repr(expected)  # Decimal("1.0") == Decimal("1.00"): the text tells scales apart


def test_valid_and_invalid_records_of_every_entity_agree() -> None:
    for entity in ENTITIES:
        for data in ({}, {"nonsense": 1}):
            problems: list[str] = []
            assert repr(coerce(entity, data)) == repr((walk(entity_schema(entity), data, "", problems), problems))


def test_problems_name_their_paths_and_defaults_are_fresh_copies() -> None:
    _, problems = coerce("customer", {**CUSTOMER, "addresses": [{"line1": 5.5}], "birth_date": "soon"})
    assert any(p.startswith("addresses[0].line1:") for p in problems)
    assert any(p.startswith("birth_date:") for p in problems)
    first, _ = coerce("customer", {})
    first["addresses"].append({"line1": "x"})
    assert coerce("customer", {})[0]["addresses"] == []
    assert coerce("customer", CUSTOMER)[0]["birth_date"] == date(1980, 5, 17)


def test_record_json_is_to_json_of_every_canonical_record() -> None:
    """The unify stage stores events' data through record_json: the same values and types as to_json gives."""
    from schemas.canonical import record_json, to_json
    records = [got for got, problems in (coerce(entity, data) for entity, data in CASES) if not problems]
    records.append({"kind": "person", "birth_date": date(1901, 1, 2), "credit_limit": Decimal("-0.00"),
                    "addresses": [{"line1": "Straße 1 ✓", "line2": None}], "count": 2**40, "flag": True})
    assert len(records) > 10
    for record in records:
        assert repr(record_json(record)) == repr(to_json(record))
