"""Alert rules (``config/rules/alerts.yaml``): the config models, their checks, durations and message templates.

Two kinds of rule, told apart by whether they have a ``start:``:

- a **change rule** fires on one record: ``on: customer.changes`` (optionally ``field:`` with ``became:`` /
  ``from:``) or ``on: canon.<entity>``; both may add ``where:`` (field -> value, list of values, or
  ``{not: value-or-list}``; dotted names such as ``golden.credit_status`` reach into nested records) and
  ``expr:`` (an expression of :mod:`pipelines.expr`, true = match).
- an **absence rule** starts a durable timer when ``start:`` matches and cancels it when one of ``until:``
  matches; the timer fires ``within:`` (``90s``, ``15m``, ``4h``, ``3d``, ``2w``) after the start event's
  source time, or at the time in ``deadline_field:`` (epoch ms). ``key:`` names the subject: one timer per
  rule and subject. A start for a running timer keeps it unless the deadline or a ``rearm_on:`` field changed.

Texts (``message``, ``agent``, ``key``, ``data`` values) are templates: ``{name}`` or ``{golden.name}``,
``{{``/``}}`` for literal braces. Every placeholder and ``where`` name is checked against what the rule's
stream offers (:func:`stream_names`), with a "did you mean" hint. ``load_alert_rules`` raises one
``ConfigError`` listing every problem as ``alerts.yaml: rules[2].within: ...``.
"""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import yaml
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from schemas.canonical import ENTITIES, entity_fields
from schemas.errors import ConfigError
from schemas.settings import ConfigModel, Name, duplicate_names

CHANGES = "customer.changes"
CANON = "canon."
Severity = Literal["info", "warning", "critical"]
Scalar = str | bool | int | float | None
Expr = Callable[[Mapping[str, Any]], Any]

_CHANGE_EXTRA = ("golden_id", "customer_name", "change_kind", "version", "ts_ms", "field", "old", "new")
_CAUSE_FIELDS = ("source", "table", "source_key", "version", "origin")
_CANON_EXTRA = ("entity", "source", "table", "source_key", "op", "version", "source_ts_ms", "ts_ms",
                "golden_id", "customer_name")
TIMER_NAMES = ("due_at", "within")
"""Extra placeholders of absence rules: when the timer is due (UTC), and the ``within`` duration."""

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][\w.]*)\}")
_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d|w)\s*$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def _error(message: str) -> PydanticCustomError:
    return PydanticCustomError("alert_rule", message)


# --- names, templates, durations -----------------------------------------------------------------------------

@cache
def stream_names(on: str) -> frozenset[str]:
    """The names a rule on ``on`` may use in ``where`` and in templates."""
    golden = {f"golden.{f}" for f in entity_fields("customer")}
    if on == CHANGES:
        cause = {f"cause.{f}" for f in _CAUSE_FIELDS}
        return frozenset({*entity_fields("customer"), *_CHANGE_EXTRA, *cause, *golden})
    return frozenset({*entity_fields(on.removeprefix(CANON)), *_CANON_EXTRA, *golden})


def placeholders(template: str) -> list[str]:
    return [m.group(1) for m in _PLACEHOLDER.finditer(template) if m.group(1)]


def render(template: str, value: Callable[[str], str]) -> str:
    """``template`` with each ``{name}`` replaced by ``value(name)`` and ``{{``/``}}`` by single braces."""
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return value(name) if name else match.group(0)[0]
    return _PLACEHOLDER.sub(replace, template)


def parse_duration_ms(value: Any) -> Any:
    if isinstance(value, str) and (match := _DURATION.match(value)):
        ms = int(match.group(1)) * _UNIT_MS[match.group(2)]
        if ms > 0:
            return ms
    raise _error("expected a positive duration like 90s, 15m, 4h, 3d or 2w")


def duration_text(ms: int) -> str:
    for unit in ("w", "d", "h", "m", "s"):
        if ms % _UNIT_MS[unit] == 0:
            return f"{ms // _UNIT_MS[unit]}{unit}"
    return f"{ms}ms"


def _unknown(name: str, known: frozenset[str], what: str, on: str) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown {what} '{name}' for {on}{hint}"


def check_templates(texts: Sequence[str], on: str, extra: Sequence[str] = ()) -> None:
    known = stream_names(on) | set(extra)
    bad = [_unknown(n, known, "placeholder", on) for t in texts for n in placeholders(t) if n not in known]
    if bad:
        raise _error("; ".join(bad))


