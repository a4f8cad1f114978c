"""Data-quality rules: building them from config (with every problem) and evaluating canonical records."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from pipelines.quality import FieldPath, Rule, RuleOutcome, build_rules, entity_layout, evaluate, parse_path
from schemas.canonical import coerce


def rules(*raw: dict[str, Any], entity: str = "customer") -> tuple[Rule, ...]:
    problems: list[str] = []
    built = build_rules(list(raw), entity, "rules", problems)
    assert problems == []
    return built


def problems_of(*raw: Any, entity: str = "customer") -> list[str]:
    problems: list[str] = []
    build_rules(list(raw), entity, "rules", problems)
    return problems


def customer(**fields: Any) -> dict[str, Any]:
    record, problems = coerce("customer", fields)
    assert problems == []
    return record


def outcomes(raw: dict[str, Any], record: dict[str, Any], src: dict[str, Any] | None = None,
             entity: str = "customer") -> list[RuleOutcome]:
    return evaluate(rules(raw, entity=entity), record, src)


def test_required() -> None:
    rule = {"rule": "required", "field": "org_name"}
    assert outcomes(rule, customer(org_name="Acme")) == []
    for empty in (None, "", "   "):
        [out] = outcomes(rule, customer(org_name=empty))
        assert (out.rule, out.field, out.level) == ("required:org_name", "org_name", "error")
        assert out.message == "org_name is required"
        assert out.values == {"org_name": empty}
    [out] = outcomes({"rule": "required", "field": "phones"}, customer())
    assert out.field == "phones" and out.values == {"phones": []}


def test_pattern_skips_nulls_and_checks_text() -> None:
    rule = {"rule": "pattern", "field": "tax_id", "regex": "^[A-Z0-9]+$"}
    assert outcomes(rule, customer(tax_id="DE123")) == []
    assert outcomes(rule, customer(tax_id=None)) == []
    [out] = outcomes(rule, customer(tax_id="de 123"))
    assert out.rule == "pattern:tax_id" and "'de 123' does not match ^[A-Z0-9]+$" in out.message


def test_range_numbers_and_dates() -> None:
    limit = {"rule": "range", "field": "credit_limit", "min": 0, "max": 10000000}
    assert outcomes(limit, customer(credit_limit=Decimal("100.00"))) == []
    assert outcomes(limit, customer(credit_limit=None)) == []
    [low] = outcomes(limit, customer(credit_limit=Decimal("-1")))
    assert low.message == "credit_limit -1.00 is below 0" and low.values == {"credit_limit": Decimal("-1.00")}
    [high] = outcomes(limit, customer(credit_limit=Decimal("10000000.01")))
    assert "is above 10000000" in high.message
    born = {"rule": "range", "field": "birth_date", "min": date(1900, 1, 1), "max": "2020-12-31"}
    assert outcomes(born, customer(birth_date=date(1980, 5, 1))) == []
    [old] = outcomes(born, customer(birth_date=date(1850, 1, 1)))
    assert old.message == "birth_date 1850-01-01 is below 1900-01-01"
    assert outcomes(born, {"birth_date": datetime(2021, 1, 1, 12)})[0].message.endswith("above 2020-12-31")


def test_a_date_range_may_end_today() -> None:
    """A birth date keyed with its year mistyped into the future (4005, 2029) fails ``max: today``; the bound is
    read when the rule runs, so tomorrow is above it and today is not."""
    born = {"rule": "range", "field": "birth_date", "min": "1900-01-01", "max": "today"}
    assert outcomes(born, customer(birth_date=date.today())) == []
    [future] = outcomes(born, customer(birth_date=date(4005, 3, 30)))
    assert future.message == f"birth_date 4005-03-30 is above {date.today().isoformat()}"
    [out] = outcomes({"rule": "range", "field": "birth_date", "min": "today"}, customer(birth_date=date(1980, 5, 1)))
    assert out.message.endswith(f"below {date.today().isoformat()}")


def test_range_on_an_uncomparable_value_fails_with_a_reason() -> None:
    [out] = outcomes({"rule": "range", "field": "org_name", "min": 0}, customer(org_name="Acme"))
    assert "cannot be compared" in out.message


def test_allowed() -> None:
    rule = {"rule": "allowed", "field": "credit_status", "values": ["OK", "HOLD", "FROZEN"]}
    assert outcomes(rule, customer(credit_status="HOLD")) == []
    assert outcomes(rule, customer(credit_status=None)) == []
    [out] = outcomes(rule, customer(credit_status="CLOSED"))
    assert out.message == "credit_status 'CLOSED' is not one of OK, HOLD, FROZEN"


def test_check_sees_fields_and_source_row() -> None:
    rule = {"rule": "check", "name": "limit-when-frozen", "expr": "credit_status != 'FROZEN' or credit_limit >= 0",
            "level": "warning"}
    assert outcomes(rule, customer(credit_status="FROZEN", credit_limit=Decimal(5))) == []
    [out] = outcomes(rule, customer(credit_status="FROZEN", credit_limit=Decimal(-5)))
    assert (out.rule, out.level, out.field) == ("limit-when-frozen", "warning", None)
    assert out.values == {"credit_limit": Decimal("-5.00"), "credit_status": "FROZEN"}
    assert out.message.startswith("check failed: credit_status")
    src_rule = {"rule": "check", "expr": "src['OVERDUE'] <= 30", "field": "credit_status", "message": "overdue"}
    assert outcomes(src_rule, customer(), {"OVERDUE": 3}) == []
    [late] = outcomes(src_rule, customer(), {"OVERDUE": 45})
    assert (late.rule, late.field, late.message) == ("check:credit_status", "credit_status", "overdue")
    assert outcomes(src_rule, customer(), None)[0].rule == "check:credit_status"  # no row: null: fails


def test_check_that_cannot_be_evaluated_is_an_outcome() -> None:
    [out] = outcomes({"rule": "check", "expr": "org_name - 1 > 0"}, customer(org_name="Acme"))
    assert out.rule == "check" and out.message.startswith("cannot evaluate org_name - 1 > 0")


def test_paths_into_lists() -> None:
    record = customer(phones=[{"number": "+4989"}, {"number": "12"}], addresses=[{"country": None}])
    [bad] = outcomes({"rule": "pattern", "field": "phones[*].number", "regex": r"^\+\d+$"}, record)
    assert bad.field == "phones[1].number" and bad.rule == "pattern:phones[*].number"
    [missing] = outcomes({"rule": "required", "field": "addresses[0].country"}, record)
    assert missing.field == "addresses[0].country"
    [absent] = outcomes({"rule": "required", "field": "emails[0].address"}, record)
    assert absent.field == "emails[0].address"
    assert outcomes({"rule": "required", "field": "phones[0]"}, record) == []
    assert parse_path("phones[*].number", "customer") == FieldPath("phones", -1, "number")
    assert parse_path("lines[2]", "order") == FieldPath("lines", 2, None)


def test_level_name_and_message_options() -> None:
    [r] = rules({"rule": "required", "field": "tax_id", "name": "need-tax", "level": "warning", "message": "x"})
    assert (r.name, r.level, r.message, r.field) == ("need-tax", "warning", "x", "tax_id")
    [out] = evaluate([r], customer())
    assert out.message == "x" and out.level == "warning"


def test_evaluate_collects_every_failing_rule() -> None:
    built = rules({"rule": "required", "field": "org_name"}, {"rule": "required", "field": "tax_id"},
                  {"rule": "allowed", "field": "kind", "values": ["organisation"]})
    got = evaluate(built, customer(kind="person"))
    assert [o.rule for o in got] == ["required:org_name", "required:tax_id", "allowed:kind"]
    assert evaluate((), customer()) == []


@pytest.mark.parametrize(("raw", "expected"), [
    ({"rule": "requird", "field": "org_name"}, "rules[0].rule: unknown rule 'requird' (did you mean 'required'?)"),
    ({"field": "org_name"}, "rules[0].rule: field required"),
    ("required", "rules[0]: a rule is a mapping like {rule: required, field: name}"),
    ({"rule": "required"}, "rules[0].field: field required"),
    ({"rule": "required", "field": "org_nam"},
     "rules[0].field: unknown customer field 'org_nam' (did you mean 'org_name'?)"),
    ({"rule": "required", "field": "addresses[0].cuntry"},
     "rules[0].field: unknown addresses field 'cuntry' (did you mean 'country'?)"),
    ({"rule": "required", "field": "org_name[0]"}, "rules[0].field: 'org_name' is not a list of records"),
    ({"rule": "required", "field": "a..b"}, "rules[0].field: bad field path 'a..b'"),
    ({"rule": "pattern", "field": "tax_id", "regex": "["}, "rules[0].regex: bad regular expression"),
    ({"rule": "range", "field": "credit_limit"}, "rules[0]: a range rule needs min, max or both"),
    ({"rule": "allowed", "field": "kind", "values": []}, "rules[0].values: list should have at least 1 item"),
    ({"rule": "required", "field": "kind", "level": "fatal"}, "rules[0].level: input should be 'error' or"),
    ({"rule": "required", "field": "kind", "levl": "error"}, "rules[0].levl: unknown key (did you mean 'level'?)"),
    ({"rule": "check", "expr": "credit_limt > 0"},
     "rules[0].expr: unknown name 'credit_limt' (did you mean 'credit_limit'?)"),
    ({"rule": "check", "expr": "a.b"}, "rules[0].expr: attribute access is not allowed"),
])
def test_config_problems(raw: Any, expected: str) -> None:
    problems = problems_of(raw)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems


def test_every_problem_is_listed() -> None:
    problems = problems_of({"rule": "requird"}, {"rule": "range", "field": "x"}, {"rule": "check", "expr": "1 +"})
    assert [p.split(":")[0] for p in problems] == ["rules[0].rule", "rules[1].field", "rules[2].expr"]
    assert problems_of() == []
    bad: list[str] = []
    build_rules({"rule": "required"}, "customer", "rules", bad)
    assert bad == ["rules: expected a list of rules"]


def test_entity_layout_knows_list_elements() -> None:
    layout = entity_layout("customer")
    assert layout["org_name"] is None
    assert layout["addresses"] is not None and "country" in layout["addresses"]
    assert entity_layout("order")["lines"] == ("line", "item", "warehouse", "quantity", "amount")
