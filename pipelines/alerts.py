"""The alert engine: rules (:mod:`pipelines.alert_rules`) applied to ``customer.changes`` and ``canon.*``
records, giving alerts for ``customer.alerts`` and operations on durable timers.

Pure and clock-free: the caller passes records in and the current time to :meth:`AlertEngine.fire` /
:func:`run_due`; the engine keeps no state between calls. Absence rules hand :class:`TimerOp`\\ s to a
:class:`TimerStore`; :func:`merge_timer` is the one definition of what applying an operation means, so a SQL
store can load a row, call it and write the result back (:mod:`pipelines.alert_timers`; re-exported here).

Ids are hashes, so a replay gives the same ids and consumers can de-duplicate: an alert of a change rule is
(rule, subject, version of the triggering record); a timer is (rule, subject); a fired timer's alert is
(rule, subject, arming, due time).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from pipelines.alert_match import (
    Input,
    Matcher,
    canonical_input,
    change_input,
    digest,
    epoch_ms,
    first_agent,
    iso_minutes,
    lookup,
    render_message,
    subject_of,
    text,
)
from pipelines.alert_rules import (
    CHANGES,
    AbsenceRule,
    AlertRules,
    ChangeRule,
    duration_text,
    placeholders,
    render,
)
from pipelines.alert_timers import (
    CANCELLED,
    FIRED,
    PENDING,
    CancelTimer,
    MemoryTimerStore,
    StartTimer,
    Timer,
    TimerOp,
    TimerStore,
    merge_timer,
)
from schemas.canonical import CanonicalEvent

__all__ = [
    "ALERT_SCHEMA", "CANCELLED", "FIRED", "PENDING", "Alert", "AlertEngine", "CancelTimer", "MemoryTimerStore",
    "Outcome", "StartTimer", "Timer", "TimerOp", "TimerStore", "merge_timer", "run_due",
]


class Alert(TypedDict):
    alert_id: str
    rule: str
    severity: str
    golden_id: str | None
    agent: str | None
    message: str
    ts_ms: int
    subject: str
    data: dict[str, str]


ALERT_SCHEMA: dict[str, Any] = {
    "type": "record", "name": "Alert", "namespace": "crmhub.alerts",
    "fields": [{"name": "alert_id", "type": "string"}, {"name": "rule", "type": "string"},
               {"name": "severity", "type": "string"}, {"name": "golden_id", "type": ["null", "string"]},
               {"name": "agent", "type": ["null", "string"]}, {"name": "message", "type": "string"},
               {"name": "ts_ms", "type": "long"}, {"name": "subject", "type": "string"},
               {"name": "data", "type": {"type": "map", "values": "string"}}],
}
"""Avro value schema of ``customer.alerts`` (an :class:`Alert` as is)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    alerts: list[Alert] = field(default_factory=list)
    timers: list[TimerOp] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # rule evaluation errors (log them; the record goes on)


def run_due(engine: AlertEngine, store: TimerStore, now_ms: int, *, limit: int = 1000,
            publish: Callable[[list[Alert]], None] | None = None) -> list[Alert]:
    """Fire the due timers: their alerts go to ``publish`` (e.g. produce and flush) before the timers are
    marked fired, so a crash in between fires them again with the same alert ids (at least once)."""
    timers = store.due(now_ms, limit)
    alerts = [engine.fire(t, now_ms) for t in timers]
    if publish is not None and alerts:
        publish(alerts)
    store.mark_fired(timers)
    return alerts


# --- the engine ------------------------------------------------------------------------------------------------

DEFAULT_KEYS = {CHANGES: "{golden_id}"}
"""Subject of a change rule without ``key:``: the golden id for changes, ``{source}/{source_key}`` for canon."""


@dataclass(frozen=True, slots=True)
class _Absence:
    rule: AbsenceRule
    start: Matcher
    until: tuple[Matcher, ...]
    names: tuple[str, ...]  # placeholders the alert texts use: kept in the timer's payload


