"""One change event -> canonical events (``canon.<entity>``) and rejections (dead-letter topic). Pure.

For each target of the event's table mapping: an insert, update or snapshot read maps the ``after`` row
(transforms, then :func:`schemas.canonical.coerce`, then the DQ rules) into an upsert; a delete becomes a delete
event whose ``data`` is the mapped ``before`` row when there is one (no rules: the record is going away). A
failing transform (rule ``transform:<name>``), a schema problem (``schema``) or an error-level rule (its own
name) on an optional field sets that field to null and adds a warning under that rule; on a required field, or
with ``on_error: reject``, it rejects the target's record (:mod:`pipelines.field_errors`). A missing key
rejects with rule ``key``; warning-level rules ride on the event. Targets are independent: one may be rejected
while another is published. An update after which a target's ``when`` no longer holds (but held before)
deletes that target's record.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from pipelines.field_errors import NULL, REJECT, clear, cleared_note
from pipelines.mapping import FieldFailure, MappingSet, TableMapping, TargetMapping
from pipelines.quality import ERROR, WARNING, RuleOutcome, evaluate
from schemas.canonical import DELETE, KEY_SEPARATOR, UPSERT, CanonicalEvent, Warning_, coerce, make_version
from schemas.envelope import ChangeEvent, Op, Row

REASON_LIMIT = 1000
WARNING_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Rejected:
    """A source record one target could not publish, with everything a dead-letter consumer needs."""

    source: str
    table: str
    source_key: str
    entity: str
    rule: str
    field: str | None
    level: str
    reason: str
    values: dict[str, Any]
    original: ChangeEvent

    def to_json(self) -> dict[str, Any]:
        e = self.original
        src = e.source
        return {
            "source": self.source, "table": self.table, "source_key": self.source_key, "entity": self.entity,
            "rule": self.rule, "field": self.field, "level": self.level, "reason": self.reason,
            "values": json_safe(self.values),
            "original": {
                "op": e.op.value, "key": json_safe(e.key), "before": json_safe(e.before),
                "after": json_safe(e.after), "ts_ms": e.ts_ms,
                "source": {"connector": src.connector, "name": src.name, "db": src.db, "schema": src.schema,
                           "table": src.table, "ts_ms": src.ts_ms, "snapshot": src.snapshot,
                           "position": dict(src.position), "tx_id": src.tx_id},
            },
        }


@dataclass(frozen=True, slots=True)
class CanonResult:
    events: list[CanonicalEvent] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def json_safe(value: Any) -> Any:
    """A value in JSON-safe form: decimals, dates and times as ISO text, bytes as base64, others as text."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


@dataclass(frozen=True, slots=True)
class _Context:
    event: ChangeEvent
    version: str
    origin: str
    now_ms: int

    def emit(self, target: TargetMapping, key: str, op: str, data: dict[str, Any] | None,
             warnings: tuple[Warning_, ...] = ()) -> CanonicalEvent:
        src = self.event.source
        return CanonicalEvent(entity=target.entity, source=src.name, table=src.table, source_key=key, op=op,
                              version=self.version, source_ts_ms=src.ts_ms, ts_ms=self.now_ms,
                              origin=self.origin, data=data, warnings=warnings, snapshot=self.event.op is Op.READ)

    def reject(self, target: TargetMapping, key: str, rule: str, fld: str | None, reason: str,
               values: dict[str, Any]) -> Rejected:
        src = self.event.source
        return Rejected(source=src.name, table=src.table, source_key=key, entity=target.entity, rule=rule,
                        field=fld, level=ERROR, reason=reason[:REASON_LIMIT], values=values, original=self.event)


def _key(mapping: TableMapping, event: ChangeEvent) -> str | None:
    """The source key (``mapping.key`` columns of the row, else the event key); None when it is blank."""
    if mapping.key is None:
        parts: Mapping[str, Any] = event.key
    else:
        row = (event.before if event.op is Op.DELETE else event.after) or {}
        key = event.key
        parts = {c: row[c] if c in row else key.get(c) for c in mapping.key}
    texts = ["" if v is None else str(v).strip() for v in parts.values()]
    return KEY_SEPARATOR.join(texts) if any(texts) else None  # source_key(parts), unless every part is blank


def _failure_rejection(ctx: _Context, target: TargetMapping, key: str, failures: list[FieldFailure]) -> Rejected:
    first = failures[0]
    values = {(f.column or f.field): f.value for f in failures}
    reason = "; ".join(f"{f.field}: {f.transform}: {f.message}" for f in failures)
    return ctx.reject(target, key, f"transform:{first.transform}", first.field, reason, values)


def _schema_rejection(ctx: _Context, target: TargetMapping, key: str, record: Mapping[str, Any],
                      problems: list[str]) -> Rejected:
    first = problems[0].split(":", 1)[0]
    values: dict[str, Any] = {}
    for problem in problems:
        path = problem.split(":", 1)[0]
        top = path.split("[", 1)[0].split(".", 1)[0]
        values[path] = record.get(top)
    return ctx.reject(target, key, "schema", first, "; ".join(problems), values)


def _rule_rejection(ctx: _Context, target: TargetMapping, key: str, errors: list[RuleOutcome]) -> Rejected:
    values: dict[str, Any] = {}
    for outcome in errors:
        values.update(outcome.values)
    reason = "; ".join(f"{o.rule}: {o.message}" for o in errors)
    return ctx.reject(target, key, errors[0].rule, errors[0].field, reason, values)


def _warning(rule: str, fld: str | None, message: str, nulled: Any = None) -> Warning_:
    """A warning; ``nulled``: the value set to null, kept as text (a scalar only)."""
    value = None if nulled is None or isinstance(nulled, dict | list | tuple) else str(nulled)[:WARNING_LIMIT]
    return Warning_(rule, fld, message[:WARNING_LIMIT], value)


