"""Regular expressions of mappings, rules and expressions, bounded in time: a pattern runs over source values
nobody has seen before, and a backtracking pattern (``(a|aa)+$``) on a crafted value could hold a worker for
seconds. Patterns use the ``regex`` package (the ``re`` syntax, with a per-call timeout): a search or
substitution that takes longer than ``TIMEOUT_S`` raises ``PatternTimeout`` (a ``ValueError``), which the
caller turns into its usual failure (the value fails the rule, the transform or the expression).

Matching keeps the interpreter lock (``concurrent=False``): by default ``regex`` lets go of it for every match
on a ``str``, and taking it back waits for whichever of the hub's other threads holds it, up to the
interpreter's switch interval. With one other busy thread a search of a 5-character value took 75-110 µs
instead of 1.2 µs (``bench/bench_stages.py``: a fifth of the canonicalize stage). A match is bounded by
``TIMEOUT_S``, so the lock is never held for long."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeAlias

import regex

TIMEOUT_S = 0.1
Pattern: TypeAlias = Any  # a compiled ``regex`` pattern (the package ships no type hints)


class PatternTimeout(ValueError):
    """A pattern took longer than its time bound on one value."""


@lru_cache(maxsize=512)
def compiled(pattern: str, ignore_case: bool = False) -> Pattern:
    """``pattern`` compiled once; ``ValueError`` naming the problem if it is not a valid expression."""
    try:
        return regex.compile(pattern, regex.IGNORECASE if ignore_case else 0)
    except regex.error as exc:
        raise ValueError(f"bad regular expression: {exc}") from None


def _timeout(pattern: Pattern, text: str) -> PatternTimeout:
    return PatternTimeout(f"pattern {pattern.pattern[:60]!r} took over {TIMEOUT_S * 1000:.0f} ms on a value of "
                          f"{len(text)} characters")


def search(pattern: Pattern, text: str) -> bool:
    """Whether ``pattern`` occurs in ``text`` (within the time bound)."""
    try:
        return pattern.search(text, timeout=TIMEOUT_S, concurrent=False) is not None
    except TimeoutError:
        raise _timeout(pattern, text) from None


def substitute(pattern: Pattern, repl: str, text: str) -> str:
    """``text`` with every occurrence of ``pattern`` replaced (within the time bound)."""
    try:
        return str(pattern.sub(repl, text, timeout=TIMEOUT_S, concurrent=False))
    except TimeoutError:
        raise _timeout(pattern, text) from None
