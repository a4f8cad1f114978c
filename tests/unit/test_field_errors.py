"""A field that fails (transform, schema, error-level rule): set to null with a warning, or the record rejected."""

from __future__ import annotations

from decimal import Decimal
from textwrap import dedent
from typing import Any

import pytest

from pipelines.canonicalize import CanonResult, canonicalize, rule_counts
from pipelines.dq_stats import DqStats
from pipelines.field_errors import DROP, NULL, REJECT, FieldPolicy, clear, split_path
from pipelines.mapping import MappingSet, build_mapping, parse_mapping
from pipelines.yaml_text import parse_yaml
from schemas.envelope import ChangeEvent, SourceInfo
from schemas.errors import ConfigError

MAPPING = """\
source: crm
table: PEOPLE
key: [ID]
targets:
  - entity: customer
    fields:
      kind: person
      given_name: {from: FIRST, transforms: [trim]}
      family_name: {from: LAST, transforms: [trim]}
      birth_date: {from: DOB, transforms: [yyyymmdd]BIRTH_ON_ERROR}
      account_status: {from: STATUS, transforms: [{code: {A: ACTIVE, I: INACTIVE}}]}
      credit_limit: {from: LIMIT, transforms: [number]}
      owning_agent: {from: AGENT}
      emails: [{type: main, address: {from: MAIL, transforms: [email]}}]
      phones: [{type: main, number: {from: PHONE, transforms: [phone]PHONE_ON_ERROR}}]
    rules:
      - {rule: required, field: family_name}
      - {rule: required, field: account_status}
      - {rule: range, field: credit_limit, min: 0RANGE_ON_ERROR}
      - {rule: pattern, field: owning_agent, regex: "^AGT[0-9]{2}$"}
      - {rule: check, name: limit-needs-agent, expr: "credit_limit is null or not is_null(owning_agent)",
         level: warning}
  - entity: credit
    fields:
      customer_key: {from: ID, transforms: [string]}
      status: {from: HOLD, transforms: [{code: {Y: HOLD, N: OK}}]}
"""


def mappings(birth: str = "", phone: str = "", range_: str = "", text: str = MAPPING) -> MappingSet:
    text = text.replace("BIRTH_ON_ERROR", birth).replace("PHONE_ON_ERROR", phone).replace("RANGE_ON_ERROR", range_)
    return MappingSet([parse_mapping(text, "m.yaml")])


def person(**changes: Any) -> dict[str, Any]:
    base = {"ID": 7, "FIRST": "Anna", "LAST": "Berg", "DOB": "19660912", "STATUS": "A", "LIMIT": "500",
            "AGENT": "AGT01", "MAIL": "anna@example.com", "PHONE": "+49 89 1234567", "HOLD": "N"}
    return {**base, **changes}


def run(after: dict[str, Any] | None, ms: MappingSet | None = None, op: str = "c",
        before: dict[str, Any] | None = None) -> CanonResult:
    source = SourceInfo(connector="sql", name="crm", db="d", schema=None, table="PEOPLE", ts_ms=1_000)
    image = before if op == "d" else after
    assert image is not None
    ev = ChangeEvent.create(key={"ID": image["ID"]}, before=before,
                            after=None if op == "d" else after, op=op, source=source, ts_ms=2_000)
    return canonicalize(ms or mappings(), ev, partition=0, offset=1, topic="src.crm.people", now_ms=3_000)


def customer_of(result: CanonResult) -> dict[str, Any]:
    [customer] = [e for e in result.events if e.entity == "customer"]
    assert customer.data is not None
    return customer.data


def test_a_good_row_maps_without_warnings() -> None:
    result = run(person())
    assert result.rejected == [] and [e.warnings for e in result.events] == [(), ()]


