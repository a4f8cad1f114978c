"""Pairwise comparisons spread over the machine's cores, for the offline identity commands (`crmhub unify train`
scores tens of thousands of random and blocked pairs; one Python process uses one core).

The worker processes are forked, so they see the features and the match settings without copying them through
a pipe; only the pairs' indices go out and the small results come back. Below :data:`MIN_PAIRS` pairs, or on one
core, everything runs in this process: a pool costs more than it saves there.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pipelines.identity.config import MatchConfig
from pipelines.identity.features import Features

R = TypeVar("R")
PairFn = Callable[[Features, Features, MatchConfig], R]

MIN_PAIRS = 5_000
MAX_WORKERS = 4
_shared: tuple[Sequence[Features], Sequence[tuple[int, int]], MatchConfig, Callable[..., Any]] | None = None


def workers() -> int:
    """Worker processes worth starting: the cores this process may run on, at most :data:`MAX_WORKERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def _chunk(bounds: tuple[int, int]) -> list[Any]:
    assert _shared is not None
    feats, pairs, cfg, fn = _shared
    return [fn(feats[i], feats[j], cfg) for i, j in pairs[bounds[0]:bounds[1]]]


def map_pairs(fn: PairFn[R], feats: Sequence[Features], pairs: Sequence[tuple[int, int]],
              cfg: MatchConfig) -> list[R]:
    """``[fn(feats[i], feats[j], cfg) for i, j in pairs]``, in order, over several processes when it pays.
    ``fn`` must be a module-level function (the workers find it by name)."""
    n = workers()
    if n < 2 or len(pairs) < MIN_PAIRS or "fork" not in multiprocessing.get_all_start_methods():
        return [fn(feats[i], feats[j], cfg) for i, j in pairs]
    global _shared
    _shared = (feats, pairs, cfg, fn)
    try:
        step = -(-len(pairs) // (n * 4))  # a few chunks per worker, so a slow one does not hold the rest up
        with multiprocessing.get_context("fork").Pool(n) as pool:
            parts = pool.map(_chunk, [(s, s + step) for s in range(0, len(pairs), step)], chunksize=1)
    finally:
        _shared = None
    return [r for part in parts for r in part]
