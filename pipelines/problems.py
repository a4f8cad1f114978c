"""Config problems as ``<path>: <message>`` strings, the way ``crmhub check`` prints them.

Shared by the mapping, transform and rule loaders so every problem names its place in the YAML file
(``targets[0].fields.credit_status.transforms[1]: unknown transform 'cod' (did you mean 'code'?)``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def join(base: str, *parts: str | int) -> str:
    """``join('targets[0]', 'fields', 'name')`` -> ``targets[0].fields.name``; ints become ``[i]``."""
    out = base
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def did_you_mean(word: str, choices: Iterable[str], what: str) -> str:
    options = sorted(choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"unknown {what} '{word}' (did you mean '{close[0]}'?)"
    return f"unknown {what} '{word}' (expected one of: {', '.join(options)})"


def validation_problems(exc: ValidationError, where: str) -> list[str]:
    """Pydantic errors as problems under ``where`` (inputs never echoed: they may be anything)."""
    out: list[str] = []
    for err in exc.errors():
        msg = err["msg"]
        if err["type"] in ("model_type", "model_attributes_type", "dict_type"):
            msg = "expected a mapping (key: value pairs)"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        elif msg[:1].isupper() and not msg[1:2].isupper():
            msg = msg[0].lower() + msg[1:]
        out.append(f"{join(where, *err['loc']) or '(root)'}: {msg}")
    return out


def validate(model: type[M], data: object, where: str, problems: list[str]) -> M | None:
    """``model`` built from ``data``, or None with the problems appended."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(validation_problems(exc, where))
        return None