def test_an_impossible_optional_date_is_nulled_with_a_warning_and_the_record_kept() -> None:
    result = run(person(DOB="19660091"))
    assert result.rejected == []
    customer = next(e for e in result.events if e.entity == "customer")
    assert customer.data is not None and customer.data["birth_date"] is None
    assert customer.data["family_name"] == "Berg"
    [warning] = customer.warnings
    assert (warning.rule, warning.field) == ("transform:yyyymmdd", "birth_date")
    assert "'19660091'" in warning.message and "set to null" in warning.message
    assert warning.value == "19660091"  # kept as text: its digits still count as a mistyped date in matching
    assert rule_counts(result) == {("crm", "PEOPLE", "transform:yyyymmdd", "warning"): 1}


def test_the_nulled_field_is_counted_in_the_data_quality_view_with_a_sample() -> None:
    stats = DqStats()
    stats.add([run(person(DOB="19660091")), run(person(ID=8, DOB="20231301"))], now_ms=60_000)
    [row] = stats.summary()
    assert (row["rule"], row["level"], row["total"]) == ("transform:yyyymmdd", "warning", 2)
    assert [s["source_key"] for s in row["samples"]] == ["7", "8"]
    assert row["samples"][0]["field"] == "birth_date" and "19660091" in row["samples"][0]["reason"]


@pytest.mark.parametrize("on_error", [", on_error: reject", ", on_error: 'reject'"])
def test_on_error_reject_keeps_the_record_out(on_error: str) -> None:
    result = run(person(DOB="19660091"), mappings(birth=on_error))
    assert [e.entity for e in result.events] == ["credit"]
    [rejected] = result.rejected
    assert (rejected.entity, rejected.rule, rejected.field, rejected.level) == (
        "customer", "transform:yyyymmdd", "birth_date", "error")
    assert rejected.values == {"DOB": "19660091"} and rejected.reason.startswith("birth_date: yyyymmdd: ")


def test_explicit_on_error_null_is_the_default_for_an_optional_field() -> None:
    for given in (", on_error: null", ", on_error: 'null'", ", on_error: ~"):
        assert customer_of(run(person(DOB="19660091"), mappings(birth=given)))["birth_date"] is None


def test_a_failing_field_named_by_a_required_rule_rejects() -> None:
    result = run(person(STATUS="Q"))
    [rejected] = result.rejected
    assert (rejected.rule, rejected.field) == ("transform:code", "account_status")
    assert "unknown code 'Q'" in rejected.reason


def test_a_failing_field_the_schema_requires_rejects() -> None:
    result = run(person(HOLD="?"))  # credit.status has no default
    assert [e.entity for e in result.events] == ["customer"]
    [rejected] = result.rejected
    assert (rejected.entity, rejected.rule, rejected.field) == ("credit", "transform:code", "status")


def test_a_rejecting_failure_names_the_rule_even_after_a_nulled_one() -> None:
    [rejected] = [r for r in run(person(DOB="19660091", STATUS="Q")).rejected if r.entity == "customer"]
    assert rejected.rule == "transform:code"
    assert "birth_date: yyyymmdd" in rejected.reason and "account_status: code" in rejected.reason


def test_a_list_element_without_its_required_field_is_dropped() -> None:
    result = run(person(MAIL="anna@nowhere", PHONE="+49 89 1234567"))
    data = customer_of(result)
    assert data["emails"] == [] and data["phones"] == [{"type": "main", "number": "+49891234567"}]
    [warning] = next(e for e in result.events if e.entity == "customer").warnings
    assert (warning.rule, warning.field) == ("transform:email", "emails[0].address")
    assert "dropped" in warning.message


def test_on_error_reject_on_a_list_element_field_rejects() -> None:
    [rejected] = run(person(PHONE="ext. 12"), mappings(phone=", on_error: reject")).rejected
    assert (rejected.rule, rejected.field) == ("transform:phone", "phones[0].number")


def test_an_error_rule_on_an_optional_field_nulls_it_and_later_rules_see_the_null() -> None:
    result = run(person(LIMIT="-5", AGENT="bob"))
    assert result.rejected == []
    data = customer_of(result)
    assert (data["credit_limit"], data["owning_agent"]) == (None, None)
    warnings = {w.rule: w for w in next(e for e in result.events if e.entity == "customer").warnings}
    assert set(warnings) == {"range:credit_limit", "pattern:owning_agent"}
    assert "Decimal('-5.00') set to null" in warnings["range:credit_limit"].message


