"""pipelines.alert_rules: the YAML format of alert rules, every problem listed with its path."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.alert_rules import (
    AbsenceRule,
    ChangeRule,
    Negation,
    duration_text,
    load_alert_rules,
    parse_alert_rules,
    parse_duration_ms,
    placeholders,
    render,
)
from schemas.errors import ConfigError

CONFIG = Path(__file__).resolve().parents[2] / "config" / "rules" / "alerts.yaml"


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_alert_rules(text, "alerts.yaml")
    return caught.value.problems


def test_demo_rules_load() -> None:
    rules = load_alert_rules(CONFIG).rules
    assert [r.name for r in rules] == ["credit-frozen", "credit-hold", "order-on-blocked-credit",
                                       "quote-unanswered", "quote-case-unanswered", "complaint-step-overdue"]
    frozen, hold, _, quote, _, complaint = rules
    assert isinstance(frozen, ChangeRule) and frozen.became == ["FROZEN"] and frozen.severity == "critical"
    assert isinstance(hold, ChangeRule) and hold.from_ == ["OK", None]
    assert isinstance(quote, AbsenceRule) and quote.within == 3 * 86_400_000 and quote.deadline_field is None
    assert isinstance(complaint, AbsenceRule) and complaint.deadline_field == "due_at_ms"
    assert complaint.rearm_on == ["step"] and complaint.within is None
    assert [c.op for c in complaint.until] == ["upsert", "delete"]


def test_on_is_a_key_and_yes_no_codes_stay_text() -> None:
    rules = parse_alert_rules("""
rules:
  - name: r
    on: canon.order
    where: {status: NO, currency: [Y, off]}
    message: m
""").rules
    rule = rules[0]
    assert isinstance(rule, ChangeRule) and rule.on == "canon.order"
    assert rule.where == {"status": "NO", "currency": ["Y", "off"]}


def test_every_problem_is_listed_with_its_path() -> None:
    problems = _problems("""
rules:
  - name: frozen
    on: customer.changes
    field: credit_status
    becme: FROZEN
    message: "Credit frozen for {customer_name}"
  - name: bad-stream
    on: canon.orders
    message: m
  - name: quote
    start: {on: canon.order, where: {status: QUOTE}}
    within: 3 days
    key: "{source}/{order_number}"
    message: "Quote {ordr_number} unanswered"
  - name: frozen
    on: canon.credit
    field: status
    message: m
  - name: both
    start: {on: canon.case, where: {stauts: OPEN}}
    within: 1d
    deadline_field: due_at_ms
    key: "{case_number}"
    message: m
  - name: neither
    start: {on: canon.case}
    until: [{on: customer.changes}]
    key: "{case_number}"
    message: m
""")
    expected = [
        "alerts.yaml: rules[0].becme: unknown key (did you mean 'became'?)",
        "alerts.yaml: rules[1].on: unknown stream 'canon.orders'",
        "alerts.yaml: rules[2].within: expected a positive duration like 90s, 15m, 4h, 3d or 2w",
        "alerts.yaml: rules[2].message: unknown placeholder 'ordr_number' for canon.order (did you mean "
        "'order_number'?)",
        "alerts.yaml: rules[3].name: duplicate rule name 'frozen' (already used by rules[0])",
        "alerts.yaml: rules[3].field: field/became/from apply to customer.changes only",
        "alerts.yaml: rules[4].start.where: unknown field 'stauts' for canon.case (did you mean 'status'?)",
        "alerts.yaml: rules[4].within: give exactly one of within: (a duration) or deadline_field:",
        "alerts.yaml: rules[5].within: give exactly one of within:",
        "alerts.yaml: rules[5].key: unknown placeholder 'case_number' for customer.changes",
    ]
    for text in expected:
        assert any(p.startswith(text) for p in problems), (text, problems)
    assert len(problems) == len(expected), problems


@pytest.mark.parametrize(("snippet", "expected"), [
    ("on: customer.changes\n    became: FROZEN", "rules[0].became: needs field:"),
    ("on: customer.changes\n    field: credit_stat", "rules[0].field: unknown customer field 'credit_stat' for "
                                                     "customer.changes (did you mean 'credit_status'?)"),
    ("on: customer.changes\n    op: delete", "rules[0].op: op applies to canon.* streams only"),
    ("on: canon.order\n    where: {status: {nott: X}}", "rules[0].where.status: expected a value, a list of values"),
    ("on: canon.order\n    severity: urgent", "rules[0].severity: input should be 'info', 'warning' or 'critical'"),
    ("on: canon.order\n    agent: '{golden.owning_agnt}'", "rules[0].agent: unknown placeholder "
                                                          "'golden.owning_agnt' for canon.order (did you mean "
                                                          "'golden.owning_agent'?)"),
])
def test_single_mistakes(snippet: str, expected: str) -> None:
    problems = _problems(f"rules:\n  - name: r\n    message: m\n    {snippet}\n")
    assert any(p.startswith(f"alerts.yaml: {expected}") for p in problems), problems


def test_absence_rule_names_are_checked_against_the_start_stream() -> None:
    problems = _problems("""
rules:
  - name: late
    start: {on: canon.case, where: {kind: complaint}}
    deadline_field: due_at
    rearm_on: [stepp]
    key: "{source}/{source_key}"
    message: "{case_number} overdue since {due_at}, after {within}"
""")
    assert problems == [
        "alerts.yaml: rules[0].deadline_field: unknown field 'due_at' for canon.case (did you mean 'due_at_ms'?)",
        "alerts.yaml: rules[0].rearm_on: unknown field 'stepp' for canon.case (did you mean 'step'?)",
    ]


def test_yaml_syntax_error_has_a_line() -> None:
    problems = _problems("rules:\n  - name: x\n    on: [unclosed\n")
    assert len(problems) == 1 and problems[0].startswith("alerts.yaml: line ")
    assert "YAML syntax error" in problems[0]


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_alert_rules(tmp_path / "nope.yaml")


def test_negation_and_lists_in_where() -> None:
    rule = parse_alert_rules("""
rules:
  - {name: r, on: canon.case, message: m, where: {status: {not: [CLOSED, DONE]}, step: null, kind: [a, b]}}
""").rules[0]
    assert isinstance(rule, ChangeRule)
    assert rule.where == {"status": Negation.model_validate({"not": ["CLOSED", "DONE"]}), "step": None,
                          "kind": ["a", "b"]}


@pytest.mark.parametrize(("text", "ms"), [("90s", 90_000), ("15m", 900_000), ("4h", 14_400_000),
                                          ("3d", 259_200_000), ("2w", 1_209_600_000), ("250ms", 250)])
def test_durations(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms
    assert duration_text(ms) == text


@pytest.mark.parametrize("bad", ["3", "0s", "3 days", "-1d", 3, None])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError, match="expected a positive duration"):
        parse_duration_ms(bad)


def test_templates() -> None:
    assert placeholders("{a} and {golden.b} but {{c}} and {not a name}") == ["a", "golden.b"]
    rendered = render("{a}-{golden.b} {{literal}}", lambda n: n.upper())
    assert rendered == "A-GOLDEN.B {literal}"
