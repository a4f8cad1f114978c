"""Pairwise precision/recall/F1 of a clustering, counted through the contingency table."""

from __future__ import annotations

from itertools import combinations

import pytest

from pipelines.identity import pairwise_prf


def brute_force(predicted: dict[str, str], truth: dict[str, str]) -> tuple[int, int, int]:
    ids = sorted(predicted.keys() | truth.keys())
    tp = fp = fn = 0
    for a, b in combinations(ids, 2):
        same_p = a in predicted and b in predicted and predicted[a] == predicted[b]
        same_t = a in truth and b in truth and truth[a] == truth[b]
        tp += same_p and same_t
        fp += same_p and not same_t
        fn += same_t and not same_p
    return tp, fp, fn


def test_perfect_clustering() -> None:
    truth = {"a": "1", "b": "1", "c": "2", "d": "2", "e": "3"}
    prf = pairwise_prf({"a": "x", "b": "x", "c": "y", "d": "y", "e": "z"}, truth)
    assert (prf.precision, prf.recall, prf.f1) == (1.0, 1.0, 1.0)
    assert (prf.true_pos, prf.false_pos, prf.false_neg) == (2, 0, 0)


def test_over_merged_and_split_clusters() -> None:
    truth = {"a": "1", "b": "1", "c": "1", "d": "2", "e": "2"}
    predicted = {"a": "x", "b": "x", "c": "y", "d": "y", "e": "y"}  # c split off and merged with d, e
    prf = pairwise_prf(predicted, truth)
    assert (prf.true_pos, prf.false_pos, prf.false_neg) == (2, 2, 2)
    assert prf.precision == pytest.approx(0.5)
    assert prf.recall == pytest.approx(0.5)
    assert prf.f1 == pytest.approx(0.5)


def test_all_singletons_and_all_in_one() -> None:
    truth = {"a": "1", "b": "1", "c": "2"}
    singletons = pairwise_prf({"a": "a", "b": "b", "c": "c"}, truth)
    assert (singletons.precision, singletons.recall, singletons.f1) == (1.0, 0.0, 0.0)
    one = pairwise_prf({"a": "x", "b": "x", "c": "x"}, truth)
    assert (one.true_pos, one.false_pos, one.false_neg) == (1, 2, 0)
    assert one.precision == pytest.approx(1 / 3) and one.recall == 1.0


def test_records_missing_on_one_side_are_singletons() -> None:
    prf = pairwise_prf({"a": "x", "b": "x"}, {"a": "1", "b": "1", "c": "1"})
    assert (prf.true_pos, prf.false_pos, prf.false_neg) == (1, 0, 2)


def test_matches_brute_force_on_a_random_clustering() -> None:
    import random

    rng = random.Random(3)
    truth = {f"r{i}": f"t{rng.randrange(40)}" for i in range(300)}
    predicted = {r: (c if rng.random() < 0.8 else f"p{rng.randrange(60)}") for r, c in truth.items()}
    prf = pairwise_prf(predicted, truth)
    assert (prf.true_pos, prf.false_pos, prf.false_neg) == brute_force(predicted, truth)


def test_linear_on_a_large_input() -> None:
    truth = {str(i): str(i // 3) for i in range(30_000)}
    predicted = {str(i): str(i // 3) if i % 100 else f"alone{i}" for i in range(30_000)}  # 300 records split off
    prf = pairwise_prf(predicted, truth)
    assert prf.true_pos + prf.false_neg == 30_000  # 10,000 clusters of three: 3 pairs each
    assert (prf.false_pos, prf.false_neg) == (0, 600)
    assert prf.recall == 0.98
