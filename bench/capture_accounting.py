"""The pure accounting of ``bench/bench_capture.py``: what was written against what each tool delivered.

A write is one row version, ``(key, version)``, with the time its transaction committed (ms since the epoch,
taken by the writer right after ``COMMIT`` returned). A delivery is one record read back from a tool's topic,
``(key, version, append_ms)`` with the broker's LogAppendTime. Lost = writes never delivered; duplicated =
deliveries beyond the first of a write; latency = first delivery's append time - commit time; events/s =
writes delivered / (last first delivery - first write's transaction start). Deliveries of rows that the
measured phase did not write (a warm-up, a snapshot of preloaded rows) are counted apart, never as duplicates.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

Version = tuple[int, int]  # (key, version)


@dataclass(frozen=True, slots=True)
class Delivery:
    key: int
    version: int
    append_ms: float


@dataclass(frozen=True, slots=True)
class Outcome:
    """One tool's result on one workload run."""

    tool: str
    workload: str
    written: int
    delivered: int
    lost: int
    duplicated: int
    other: int  # deliveries of versions outside the measured writes
    events_per_s: float
    p50_ms: float
    p99_ms: float


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1) of ``values``; NaN for none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def account(tool: str, workload: str, writes: Mapping[Version, float], deliveries: Iterable[Delivery],
            started_ms: float) -> Outcome:
    """Compare ``deliveries`` with ``writes`` (``(key, version) -> commit ms``); ``started_ms`` is when the
    first write's transaction began."""
    first: dict[Version, float] = {}
    duplicated = other = 0
    for d in deliveries:
        v = (d.key, d.version)
        if v not in writes:
            other += 1
        elif v in first:
            duplicated += 1
        else:
            first[v] = d.append_ms
    latencies = [at - writes[v] for v, at in first.items()]
    span_s = (max(first.values()) - started_ms) / 1000 if first else 0.0
    rate = len(first) / span_s if span_s > 0 else math.nan
    return Outcome(tool, workload, len(writes), len(first), len(writes) - len(first), duplicated, other, rate,
                   percentile(latencies, 0.5), percentile(latencies, 0.99))


def ratio(a: float, b: float) -> float:
    """``a / b``; NaN when either is missing or ``b`` is zero."""
    if math.isnan(a) or math.isnan(b) or b == 0:
        return math.nan
    return a / b


def median_outcome(runs: Sequence[Outcome]) -> Outcome:
    """The runs of one tool and workload folded into one row: medians of rate and latencies, sums of counts."""
    first = runs[0]

    def med(values: list[float]) -> float:
        kept = [v for v in values if not math.isnan(v)]
        return statistics.median(kept) if kept else math.nan

    return Outcome(first.tool, first.workload, sum(r.written for r in runs), sum(r.delivered for r in runs),
                   sum(r.lost for r in runs), sum(r.duplicated for r in runs), sum(r.other for r in runs),
                   med([r.events_per_s for r in runs]), med([r.p50_ms for r in runs]),
                   med([r.p99_ms for r in runs]))


def _num(value: float, digits: int = 0) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def table(rows: Sequence[Outcome], reference: str = "debezium") -> str:
    """A Markdown table; ``ratio`` on each row that is not the reference tool's: events/s, p50 and p99 of the
    row over the reference's row of the same workload (events/s: higher is better; latency: lower)."""
    refs = {r.workload: r for r in rows if r.tool == reference}
    lines = ["| tool | workload | events | events/s | p50 ms | p99 ms | lost | duplicated | "
             f"ratio to {reference} (events/s; p50; p99) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ref = refs.get(r.workload)
        cell = "" if ref is None or r is ref else "; ".join(
            _num(ratio(a, b), 2) + "x" for a, b in ((r.events_per_s, ref.events_per_s), (r.p50_ms, ref.p50_ms),
                                                    (r.p99_ms, ref.p99_ms)))
        lines.append(f"| {r.tool} | {r.workload} | {r.written:,} | {_num(r.events_per_s)} | {_num(r.p50_ms, 1)} | "
                     f"{_num(r.p99_ms, 1)} | {r.lost:,} | {r.duplicated:,} | {cell} |")
    return "\n".join(lines)
