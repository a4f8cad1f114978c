"""Data-quality rules over a canonical record: required, pattern, range, allowed and cross-field checks.

Rules are declared per mapping target and refer to canonical field names, also inside lists
(``addresses[0].country``, or ``phones[*].number`` for every element). Only ``required`` looks at missing
values: the others pass a null (so a rule says what a value must look like *when it is there*). A ``check``
rule is an expression (:mod:`pipelines.expr`) that sees the canonical fields by name and the source row as
``src``; it fails when the result is false or null. Each rule has a ``level`` and a ``name`` (default
``<rule>:<field>``). A failing ``warning`` rides along on the canonical event. A failing ``error`` rejects the
record when its field is required (and always for ``required`` and for a ``check`` without ``field``); on an
optional field it sets the field to null with a warning; ``on_error: reject`` or ``null`` on the rule (or the
mapped field) decides instead (:mod:`pipelines.field_errors`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Final, Literal

from pydantic import Field, field_validator

from pipelines.expr import Expr, ExprEvalError, compile_expr
from pipelines.field_errors import REJECT, OnError
from pipelines.patterns import Pattern, PatternTimeout, compiled, search
from pipelines.problems import did_you_mean, join, validate
from pipelines.transforms import text_of
from pipelines.transforms_values import check_regex
from schemas.canonical import entity_schema
from schemas.settings import ConfigModel

Level = Literal["error", "warning"]
ERROR: Final = "error"
WARNING: Final = "warning"


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """One rule that did not pass: its name, the field, the level, why, the values involved, and its
    ``on_error`` (None: the field's)."""

    rule: str
    field: str | None
    level: str
    message: str
    values: dict[str, Any] = dc_field(default_factory=dict)
    on_error: str | None = None


# --- the shape of an entity ----------------------------------------------------------------------------------

@cache
def entity_layout(entity: str) -> dict[str, tuple[str, ...] | None]:
    """Field name -> the field names of its list elements (``addresses`` -> ``type, line1...``), or None."""
    layout: dict[str, tuple[str, ...] | None] = {}
    for f in entity_schema(entity)["fields"]:
        kind = f["type"]
        items = kind.get("items") if isinstance(kind, dict) and kind.get("type") == "array" else None
        if isinstance(items, dict) and items.get("type") == "record":
            layout[f["name"]] = tuple(x["name"] for x in items["fields"])
        else:
            layout[f["name"]] = None
    return layout


_PATH = re.compile(r"^([A-Za-z_]\w*)(?:\[(\d+|\*)\](?:\.([A-Za-z_]\w*))?)?$")


@dataclass(frozen=True, slots=True)
class FieldPath:
    top: str
    index: int | None = None  # None: the top field itself; -1: every element
    sub: str | None = None

    def resolve(self, record: Mapping[str, Any]) -> list[tuple[str, Any]]:
        """``(concrete path, value)`` pairs; a missing element resolves to ``None``."""
        value = record.get(self.top)
        if self.index is None:
            return [(self.top, value)]
        items = value if isinstance(value, list) else []
        positions = range(len(items)) if self.index == -1 else [self.index]
        out: list[tuple[str, Any]] = []
        for i in positions:
            item = items[i] if i < len(items) else None
            here = f"{self.top}[{i}]"
            if self.sub is None:
                out.append((here, item))
            else:
                out.append((f"{here}.{self.sub}", item.get(self.sub) if isinstance(item, Mapping) else None))
        return out


def parse_path(text: str, entity: str) -> FieldPath:
    """A rule's field path checked against the entity; ``ValueError`` says what is wrong."""
    match = _PATH.match(text)
    if not match:
        raise ValueError(f"bad field path '{text}' (expected name, name[0].sub or name[*].sub)")
    top, index, sub = match.groups()
    layout = entity_layout(entity)
    if top not in layout:
        raise ValueError(did_you_mean(top, layout, f"{entity} field"))
    if index is None:
        return FieldPath(top)
    elements = layout[top]
    if elements is None:
        raise ValueError(f"'{top}' is not a list of records")
    if sub is not None and sub not in elements:
        raise ValueError(did_you_mean(sub, elements, f"{top} field"))
    return FieldPath(top, -1 if index == "*" else int(index), sub)


# --- rule configuration --------------------------------------------------------------------------------------

class _RuleConfig(ConfigModel):
    rule: str
    name: Annotated[str, Field(min_length=1)] | None = None
    level: Level = ERROR
    message: str | None = None
    on_error: OnError = None


class RequiredConfig(_RuleConfig):
    field: str


class PatternConfig(_RuleConfig):
    field: str
    regex: str

    _compiles = field_validator("regex")(classmethod(lambda cls, value: check_regex(value)))


class RangeConfig(_RuleConfig):
    field: str
    min: Decimal | date | str | None = None
    max: Decimal | date | str | None = None


class AllowedConfig(_RuleConfig):
    field: str
    values: Annotated[list[Any], Field(min_length=1)]


class CheckConfig(_RuleConfig):
    expr: str
    field: str | None = None


RULE_KINDS: dict[str, type[_RuleConfig]] = {
    "required": RequiredConfig, "pattern": PatternConfig, "range": RangeConfig, "allowed": AllowedConfig,
    "check": CheckConfig,
}


# --- compiled rules ------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule; :meth:`evaluate` returns the outcomes of the values that fail it."""

    kind: str
    name: str
    level: str
    path: FieldPath | None
    message: str | None = None
    regex: Pattern | None = None
    low: Any = None
    high: Any = None
    allowed: tuple[Any, ...] = ()
    expr: Expr | None = None
    on_error: str | None = None
    #: the names the ``check`` expression reads, sorted (its outcome's values)
    names: tuple[str, ...] = dc_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(sorted(self.expr.names)) if self.expr is not None else ())

    @property
    def field(self) -> str | None:
        if self.path is None:
            return None
        p = self.path
        return p.top if p.index is None else f"{p.top}[{'*' if p.index == -1 else p.index}]" + (
            f".{p.sub}" if p.sub else "")

    def evaluate(self, record: Mapping[str, Any], src: Mapping[str, Any] | None = None) -> list[RuleOutcome]:
        """The outcomes of the values of ``record`` that fail the rule (``src``: the source row, for ``check``)."""
        if self.expr is not None:
            return self._check(record, src)
        assert self.path is not None
        if self.path.index is None:  # the usual top-level field: no element paths to resolve
            where, value = self.path.top, record.get(self.path.top)
            problem = self._problem(value)
            return [self._outcome(where, value, problem)] if problem else []
        out: list[RuleOutcome] = []
        for where, value in self.path.resolve(record):
            problem = self._problem(value)
            if problem:
                out.append(self._outcome(where, value, problem))
        return out

    def _outcome(self, where: str, value: Any, problem: str) -> RuleOutcome:
        return RuleOutcome(self.name, where, self.level, self.message or f"{where} {problem}", {where: value},
                           self.on_error)

    def _problem(self, value: Any) -> str | None:
        kind = self.kind
        if kind == "required":
            empty = value is None or (isinstance(value, (str, list)) and not (value.strip() if isinstance(
                value, str) else value))
            return "is required" if empty else None
        if value is None:
            return None
        if kind == "allowed":
            return None if value in self.allowed else f"{value!r} is not one of {', '.join(map(str, self.allowed))}"
        if kind == "pattern":
            assert self.regex is not None
            text = text_of(value)
            try:
                return None if search(self.regex, text) else f"{text!r} does not match {self.regex.pattern}"
            except PatternTimeout as exc:
                return f"could not be checked: {exc}"
        return _out_of_range(value, self.low, self.high)

    def _check(self, record: Mapping[str, Any], src: Mapping[str, Any] | None) -> list[RuleOutcome]:
        """The expression over the canonical fields by name and the source row as ``src`` (only the names it
        reads are looked up: any other name reads as null either way)."""
        assert self.expr is not None
        scope = {n: record.get(n) for n in self.names}
        if "src" in scope:
            scope["src"] = dict(src or {})
        try:
            ok = self.expr(scope)
        except ExprEvalError as exc:
            return [RuleOutcome(self.name, self.field, self.level, f"cannot evaluate {self.expr.text}: {exc}",
                                self._values(scope), self.on_error)]
        if ok:
            return []
        return [RuleOutcome(self.name, self.field, self.level, self.message or f"check failed: {self.expr.text}",
                            self._values(scope), self.on_error)]

    def _values(self, scope: Mapping[str, Any]) -> dict[str, Any]:
        return {n: scope[n] for n in self.names if n != "src"}


