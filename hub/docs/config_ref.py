"""The configuration reference, walked from the pydantic models (root :class:`hub.config.HubConfig`).

Every key is a dotted path from the top of the file: ``[]`` is a list item, ``<name>`` a key of your choosing
in a mapping. A section (a nested model) gets a heading with the model's docstring and a table of its keys;
a list of differently shaped items (the connectors) gets one section per ``kind``.
"""

from __future__ import annotations

import enum
import json
import re
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from hub.config import HubConfig
from hub.docs.markdown import code, doc_text, first_paragraph, heading, page, table

_NAMES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean", SecretStr: "secret",
                          Any: "any", type(None): "null"}
_BOUNDS = (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"))


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _union_args(tp: Any) -> tuple[Any, ...] | None:
    return get_args(tp) if get_origin(tp) in (Union, types.UnionType) else None


def constraints(metadata: list[Any], container: bool = False) -> list[str]:
    """Readable constraints of pydantic metadata (``Ge(ge=1)``, ``pattern``, ``min_length`` ...)."""
    found: list[str] = []
    for item in metadata:
        items = item.metadata if isinstance(item, FieldInfo) else [item]
        for meta in items:
            for attr, sign in _BOUNDS:
                if getattr(meta, attr, None) is not None:
                    found.append(f"{sign} {getattr(meta, attr)}")
            if getattr(meta, "min_length", None) is not None:
                n = meta.min_length
                found.append(f"at least {n} item{'s' if n != 1 else ''}" if container else f"min length {n}")
            if getattr(meta, "max_length", None) is not None:
                found.append(f"max length {meta.max_length}")
            if getattr(meta, "pattern", None) is not None:
                found.append(f"pattern {code(meta.pattern)}")
    return found


def type_text(tp: Any, metadata: list[Any] | None = None) -> str:
    """``tp`` in words: ``integer (≥ 1)``, ``list of string``, ``one of `a`, `b```, ``section``."""
    metadata = list(metadata or [])
    if get_origin(tp) is Annotated:
        inner, *meta = get_args(tp)
        return type_text(inner, [*metadata, *meta])
    origin, args = get_origin(tp), get_args(tp)
    extra = constraints(metadata, container=origin in (list, dict))
    suffix = (f", {', '.join(extra)}" if origin in (list, dict) else f" ({', '.join(extra)})") if extra else ""
    members = _union_args(tp)
    if members is not None:
        models = [m for m in members if _is_model(m)]
        if len(models) > 1 and all("kind" in m.model_fields for m in models):
            return "section by `kind`: " + ", ".join(code(kind_of(m)) for m in models) + suffix
        texts = [type_text(m) for m in members if m is not type(None)]
        optional = " or null" if type(None) in members else ""
        return " or ".join(texts) + optional + suffix
    if origin is Literal:
        return ("" if len(args) == 1 else "one of ") + ", ".join(code(a) for a in args) + suffix
    if origin is list:
        item = type_text(args[0])
        item = "sections" + item.removeprefix("section") if item.startswith("section") else item
        return f"list of {item}{suffix}"
    if origin is dict:
        return f"map of {type_text(args[0])} to {type_text(args[1])}{suffix}"
    if _is_model(tp):
        return "section"
    if isinstance(tp, type) and issubclass(tp, PurePath):
        return "path" + suffix
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + ", ".join(code(m.value) for m in tp) + suffix
    return _NAMES.get(tp, getattr(tp, "__name__", str(tp))) + suffix


def kind_of(model: type[BaseModel]) -> str:
    """The value of a model's ``kind: Literal[...]`` field."""
    return str(get_args(model.model_fields["kind"].annotation)[0])


def _json_value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_defaults=True)
    if isinstance(value, SecretStr):
        return "(secret)"
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_value(v) for v in value]
    return value


def default_text(field: FieldInfo) -> str:
    """The default as YAML would spell it; ``required`` without one, empty for a section of defaults."""
    if field.default is not PydanticUndefined:
        value = field.default
    elif field.default_factory is not None:
        if field.default_factory_takes_validated_data:
            return ""
        value = field.default_factory()  # type: ignore[call-arg]
    else:
        return "**required**"
    shown = _json_value(value)
    if isinstance(value, BaseModel) and not shown:
        return ""
    if shown is None:
        return code("null")
    if isinstance(shown, str):
        return code(shown) if shown else code('""')
    return code(json.dumps(shown, ensure_ascii=False))


@dataclass(frozen=True, slots=True)
class Nested:
    path: str
    model: type[BaseModel]
    label: str = ""  # `kind: sql` for one of several item shapes


