"""Survivorship: which member record's value each field of a golden record takes, and where it came from.

Pure functions over the members of one golden record (customer data in JSON form, see
:func:`schemas.canonical.to_json`). Rules, per field, with a default for the rest:

- ``source_priority``: the first source in the list that has a value (``sources`` per field, or the global
  ``source_priority``); ties and unlisted sources go by most recent.
- ``most_recent``: the value from the member changed last at its source.
- ``most_complete``: the longest value (``"Jonathan"`` over ``"J"``); ties by most recent.
- ``first_non_null``: the value of the oldest member that has one.
- ``union`` (lists: addresses, phones, e-mails, contacts): every distinct item, most recent member first.

Every field of the result carries its lineage: ``{field: {source, source_key, table, ts_ms}}``; list items
carry theirs under ``field[i]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, PrivateAttr

from schemas.canonical import entity_fields
from schemas.settings import ConfigModel

RuleName = Literal["source_priority", "most_recent", "most_complete", "first_non_null", "union"]
LIST_FIELDS = ("addresses", "phones", "emails", "contacts")
NOT_SURVIVED = ("xrefs",)  # members are listed on the golden record itself


class FieldRule(ConfigModel):
    rule: RuleName
    sources: list[str] = Field(default_factory=list)


class SurvivorshipConfig(ConfigModel):
    default: RuleName = "most_recent"
    source_priority: list[str] = Field(default_factory=list)
    fields: dict[str, RuleName | FieldRule] = Field(default_factory=dict)
    _rules: dict[str, FieldRule] = PrivateAttr(default_factory=dict)

    def rule_for(self, name: str) -> FieldRule:
        rule = self._rules.get(name)
        if rule is None:
            rule = self._rules[name] = self._rule_for(name)
        return rule

    def _rule_for(self, name: str) -> FieldRule:
        given = self.fields.get(name)
        if isinstance(given, FieldRule):
            return given
        if given is not None:
            return FieldRule(rule=given)
        return FieldRule(rule="union" if name in LIST_FIELDS else self.default)

    @classmethod
    def _cross_check(cls, data: Mapping[str, Any]) -> list[Any]:
        from pydantic_core import InitErrorDetails, PydanticCustomError

        known = set(entity_fields("customer"))
        fields = data.get("fields") if isinstance(data, Mapping) else None
        problems: list[InitErrorDetails] = []
        for name in fields or ():
            if name not in known:
                err = PydanticCustomError("unknown_field", f"'{name}' is not a customer field")
                problems.append(InitErrorDetails(type=err, loc=("fields", name), input=name))
        return problems


@dataclass(frozen=True, slots=True)
class Member:
    """One source record of a golden record, as survivorship sees it."""

    source: str
    source_key: str
    table: str
    ts_ms: int
    seq: int  # creation order in the store: lower = older
    data: Mapping[str, Any]
    field_ts: Mapping[str, int] | None = None  # per-field times when some fields came later (credit overlay)

    def lineage(self, field: str) -> dict[str, Any]:
        ts = self.field_ts.get(field, self.ts_ms) if self.field_ts else self.ts_ms
        return {"source": self.source, "source_key": self.source_key, "table": self.table, "ts_ms": ts}

    def time(self, field: str) -> int:
        return self.field_ts.get(field, self.ts_ms) if self.field_ts else self.ts_ms


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _priority(order: Sequence[str]) -> Callable[[Member], int]:
    rank = {s: i for i, s in enumerate(order)}
    return lambda m: rank.get(m.source, len(rank))


def _pick(rule: FieldRule, cfg: SurvivorshipConfig, field: str, members: Sequence[Member]) -> Member | None:
    having = [m for m in members if _present(m.data.get(field))]
    if not having:
        return None

    def recent(m: Member) -> tuple[int, int]:
        return (m.time(field), m.seq)

    if rule.rule == "source_priority":
        rank = _priority(rule.sources or cfg.source_priority)
        return min(having, key=lambda m: (rank(m), -recent(m)[0], -m.seq))
    if rule.rule == "most_complete":
        return max(having, key=lambda m: (len(str(m.data[field])), recent(m)))
    if rule.rule == "first_non_null":
        return min(having, key=lambda m: m.seq)
    return max(having, key=recent)


def _identity(field: str, item: Mapping[str, Any]) -> tuple[Any, ...]:
    if field == "phones":
        return (str(item.get("number", "")),)
    if field == "emails":
        return (str(item.get("address", "")).casefold(),)
    if field == "contacts":
        return tuple(" ".join(str(item.get(k) or "").casefold().split()) for k in ("given_name", "family_name"))
    return tuple(str(item.get(k) or "").casefold().strip()
                 for k in ("line1", "line2", "city", "postal_code", "country"))


def _union(field: str, members: Sequence[Member]) -> tuple[list[Any], dict[str, Any]]:
    items: list[Any] = []
    lineage: dict[str, Any] = {}
    seen: set[tuple[Any, ...]] = set()
    for m in sorted(members, key=lambda m: (m.time(field), m.seq), reverse=True):
        for item in m.data.get(field) or ():
            ident = _identity(field, item)
            if ident in seen:
                continue
            seen.add(ident)
            lineage[f"{field}[{len(items)}]"] = m.lineage(field)
            items.append(dict(item))
    return items, lineage


Plan = tuple[tuple[str, "FieldRule | None"], ...]
"""Each customer field with its rule (None: not survived), in field order."""


def survival_plan(cfg: SurvivorshipConfig) -> Plan:
    """The rules of every field, looked up once (a pydantic attribute read per field and record adds up)."""
    return tuple((f, None if f in NOT_SURVIVED else cfg.rule_for(f)) for f in entity_fields("customer"))


def survive(members: Sequence[Member], cfg: SurvivorshipConfig,
            plan: Plan | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The golden customer (JSON form) and its lineage from ``members`` (at least one); ``plan``: the
    :func:`survival_plan` of ``cfg`` when the caller keeps it."""
    if len(members) == 1:  # most golden records: every rule picks that member
        return _survive_one(members[0], plan or survival_plan(cfg))
    golden: dict[str, Any] = {}
    lineage: dict[str, Any] = {}
    for field, rule in plan or survival_plan(cfg):
        if rule is None:
            golden[field] = []
            continue
        if rule.rule == "union":
            golden[field], more = _union(field, members)
            lineage.update(more)
            continue
        winner = _pick(rule, cfg, field, members)
        if winner is None:
            golden[field] = [] if field in LIST_FIELDS else None
            continue
        golden[field] = winner.data[field]
        lineage[field] = winner.lineage(field)
    if golden.get("kind") is None:
        golden["kind"] = "person"
    return golden, lineage