class AlertEngine:
    """Applies the rules to one record at a time; see the module doc."""

    def __init__(self, rules: AlertRules) -> None:
        self._change: list[tuple[ChangeRule, Matcher]] = []
        self._absence: list[_Absence] = []
        for rule in rules.rules:
            if isinstance(rule, ChangeRule):
                key = rule.key or DEFAULT_KEYS.get(rule.on, "{source}/{source_key}")
                self._change.append((rule, Matcher.build(rule.name, rule, key)))
            else:
                texts = [rule.message, *rule.agent, *rule.data.values()]
                names = tuple(sorted({n for t in texts for n in placeholders(t)}))
                until = tuple(Matcher.build(rule.name, c, rule.key) for c in rule.until)
                self._absence.append(_Absence(rule, Matcher.build(rule.name, rule.start, rule.key), until, names))

        # the topics the rules read (``customer.changes``, ``canon.<entity>``): subscribe to these only
        self.streams = frozenset({m.on for _, m in self._change}
                                 | {m.on for a in self._absence for m in (a.start, *a.until)})

    def on_change(self, change: Mapping[str, Any]) -> Outcome:
        return self.evaluate(change_input(change))

    def on_canonical(self, event: CanonicalEvent, golden: Mapping[str, Any] | None,
                     golden_id: str | None = None) -> Outcome:
        return self.evaluate(canonical_input(event, golden, golden_id))

    def evaluate(self, inp: Input) -> Outcome:
        out = Outcome()
        for rule, matcher in self._change:
            context = matcher.match(inp, out.problems)
            if context is not None:
                alert = self._alert(rule, matcher, inp, context, out.problems)
                if alert is not None:
                    out.alerts.append(alert)
        for absence in self._absence:
            out.timers.extend(self._timer_ops(absence, inp, out.problems))
        return out

    def fire(self, timer: Timer, now_ms: int) -> Alert:
        """The alert of a due timer, built from its payload alone (the rule may have changed since)."""
        payload = timer.payload
        values = {**payload.get("values", {}), "due_at": iso_minutes(timer.due_ms)}

        def value(name: str) -> str:
            return text(values.get(name))

        data = {**payload.get("trigger", {}), "due_ms": str(timer.due_ms)}
        data.update({k: render(t, value) for k, t in payload.get("data", {}).items()})
        return Alert(alert_id=digest(timer.rule, timer.subject, "timer", timer.episode, timer.due_ms),
                     rule=timer.rule, severity=payload.get("severity", "warning"),
                     golden_id=payload.get("golden_id"), agent=first_agent(payload.get("agent", ()), value),
                     message=render_message(payload.get("message", ""), value) or f"{timer.rule}: {timer.subject}",
                     ts_ms=now_ms, subject=timer.subject, data=data)

    @staticmethod
    def _alert(rule: ChangeRule, matcher: Matcher, inp: Input, context: Mapping[str, Any],
               problems: list[str]) -> Alert | None:
        subject = subject_of(matcher.key, context, rule.name, problems)
        if subject is None:
            return None

        def value(name: str) -> str:
            return text(lookup(context, name))

        data = dict(inp.data)
        if matcher.field is not None:
            data.update(field=matcher.field, old=value("old"), new=value("new"))
        data.update({k: render(t, value) for k, t in rule.data.items()})
        return Alert(alert_id=digest(rule.name, subject, inp.trigger), rule=rule.name, severity=rule.severity,
                     golden_id=inp.golden_id, agent=first_agent(rule.agent, value),
                     message=render_message(rule.message, value), ts_ms=inp.ts_ms, subject=subject, data=data)

    def _timer_ops(self, absence: _Absence, inp: Input, problems: list[str]) -> list[TimerOp]:
        rule, ops, cancelled = absence.rule, list[TimerOp](), set[str]()
        for matcher in absence.until:
            context = matcher.match(inp, problems)
            subject = None if context is None else subject_of(matcher.key, context, rule.name, problems)
            if subject is not None and subject not in cancelled:
                cancelled.add(subject)
                ops.append(CancelTimer(digest(rule.name, subject), inp.version))
        context = absence.start.match(inp, problems)
        subject = None if context is None else subject_of(absence.start.key, context, rule.name, problems)
        if context is None or subject is None or subject in cancelled:
            return ops
        timer_id = digest(rule.name, subject)
        if rule.within is not None:
            due: int | None = inp.start_ms + rule.within
        else:
            due = epoch_ms(lookup(context, rule.deadline_field or ""))
        if due is None:  # no deadline (any more): nothing to be late for
            ops.append(CancelTimer(timer_id, inp.version))
            return ops
        armed_by = due if rule.deadline_field else ""
        episode = digest(armed_by, *(text(lookup(context, n)) for n in rule.rearm_on))
        ops.append(StartTimer(timer_id, rule.name, subject, due, self._payload(absence, inp, context), inp.version,
                              episode))
        return ops

    @staticmethod
    def _payload(absence: _Absence, inp: Input, context: Mapping[str, Any]) -> dict[str, Any]:
        rule = absence.rule
        values = {n: text(lookup(context, n)) for n in absence.names}
        values["within"] = duration_text(rule.within) if rule.within else ""
        return {"severity": rule.severity, "golden_id": inp.golden_id, "message": rule.message,
                "agent": list(rule.agent), "data": dict(rule.data), "values": values, "trigger": dict(inp.data)}