def nested(path: str, tp: Any) -> list[Nested]:
    """The sections under a field of type ``tp`` at ``path``: through optional, lists (``[]``), mappings
    (``.<name>``) and unions (one per model, labelled by its ``kind``)."""
    if get_origin(tp) is Annotated:
        return nested(path, get_args(tp)[0])
    if _is_model(tp):
        return [Nested(path, tp)]
    members = _union_args(tp)
    if members is not None:
        found = [n for m in members for n in nested(path, m)]
        if len(found) > 1:
            found = [Nested(n.path, n.model, f"kind: {kind_of(n.model)}" if "kind" in n.model.model_fields else
                            n.model.__name__) for n in found]
        return found
    origin, args = get_origin(tp), get_args(tp)
    if origin is list:
        return nested(f"{path}[]", args[0])
    if origin is dict:
        return nested(f"{path}.<name>", args[1])
    return []


def _own_doc(model: type[BaseModel]) -> str | None:
    doc = model.__dict__.get("__doc__")
    return doc if isinstance(doc, str) else None


_DOC_KEY = re.compile(r"``(\w+)``:\s")


def docstring_fields(model: type[BaseModel]) -> dict[str, str]:
    """What the model's docstrings (its own, then its bases') say of a key in the form ```key``: text`` up to
    the next such key or the end of the paragraph."""
    found: dict[str, str] = {}
    for cls in model.__mro__:
        doc = _own_doc(cls) if isinstance(cls, type) and issubclass(cls, BaseModel) else None
        for paragraph in (doc or "").split("\n\n"):
            marks = [m for m in _DOC_KEY.finditer(paragraph) if m.group(1) in model.model_fields]
            ends = [m.start() for m in marks[1:]] + [len(paragraph)] if marks else []
            for mark, end in zip(marks, ends, strict=True):
                text = paragraph[mark.end():end]
                found.setdefault(mark.group(1), first_paragraph(text.strip().rstrip(";").strip()))
    return found


def _description(field: FieldInfo, tp: Any, documented: dict[str, str], name: str) -> str:
    if field.description:
        return " ".join(field.description.split())
    if name in documented:
        return documented[name]
    sections = nested("", tp)
    doc = _own_doc(sections[0].model) if len(sections) == 1 else None
    if not doc or _DOC_KEY.match(doc.strip()):  # a docstring made of its keys' texts: the keys show them
        return ""
    return _first_sentence(first_paragraph(doc))


def _first_sentence(text: str) -> str:
    end = re.search(r"\.\s", text)
    return text[:end.start() + 1] if end else text


def section(item: Nested, depth: int, seen: frozenset[type[BaseModel]] = frozenset()) -> Iterator[str]:
    """The heading, docstring and key table of one section, then its own sections one level deeper."""
    label = f" ({item.label})" if item.label else ""
    yield heading(depth, f"{item.path}{label}")
    yield ""
    doc = doc_text(_own_doc(item.model))
    if doc:
        yield doc
        yield ""
    rows, below = [], []
    documented = docstring_fields(item.model)
    for name, field in item.model.model_fields.items():
        tp = field.annotation
        path = f"{item.path}.{name}" if item.path else name
        rows.append((code(path), type_text(tp, list(field.metadata)), default_text(field),
                     _description(field, tp, documented, name)))
        below += [n for n in nested(path, tp) if n.model not in seen]
    yield from table(("key", "type", "default", "description"), rows)
    yield ""
    for sub in below:  # a kind's sections keep its label: `connectors[].tables[]` differs by kind
        yield from section(sub if sub.label else Nested(sub.path, sub.model, item.label), depth + 1,
                           seen | {item.model})


INTRO = [
    "crmhub reads one YAML file (`crmhub check -c FILE` validates it and lists every problem with its path). "
    "Every section is optional: an empty file runs the embedded demo. Keys are shown as dotted paths from the "
    "top of the file; `[]` stands for an item of a list and `<name>` for a key you choose in a mapping. A "
    "nested section has its own table below the one that names it; the connectors' items differ by `kind`, so "
    "each kind has its own section.",
    "",
    "String values may use `${VAR}`, `${VAR:-default}` and `${file:PATH}` (relative to the config file's "
    "folder); `$${` is a literal `${`. `config/crmhub.example.yaml` shows every section with comments.",
]


def render() -> str:
    body = list(section(Nested("", HubConfig), 1))
    body = body[body.index("") + 1:]  # the root's own heading: the page title says it
    return page("Configuration reference", INTRO, body)
