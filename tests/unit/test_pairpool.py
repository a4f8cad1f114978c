"""Pair comparisons spread over worker processes: the same results, in the same order, as one process gives."""

from __future__ import annotations

import random
from functools import partial

import pytest

from bench.identity_data import generate
from hub.runtime import pairpool
from pipelines.identity import Features, MatchConfig, features
from pipelines.identity.scoring import total_score
from pipelines.identity.training import comparison, comparisons, random_pairs, train


@pytest.fixture
def feats() -> list[Features]:
    return [features(customer, src, key) for src, key, customer, _entity in generate(600, 5)]


def test_pairs_spread_over_processes_give_the_serial_results_in_order(feats: list[Features],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pairpool, "workers", lambda: 2)
    monkeypatch.setattr(pairpool, "MIN_PAIRS", 10)
    pairs = random_pairs(len(feats), 3000, random.Random(1)) + [(i, i + 1) for i in range(0, 400, 2)]
    cfg = MatchConfig()
    serial = [comparison(feats[i], feats[j], cfg) for i, j in pairs]
    assert pairpool.map_pairs(comparison, feats, pairs, cfg) == serial
    assert pairpool.map_pairs(total_score, feats, pairs, cfg) == [total_score(feats[i], feats[j], cfg)
                                                                  for i, j in pairs]
    assert pairpool._shared is None  # nothing kept alive after the pool


def test_training_with_the_pool_learns_the_serial_model(feats: list[Features],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pairpool, "workers", lambda: 2)
    monkeypatch.setattr(pairpool, "MIN_PAIRS", 10)
    cfg = MatchConfig()
    serial = train(feats, cfg, sample=4000, compare=comparisons)
    pooled = train(feats, cfg, sample=4000, compare=partial(pairpool.map_pairs, comparison))
    assert pooled.model.weights == serial.model.weights and serial.model.weights
    assert (pooled.model.link, pooled.model.review) == (serial.model.link, serial.model.review)


def test_few_pairs_or_one_core_stay_in_this_process(feats: list[Features], monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*_a: object, **_k: object) -> None:
        raise AssertionError("a pool was started")

    monkeypatch.setattr(pairpool.multiprocessing, "get_context", no_pool)
    cfg = MatchConfig()
    pairs = [(0, 1), (2, 3)]
    assert pairpool.map_pairs(comparison, feats, pairs, cfg) == [comparison(feats[0], feats[1], cfg),
                                                                 comparison(feats[2], feats[3], cfg)]
    monkeypatch.setattr(pairpool, "workers", lambda: 1)
    monkeypatch.setattr(pairpool, "MIN_PAIRS", 1)
    assert len(pairpool.map_pairs(comparison, feats, pairs * 100, cfg)) == 200
