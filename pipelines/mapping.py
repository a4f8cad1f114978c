"""Source table -> canonical entities: the mapping files, their validation, and applying one to a row.

One YAML file per source table (``config/mappings/ibmi.CUSTMAST.yaml``)::

    source: ibmi                 # connector name
    table: CUSTMAST              # matched case-insensitively
    key: [CUSNO]                 # optional: columns forming source_key (default: the event's key)
    targets:
      - entity: customer
        when: "CUSTYP != 'X'"    # optional: map only rows where this expression over the row is true
        fields:
          org_name: {from: CUSNAM, transforms: [trim, title]}
          kind: {value: organisation}
          full: {expr: "concat(FNAM, ' ', LNAM)"}
          phones: [{type: main, number: {from: PHONE, transforms: [phone]}}]
        rules:
          - {rule: required, field: org_name}

A field is ``{from: COLUMN}``, ``{value: CONSTANT}`` (a plain scalar is a constant too: ``kind: organisation``)
or ``{expr: EXPRESSION}`` over the source columns (:mod:`pipelines.expr`), each with optional ``transforms``
(:mod:`pipelines.transforms`) and ``on_error`` (``null`` or ``reject``: :mod:`pipelines.field_errors`). A list
field (addresses, phones, emails, lines, xrefs) is a list of element maps; an element whose every mapped
(non-constant) value is null is dropped. Rules: :mod:`pipelines.quality`.

:func:`load_mappings` checks everything at once and raises ``ConfigError`` with every problem and its place
(``file: targets[0].fields.credit_status.transforms[1]: unknown transform 'cod' (did you mean 'code'?)``).
Transform chains, expressions and rules are compiled once, so applying a mapping is cheap.

YAML is read by :func:`pipelines.yaml_text.parse_yaml`: ``Y``/``N``/``NO`` and ``01`` stay text (code tables),
decimals are exact.
"""

from __future__ import annotations

import copy
import glob
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from pipelines.expr import Expr, ExprEvalError, compile_expr
from pipelines.field_errors import DROP, REJECT, FieldPolicy, given_on_error
from pipelines.problems import did_you_mean, join, validate
from pipelines.quality import ERROR, Rule, build_rules, entity_layout
from pipelines.transforms import Chain, TransformError, build_chain
from pipelines.yaml_text import parse_yaml
from schemas.canonical import ENTITIES, entity_schema
from schemas.errors import ConfigError
from schemas.settings import ConfigModel, Name

Row = Mapping[str, Any]
FIELD_KEYS = ("from", "value", "expr", "transforms", "on_error")


# --- config models -------------------------------------------------------------------------------------------

class TargetConfig(ConfigModel):
    entity: str
    fields: Annotated[dict[str, Any], Field(min_length=1)]
    rules: list[Any] = Field(default_factory=list)
    when: str | None = None
    description: str | None = None


class MappingConfig(ConfigModel):
    source: Name
    table: Annotated[str, Field(min_length=1)]
    key: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] | None = None
    description: str | None = None
    targets: Annotated[list[Any], Field(min_length=1)]


# --- compiled mapping ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FieldFailure:
    """A field whose value could not be produced: the transform (or ``expr``) that failed, why, and what the
    field's ``on_error`` makes of it (:data:`~pipelines.field_errors.REJECT`, ``NULL`` or ``DROP``)."""

    field: str
    transform: str
    column: str | None
    value: Any
    message: str
    action: str = REJECT


@dataclass(frozen=True, slots=True)
class FieldMap:
    name: str
    kind: str  # from | value | expr
    column: str | None
    constant: Any
    expr: Expr | None
    chain: Chain
    action: str = REJECT  # what a failure does (field_errors.REJECT, NULL or DROP)
    given: str | None = None  # the on_error written in the mapping

    def apply(self, row: Row, failures: list[FieldFailure], where: str) -> Any:
        kind = self.kind
        if kind == "from":
            value = row.get(self.column) if self.column is not None else None
        elif kind == "value":
            value = copy.deepcopy(self.constant) if isinstance(self.constant, (list, dict)) else self.constant
        else:
            assert self.expr is not None
            try:
                value = self.expr(row)
            except ExprEvalError as exc:
                failures.append(FieldFailure(where, "expr", None, None, str(exc), self.action))
                return None
        if not self.chain.names:  # no transforms
            return value
        try:
            return self.chain(value)
        except TransformError as exc:
            failures.append(FieldFailure(where, exc.transform, self.column, value, exc.message, self.action))
            return None


