"""The functions an expression may call (:data:`FUNCTIONS`), null-safe as the language is (:mod:`pipelines.expr`):
a ``None`` argument gives ``None`` (``coalesce``, ``concat`` and ``is_null`` excepted)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any


class ExprEvalError(ValueError):
    """The expression could not be evaluated over these values (e.g. ``'a' - 1``, division by zero)."""




def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return str(int(value)) if isinstance(exponent, int) and exponent >= 0 else str(value)
    return value if isinstance(value, str) else str(value)


def _str_fn(fn: Callable[[str], Any]) -> Callable[[Any], Any]:
    def call(value: Any) -> Any:
        text = _text(value)
        return None if text is None else fn(text)

    return call


def _len(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, (str, list, tuple, dict)):
        return len(value)
    return len(str(value))


def _concat(*parts: Any) -> str:
    return "".join(t for t in map(_text, parts) if t is not None)


def _coalesce(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _min(*values: Any) -> Any:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _max(*values: Any) -> Any:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _round(value: Any, digits: Any = 0) -> Any:
    return None if value is None else round(value, int(digits))


def _abs(value: Any) -> Any:
    return None if value is None else abs(value)


def _int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    try:
        number = Decimal(value) if isinstance(value, str) else value
        return int(number)
    except (InvalidOperation, ValueError, TypeError):
        raise ExprEvalError(f"int(): not a number: {value!r}"[:200]) from None


def _startswith(value: Any, prefix: Any) -> bool | None:
    text = _text(value)
    return None if text is None else text.startswith(_text(prefix) or "")


def _endswith(value: Any, suffix: Any) -> bool | None:
    text = _text(value)
    return None if text is None else text.endswith(_text(suffix) or "")


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@lru_cache(maxsize=256)
def cached_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled once (the ``matches`` function and the compiler's check of literal patterns)."""
    return re.compile(pattern)


def _matches(value: Any, pattern: Any) -> bool | None:
    text = _text(value)
    return None if text is None else cached_regex(str(pattern)).search(text) is not None


#: name -> (function, minimum argument count, maximum argument count or None for any)
FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int | None]] = {
    "len": (_len, 1, 1),
    "lower": (_str_fn(str.lower), 1, 1),
    "upper": (_str_fn(str.upper), 1, 1),
    "trim": (_str_fn(str.strip), 1, 1),
    "concat": (_concat, 1, None),
    "coalesce": (_coalesce, 1, None),
    "abs": (_abs, 1, 1),
    "min": (_min, 1, None),
    "max": (_max, 1, None),
    "round": (_round, 1, 2),
    "int": (_int, 1, 1),
    "str": (_text, 1, 1),
    "startswith": (_startswith, 2, 2),
    "endswith": (_endswith, 2, 2),
    "matches": (_matches, 2, 2),
    "is_null": (_is_null, 1, 1),
}