TODAY = "today"  # a date bound read when the rule runs: {rule: range, field: birth_date, max: today}


def _out_of_range(value: Any, low: Any, high: Any) -> str | None:
    if isinstance(value, datetime):
        value = value.date()
    if TODAY in (low, high):
        low, high = (date.today() if bound == TODAY else bound for bound in (low, high))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = Decimal(str(value))
    try:
        if low is not None and value < low:
            return f"{text_of(value)} is below {text_of(low)}"
        if high is not None and value > high:
            return f"{text_of(value)} is above {text_of(high)}"
    except TypeError:
        return f"{value!r} cannot be compared with {text_of(low if low is not None else high)}"
    return None


def _bound(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def build_rule(raw: Any, entity: str, where: str, problems: list[str]) -> Rule | None:
    """One rule from its config mapping, checked against ``entity``; problems appended under ``where``."""
    if not isinstance(raw, dict):
        problems.append(f"{where}: a rule is a mapping like {{rule: required, field: name}}")
        return None
    kind = raw.get("rule")
    model = RULE_KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        message = did_you_mean(str(kind), RULE_KINDS, "rule") if kind is not None else "field required"
        problems.append(f"{join(where, 'rule')}: {message}")
        return None
    cfg = validate(model, raw, where, problems)
    if cfg is None:
        return None
    return _compile(cfg, entity, where, problems)


def _compile(cfg: _RuleConfig, entity: str, where: str, problems: list[str]) -> Rule | None:
    path_text: str | None = getattr(cfg, "field", None)
    path: FieldPath | None = None
    if path_text is not None:
        try:
            path = parse_path(path_text, entity)
        except ValueError as exc:
            problems.append(f"{join(where, 'field')}: {exc}")
            return None
    name = cfg.name or (f"{cfg.rule}:{path_text}" if path_text else cfg.rule)
    common: dict[str, Any] = {"kind": cfg.rule, "name": name, "level": cfg.level, "path": path,
                              "message": cfg.message, "on_error": _on_error(cfg, path, where, problems)}
    if isinstance(cfg, PatternConfig):
        return Rule(**common, regex=compiled(cfg.regex))
    if isinstance(cfg, RangeConfig):
        if cfg.min is None and cfg.max is None:
            problems.append(f"{where}: a range rule needs min, max or both")
            return None
        return Rule(**common, low=_bound(cfg.min), high=_bound(cfg.max))
    if isinstance(cfg, AllowedConfig):
        return Rule(**common, allowed=tuple(cfg.values))
    if isinstance(cfg, CheckConfig):
        return _check_rule(cfg, common, entity, where, problems)
    return Rule(**common)


def _on_error(cfg: _RuleConfig, path: FieldPath | None, where: str, problems: list[str]) -> str | None:
    """The rule's ``on_error``: REJECT when it has no value to null, else as given (None: the field decides)."""
    here = join(where, "on_error")
    if cfg.on_error is not None and cfg.level != ERROR:
        problems.append(f"{here}: applies to level: error rules only (a warning keeps the value)")
    elif cfg.on_error not in (None, REJECT) and (cfg.rule == "required" or path is None):
        what = "a required rule" if cfg.rule == "required" else "a rule without field"
        problems.append(f"{here}: {what} has no value to set to null; it rejects the record")
    return REJECT if cfg.rule == "required" or path is None else cfg.on_error


def _check_rule(cfg: CheckConfig, common: dict[str, Any], entity: str, where: str,
                problems: list[str]) -> Rule | None:
    try:
        expr = compile_expr(cfg.expr)
    except ValueError as exc:
        problems.append(f"{join(where, 'expr')}: {exc}")
        return None
    known = set(entity_layout(entity)) | {"src"}
    unknown = sorted(expr.names - known)
    for name in unknown:
        problems.append(f"{join(where, 'expr')}: {did_you_mean(name, known, 'name')}")
    return None if unknown else Rule(**common, expr=expr)


def build_rules(raw: Any, entity: str, where: str, problems: list[str]) -> tuple[Rule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(f"{where}: expected a list of rules")
        return ()
    rules = [build_rule(r, entity, join(where, i), problems) for i, r in enumerate(raw)]
    return tuple(r for r in rules if r is not None)


def evaluate(rules: Sequence[Rule], record: Mapping[str, Any], src: Mapping[str, Any] | None = None,
             ) -> list[RuleOutcome]:
    """Every outcome of ``rules`` over a canonical ``record`` (``src``: the source row, for ``check``)."""
    out: list[RuleOutcome] = []
    for rule in rules:
        out.extend(rule.evaluate(record, src))
    return out