def compile_expr(text: str) -> Expr:
    """Compile with :func:`pipelines.expr.compile_expr` (looked up at run time: an optional module)."""
    try:
        module = importlib.import_module("pipelines.expr")
    except ImportError:
        raise _error("expressions are not available (module pipelines.expr is missing)") from None
    try:
        return cast(Expr, module.compile_expr(text))
    except ValueError as exc:  # pipelines.expr.ExprError
        raise _error(f"invalid expression: {exc}") from None


def _as_list(value: Any) -> Any:
    return value if isinstance(value, list) or value is None else [value]


# --- models ----------------------------------------------------------------------------------------------------

class Negation(ConfigModel):
    """``{not: CLOSED}`` or ``{not: [CLOSED, CANCELLED]}``: any value except these."""

    not_: Scalar | list[Scalar] = Field(alias="not")


WhereValue = Scalar | list[Scalar] | Negation
_SCALARS = (str, int, float, bool, type(None))


def _where_value(value: Any) -> WhereValue:
    if isinstance(value, date):  # YAML reads 2024-05-01 as a date: compare it as the record's text form
        return value.isoformat()
    if isinstance(value, list):
        value = [v.isoformat() if isinstance(v, date) else v for v in value]
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, list) and all(isinstance(v, _SCALARS) for v in value):
        return value
    if isinstance(value, Mapping) and set(value) == {"not"}:
        inner = value["not"]
        if isinstance(inner, _SCALARS) or (isinstance(inner, list) and all(isinstance(v, _SCALARS) for v in inner)):
            return Negation.model_validate(value)
    raise _error("expected a value, a list of values, or {not: value or list of values}")
Values = Annotated[list[Scalar] | None, BeforeValidator(_as_list)]


