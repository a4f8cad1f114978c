"""Mapping expressions, transforms and rules stay bounded on hostile source values: a backtracking pattern
runs out of time and fails that value (it does not hold the worker), and int() refuses numbers no integer
column holds instead of computing hundreds of thousands of digits."""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.expr import compile_expr
from pipelines.expr_functions import ExprEvalError
from pipelines.patterns import PatternTimeout, compiled, search
from pipelines.quality import build_rules, evaluate
from pipelines.transforms import TransformError, build_chain

BACKTRACKING = r"(a|aa)+$"
HOSTILE = "a" * 40 + "!"


def test_a_backtracking_search_runs_out_of_time_with_a_clear_error() -> None:
    with pytest.raises(PatternTimeout, match=r"took over 100 ms on a value of 41 characters"):
        search(compiled(BACKTRACKING), HOSTILE)
    assert search(compiled(BACKTRACKING), "aaaa")  # the same pattern on a fair value answers


def test_matches_in_an_expression_fails_the_value_not_the_worker() -> None:
    expr = compile_expr(f"matches(V, '{BACKTRACKING}')")
    assert expr({"V": "aaa"}) is True
    with pytest.raises(ExprEvalError, match=r"matches\(\): pattern .* took over"):
        expr({"V": HOSTILE})


def test_regex_replace_fails_the_value_with_the_reason() -> None:
    problems: list[str] = []
    chain = build_chain([{"regex_replace": {"pattern": BACKTRACKING, "repl": "x"}}], "f.transforms", problems)
    assert problems == []
    assert chain("aaa") == "x"
    with pytest.raises(TransformError, match="took over"):
        chain(HOSTILE)


def test_a_pattern_rule_reports_the_value_it_could_not_check() -> None:
    problems: list[str] = []
    rules = build_rules([{"rule": "pattern", "field": "tax_id", "regex": BACKTRACKING}], "customer", "rules",
                        problems)
    assert problems == []
    [outcome] = evaluate(rules, {"tax_id": HOSTILE})
    assert "could not be checked" in outcome.message and "took over" in outcome.message


@pytest.mark.parametrize(("value", "words"), [
    ("1e300000", "too large"),  # int() of it computed 300,000 digits for seconds
    ("9" * 150, "not a number"),  # longer than any number a column holds
    ("-1E+39", "too large"),
])
def test_int_refuses_numbers_no_integer_holds(value: str, words: str) -> None:
    with pytest.raises(ExprEvalError, match=words):
        compile_expr("int(V)")({"V": value})


@pytest.mark.parametrize(("value", "expected"), [("12", 12), (" 1e3 ", 1000), ("-7.9", -7), ("9" * 38, int("9" * 38))])
def test_int_still_reads_ordinary_numbers(value: Any, expected: int) -> None:
    assert compile_expr("int(V)")({"V": value}) == expected


def test_matching_keeps_the_interpreter_lock() -> None:
    """The hub runs many threads: a match that let go of the lock waited for it to come back on every value."""
    seen: list[dict[str, Any]] = []

    class Recording:
        pattern = "x"

        def search(self, text: str, **kw: Any) -> None:
            seen.append(kw)

        def sub(self, repl: str, text: str, **kw: Any) -> str:
            seen.append(kw)
            return text

    from pipelines.patterns import substitute
    search(Recording(), "x")
    substitute(Recording(), "", "x")
    Recording.pattern = BACKTRACKING
    search(Recording(), "x")
    substitute(Recording(), "", "x")
    assert [kw.get("concurrent") for kw in seen] == [False] * 4
    assert [bool(kw.get("timeout")) for kw in seen] == [False, False, True, True]  # see the tests below


@pytest.mark.parametrize(("pattern", "expected"), [
    (r"^AGT[0-9]{2}$", 0), (r"^[A-Z]{2}\d{9}[A-Z]{2}$", 0),  # fixed lengths only
    (r"(?i)^(mr|mrs|ms)\.? ", 1), (r"^\d{1,5}\d{1,5}x$", 2),  # short repeats of varying length count too
    (r"^\d+$", 1), (r"^(?:ab{2})+$", 1), (r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", 3), (r"(\d+\.){3}\d+", 4),
    (r"^(?=.*\d).{8,}$", 2),
    (BACKTRACKING, None), (r"(a+)+$", None), (r"^(a{1,3})+$", None),  # exponential
    (r"(?:a|a){16}!", None),  # an alternation inside a short repeat: 2 ** 16 ways
    (r"(?:abcdefghijkl){e<=8}", None),  # the regex package's fuzzy matching: literal text to the stdlib parser
    (r"(\w)\1", None),  # a back reference
    (r"\p{L}+", None),  # syntax of the regex package only: not analysed, keeps the bound
])
def test_degree_of_backtracking(pattern: str, expected: int | None) -> None:
    from pipelines.patterns import degree
    assert degree(pattern) == expected


def test_the_time_bound_is_skipped_only_where_it_cannot_be_needed() -> None:
    from pipelines.patterns import STEP_BUDGET, _bounded
    assert _bounded(compiled(r"^AGT[0-9]{2}$"), "AGT07")
    assert _bounded(compiled(r"^AGT[0-9]{2}$"), "A" * 100_000)  # no repeat of varying length: linear
    assert not _bounded(compiled(r"(?:[a-z]{16}){16}(?!a)"), "a" * 10_000)  # each start reads 256 characters
    email = compiled(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")  # three wide repeats: steps grow with the 5th power
    assert _bounded(email, "a.b@example.de")
    assert not _bounded(email, "anna.berger@example.com")
    assert 23 ** 5 > STEP_BUDGET >= 14 ** 5
    assert not _bounded(compiled(BACKTRACKING), "aa")
    assert search(email, "anna.berger@example.com") and not search(email, "anna berger@example")
