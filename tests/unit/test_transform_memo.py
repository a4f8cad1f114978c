"""A transform chain keeps the results of recent values: the same results as computing them again."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipelines.transforms import TransformError, build_chain


def chain(*specs: object) -> object:
    problems: list[str] = []
    built = build_chain(list(specs), "f", problems)
    assert not problems
    return built


def test_equal_values_of_other_types_or_scales_keep_their_own_results() -> None:
    values = (Decimal("1.0"), Decimal("1.00"), 1, True, 1.0, "1", Decimal("1.0"), True, 1)
    fresh = [chain("string")(v) for v in values]  # type: ignore[operator]
    assert fresh[:6] == ["1.0", "1.00", "1", "true", "1", "1"]
    kept = chain("string")
    assert [kept(v) for v in values] == fresh  # type: ignore[operator]


def test_a_failing_value_fails_every_time_and_results_are_computed_again_past_the_memo() -> None:
    number = chain("number")
    assert callable(number)
    for _ in range(2):
        with pytest.raises(TransformError):
            number("not a number")
    values = [f"{i}.5" for i in range(number.MEMO_SIZE + 10)]  # type: ignore[attr-defined]
    assert [number(v) for v in values] == [Decimal(v) for v in values]
    assert number(values[0]) == Decimal("0.5")
