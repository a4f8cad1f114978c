"""The plumbing under ``hub.config``: YAML parsing, ``${...}`` interpolation, and problem reporting.

``hub.config`` holds the models and the public ``load_config``; this module keeps the mechanics apart so
both stay small. Problems are plain strings ``<path>: <message>``; resolved values and raw inputs never
appear in them (they may be secrets).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic_core import ErrorDetails

from pipelines.yaml_text import load_reporting, mapping_noting_duplicates
from schemas.errors import ConfigError

Loc = tuple[str | int, ...]


def format_path(loc: Sequence[str | int]) -> str:
    """``('connectors', 1, 'tables', 0, 'name')`` -> ``connectors[1].tables[0].name``."""
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(root)"


# --- problems: paths and messages -----------------------------------------------------------------------


def display_loc(loc: Sequence[str | int], kinds: Sequence[str]) -> Loc:
    """Drop the discriminator tag pydantic inserts after ``connectors[i]``."""
    return tuple(
        part
        for i, part in enumerate(loc)
        if not (i >= 2 and loc[i - 2] == "connectors" and isinstance(loc[i - 1], int) and part in kinds)
    )


def problem_text(err: ErrorDetails, kinds: Sequence[str]) -> str:
    """One validation error as ``<path>: <message>``, the connector kind tag dropped from the path."""
    loc, kind, msg = display_loc(err["loc"], kinds), err["type"], err["msg"]
    expected = ", ".join(kinds)
    if kind == "union_tag_not_found":
        loc, msg = (*loc, "kind"), f"field required (one of: {expected})"
    elif kind == "union_tag_invalid":
        given = err.get("input")
        tag = given.get("kind") if isinstance(given, Mapping) else None
        loc, msg = (*loc, "kind"), f"unknown connector kind '{tag}' (expected one of: {expected})"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        msg = "expected a mapping (key: value pairs)"
    elif msg[:1].isupper() and not msg[1:2].isupper():
        msg = msg[0].lower() + msg[1:]
    return f"{format_path(loc)}: {msg}"


# --- interpolation --------------------------------------------------------------------------------------

_REF = re.compile(r"\$(\$?)\{([^{}]*)\}")
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Unresolved(Exception):
    pass


class Interpolator:
    """Expands references in every string value of a parsed YAML tree, collecting problems by path."""

    def __init__(self, env: Mapping[str, str], base_dir: Path) -> None:
        self.env = env
        self.base_dir = base_dir
        self.problems: list[str] = []
        self.problem_locs: set[Loc] = set()

    def walk(self, node: Any, loc: Loc = ()) -> Any:
        if isinstance(node, dict):
            return {key: self.walk(value, (*loc, key)) for key, value in node.items()}
        if isinstance(node, list):
            return [self.walk(value, (*loc, index)) for index, value in enumerate(node)]
        if isinstance(node, str) and "$" in node:
            return self._expand(node, loc)
        return node

    def _expand(self, text: str, loc: Loc) -> str:
        def replace(match: re.Match[str]) -> str:
            if match.group(1):  # $${...} is the literal text ${...}
                return match.group(0)[1:]
            try:
                return self._resolve(match.group(2))
            except _Unresolved as exc:
                self.problems.append(f"{format_path(loc)}: {exc}")
                self.problem_locs.add(loc)
                return ""

        result = _REF.sub(replace, text)
        if "${" in _REF.sub("", text):
            self.problems.append(f"{format_path(loc)}: unterminated '${{' (write '$${{' for a literal '${{')")
        return result

    def _resolve(self, expr: str) -> str:
        if expr.startswith("file:"):
            return self._read_file(expr[len("file:") :].strip())
        name, has_default, default = expr.partition(":-")
        name = name.strip()
        if not _VAR_NAME.match(name):
            raise _Unresolved(
                f"invalid reference '${{{expr}}}' (expected ${{VAR}}, ${{VAR:-default}} or ${{file:PATH}})"
            )
        value = self.env.get(name)
        if has_default and not value:
            return default
        if value is None:
            raise _Unresolved(
                f"environment variable {name} is not set (use ${{{name}:-default}} to allow that)"
            )
        return value

    def _read_file(self, name: str) -> str:
        if not name:
            raise _Unresolved("empty path in ${file:}")
        path = Path(name).expanduser()
        path = path if path.is_absolute() else self.base_dir / path
        try:
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise _Unresolved(f"file '{name}' is not UTF-8 text") from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise _Unresolved(f"cannot read file '{name}' (relative to {self.base_dir}): {reason}") from None


# --- YAML ---------------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Safe loader that also reports duplicate keys (YAML would silently keep the last one)."""

    duplicates: list[str]


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping_noting_duplicates)


def parse_yaml(text: str, source_name: str) -> tuple[Any, list[str]]:
    """Safe-load ``text`` (empty -> ``{}``) and its duplicate keys as problems, to be listed with the others
    (YAML keeps the last value); a syntax error raises ``ConfigError``."""
    data, problems = load_reporting(_Loader, text, source_name)
    if data is None and problems:
        raise ConfigError(problems)
    return ({} if data is None else data), problems
