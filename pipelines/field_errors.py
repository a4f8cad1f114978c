"""When one field of a canonical record cannot be had: set it to null with a warning, or reject the record.

A transform that fails, a value that does not fit the entity's schema, or an error-level DQ rule that fails
concerns one field. What then happens is the field's ``on_error`` (in the mapping) or the rule's ``on_error``:

- ``null``: the field is set to null (its default: an empty list for a list), a warning naming the rule and
  the bad value rides on the canonical event, and the record goes on. For a field a list element cannot do
  without (a phone's ``number``, an e-mail's ``address``, a cross-reference's ``key``) the element is dropped
  instead.
- ``reject``: the whole record goes to the dead-letter topic with the reason, as with any rejection.

Without ``on_error``, a field is nulled when it is optional and rejects when it is required: the entity's
schema gives it no default (``credit.status``), or an error-level ``required`` rule names it. A required field
rejects whatever ``on_error`` says: on the field's own map ``on_error: null`` is a config problem; so is
``on_error: null`` on a rule that cannot null anything (``required``, a ``check`` without ``field``), and any
``on_error`` on a ``level: warning`` rule.

In YAML, ``on_error: null`` parses as a null value; both it and the string ``"null"`` mean null here.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, Final, Literal

from pydantic import BeforeValidator

from pipelines.problems import join
from schemas.canonical import entity_schema

NULL: Final = "null"
REJECT: Final = "reject"
DROP: Final = "drop"  # a null on a field its list element needs: the element goes
CHOICES: Final = (NULL, REJECT)
_STRICTNESS = {NULL: 0, DROP: 1, REJECT: 2}
_MISSING = object()


def _yaml_null(value: Any) -> Any:
    return NULL if value is None else value


OnError = Annotated[Literal["null", "reject"] | None, BeforeValidator(_yaml_null)]
"""The ``on_error`` of a rule model: absent is None, ``null`` (YAML null or text) is ``"null"``."""


def given_on_error(raw: Mapping[str, Any], where: str, problems: list[str]) -> str | None:
    """The ``on_error`` of a field's config mapping (None when not given), checked."""
    value = _yaml_null(raw["on_error"]) if "on_error" in raw else None
    if value is None or value in CHOICES:
        return value
    problems.append(f"{join(where, 'on_error')}: expected null or reject")
    return None


# --- the schema's view of a field ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Slot:
    """One top-level field: has it a default, the default, and for a list of records its elements' slots."""

    has_default: bool
    default: Any
    elements: Mapping[str, _Slot] | None = None


@cache
def _slots(entity: str) -> dict[str, _Slot]:
    return _record_slots(entity_schema(entity))


def _record_slots(schema: Mapping[str, Any]) -> dict[str, _Slot]:
    out: dict[str, _Slot] = {}
    for f in schema["fields"]:
        kind = f["type"]
        items = kind.get("items") if isinstance(kind, dict) and kind.get("type") == "array" else None
        elements = _record_slots(items) if isinstance(items, dict) and items.get("type") == "record" else None
        out[f["name"]] = _Slot("default" in f, f.get("default"), elements)
    return out


def required_in_schema(entity: str, top: str, sub: str | None = None) -> bool:
    """The schema gives the field no default, or, for a field of the record itself, a default that is a value
    (``kind: person``): nulling it would put a made-up value in its place. (A list element's tag keeps its
    default, ``type: main``, rather than losing the phone.)"""
    slot = _slots(entity)[top]
    if sub is None:
        return not slot.has_default or (slot.default is not None and not isinstance(slot.default, list))
    return slot.elements is not None and not slot.elements[sub].has_default


_PATH = re.compile(r"^([A-Za-z_]\w*)(?:\[(\d+|\*)\])?(?:\.([A-Za-z_]\w*))?")


def split_path(path: str) -> tuple[str, int | None, str | None]:
    """``phones[1].number`` -> ``("phones", 1, "number")``; ``[*]`` is index -1; a plain name has no index."""
    match = _PATH.match(path)
    if match is None:
        return path, None, None
    top, index, sub = match.groups()
    return top, (None if index is None else -1 if index == "*" else int(index)), sub