@dataclass(frozen=True, slots=True)
class ListMap:
    name: str
    elements: tuple[tuple[FieldMap, ...], ...]
    #: per element: the path of each field in failures (``phones[0].number``), and whether all are constants
    _paths: tuple[tuple[tuple[str, ...], bool], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_paths", tuple(
            (tuple(f"{self.name}[{index}].{fm.name}" for fm in element), all(fm.kind == "value" for fm in element))
            for index, element in enumerate(self.elements)))

    def field_maps(self) -> Iterator[FieldMap]:
        return (fm for element in self.elements for fm in element)

    def apply(self, row: Row, failures: list[FieldFailure]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for element, (paths, constant) in zip(self.elements, self._paths, strict=True):
            item: dict[str, Any] = {}
            mapped = False
            failed = len(failures)
            for fm, where in zip(element, paths, strict=True):
                item[fm.name] = value = fm.apply(row, failures, where)
                mapped = mapped or (fm.kind != "value" and not _blank(value))
            if len(failures) > failed and any(f.action == DROP for f in failures[failed:]):
                continue  # a field the element cannot do without failed
            if mapped or constant:
                out.append(item)
        return out


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(frozen=True, slots=True)
class TargetMapping:
    entity: str
    index: int
    fields: tuple[FieldMap | ListMap, ...]
    rules: tuple[Rule, ...]
    when: Expr | None
    policy: FieldPolicy

    def applies(self, row: Row) -> bool:
        """Whether the row is mapped to this target (its ``when`` holds; an unevaluable ``when`` holds)."""
        if self.when is None:
            return True
        try:
            return bool(self.when(row))
        except ExprEvalError:
            return True  # mapping it lets the rules and the dead-letter topic say what is wrong

    def apply(self, row: Row) -> tuple[dict[str, Any], list[FieldFailure]]:
        """The entity record mapped from ``row`` (before schema coercion), and the fields that failed."""
        failures: list[FieldFailure] = []
        record: dict[str, Any] = {}
        for f in self.fields:
            record[f.name] = f.apply(row, failures) if isinstance(f, ListMap) else f.apply(row, failures, f.name)
        return record, failures


@dataclass(frozen=True, slots=True)
class TableMapping:
    source: str
    table: str
    key: tuple[str, ...] | None
    targets: tuple[TargetMapping, ...]
    path: str
    columns: frozenset[str]  # source columns the mapping reads (for checking sample rows)


class MappingSet:
    """Every loaded mapping, looked up by (source, table)."""

    def __init__(self, mappings: Iterable[TableMapping] = ()) -> None:
        self._by_table: dict[tuple[str, str], list[TableMapping]] = {}
        for m in mappings:
            self._by_table.setdefault((m.source, m.table.casefold()), []).append(m)

    def for_table(self, source: str, table: str) -> list[TableMapping]:
        return self._by_table.get((source, table.casefold()), [])

    def __iter__(self) -> Iterator[TableMapping]:
        return (m for ms in self._by_table.values() for m in ms)

    def __len__(self) -> int:
        return sum(len(ms) for ms in self._by_table.values())


# --- building ------------------------------------------------------------------------------------------------

def _field_map(name: str, raw: Any, where: str, problems: list[str], policy: FieldPolicy,
               within: str | None = None) -> FieldMap | None:
    if isinstance(raw, list):
        problems.append(f"{where}: expected {{from: COLUMN}}, {{value: CONSTANT}} or {{expr: EXPRESSION}}")
        return None
    if not isinstance(raw, dict):
        raw = {"value": raw}  # a plain scalar is a constant: `kind: organisation`, `type: main`
    unknown = [key for key in raw if key not in FIELD_KEYS]
    for key in unknown:
        problems.append(f"{join(where, str(key))}: {did_you_mean(str(key), FIELD_KEYS, 'key')}")
    sources = [k for k in ("from", "value", "expr") if k in raw]
    if unknown and not sources:
        return None
    if len(sources) != 1:
        problems.append(f"{where}: give exactly one of from, value or expr"
                        + (f" (found {', '.join(sources)})" if sources else ""))
        return None
    kind = sources[0]
    chain = build_chain(raw.get("transforms"), join(where, "transforms"), problems)
    given = given_on_error(raw, where, problems)
    top, sub = (within, name) if within is not None else (name, None)
    on_error = (policy.check(top, sub, given, where, problems), given)
    if kind == "from":
        if not isinstance(raw["from"], str) or not raw["from"]:
            problems.append(f"{join(where, 'from')}: expected a column name")
            return None
        return FieldMap(name, kind, raw["from"], None, None, chain, *on_error)
    if kind == "expr":
        try:
            expr = compile_expr(raw["expr"]) if isinstance(raw["expr"], str) else compile_expr("")
        except ValueError as exc:
            problems.append(f"{join(where, 'expr')}: {exc}")
            return None
        return FieldMap(name, kind, None, None, expr, chain, *on_error)
    return FieldMap(name, kind, None, raw["value"], None, chain, *on_error)


def _required(entity: str, field_name: str | None = None) -> list[str]:
    fields = entity_schema(entity)["fields"]
    if field_name is not None:
        items = next(f for f in fields if f["name"] == field_name)["type"]["items"]
        fields = items["fields"]
    return [f["name"] for f in fields if "default" not in f]


def _list_map(name: str, raw: Any, entity: str, where: str, problems: list[str],
              policy: FieldPolicy) -> ListMap | None:
    allowed = entity_layout(entity)[name] or ()
    if not isinstance(raw, list):
        problems.append(f"{where}: '{name}' is a list of records: give a list of element maps "
                        f"like [{{{allowed[0]}: ..., ...}}]")
        return None
    elements: list[tuple[FieldMap, ...]] = []
    for index, element in enumerate(raw):
        here = join(where, index)
        if not isinstance(element, dict) or not element:
            problems.append(f"{here}: expected a mapping of {name} fields ({', '.join(allowed)})")
            continue
        maps: list[FieldMap] = []
        for sub, spec in element.items():
            if sub not in allowed:
                problems.append(f"{join(here, str(sub))}: {did_you_mean(str(sub), allowed, f'{name} field')}")
                continue
            fm = _field_map(sub, spec, join(here, sub), problems, policy, name)
            maps.extend([fm] if fm else [])
        for missing in sorted(set(_required(entity, name)) - set(element)):
            problems.append(f"{here}: required field '{missing}' of {name} is not mapped")
        elements.append(tuple(maps))
    return ListMap(name, tuple(elements))


def _target(raw: Any, index: int, problems: list[str]) -> TargetMapping | None:
    where = join("targets", index)
    cfg = validate(TargetConfig, raw, where, problems)
    if cfg is None:
        return None
    if cfg.entity not in ENTITIES:
        problems.append(f"{join(where, 'entity')}: {did_you_mean(cfg.entity, ENTITIES, 'entity')}")
        return None
    layout = entity_layout(cfg.entity)
    rule_problems: list[str] = []  # listed after the fields' problems
    rules = build_rules(cfg.rules, cfg.entity, join(where, "rules"), rule_problems)
    policy = FieldPolicy.build(cfg.entity, (r.field for r in rules if r.kind == "required" and r.level == ERROR))
    fields: list[FieldMap | ListMap] = []
    for name, spec in cfg.fields.items():
        here = join(where, "fields", str(name))
        if name not in layout:
            problems.append(f"{here}: {did_you_mean(str(name), layout, f'{cfg.entity} field')}")
            continue
        built = (_list_map(name, spec, cfg.entity, here, problems, policy) if layout[name] is not None
                 else _field_map(name, spec, here, problems, policy))
        fields.extend([built] if built else [])
    for missing in sorted(set(_required(cfg.entity)) - set(cfg.fields)):
        problems.append(f"{join(where, 'fields')}: required field '{missing}' of {cfg.entity} is not mapped")
    when = None
    if cfg.when is not None:
        try:
            when = compile_expr(cfg.when)
        except ValueError as exc:
            problems.append(f"{join(where, 'when')}: {exc}")
    problems.extend(rule_problems)
    given = [(f.name, None, f.given) for f in fields if isinstance(f, FieldMap)] + [
        (f.name, fm.name, fm.given) for f in fields if isinstance(f, ListMap) for fm in f.field_maps()]
    return TargetMapping(cfg.entity, index, tuple(fields), rules, when, policy.with_fields(given))


def _columns(targets: Sequence[TargetMapping], key: Sequence[str] | None) -> frozenset[str]:
    names: set[str] = set(key or ())
    for t in targets:
        names |= t.when.names if t.when else set()
        for f in t.fields:
            for fm in f.field_maps() if isinstance(f, ListMap) else [f]:
                names |= {fm.column} if fm.column else fm.expr.names if fm.expr else set()
    return frozenset(names)


def build_mapping(data: Any, name: str) -> tuple[TableMapping | None, list[str]]:
    """One table mapping from parsed YAML; problems are ``<name>: <path>: <message>``."""
    problems: list[str] = []
    cfg = validate(MappingConfig, data, "", problems)
    if cfg is None:
        return None, [f"{name}: {p}" for p in problems]
    targets = [_target(t, i, problems) for i, t in enumerate(cfg.targets)]
    if problems:
        return None, [f"{name}: {p}" for p in problems]
    built = tuple(t for t in targets if t is not None)
    key = tuple(cfg.key) if cfg.key else None
    return TableMapping(cfg.source, cfg.table, key, built, name, _columns(built, key)), []


# --- files ---------------------------------------------------------------------------------------------------

def parse_mapping(text: str, name: str) -> TableMapping:
    """One mapping from YAML text; ``ConfigError`` with every problem."""
    data, problems = parse_yaml(text, name)
    mapping, more = build_mapping(data, name) if not problems else (None, [])
    if problems or more or mapping is None:
        raise ConfigError(problems + more)
    return mapping


def mapping_files(paths: Sequence[Path | str]) -> tuple[list[Path], list[str]]:
    """The files ``paths`` name: files as given, directories and glob patterns expanded to their ``*.yaml``."""
    files: list[Path] = []
    problems: list[str] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()))
        elif path.is_file():
            files.append(path)
        elif glob.has_magic(str(given)):
            found = sorted(Path(p) for p in glob.glob(str(given)))
            files.extend(p for p in found if p.is_file() and p.suffix in (".yaml", ".yml"))
        else:
            problems.append(f"{given}: no such file or directory")
    return list(dict.fromkeys(files)), problems


def load_mappings(paths: Sequence[Path | str]) -> MappingSet:
    """Every mapping file under ``paths``, checked; ``ConfigError`` lists every problem in every file."""
    files, problems = mapping_files(paths)
    mappings: list[TableMapping] = []
    first: dict[tuple[str, str], str] = {}
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read: {getattr(exc, 'strerror', None) or type(exc).__name__}")
            continue
        data, found = parse_yaml(text, str(path))
        mapping, more = build_mapping(data, str(path)) if not found else (None, [])
        problems.extend(found + more)
        if mapping is None:
            continue
        ident = (mapping.source, mapping.table.casefold())
        if ident in first:
            problems.append(f"{path}: source '{mapping.source}' table '{mapping.table}' is already mapped by "
                            f"{first[ident]}")
            continue
        first[ident] = str(path)
        mappings.append(mapping)
    if problems:
        raise ConfigError(problems)
    return MappingSet(mappings)
