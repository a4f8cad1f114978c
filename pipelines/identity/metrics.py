"""Pairwise precision, recall and F1 of a clustering against the truth, counted through cluster sizes.

A pair of records is a true positive when both clusterings put the two records together. The counts come
from the contingency table of (predicted cluster, true cluster) sizes: ``sum(C(n, 2))`` over its cells is
the number of true positives, over the predicted clusters the predicted pairs, over the true clusters the
true pairs, so the cost is linear in the number of records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import NamedTuple


class PRF(NamedTuple):
    precision: float
    recall: float
    f1: float
    true_pos: int
    false_pos: int
    false_neg: int


def _pairs(sizes: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes)


def pairwise_prf(predicted: Mapping[str, str], truth: Mapping[str, str]) -> PRF:
    """Both map record id -> cluster id. A record missing from one side is a singleton there. With no
    predicted pairs precision is 1.0; with no true pairs recall is 1.0."""
    missing = object()
    cells: Counter[tuple[object, object]] = Counter()
    for record in predicted.keys() | truth.keys():
        p = predicted.get(record, missing)
        t = truth.get(record, missing)
        cells[(("r", record) if p is missing else ("c", p), ("r", record) if t is missing else ("c", t))] += 1
    pred_sizes: Counter[object] = Counter()
    true_sizes: Counter[object] = Counter()
    for (p, t), n in cells.items():
        pred_sizes[p] += n
        true_sizes[t] += n
    tp = _pairs(cells.values())
    pred_pairs, true_pairs = _pairs(pred_sizes.values()), _pairs(true_sizes.values())
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PRF(precision, recall, f1, tp, pred_pairs - tp, true_pairs - tp)
