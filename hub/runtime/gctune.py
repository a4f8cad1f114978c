"""Garbage-collector settings for crmhub's long-running processes (``crmhub run``, ``load``, ``demo``).

Unify allocates a few hundred thousand short-lived objects per batch (decoded JSON of candidates, scores,
survivorship). With CPython's default thresholds (700, 10, 10) the cyclic collector then runs thousands of
times per batch and re-scans the objects built at start-up each time; measured with
``bench/bench_unify.py`` this took about a third of the incremental time. The hub therefore freezes what
start-up built (``gc.freeze``: never scanned again) and collects the young generation every 50,000
allocations instead of 700. Reference counting still frees everything without cycles at once; only cyclic
garbage waits a little longer. Not applied inside test processes, which start and stop many hubs.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 50_000


def tune_gc(gen0: int = GEN0_THRESHOLD) -> tuple[int, int, int]:
    """Freeze the objects alive now and raise the young-generation threshold; returns the new thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(gen0, 20, 100)
    return gc.get_threshold()