def _key(top: str, sub: str | None) -> str:
    return top if sub is None else f"{top}.{sub}"


# --- the policy of one mapping target ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FieldPolicy:
    """What a failure of each field of one mapping target does (see the module doc)."""

    entity: str
    rule_required: frozenset[str]  # "org_name", "phones.number": named by an error-level required rule
    given: Mapping[str, str] = field(default_factory=dict)  # the fields' own on_error: see with_fields

    @classmethod
    def build(cls, entity: str, required_paths: Iterable[str | None]) -> FieldPolicy:
        keys: set[str] = set()
        for path in required_paths:
            if path is not None:
                top, _, sub = split_path(path)
                keys.add(_key(top, sub))
        return cls(entity, frozenset(keys))

    def with_fields(self, given: Iterable[tuple[str, str | None, str | None]]) -> FieldPolicy:
        """This policy with the fields' own ``on_error`` (top, sub-field, value); the strictest per field."""
        merged: dict[str, str] = {}
        for top, sub, value in given:
            if value is not None:
                key = _key(top, sub)
                old = merged.get(key)
                merged[key] = value if old is None or _STRICTNESS[value] > _STRICTNESS[old] else old
        return FieldPolicy(self.entity, self.rule_required, merged)

    def resolve(self, top: str, sub: str | None, given: str | None) -> str:
        """REJECT, NULL or DROP for a failure of ``top`` (``sub``: a field of its list elements)."""
        key = _key(top, sub)
        if given == REJECT or key in self.rule_required:
            return REJECT
        if sub is None:
            return REJECT if required_in_schema(self.entity, top) else NULL
        return DROP if required_in_schema(self.entity, top, sub) else NULL

    def check(self, top: str, sub: str | None, given: str | None, where: str, problems: list[str]) -> str:
        """:meth:`resolve` for a mapped field, with a problem when ``on_error: null`` cannot hold."""
        if given == NULL and sub is None and (required_in_schema(self.entity, top) or top in self.rule_required):
            why = (f"the {self.entity} schema requires it" if required_in_schema(self.entity, top)
                   else "an error-level required rule names it")
            problems.append(f"{join(where, 'on_error')}: '{top}' cannot be set to null ({why}); "
                            "use on_error: reject or leave it out")
            return REJECT
        return self.resolve(top, sub, given)

    def action(self, path: str | None, given: str | None = None) -> str:
        """What a failure at a record path (``birth_date``, ``phones[1].number``) does; no path rejects."""
        if path is None:
            return REJECT
        top, index, sub = split_path(path)
        if top not in _slots(self.entity):
            return REJECT
        if index is not None and sub is None:
            return REJECT if given == REJECT else DROP  # the whole element failed
        own = self.given.get(_key(top, sub))
        return self.resolve(top, sub, REJECT if REJECT in (given, own) else given or own)  # the stricter one


# --- applying it to a record ---------------------------------------------------------------------------------

def clear(record: MutableMapping[str, Any], entity: str, fixes: Iterable[tuple[str, str]]) -> None:
    """Set each ``(path, NULL)`` to its default and drop each ``(path, DROP)`` element, in place."""
    drops: dict[str, set[int]] = {}
    for path, action in fixes:
        top, index, sub = split_path(path)
        slot = _slots(entity)[top]
        items = record.get(top)
        if index is None:
            record[top] = copy.deepcopy(slot.default)
            continue
        if not isinstance(items, list):
            continue
        positions = range(len(items)) if index == -1 else [index] if index < len(items) else []
        if action == DROP or sub is None or slot.elements is None:
            drops.setdefault(top, set()).update(positions)
            continue
        for i in positions:
            if isinstance(items[i], MutableMapping):
                items[i][sub] = copy.deepcopy(slot.elements[sub].default)
    for top, gone in drops.items():
        record[top] = [item for i, item in enumerate(record[top]) if i not in gone]


def cleared_note(action: str, value: Any = _MISSING) -> str:
    """The end of a warning's message: what became of the bad value."""
    shown = "" if value is _MISSING else f" {_short(value)}"
    return f" (value{shown} set to null)" if action == NULL else f" (element with value{shown} dropped)"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
