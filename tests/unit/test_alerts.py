"""pipelines.alerts: change rules, absence rules with durable timers, replay determinism."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pipelines.alert_rules import load_alert_rules, parse_alert_rules
from pipelines.alerts import (
    CANCELLED,
    FIRED,
    PENDING,
    Alert,
    AlertEngine,
    CancelTimer,
    MemoryTimerStore,
    Outcome,
    StartTimer,
    Timer,
    merge_timer,
    run_due,
)
from schemas.canonical import CanonicalEvent, make_version

CONFIG = Path(__file__).resolve().parents[2] / "config" / "rules" / "alerts.yaml"
T0 = 1_714_000_000_000
HOUR = 3_600_000
DAY = 24 * HOUR
GOLDEN = {"kind": "organisation", "org_name": "Acme GmbH", "credit_status": "FROZEN", "credit_reason": "overdue",
          "owning_agent": "AG7", "account_status": "ACTIVE"}


@pytest.fixture(scope="module")
def engine() -> AlertEngine:
    return AlertEngine(load_alert_rules(CONFIG))


def change(field: str, old: Any, new: Any, *, version: int = 5, golden: dict[str, Any] | None = None,
           kind: str = "update") -> dict[str, Any]:
    gold = {**GOLDEN, field: new} if golden is None else golden
    return {"golden_id": "G-1", "version": version, "ts_ms": T0 + version, "kind": kind,
            "fields": [{"field": field, "old": None if old is None else json.dumps(old),
                        "new": None if new is None else json.dumps(new)}],
            "golden": gold, "related": [],
            "cause": {"source": "ibmi", "table": "CUSTMAST", "source_key": "100", "origin": "src.ibmi.CUSTMAST/0/9",
                      "version": make_version(T0, 0, version)}}


def event(entity: str, data: dict[str, Any] | None, ts: int, offset: int, *, key: str = "Q1",
          op: str = "upsert") -> CanonicalEvent:
    return CanonicalEvent(entity=entity, source="erp", table="T", source_key=key, op=op,
                          version=make_version(ts, 0, offset), source_ts_ms=ts, ts_ms=ts + 50,
                          origin=f"src.erp.T/0/{offset}", data=data)


def order(status: str, ts: int, offset: int, **extra: Any) -> CanonicalEvent:
    data = {"order_number": "Q1", "customer_key": "100", "status": status, "total_amount": Decimal("10.00"), **extra}
    return event("order", data, ts, offset)


def case(ts: int, offset: int, *, status: str = "OPEN", step: str | None = "triage", due: int | None = None,
         kind: str = "complaint", owner: str | None = "AG9") -> CanonicalEvent:
    data = {"case_number": "C-7", "customer_key": "100", "kind": kind, "status": status, "step": step,
            "subject": "broken pallet", "owner": owner, "opened_at_ms": T0, "due_at_ms": due}
    return event("case", data, ts, offset, key="C-7")


def feed(engine: AlertEngine, store: MemoryTimerStore, outcome: Outcome) -> list[Alert]:
    assert outcome.problems == []
    store.apply(outcome.timers)
    return outcome.alerts


# --- change rules --------------------------------------------------------------------------------------------

def test_credit_frozen_fires_once_with_agent_and_message(engine: AlertEngine) -> None:
    out = engine.on_change(change("credit_status", "OK", "FROZEN"))
    assert out.timers == [] and out.problems == []
    assert len(out.alerts) == 1
    alert = out.alerts[0]
    assert alert["rule"] == "credit-frozen" and alert["severity"] == "critical"
    assert alert["agent"] == "AG7" and alert["golden_id"] == "G-1" and alert["subject"] == "G-1"
    assert alert["message"] == "Credit frozen for Acme GmbH (was OK): overdue"
    assert alert["ts_ms"] == T0 + 5
    assert alert["data"]["field"] == "credit_status"
    assert (alert["data"]["old"], alert["data"]["new"]) == ("OK", "FROZEN")
    assert alert["data"]["cause"] == "ibmi/100"
    assert json.loads(json.dumps(alert)) == alert  # JSON-safe as is


def test_other_field_changes_do_not_fire(engine: AlertEngine) -> None:
    assert engine.on_change(change("account_status", "PROSPECT", "ACTIVE")).alerts == []
    assert engine.on_change(change("credit_reason", "late", "overdue")).alerts == []


@pytest.mark.parametrize(("old", "new", "rules"), [
    ("OK", "FROZEN", ["credit-frozen"]),
    ("HOLD", "FROZEN", ["credit-frozen"]),
    ("OK", "HOLD", ["credit-hold"]),
    (None, "HOLD", ["credit-hold"]),  # a new customer created on hold
    ("FROZEN", "HOLD", []),  # credit-hold only counts from OK or nothing
    ("HOLD", "OK", []),
    ("FROZEN", "FROZEN", ["credit-frozen"]),  # the change record said so: trust it
])
def test_from_and_became(engine: AlertEngine, old: str | None, new: str, rules: list[str]) -> None:
    assert [a["rule"] for a in engine.on_change(change("credit_status", old, new)).alerts] == rules


def test_changes_where_and_default_agent() -> None:
    engine = AlertEngine(parse_alert_rules("""