def test_a_warning_rule_fires_on_the_record_as_it_is_after_nulling() -> None:
    result = run(person(AGENT="bob"))  # the agent is nulled; the limit now has no agent to tell
    warnings = [(w.rule, w.field) for w in next(e for e in result.events if e.entity == "customer").warnings]
    assert warnings == [("pattern:owning_agent", "owning_agent"), ("limit-needs-agent", None)]


def test_rule_on_error_reject_rejects() -> None:
    [rejected] = run(person(LIMIT="-5"), mappings(range_=", on_error: reject")).rejected
    assert (rejected.rule, rejected.field) == ("range:credit_limit", "credit_limit")
    assert rejected.values == {"credit_limit": Decimal("-5.00")}


def test_a_field_on_error_reject_applies_to_its_rules_too() -> None:
    ms = mappings(text=MAPPING.replace("credit_limit: {from: LIMIT, transforms: [number]}",
                                       "credit_limit: {from: LIMIT, on_error: reject}"))
    [rejected] = run(person(LIMIT=Decimal("-5")), ms).rejected
    assert rejected.rule == "range:credit_limit"


def test_a_delete_keeps_the_before_image_with_a_nulled_field() -> None:
    [customer] = [e for e in run(None, op="d", before=person(DOB="19660091")).events if e.entity == "customer"]
    assert customer.op == "delete" and customer.data is not None and customer.data["birth_date"] is None


# --- configuration -------------------------------------------------------------------------------------------

def problems(text: str) -> list[str]:
    data, found = parse_yaml(dedent(text), "m.yaml")
    assert found == []
    _, out = build_mapping(data, "m.yaml")
    return out


BASE = """\
source: crm
table: T
targets:
  - entity: customer
    fields:
      family_name: {from: LAST}
      birth_date: {from: DOB, transforms: [yyyymmdd], on_error: BIRTH}
    rules:
      - {rule: required, field: family_name}
      - RULE
  - entity: credit
    fields:
      customer_key: {from: ID}
      status: {from: HOLD, on_error: STATUS}
"""


def config(birth: str = "null", rule: str = "{rule: range, field: birth_date, min: 1900-01-01}",
           status: str = "reject") -> list[str]:
    return problems(BASE.replace("BIRTH", birth).replace("RULE", rule).replace("STATUS", status))


def test_the_new_keys_are_accepted() -> None:
    assert config() == []
    assert config(birth="reject", rule="{rule: range, field: birth_date, min: 1900-01-01, on_error: reject}") == []
    assert config(rule="{rule: pattern, field: 'emails[*].address', regex: '@', on_error: null}") == []


def test_bad_on_error_values_are_listed_with_their_place() -> None:
    assert config(birth="drop") == ["m.yaml: targets[0].fields.birth_date.on_error: expected null or reject"]
    [found] = config(rule="{rule: range, field: birth_date, min: 1900-01-01, on_error: ignore}")
    assert found.startswith("m.yaml: targets[0].rules[1].on_error: ")


def test_null_on_a_required_field_is_a_problem() -> None:
    [schema] = config(status="null")
    assert schema.startswith("m.yaml: targets[1].fields.status.on_error: 'status' cannot be set to null")
    assert "credit schema requires it" in schema
    [rule] = problems(BASE.replace("{from: LAST}", "{from: LAST, on_error: null}").replace("BIRTH", "null")
                      .replace("RULE", "{rule: required, field: birth_date, level: warning}")
                      .replace("STATUS", "reject"))
    assert rule.startswith("m.yaml: targets[0].fields.family_name.on_error: 'family_name' cannot be set to null")


