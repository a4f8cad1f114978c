"""The safe expression language: what it computes, its null semantics, and what it refuses."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from pipelines.expr import MAX_LENGTH, ExprError, ExprEvalError, compile_expr


def ev(text: str, **values: Any) -> Any:
    return compile_expr(text)(values)


def test_arithmetic_and_comparisons() -> None:
    assert ev("a * 2 + b", a=3, b=4) == 10
    assert ev("a // 2 + a % 2", a=7) == 4
    assert ev("(a - 1) / 4", a=Decimal("3")) == Decimal("0.5")
    assert ev("limit + 0.1", limit=Decimal("1.00")) == Decimal("1.10")  # floats meet decimals as Decimal
    assert ev("1 < a <= 3", a=3) is True
    assert ev("1 < a <= 3", a=4) is False
    assert ev("-a", a=Decimal("2.5")) == Decimal("-2.5")


def test_boolean_logic_and_conditional() -> None:
    assert ev("status != 'FROZEN' or limit >= 0", status="FROZEN", limit=Decimal("-1")) is False
    assert ev("status != 'FROZEN' or limit >= 0", status="OK", limit=None) is True
    assert ev("not a and b", a=False, b=True) is True
    assert ev("'big' if amount > 100 else 'small'", amount=150) == "big"
    assert ev("'big' if amount > 100 else 'small'", amount=5) == "small"


def test_membership_lists_and_tuples() -> None:
    assert ev("code in ['A', 'H']", code="H") is True
    assert ev("code not in ('A', 'H')", code="F") is True
    assert ev("'x' in name", name="taxi") is True
    assert ev("code in missing") is False
    assert ev("code not in missing", code="A") is False  # null container: neither in nor not in
    assert ev("1 in name", name="abc") is False  # a type mismatch is simply not found
    assert ev("[a, b]", a=1, b=2) == [1, 2]


def test_missing_names_are_null_and_null_propagates() -> None:
    assert ev("nothing") is None
    assert ev("nothing + 1") is None
    assert ev("nothing > 1") is False
    assert ev("nothing < 1") is False
    assert ev("nothing is null") is True
    assert ev("x == null", x=None) is True
    assert ev("true and not false") is True


def test_subscripts_read_source_rows_and_lists() -> None:
    assert ev("src['CUST#']", src={"CUST#": 7}) == 7
    assert ev("src['GONE']", src={"CUST#": 7}) is None
    assert ev("addresses[0]['country']", addresses=[{"country": "DE"}]) == "DE"
    assert ev("addresses[3]", addresses=[]) is None
    assert ev("missing['x']") is None
    assert ev("name[0]", name="Anna") == "A"


def test_functions() -> None:
    assert ev("len(name)", name="Anna") == 4
    assert ev("len(name)") is None
    assert ev("len(items)", items=[1, 2]) == 2
    assert ev("upper(trim(name))", name="  anna ") == "ANNA"
    assert ev("lower(name)") is None
    assert ev("concat(first, ' ', last)", first="Ann", last="Lee") == "Ann Lee"
    assert ev("concat(first, '-', last)", last="Lee") == "-Lee"  # nulls are skipped
    assert ev("concat('#', n)", n=Decimal("104711")) == "#104711"
    assert ev("coalesce(a, b, 'x')", b="B") == "B"
    assert ev("coalesce(a, b)") is None
    assert ev("abs(a)", a=-3) == 3
    assert ev("min(a, b, c)", a=5, b=None, c=2) == 2
    assert ev("max(a, b)", a=None, b=None) is None
    assert ev("round(a, 1)", a=Decimal("2.345")) == Decimal("2.3")
    assert ev("int(a) + 1", a=" 41 ") == 42
    assert ev("int(a)", a="") is None
    assert ev("str(a)", a=Decimal("12")) == "12"
    assert ev("str(a)", a=Decimal("12.50")) == "12.50"
    assert ev("startswith(phone, '+49')", phone="+49891234") is True
    assert ev("endswith(name, 'GMBH')", name="MUELLER GMBH") is True
    assert ev("matches(tax_id, '^[A-Z]{2}[0-9]+$')", tax_id="DE123") is True
    assert ev("matches(tax_id, '^[A-Z]{2}[0-9]+$')", tax_id="123") is False
    assert ev("matches(tax_id, 'x')") is None
    assert ev("is_null(a)", a="   ") is True
    assert ev("is_null(a)", a="x") is False


def test_names_lists_what_the_expression_reads() -> None:
    expr = compile_expr("concat(trim(FIRST), src['X'], null) if LAST else coalesce(MIDDLE, true)")
    assert expr.names == frozenset({"FIRST", "src", "LAST", "MIDDLE"})
    assert expr.text.startswith("concat(")


def test_compiled_once_evaluated_many_times() -> None:
    expr = compile_expr("a + 1")
    assert [expr({"a": i}) for i in range(3)] == [1, 2, 3]


@pytest.mark.parametrize(("text", "fragment"), [
    ("__import__('os').system('x')", "no methods"),
    ("__import__('os')", "unknown function '__import__'"),
    ("open('/etc/passwd')", "unknown function 'open'"),
    ("a.b", "attribute access"),
    ("x ** 2", "'**'"),
    ("x << 2", "'<<'"),
    ("lambda: 1", "lambda"),
    ("[i for i in x]", "comprehension"),
    ("{'a': 1}", "dict literal"),
    ("{1, 2}", "set literal"),
    ("f'{x}'", "f-string"),
    ("(y := 1)", "':='"),
    ("x[1:2]", "slices"),
    ("len()", "len() takes 1 argument, got 0"),
    ("len(a, b)", "len() takes 1 argument, got 2"),
    ("concat()", "at least 1"),
    ("lower(s=x)", "positional arguments only"),
    ("len(*x)", "positional"),
    ("matches(x, y)", "constant regular expression"),
    ("matches(x, '[')", "bad regular expression"),
    ("1 +", "syntax error"),
    ("", "empty expression"),
    ("b'x'", "constant"),
])
def test_forbidden_or_broken_expressions(text: str, fragment: str) -> None:
    with pytest.raises(ValueError) as caught:
        compile_expr(text)
    assert isinstance(caught.value, ExprError)
    assert fragment in str(caught.value)


def test_size_limits() -> None:
    with pytest.raises(ExprError, match="longer than"):
        compile_expr("a" * (MAX_LENGTH + 1))
    with pytest.raises(ExprError, match="too complex"):
        compile_expr(" + ".join(["a"] * 300))


@pytest.mark.parametrize(("text", "values"), [
    ("a - 1", {"a": "x"}),
    ("a / b", {"a": 1, "b": 0}),
    ("a / b", {"a": Decimal(1), "b": Decimal(0)}),
    ("a * 3", {"a": "ab"}),
    ("a < 1", {"a": "x"}),
    ("-a", {"a": "x"}),
    ("int(a)", {"a": "twelve"}),
])
def test_evaluation_errors_are_value_errors(text: str, values: dict[str, Any]) -> None:
    with pytest.raises(ExprEvalError):
        compile_expr(text)(values)