rules:
  - name: big-org-frozen
    on: customer.changes
    field: credit_limit
    where: {kind: organisation, change_kind: [update, merge], credit_limit: {not: 0}}
    message: "{customer_name}: limit {old} -> {new}"
"""))
    out = engine.on_change(change("credit_limit", "5000.00", "1000.00"))
    assert [a["message"] for a in out.alerts] == ["Acme GmbH: limit 5000.00 -> 1000.00"]
    assert out.alerts[0]["agent"] == "AG7"  # default: the golden record's owning agent
    assert engine.on_change(change("credit_limit", "5000.00", "0.00")).alerts == []  # 0 == "0.00" by value
    person = {"kind": "person", "given_name": "Ann", "family_name": "Lee", "credit_limit": "9.00"}
    assert engine.on_change(change("credit_limit", "1.00", "9.00", golden=person)).alerts == []
    assert engine.on_change(change("credit_limit", "1.00", "9.00", kind="create")).alerts == []


def test_canon_where_with_golden_conditions(engine: AlertEngine) -> None:
    out = engine.on_canonical(order("OPEN", T0, 1), GOLDEN, "G-1")
    alerts = [a for a in out.alerts if a["rule"] == "order-on-blocked-credit"]
    assert len(alerts) == 1
    assert alerts[0]["message"] == "Order Q1 (OPEN) for Acme GmbH, whose credit is FROZEN"
    assert alerts[0]["subject"] == "erp/Q1" and alerts[0]["agent"] == "AG7" and alerts[0]["golden_id"] == "G-1"
    assert alerts[0]["data"]["entity"] == "order" and alerts[0]["data"]["version"] == make_version(T0, 0, 1)
    assert engine.on_canonical(order("SHIPPED", T0, 2), GOLDEN, "G-1").alerts == []
    assert engine.on_canonical(order("OPEN", T0, 3), {**GOLDEN, "credit_status": "OK"}, "G-1").alerts == []
    assert engine.on_canonical(order("OPEN", T0, 4), None).alerts == []  # customer not known yet


def test_key_without_value_is_reported_not_raised() -> None:
    engine = AlertEngine(parse_alert_rules("""
rules:
  - {name: r, on: canon.case, key: "{owner}", message: m}