def test_rule_on_error_that_cannot_apply_is_a_problem() -> None:
    [warning] = config(rule="{rule: range, field: birth_date, min: 1900-01-01, level: warning, on_error: reject}")
    assert "applies to level: error rules only" in warning
    [required] = config(birth="reject", rule="{rule: required, field: birth_date, on_error: null}")
    assert "a required rule has no value to set to null" in required
    [check] = config(rule="{rule: check, expr: 'birth_date is null', on_error: null}")
    assert "a rule without field has no value to set to null" in check
    assert config(rule="{rule: check, expr: 'birth_date is null', on_error: reject}") == []


def test_shipped_mappings_use_on_error_and_stay_valid() -> None:
    from pathlib import Path

    from pipelines.mapping import load_mappings

    folder = Path(__file__).resolve().parents[2] / "config" / "mappings"
    assert "on_error: reject" in (folder / "ibmi.CUSTMAST.yaml").read_text()
    assert len(load_mappings([folder])) > 0
    with pytest.raises(ConfigError):
        mappings(birth=", on_error: maybe")


# --- the policy and clearing on plain data -------------------------------------------------------------------

def test_policy_actions() -> None:
    policy = FieldPolicy.build("customer", ["family_name", "xrefs[*].key", None]).with_fields(
        [("birth_date", None, REJECT), ("emails", "type", NULL), ("emails", "type", REJECT)])
    assert policy.action("given_name") == NULL
    assert policy.action("family_name") == REJECT and policy.action("birth_date") == REJECT
    assert policy.action("given_name", REJECT) == REJECT and policy.action(None) == REJECT
    assert policy.action("phones[2].number") == DROP and policy.action("phones[0].type") == NULL
    assert policy.action("emails[0].type") == REJECT  # the strictest of the element maps
    assert policy.action("xrefs[0].key") == REJECT and policy.action("addresses[1]") == DROP
    assert split_path("phones[*].number") == ("phones", -1, "number")


def test_clear_nulls_to_defaults_and_drops_elements() -> None:
    record: dict[str, Any] = {"birth_date": "x", "phones": [{"type": "a", "number": "1"}, {"type": "b", "number": "2"},
                                                              {"type": "c", "number": "3"}],
                              "emails": [{"type": "w", "address": "a@b.c"}]}
    clear(record, "customer", [("birth_date", NULL), ("phones[0].number", DROP), ("phones[2].type", NULL),
                               ("emails[*].address", DROP)])
    assert record == {"birth_date": None, "phones": [{"type": "b", "number": "2"}, {"type": "main", "number": "3"}],
                      "emails": []}


def test_a_failing_field_whose_default_is_a_value_rejects_rather_than_taking_the_default() -> None:
    kind = "      kind: {from: TYP, transforms: [{code: {O: organisation, P: person}}]}\n"
    text = MAPPING.replace("      kind: person\n", kind)
    result = run({**person(), "TYP": "X"}, mappings(text=text))
    assert result.events == [] or all(e.entity != "customer" for e in result.events)
    assert [r.field for r in result.rejected] == ["kind"]  # not a made-up kind: person
    assert customer_of(run({**person(), "TYP": "O"}, mappings(text=text)))["kind"] == "organisation"


def test_a_check_rule_on_an_optional_field_nulls_it_once_and_keeps_the_record() -> None:
    text = MAPPING.replace('      - {rule: pattern, field: owning_agent, regex: "^AGT[0-9]{2}$"}\n',
                           '      - {rule: pattern, field: owning_agent, regex: "^AGT[0-9]{2}$"}\n'
                           '      - {rule: check, field: credit_limit, expr: "credit_limit <= 1000"}\n')
    result = run(person(LIMIT="5000"), mappings(text=text))
    assert result.rejected == []
    assert customer_of(result)["credit_limit"] is None


def test_the_stricter_of_a_field_s_and_a_rule_s_on_error_holds() -> None:
    text = MAPPING.replace("credit_limit: {from: LIMIT, transforms: [number]}",
                           "credit_limit: {from: LIMIT, transforms: [number], on_error: reject}")
    result = run(person(LIMIT="-5"), mappings(range_=", on_error: 'null'", text=text))
    assert result.rejected and result.rejected[0].field == "credit_limit"