def _failure_warning(f: FieldFailure) -> Warning_:
    return _warning(f"transform:{f.transform}", f.field, f"{f.field}: {f.transform}: {f.message}"
                    + cleared_note(f.action, f.value), f.value if f.action == NULL else None)


def _schema_fixes(target: TargetMapping, data: dict[str, Any], problems: list[str]) -> list[Warning_] | None:
    """Null (or drop) the fields with schema problems in ``data``: their warnings, or None when one rejects."""
    fixes = [(p.split(":", 1)[0], target.policy.action(p.split(":", 1)[0])) for p in problems]
    if any(action == REJECT for _, action in fixes):
        return None
    values = [data.get(path) if action == NULL else None for path, action in fixes]
    clear(data, target.entity, fixes)
    return [_warning("schema", path, problem + cleared_note(action), value)
            for (path, action), problem, value in zip(fixes, problems, values, strict=True)]


def _check_rules(target: TargetMapping, data: dict[str, Any], row: Row) -> tuple[list[Warning_], list[RuleOutcome]]:
    """Evaluate the rules, nulling what error-level failures on optional fields allow, until none is left: the
    warnings, or the errors that reject the record. A field nulled once that fails again rejects."""
    nulled: list[Warning_] = []
    done: set[str | None] = set()
    for _ in range(len(target.rules) + 1):
        outcomes = evaluate(target.rules, data, row)
        if not outcomes:
            return nulled, []
        # a check on a field nulled before fails on the null: it has done its work (other rules pass a null)
        errors = [o for o in outcomes if o.level == ERROR and not (o.field in done and data.get(str(o.field)) is None)]
        if not errors:
            return nulled + [_warning(o.rule, o.field, o.message) for o in outcomes if o.level == WARNING], []
        fixes = [(o.field, target.policy.action(o.field, o.on_error)) for o in errors]
        if any(action == REJECT or path in done for path, action in fixes):
            return [], errors
        clear(data, target.entity, [(str(path), action) for path, action in fixes])
        nulled.extend(_warning(o.rule, o.field, o.message + (cleared_note(action, o.values[o.field])
                                                             if o.field in o.values else cleared_note(action)),
                               o.values.get(str(o.field)) if action == NULL else None)
                      for o, (_, action) in zip(errors, fixes, strict=True))
        done.update(path for path, _ in fixes)
    return [], errors


def _upsert(ctx: _Context, target: TargetMapping, key: str | None, row: Row, out: CanonResult) -> None:
    if key is None:
        out.rejected.append(ctx.reject(target, "", "key", None, "the source record has no key", {}))
        return
    record, failures = target.apply(row)
    if failures and any(f.action == REJECT for f in failures):
        failures.sort(key=lambda f: f.action != REJECT)  # the first rejecting failure names the rule
        out.rejected.append(_failure_rejection(ctx, target, key, failures))
        return
    data, problems = coerce(target.entity, record)
    fixed = _schema_fixes(target, data, problems) if problems else []
    if fixed is None:
        out.rejected.append(_schema_rejection(ctx, target, key, record, problems))
        return
    checked, errors = _check_rules(target, data, row) if target.rules else ([], [])
    if errors:
        out.rejected.append(_rule_rejection(ctx, target, key, errors))
        return
    warnings = [_failure_warning(f) for f in failures] + fixed + checked
    out.events.append(ctx.emit(target, key, UPSERT, data, tuple(warnings)))


def _delete(ctx: _Context, target: TargetMapping, key: str | None, before: Row | None, out: CanonResult) -> None:
    if key is None:
        out.rejected.append(ctx.reject(target, "", "key", None, "the deleted record has no key", {}))
        return
    data: dict[str, Any] | None = None
    if before is not None:
        record, failures = target.apply(before)
        if not any(f.action == REJECT for f in failures):
            coerced, problems = coerce(target.entity, record)
            data = None if problems else coerced
    out.events.append(ctx.emit(target, key, DELETE, data))


def canonicalize(mappings: MappingSet, event: ChangeEvent, *, partition: int, offset: int, topic: str,
                 now_ms: int) -> CanonResult:
    """The canonical events and rejections of one change event (empty when its table has no mapping)."""
    out = CanonResult()
    tables = mappings.for_table(event.source.name, event.source.table)
    if not tables:
        return out
    ctx = _Context(event, make_version(event.source.ts_ms, partition, offset), f"{topic}/{partition}/{offset}",
                   now_ms)
    for mapping in tables:
        key = _key(mapping, event)
        for target in mapping.targets:
            if event.op is Op.DELETE:
                if event.before is None or target.applies(event.before):
                    _delete(ctx, target, key, event.before, out)
            elif event.after is not None and target.applies(event.after):
                _upsert(ctx, target, key, event.after, out)
            elif event.before is not None and key is not None and target.applies(event.before):
                _delete(ctx, target, key, event.before, out)  # no longer matches the target's `when`
    return out


def rule_counts(results: CanonResult | Iterable[CanonResult]) -> Counter[tuple[str, str, str, str]]:
    """How often each rule fired: ``(source, table, rule, level)`` -> count (rejections and warnings)."""
    counts: Counter[tuple[str, str, str, str]] = Counter()
    for result in [results] if isinstance(results, CanonResult) else results:
        for rejected in result.rejected:
            counts[(rejected.source, rejected.table, rejected.rule, rejected.level)] += 1
        for event in result.events:
            for warning in event.warnings:
                counts[(event.source, event.table, warning.rule, WARNING)] += 1
    return counts
