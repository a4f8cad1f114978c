"""YAML for mapping files and sample rows, without YAML 1.1's surprises for legacy code tables.

Only ``true``/``false`` are booleans (``Y``, ``N``, ``NO``, ``ON`` stay text: Norway keeps its code), numbers with
leading zeros (``01``) stay text, decimals are exact ``Decimal`` values (``0.10`` stays ``0.10``), and a key
given twice is a problem instead of silently keeping the last one.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml


class _Loader(yaml.SafeLoader):
    duplicates: list[str]


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"),
                              list("-+0123456789"))


def mapping_noting_duplicates(loader: Any, node: yaml.MappingNode) -> dict[Any, Any]:
    """A YAML mapping constructor that records duplicate keys in ``loader.duplicates`` (a list of str)."""
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, str | int | float | bool):
            continue  # unhashable keys: construct_mapping reports them
        if key in seen:
            mark = key_node.start_mark
            loader.duplicates.append(f"line {mark.line + 1}, column {mark.column + 1}: duplicate key '{key}'")
        seen.add(key)
    mapping: dict[Any, Any] = loader.construct_mapping(node)
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping_noting_duplicates)


def _decimal(loader: _Loader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return loader.construct_yaml_float(node)
    return number if number.is_finite() else loader.construct_yaml_float(node)


_Loader.add_constructor("tag:yaml.org,2002:float", _decimal)


def parse_yaml(text: str, name: str) -> tuple[Any, list[str]]:
    """Parsed YAML (code-table friendly, see the module doc) and its problems (syntax, duplicate keys)."""
    return load_reporting(_Loader, text, name)


def load_reporting(loader_class: type[yaml.SafeLoader], text: str, name: str) -> tuple[Any, list[str]]:
    """``text`` loaded with ``loader_class`` (whose constructors note duplicate keys in ``duplicates``), and
    its problems named after ``name``: a syntax error with its position, or every duplicate key."""
    loader = loader_class(text)
    loader.duplicates = []  # type: ignore[attr-defined]
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        return None, [f"{name}: {where}YAML syntax error: {exc.problem or exc.context}"]
    except yaml.YAMLError as exc:
        return None, [f"{name}: YAML error: {type(exc).__name__}"]
    finally:
        loader.dispose()
    return data, [f"{name}: {d}" for d in loader.duplicates]  # type: ignore[attr-defined]
