"""How alert rules see a record, and how a condition is tested on it (used by :mod:`pipelines.alerts`).

A record becomes an :class:`Input`: a context (nested mapping of the names listed by
:func:`pipelines.alert_rules.stream_names`), the changed fields of a ``customer.changes`` record, and the
versions and times that make ids and timers deterministic. A :class:`Matcher` is one compiled condition.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pipelines.alert_rules import CHANGES, Condition, Negation, Scalar, compile_expr, placeholders, render
from schemas.canonical import DELETE, CanonicalEvent, to_json

# --- values ----------------------------------------------------------------------------------------------------

def digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (Mapping, list, tuple)):
        return json.dumps(to_json(value), sort_keys=True, default=str)
    return str(value)


def lookup(context: Mapping[str, Any], name: str) -> Any:
    """``name`` in ``context``; a dotted name walks into nested mappings (``golden.credit_status``)."""
    if name in context:
        return context[name]
    head, _, rest = name.partition(".")
    inner = context.get(head)
    return lookup(inner, rest) if rest and isinstance(inner, Mapping) else None


def as_number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def same(actual: Any, expected: Scalar) -> bool:
    """Config value vs record value: numbers by value (``5`` = ``"5.00"``), the rest by text."""
    if expected is None or actual is None:
        return expected is None and (actual is None or actual == "")
    if isinstance(expected, bool):
        return text(actual) == text(expected)
    if isinstance(expected, (int, float)):
        got = as_number(actual)
        return got is not None and got == as_number(expected)
    return text(actual) == expected


def decoded(encoded: Any) -> Any:
    try:
        return json.loads(encoded) if isinstance(encoded, str) else encoded
    except ValueError:
        return encoded


def customer_name(golden: Mapping[str, Any]) -> str:
    if golden.get("org_name"):
        return text(golden["org_name"])
    return " ".join(text(golden.get(f)) for f in ("given_name", "family_name") if golden.get(f))


def iso_minutes(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- matching --------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Input:
    """One record as every rule sees it."""

    stream: str
    op: str
    context: dict[str, Any]
    changed: Mapping[str, tuple[Any, Any]]  # customer.changes: field -> (old, new), decoded
    version: str  # orders timer operations (source time first)
    trigger: str  # makes alert ids of change rules unique per record
    ts_ms: int  # the alert's time
    start_ms: int  # where within: counts from
    golden_id: str | None
    data: dict[str, str]


Test = tuple[str, tuple[Scalar, ...], bool]  # name, values, negated


@dataclass(frozen=True, slots=True)
class Matcher:
    rule: str
    on: str
    op: str
    field: str | None
    became: tuple[Scalar, ...] | None
    from_: tuple[Scalar, ...] | None
    tests: tuple[Test, ...]
    expr: Callable[[Mapping[str, Any]], Any] | None
    key: str

    @classmethod
    def build(cls, rule: str, cond: Condition, key: str) -> Matcher:
        tests: list[Test] = []
        for name, value in cond.where.items():
            negated = isinstance(value, Negation)
            raw = value.not_ if isinstance(value, Negation) else value
            tests.append((name, tuple(raw) if isinstance(raw, list) else (raw,), negated))
        return cls(rule, cond.on, cond.op, cond.field, _tuple(cond.became), _tuple(cond.from_), tuple(tests),
                   compile_expr(cond.expr) if cond.expr else None, cond.key or key)

    def match(self, inp: Input, problems: list[str]) -> dict[str, Any] | None:
        """The record's context (with ``field``/``old``/``new`` for a field rule) if it matches, else None."""
        if inp.stream != self.on or self.op not in ("any", inp.op):
            return None
        context = inp.context
        if self.field is not None:
            if self.field not in inp.changed:
                return None
            old, new = inp.changed[self.field]
            if self.became is not None and not any(same(new, v) for v in self.became):
                return None
            if self.from_ is not None and not any(same(old, v) for v in self.from_):
                return None
            context = {**context, "field": self.field, "old": old, "new": new}
        for name, values, negated in self.tests:
            if any(same(lookup(context, name), v) for v in values) == negated:
                return None
        if self.expr is not None:
            try:
                if not self.expr(context):
                    return None
            except Exception as exc:  # a rule's expression failing must not stop the pipeline
                problems.append(f"rule {self.rule}: expr failed on {inp.stream} {inp.trigger}: {exc}")
                return None
        return context