def _survive_one(member: Member, plan: Plan) -> tuple[dict[str, Any], dict[str, Any]]:
    """:func:`survive` of one member: each present field from it, list items without repeats."""
    golden: dict[str, Any] = {}
    lineage: dict[str, Any] = {}
    data, field_ts = member.data, member.field_ts or {}
    base = {"source": member.source, "source_key": member.source_key, "table": member.table, "ts_ms": member.ts_ms}
    for field, rule in plan:
        if rule is None:
            golden[field] = []
            continue
        value = data.get(field)
        if rule.rule == "union":
            items: list[Any] = []
            seen: set[tuple[Any, ...]] = set()
            for item in value or ():
                ident = _identity(field, item)
                if ident not in seen:
                    seen.add(ident)
                    lineage[f"{field}[{len(items)}]"] = member.lineage(field) if field in field_ts else base.copy()
                    items.append(dict(item))
            golden[field] = items
        elif value is None or value == "" or value == []:
            golden[field] = [] if field in LIST_FIELDS else None
        else:
            golden[field] = value
            lineage[field] = member.lineage(field) if field in field_ts else base.copy()
    if golden.get("kind") is None:
        golden["kind"] = "person"
    return golden, lineage


def diff(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """Fields whose value differs: ``(field, old, new)`` in field order (``old`` None for a new record)."""
    before = old or {}
    return [(k, before.get(k), v) for k, v in new.items() if before.get(k) != v]
