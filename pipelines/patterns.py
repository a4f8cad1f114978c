"""Regular expressions of mappings, rules and expressions, bounded in time: a pattern runs over source values
nobody has seen before, and a backtracking pattern (``(a|aa)+$``) on a crafted value could hold a worker for
seconds. Patterns use the ``regex`` package (the ``re`` syntax, with a per-call timeout): a search or
substitution that takes longer than ``TIMEOUT_S`` raises ``PatternTimeout`` (a ``ValueError``), which the
caller turns into its usual failure (the value fails the rule, the transform or the expression).

Matching keeps the interpreter lock (``concurrent=False``): by default ``regex`` lets go of it for every match
on a ``str``, and taking it back waits for whichever of the hub's other threads holds it, up to the
interpreter's switch interval. With one other busy thread a search of a 5-character value took 75-110 µs
instead of 1.2 µs (``bench/bench_stages.py``: a fifth of the canonicalize stage). A match is bounded by
``TIMEOUT_S``, so the lock is never held for long.

The time bound itself is not free: ``regex`` reads a clock while it matches, and inside the hub that made a
search of a 5-character value take 170 µs of wall time instead of 20 (``bench/bench_e2e.py``, 1,000 changes/s).
So a pattern whose backtracking is provably polynomial (:func:`degree`) runs without it on values short enough
that the worst case stays under ``STEP_BUDGET`` steps; every other pattern or value keeps the bound."""

from __future__ import annotations

import re
from functools import lru_cache
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any, TypeAlias

import regex

TIMEOUT_S = 0.1
STEP_BUDGET = 1_000_000  # backtracking steps a match may take without the time bound (milliseconds at worst)
WIDE = 16  # a repeat allowing more than this many repetitions is wide: it multiplies the ways to match
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
    """Whether ``pattern`` occurs in ``text`` (within the time bound, unless it cannot be needed)."""
    if _bounded(pattern, text):
        return pattern.search(text, concurrent=False) is not None
    try:
        return pattern.search(text, timeout=TIMEOUT_S, concurrent=False) is not None
    except TimeoutError:
        raise _timeout(pattern, text) from None


def substitute(pattern: Pattern, repl: str, text: str) -> str:
    """``text`` with every occurrence of ``pattern`` replaced (within the time bound, unless it cannot be
    needed)."""
    if _bounded(pattern, text):
        return str(pattern.sub(repl, text, concurrent=False))
    try:
        return str(pattern.sub(repl, text, timeout=TIMEOUT_S, concurrent=False))
    except TimeoutError:
        raise _timeout(pattern, text) from None


def _bounded(pattern: Pattern, text: str) -> bool:
    """Whether the worst case of ``pattern`` on ``text`` stays under :data:`STEP_BUDGET`: about
    ``len(text) ** (degree + 1) * width`` steps (each start position, times the ways to split the text between
    the repeats of varying length, times the characters one attempt reads: the longest match, or the text)."""
    shape = _shape(pattern.pattern, getattr(pattern, "flags", 0) & re.VERBOSE)
    if shape is None:
        return False
    d, width = shape
    n = len(text)
    return d < 12 and n ** (d + 1) * max(1, min(width, n)) <= STEP_BUDGET


def degree(pattern: str, flags: int = 0) -> int | None:
    """The number of repeats of varying length (wide ones, ``+``, ``*``, ``{2,}``, and short ones, ``?``, ``{1,3}``)
    of a pattern whose backtracking is polynomial in the length of the text; None if it may be exponential (a
    repeat of varying length inside a wide repeat, ``(a+)+``; an alternation inside any repeat, ``(a|aa)+``,
    ``(?:a|a){16}``; a back reference) or if the standard library's parser does not read it the way ``regex``
    does (syntax only ``regex`` has; its fuzzy matching, ``{e<=2}``, is literal text to the standard library)."""
    shape = _shape(pattern, flags)
    return None if shape is None else shape[0]


_FUZZY = re.compile(r"\{[^}]*[A-Za-z<>=][^}]*\}")


@lru_cache(maxsize=512)
def _shape(pattern: str, flags: int) -> tuple[int, int] | None:
    """(degree, the longest match: ``MAXREPEAT`` when unbounded), or None (see :func:`degree`)."""
    if _FUZZY.search(pattern):
        return None
    try:
        tree = _parser.parse(pattern, flags)  # the parser ``re`` itself compiles with
    except Exception:  # unreadable here means "keep the time bound", never an error
        return None
    d = _degree(list(tree), False, False)
    return None if d is None else (d, int(tree.getwidth()[1]))


def _degree(items: list[tuple[Any, Any]], in_wide: bool, in_repeat: bool) -> int | None:
    total = 0
    for op, av in items:
        if op in (c.GROUPREF, c.GROUPREF_EXISTS):
            return None
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            low, high, body = av
            wide = high == c.MAXREPEAT or high > WIDE
            if in_wide and low != high:
                return None
            inner = _degree(list(body), in_wide or wide, in_repeat or high > 1)
            if inner is None:
                return None
            # a repeat that may stop at several lengths is one more way to split the text, even a short one
            total += inner + 1 if wide else inner * high + (low != high)
        elif op == c.BRANCH:
            if in_repeat:
                return None
            options = [_degree(list(b), in_wide, in_repeat) for b in av[1]]
            if None in options:
                return None
            total += max(d for d in options if d is not None)
        elif op == c.SUBPATTERN or op in (c.ASSERT, c.ASSERT_NOT):
            inner = _degree(list(av[-1]), in_wide, in_repeat)
            if inner is None:
                return None
            total += inner
        elif op == c.ATOMIC_GROUP:
            inner = _degree(list(av), in_wide, in_repeat)
            if inner is None:
                return None
            total += inner
    return total