"""))
    out = engine.on_canonical(case(T0, 1, owner=None), None)
    assert out.alerts == [] and len(out.problems) == 1 and "owner" in out.problems[0]


# --- absence: within -----------------------------------------------------------------------------------------

def quote_alerts(alerts: list[Alert]) -> list[Alert]:
    return [a for a in alerts if a["rule"] == "quote-unanswered"]


def test_quote_unanswered_fires_after_three_days_not_before(engine: AlertEngine) -> None:
    store = MemoryTimerStore()
    feed(engine, store, engine.on_canonical(order("QUOTE", T0, 1), {**GOLDEN, "credit_status": "OK"}, "G-1"))
    (start,) = [op for op in store.timers.values() if op.rule == "quote-unanswered"]
    assert start.due_ms == T0 + 3 * DAY and start.subject == "erp/Q1"
    assert run_due(engine, store, T0 + 3 * DAY - 1) == []
    alerts = quote_alerts(run_due(engine, store, T0 + 3 * DAY))
    assert len(alerts) == 1
    assert alerts[0]["message"] == "Quote Q1 for Acme GmbH has had no answer for 3d"
    assert alerts[0]["ts_ms"] == T0 + 3 * DAY and alerts[0]["agent"] == "AG7" and alerts[0]["golden_id"] == "G-1"
    assert alerts[0]["data"]["order_number"] == "Q1" and alerts[0]["data"]["due_ms"] == str(T0 + 3 * DAY)
    assert run_due(engine, store, T0 + 10 * DAY) == []  # fired once
    assert store.timers[start.timer_id].state == FIRED


def test_answer_before_deadline_cancels(engine: AlertEngine) -> None:
    store = MemoryTimerStore()
    feed(engine, store, engine.on_canonical(order("QUOTE", T0, 1), None))
    out = engine.on_canonical(order("OPEN", T0 + DAY, 2), None)
    assert [type(op) for op in out.timers] == [CancelTimer]
    feed(engine, store, out)
    assert run_due(engine, store, T0 + 30 * DAY) == []
    assert {t.state for t in store.timers.values()} == {CANCELLED}


def test_deleted_quote_cancels(engine: AlertEngine) -> None:
    store = MemoryTimerStore()
    feed(engine, store, engine.on_canonical(order("QUOTE", T0, 1), None))
    feed(engine, store, engine.on_canonical(event("order", None, T0 + HOUR, 2, op="delete"), None))
    assert run_due(engine, store, T0 + 30 * DAY) == []


def test_edits_to_a_running_quote_do_not_restart_the_clock(engine: AlertEngine) -> None:
    store = MemoryTimerStore()
    feed(engine, store, engine.on_canonical(order("QUOTE", T0, 1), None))
    feed(engine, store, engine.on_canonical(order("QUOTE", T0 + 2 * DAY, 2, currency="EUR"), None))
    assert len(quote_alerts(run_due(engine, store, T0 + 3 * DAY))) == 1


def test_quote_reopened_after_firing_starts_a_new_timer(engine: AlertEngine) -> None:
    store = MemoryTimerStore()
    feed(engine, store, engine.on_canonical(order("QUOTE", T0, 1), None))
    first = run_due(engine, store, T0 + 3 * DAY)
    feed(engine, store, engine.on_canonical(order("QUOTE", T0 + 4 * DAY, 2), None))  # still a quote: no re-arm
    assert run_due(engine, store, T0 + 8 * DAY) == []
    feed(engine, store, engine.on_canonical(order("OPEN", T0 + 9 * DAY, 3), None))
    feed(engine, store, engine.on_canonical(order("QUOTE", T0 + 10 * DAY, 4), None))
    assert run_due(engine, store, T0 + 13 * DAY - 1) == []
    second = run_due(engine, store, T0 + 13 * DAY)
    assert len(first) == len(second) == 1 and first[0]["alert_id"] != second[0]["alert_id"]


def test_quote_case_agent_falls_back_to_the_golden_agent(engine: AlertEngine) -> None:
    store = MemoryTimerStore()
    feed(engine, store, engine.on_canonical(case(T0, 1, kind="quote", owner=None), GOLDEN, "G-1"))
    (alert,) = run_due(engine, store, T0 + 3 * DAY)
    assert alert["rule"] == "quote-case-unanswered" and alert["agent"] == "AG7"
    assert alert["message"] == "Quote case C-7 (broken pallet) for Acme GmbH unanswered for 3d"


# --- absence: deadline field ---------------------------------------------------------------------------------

def test_complaint_deadline_rearmed_when_due_changes(engine: AlertEngine) -> None:
    store = MemoryTimerStore()
    due1, due2 = T0 + DAY, T0 + 2 * DAY
    feed(engine, store, engine.on_canonical(case(T0, 1, due=due1), GOLDEN, "G-1"))
    feed(engine, store, engine.on_canonical(case(T0 + HOUR, 2, due=due2), GOLDEN, "G-1"))
    assert run_due(engine, store, due2 - 1) == []
    (alert,) = run_due(engine, store, due2)
    assert alert["rule"] == "complaint-step-overdue" and alert["severity"] == "critical"
    assert alert["agent"] == "AG9"  # the case owner first
    assert alert["message"] == "Complaint C-7 for Acme GmbH: step triage overdue since 2024-04-26 23:06 UTC"
    assert alert["data"]["step"] == "triage"


def test_complaint_unrelated_edit_after_firing_does_not_fire_again(engine: AlertEngine) -> None:
    store = MemoryTimerStore()
    feed(engine, store, engine.on_canonical(case(T0, 1, due=T0 + DAY), None))
    assert len(run_due(engine, store, T0 + DAY)) == 1
    feed(engine, store, engine.on_canonical(case(T0 + 2 * DAY, 2, due=T0 + DAY), None))  # same step and due
    assert run_due(engine, store, T0 + 3 * DAY) == []
    feed(engine, store, engine.on_canonical(case(T0 + 3 * DAY, 3, step="repair", due=T0 + 5 * DAY), None))
    assert run_due(engine, store, T0 + 5 * DAY - 1) == []
    assert [a["data"]["step"] for a in run_due(engine, store, T0 + 5 * DAY)] == ["repair"]


@pytest.mark.parametrize("end", [{"status": "CLOSED"}, {"due": None}], ids=["closed", "step-without-deadline"])
def test_complaint_cancelled(engine: AlertEngine, end: dict[str, Any]) -> None:
    store = MemoryTimerStore()
    feed(engine, store, engine.on_canonical(case(T0, 1, due=T0 + DAY), None))
    (armed,) = store.timers.values()
    out = engine.on_canonical(case(T0 + HOUR, 2, **{"due": T0 + DAY, **end}), None)
    assert out.timers == [CancelTimer(armed.timer_id, make_version(T0 + HOUR, 0, 2))]
    feed(engine, store, out)
    assert run_due(engine, store, T0 + 9 * DAY) == []


# --- determinism and timer semantics -------------------------------------------------------------------------

def _scenario(engine: AlertEngine) -> list[str]:
    store = MemoryTimerStore()
    ids = [a["alert_id"] for a in engine.on_change(change("credit_status", "OK", "FROZEN")).alerts]
    for ev in (order("QUOTE", T0, 1), case(T0, 2, due=T0 + DAY), case(T0 + HOUR, 3, due=T0 + 2 * DAY)):
        ids += [a["alert_id"] for a in feed(engine, store, engine.on_canonical(ev, GOLDEN, "G-1"))]
    return ids + [a["alert_id"] for a in run_due(engine, store, T0 + 5 * DAY)]


def test_replay_gives_the_same_alert_ids() -> None:
    first = _scenario(AlertEngine(load_alert_rules(CONFIG)))
    again = _scenario(AlertEngine(load_alert_rules(CONFIG)))
    assert len(first) == len(set(first)) == 4  # credit frozen, order on blocked credit, quote, complaint
    assert first == again
    engine = AlertEngine(load_alert_rules(CONFIG))
    one = engine.on_change(change("credit_status", "OK", "FROZEN", version=5)).alerts[0]["alert_id"]
    other = engine.on_change(change("credit_status", "OK", "FROZEN", version=6)).alerts[0]["alert_id"]
    assert one != other


def _timer(state: str = PENDING, version: str = "2", episode: str = "e1", due: int = 100) -> Timer:
    return Timer("t", "r", "s", due, {"n": 1}, version, episode, state)


def _start(version: str, episode: str = "e1", due: int = 200) -> StartTimer:
    return StartTimer("t", "r", "s", due, {"n": 2}, version, episode)


def test_merge_timer_semantics() -> None:
    assert merge_timer(None, CancelTimer("t", "5")) is None  # cancel of unknown: no-op
    assert merge_timer(None, _start("1")) == Timer("t", "r", "s", 200, {"n": 2}, "1", "e1", PENDING)
    assert merge_timer(_timer(), _start("1", "e9")) == _timer()  # older version ignored
    same_episode = merge_timer(_timer(), _start("3"))
    assert same_episode == Timer("t", "r", "s", 100, {"n": 2}, "3", "e1", PENDING)  # due kept, payload newer
    new_episode = merge_timer(_timer(), _start("3", "e2"))
    assert new_episode is not None and new_episode.due_ms == 200  # re-armed
    assert merge_timer(_timer(FIRED), _start("3")) == _timer(FIRED, version="3")  # fired stays fired
    rearmed = merge_timer(_timer(FIRED), _start("3", "e2"))
    assert rearmed is not None and rearmed.state == PENDING and rearmed.due_ms == 200
    cancelled = merge_timer(_timer(), CancelTimer("t", "3"))
    assert cancelled == _timer(CANCELLED, version="3")
    assert merge_timer(cancelled, _start("2")) == cancelled  # a replayed older start cannot revive it
    revived = merge_timer(cancelled, _start("4"))
    assert revived is not None and revived.state == PENDING


def test_mark_fired_keeps_a_timer_rearmed_meanwhile() -> None:
    store = MemoryTimerStore()
    store.apply([_start("1", due=100)])
    (due,) = store.due(150, 10)
    store.apply([_start("2", "e2", due=300)])  # re-armed between due() and mark_fired()
    store.mark_fired([due])
    assert store.timers["t"].state == PENDING and store.timers["t"].due_ms == 300


def test_due_is_ordered_and_limited() -> None:
    store = MemoryTimerStore()
    store.apply([StartTimer(f"t{i}", "r", f"s{i}", due, {}, "1", "e") for i, due in enumerate([30, 10, 20, 99])])
    assert [t.timer_id for t in store.due(50, 2)] == ["t1", "t2"]


def test_publish_failure_leaves_timers_pending(engine: AlertEngine) -> None:
    store = MemoryTimerStore()
    feed(engine, store, engine.on_canonical(order("QUOTE", T0, 1), None))

    def broken(alerts: list[Alert]) -> None:
        raise RuntimeError("broker down")

    with pytest.raises(RuntimeError):
        run_due(engine, store, T0 + 3 * DAY, publish=broken)
    published: list[Alert] = []
    assert len(run_due(engine, store, T0 + 3 * DAY, publish=published.extend)) == 1
    assert len(published) == 1


def test_streams(engine: AlertEngine) -> None:
    assert engine.streams == {"customer.changes", "canon.order", "canon.case"}


# --- expressions ---------------------------------------------------------------------------------------------

def test_expr_conditions() -> None:
    pytest.importorskip("pipelines.expr")
    engine = AlertEngine(parse_alert_rules("""
