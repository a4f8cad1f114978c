"""Data-quality results over time, for the operations dashboard's data-quality view.

Every canonicalized batch adds its rule failures (rejections at level ``error``, warnings at level
``warning``) per ``(source, table, rule, level)`` to fixed time buckets (one minute by default, the last day
kept), with the last few sample records of each, so the sources of bad data can be found and fixed. The
totals since start are also in the Prometheus counter ``crmhub_dq_results_total``; this keeps the shape over
time and the samples, in memory (a restart starts a new series).
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.canonicalize import CanonResult
from pipelines.quality import WARNING

Key = tuple[str, str, str, str]  # source, table, rule, level


@dataclass
class _Series:
    total: int = 0
    buckets: dict[int, int] = field(default_factory=dict)  # bucket start (ms) -> count
    samples: deque[dict[str, Any]] = field(default_factory=deque)


class DqStats:
    """Thread-safe: the canonicalize worker adds, the admin API reads."""

    def __init__(self, bucket_ms: int = 60_000, keep_buckets: int = 24 * 60, samples: int = 5) -> None:
        self.bucket_ms = bucket_ms
        self.keep_buckets = keep_buckets
        self.max_samples = samples
        self._series: dict[Key, _Series] = {}
        self._lock = threading.Lock()

    def add(self, results: CanonResult | Iterable[CanonResult], now_ms: int) -> None:
        bucket = now_ms - now_ms % self.bucket_ms
        oldest = bucket - (self.keep_buckets - 1) * self.bucket_ms
        with self._lock:
            for key, sample in _failures([results] if isinstance(results, CanonResult) else results):
                s = self._series.setdefault(key, _Series(samples=deque(maxlen=self.max_samples)))
                s.total += 1
                s.buckets[bucket] = s.buckets.get(bucket, 0) + 1
                s.samples.append({"ts_ms": now_ms, **sample})
                for old in [b for b in s.buckets if b < oldest]:
                    del s.buckets[old]

    def summary(self) -> list[dict[str, Any]]:
        """One entry per source, table, rule and level: total, per-bucket counts (oldest first), samples
        (newest last); the worst offenders first."""
        with self._lock:
            rows = [{"source": k[0], "table": k[1], "rule": k[2], "level": k[3], "total": s.total,
                     "series": sorted(s.buckets.items()), "samples": list(s.samples)}
                    for k, s in self._series.items()]
        return sorted(rows, key=lambda r: (-r["total"], r["source"], r["table"], r["rule"]))


def save_summary(stats: DqStats, path: Path) -> None:
    """Write ``stats.summary()`` to ``path`` as JSON, atomically (a reader sees the old file or the new one):
    how a canonicalize stage in a process of its own shows its data-quality view to the demo's gateway."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(stats.summary(), default=str))
    os.replace(tmp, path)


def load_summary(path: Path) -> list[dict[str, Any]]:
    """What :func:`save_summary` wrote; empty when nothing was written yet."""
    try:
        return list(json.loads(path.read_text()))
    except FileNotFoundError:
        return []


def _failures(results: Iterable[CanonResult]) -> Iterable[tuple[Key, dict[str, Any]]]:
    for result in results:
        for r in result.rejected:
            yield (r.source, r.table, r.rule, r.level), {"source_key": r.source_key, "field": r.field,
                                                          "reason": r.reason, "values": r.to_json()["values"]}
        for e in result.events:
            for w in e.warnings:
                yield (e.source, e.table, w.rule, WARNING), {"source_key": e.source_key, "field": w.field,
                                                              "reason": w.message}