def _tuple(values: list[Scalar] | None) -> tuple[Scalar, ...] | None:
    return None if values is None else tuple(values)


def subject_of(key: str, context: Mapping[str, Any], rule: str, problems: list[str]) -> str | None:
    missing = [n for n in placeholders(key) if text(lookup(context, n)) == ""]
    if missing:
        problems.append(f"rule {rule}: no value for {', '.join(missing)} in key {key!r}; record skipped")
        return None
    return render(key, lambda n: text(lookup(context, n)))


def first_agent(templates: Iterable[str], value: Callable[[str], str]) -> str | None:
    for template in templates:
        agent = render(template, value).strip()
        if agent:
            return agent
    return None


def epoch_ms(value: Any) -> int | None:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    number = as_number(value)
    return int(number) if number is not None and number == number.to_integral_value() else None


def change_input(change: Mapping[str, Any]) -> Input:
    """A ``customer.changes`` record as rules see it: the golden record's fields unprefixed (and under
    ``golden.``), ``golden_id``, ``customer_name``, ``change_kind``, ``version``, ``ts_ms``, ``cause.*``."""
    golden: Mapping[str, Any] = change.get("golden") or {}
    cause: Mapping[str, Any] = change.get("cause") or {}
    golden_id = change.get("golden_id")
    ts_ms = int(change.get("ts_ms") or 0)
    changed = {f["field"]: (decoded(f.get("old")), decoded(f.get("new"))) for f in change.get("fields") or ()}
    context = {**golden, "golden": golden, "golden_id": golden_id, "customer_name": customer_name(golden),
               "change_kind": change.get("kind"), "version": change.get("version"), "ts_ms": ts_ms, "cause": cause}
    data = {"change_kind": text(change.get("kind")), "golden_version": text(change.get("version"))}
    if cause:
        data["cause"] = f"{text(cause.get('source'))}/{text(cause.get('source_key'))}"
    version = text(cause.get("version")) or f"{ts_ms:015d}"
    return Input(CHANGES, "upsert", context, changed, version, f"golden:{text(change.get('version'))}", ts_ms,
                 ts_ms, golden_id, data)


def canonical_input(event: CanonicalEvent, golden: Mapping[str, Any] | None, golden_id: str | None) -> Input:
    """A canonical event as rules see it: its data fields, the event's metadata, and the golden record of its
    customer (``golden.*``, ``golden_id``, ``customer_name``) when the caller knows it."""
    gold: Mapping[str, Any] = golden or {}
    gid = golden_id if golden_id is not None else (text(gold.get("golden_id")) or None)
    meta = {"entity": event.entity, "source": event.source, "table": event.table, "source_key": event.source_key,
            "op": event.op, "version": event.version, "source_ts_ms": event.source_ts_ms, "ts_ms": event.ts_ms}
    context = {**(event.data or {}), **meta, "golden": gold, "golden_id": gid, "customer_name": customer_name(gold)}
    data = {k: text(meta[k]) for k in ("entity", "source", "source_key", "version", "op")}
    op = DELETE if event.op == DELETE else "upsert"
    return Input(f"canon.{event.entity}", op, context, {}, event.version, event.version, event.ts_ms,
                 event.source_ts_ms, gid, data)


_EMPTY_PARENS = re.compile(r"\s*\((?:[^()]*\s)?\)")
_TRAILING_SEPARATORS = re.compile(r"[\s:;,\u2013\u2014-]+$")


def render_message(template: str, value: Callable[[str], str]) -> str:
    """:func:`render` for a message people read: what an empty placeholder leaves behind goes, i.e. a trailing
    separator (``Credit frozen: `` with no reason) and parentheses around nothing but a word (``(was )``)."""
    rendered = _EMPTY_PARENS.sub("", render(template, value))
    return _TRAILING_SEPARATORS.sub("", rendered)