rules:
  - name: big-order-frozen
    on: canon.order
    expr: "total_amount >= 1000 and golden['credit_status'] in ['FROZEN', 'HOLD']"
    message: "{order_number}: {total_amount}"
  - name: broken
    on: canon.order
    expr: "status - 1 > 0"
    message: never
"""))
    big = engine.on_canonical(order("OPEN", T0, 1, total_amount=Decimal("1500.00")), GOLDEN, "G-1")
    assert [a["message"] for a in big.alerts] == ["Q1: 1500.00"]
    assert len(big.problems) == 1 and big.problems[0].startswith("rule broken: expr failed on canon.order")
    small = engine.on_canonical(order("OPEN", T0, 2), GOLDEN, "G-1")
    assert small.alerts == []


def test_expr_errors_are_config_errors() -> None:
    pytest.importorskip("pipelines.expr")
    from schemas.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        parse_alert_rules("""
rules:
  - {name: a, on: canon.order, expr: "total_amont > 5", message: m}
  - {name: b, on: canon.order, expr: "status ==", message: m}
""")
    problems = caught.value.problems
    assert problems[0] == ("alerts.yaml: rules[0].expr: unknown name 'total_amont' for canon.order "
                           "(did you mean 'total_amount'?)")
    assert problems[1].startswith("alerts.yaml: rules[1].expr: invalid expression: syntax error")
    assert len(problems) == 2
