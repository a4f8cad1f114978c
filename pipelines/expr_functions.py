"""The functions an expression may call (:data:`FUNCTIONS`), null-safe as the language is (:mod:`pipelines.expr`):
a ``None`` argument gives ``None`` (``coalesce``, ``concat`` and ``is_null`` excepted)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from pipelines.patterns import Pattern, compiled, search


class ExprEvalError(ValueError):
    """The expression could not be evaluated over these values (e.g. ``'a' - 1``, division by zero)."""


#: ``int()`` of a value: text longer than this is no number; a number with more digits than this (beyond any
#: 128-bit integer) is refused rather than computed (``int('1e300000')`` took seconds of CPU)
MAX_NUMBER_TEXT = 100
MAX_INT_DIGITS = 38




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
        number = Decimal(value[:MAX_NUMBER_TEXT]) if isinstance(value, str) else value
        if isinstance(value, str) and len(value) > MAX_NUMBER_TEXT:
            raise ValueError("too long")
        if isinstance(number, Decimal) and number.is_finite() and number.adjusted() > MAX_INT_DIGITS:
            raise ExprEvalError(f"int(): {number:.3e} is too large (more than {MAX_INT_DIGITS} digits)")
        return int(number)
    except (InvalidOperation, ValueError, TypeError, OverflowError) as exc:
        if isinstance(exc, ExprEvalError):
            raise
        raise ExprEvalError(f"int(): not a number: {value!r}"[:200]) from None


def _startswith(value: Any, prefix: Any) -> bool | None:
    text = _text(value)
    return None if text is None else text.startswith(_text(prefix) or "")


def _endswith(value: Any, suffix: Any) -> bool | None:
    text = _text(value)
    return None if text is None else text.endswith(_text(suffix) or "")


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cached_regex(pattern: str) -> Pattern:
    """``pattern`` compiled once (the ``matches`` function and the compiler's check of literal patterns)."""
    return compiled(pattern)


def _matches(value: Any, pattern: Any) -> bool | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return search(cached_regex(str(pattern)), text)
    except ValueError as exc:  # a bad pattern from the data, or one that ran out of time on this value
        raise ExprEvalError(f"matches(): {exc}"[:200]) from None


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