class Condition(ConfigModel):
    """What one record must look like: the stream it comes on, and tests on its fields."""

    on: str
    op: Literal["upsert", "delete", "any"] = "upsert"
    field: str | None = None
    became: Values = None
    from_: Values = Field(None, alias="from")
    where: dict[str, Annotated[Any, AfterValidator(_where_value)]] = Field(default_factory=dict)
    expr: str | None = None
    key: str | None = None

    @field_validator("on")
    @classmethod
    def _known_stream(cls, value: str) -> str:
        if value == CHANGES or (value.startswith(CANON) and value.removeprefix(CANON) in ENTITIES):
            return value
        streams = [CHANGES, *(CANON + e for e in ENTITIES)]
        raise _error(f"unknown stream '{value}' (expected one of: {', '.join(streams)})")

    @field_validator("op")
    @classmethod
    def _op_on_canon(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("on") == CHANGES:
            raise _error(f"op applies to canon.* streams only, not {CHANGES}")
        return value

    @field_validator("field")
    @classmethod
    def _changed_field(cls, value: str | None, info: ValidationInfo) -> str | None:
        on = info.data.get("on")
        if value is None or on is None:
            return value
        if on != CHANGES:
            raise _error(f"field/became/from apply to {CHANGES} only (use where: for {on})")
        known = frozenset(entity_fields("customer"))
        if value not in known:
            raise _error(_unknown(value, known, "customer field", on))
        return value

    @field_validator("became", "from_")
    @classmethod
    def _needs_field(cls, value: list[Scalar] | None, info: ValidationInfo) -> list[Scalar] | None:
        if value is not None and info.data.get("field") is None and "on" in info.data:
            raise _error("needs field: (the customer field whose change is tested)")
        return value

    @field_validator("where")
    @classmethod
    def _known_names(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        on = info.data.get("on")
        if on is not None:
            bad = [_unknown(n, stream_names(on), "field", on) for n in value if n not in stream_names(on)]
            if bad:
                raise _error("; ".join(bad))
        return value

    @field_validator("expr")
    @classmethod
    def _compiles(cls, value: str | None, info: ValidationInfo) -> str | None:
        on = info.data.get("on")
        if value is None:
            return value
        names: frozenset[str] = getattr(compile_expr(value), "names", frozenset())
        if on is not None:
            known = frozenset(n.partition(".")[0] for n in stream_names(on))
            bad = [_unknown(n, known, "name", on) for n in sorted(names) if n not in known]
            if bad:
                raise _error("; ".join(bad))
        return value

    @field_validator("key")
    @classmethod
    def _key_names(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and "on" in info.data:
            check_templates([value], info.data["on"])
        return value


Agent = Annotated[list[str], BeforeValidator(_as_list)]


class ChangeRule(Condition):
    """Fires once for each record matching the condition."""

    name: Name
    description: str = ""
    severity: Severity = "warning"
    message: str
    agent: Agent = Field(default_factory=lambda: ["{golden.owning_agent}"])
    data: dict[str, str] = Field(default_factory=dict)

    @field_validator("message", "agent", "data")
    @classmethod
    def _template_names(cls, value: Any, info: ValidationInfo) -> Any:
        if "on" in info.data:
            texts = list(value.values()) if isinstance(value, dict) else _as_list(value)
            check_templates(texts, info.data["on"])
        return value


class AbsenceRule(ConfigModel):
    """Fires when a started subject sees none of its ``until`` conditions in time."""

    name: Name
    description: str = ""
    severity: Severity = "warning"
    start: Condition
    until: list[Condition] = Field(default_factory=list)
    within: Annotated[int | None, BeforeValidator(parse_duration_ms)] = None
    deadline_field: str | None = None
    rearm_on: list[str] = Field(default_factory=list)
    key: str
    message: str
    agent: Agent = Field(default_factory=lambda: ["{golden.owning_agent}"])
    data: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def _cross_check(cls, data: Mapping[str, Any]) -> list[InitErrorDetails]:
        if ("within" in data) == ("deadline_field" in data):
            err = _error("give exactly one of within: (a duration) or deadline_field: (a time field)")
            return [InitErrorDetails(type=err, loc=("within",), input=None)]
        return []

    @field_validator("deadline_field", "rearm_on")
    @classmethod
    def _start_fields(cls, value: Any, info: ValidationInfo) -> Any:
        start = info.data.get("start")
        if isinstance(start, Condition) and value is not None:
            names = _as_list(value)
            bad = [_unknown(n, stream_names(start.on), "field", start.on) for n in names
                   if n not in stream_names(start.on)]
            if bad:
                raise _error("; ".join(bad))
        return value

    @field_validator("key")
    @classmethod
    def _key_everywhere(cls, value: str, info: ValidationInfo) -> str:
        start, until = info.data.get("start"), info.data.get("until") or []
        for where, cond in [("start", start), *((f"until[{i}]", c) for i, c in enumerate(until))]:
            if isinstance(cond, Condition) and cond.key is None:
                try:
                    check_templates([value], cond.on)
                except PydanticCustomError as exc:
                    raise _error(f"{exc.message()} (used by {where}; give {where}.key to key it differently)") from None
        return value

    @field_validator("message", "agent", "data")
    @classmethod
    def _template_names(cls, value: Any, info: ValidationInfo) -> Any:
        start = info.data.get("start")
        if isinstance(start, Condition):
            texts = list(value.values()) if isinstance(value, dict) else _as_list(value)
            check_templates(texts, start.on, TIMER_NAMES)
        return value


def _rule_kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "absence" if "start" in value else "change"
    return "absence" if isinstance(value, AbsenceRule) else "change"


Rule = Annotated[
    Annotated[ChangeRule, Tag("change")] | Annotated[AbsenceRule, Tag("absence")], Discriminator(_rule_kind)
]


class AlertRules(ConfigModel):
    rules: list[Rule] = Field(default_factory=list)

    @classmethod
    def _cross_check(cls, data: Mapping[str, Any]) -> list[InitErrorDetails]:
        return duplicate_names(data, "rules", "rule")


# --- loading ---------------------------------------------------------------------------------------------------

class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans only (``true``/``false``): ``on:`` stays a key and ``N``/``NO``/``OFF`` stay codes."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


def _path_text(loc: Sequence[str | int]) -> str:
    out = ""
    for i, part in enumerate(loc):
        if i >= 2 and loc[i - 2] == "rules" and isinstance(loc[i - 1], int) and part in ("change", "absence"):
            continue  # the discriminator tag pydantic inserts
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += f".{'from' if part == 'from_' else part}" if out else str(part)
    return out or "(root)"


def _problem(err: Mapping[str, Any]) -> str:
    msg = str(err["msg"])
    if err["type"] in ("model_type", "model_attributes_type", "dict_type"):
        msg = "expected a mapping (key: value pairs)"
    elif msg[:1].isupper() and not msg[1:2].isupper():
        msg = msg[0].lower() + msg[1:]
    return f"{_path_text(err['loc'])}: {msg}"


def parse_alert_rules(text: str, source_name: str = "alerts.yaml") -> AlertRules:
    """Validate the YAML ``text``; every problem is listed as ``<source_name>: <path>: <message>``."""
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError([f"{source_name}: {where}YAML syntax error: {exc.problem or exc.context}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source_name}: YAML error: {type(exc).__name__}"]) from None
    try:
        return AlertRules.model_validate({} if data is None else data)
    except ValidationError as exc:
        raise ConfigError([f"{source_name}: {_problem(e)}" for e in exc.errors()]) from None


def load_alert_rules(path: Path) -> AlertRules:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {getattr(exc, 'strerror', None) or type(exc).__name__}"]) from None
    return parse_alert_rules(text, path.name)
