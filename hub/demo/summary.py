"""The live summary line of ``crmhub demo --serve``: rates and health from two ops snapshots.

:func:`summary_line` is pure: it takes two documents of :func:`hub.gateway.ops.ops_snapshot` (taken
``elapsed_s`` apart) and formats e.g.
``events/s 12.4 · golden changes/s 3.0 · freshness p50 180 ms p99 900 ms · max consumer lag 0 (OK) · DLQ 2``.
:func:`print_summaries` prints it every few seconds from a running hub until told to stop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from threading import Event
from typing import Any

DASH = "\u2013"  # en dash
STATUS_ORDER = ("OK", "WARN", "REWIND", "STALL", "STOP", "ERR")  # worst last (ERR: a group's status)


def _total(items: Any, get: Callable[[dict[str, Any]], Any]) -> int | None:
    """Sum of ``get(item)`` over the items where it is a number; None when none is."""
    values = [v for v in (get(i) for i in (items or []) if isinstance(i, dict)) if isinstance(v, int | float)]
    return int(sum(values)) if values else None


def _events(snap: dict[str, Any]) -> int | None:
    return _total(snap.get("connectors"), lambda c: c.get("events"))


def _golden(snap: dict[str, Any]) -> int | None:
    return _total(snap.get("pipelines"), lambda p: (p.get("extra") or {}).get("golden_changed"))


def _rate(prev: int | None, cur: int | None, elapsed_s: float) -> str:
    if cur is None or elapsed_s <= 0:
        return DASH
    return f"{max(0, cur - (prev or 0)) / elapsed_s:.1f}"


def _ms(seconds: float | None) -> str:
    return DASH if seconds is None else f"{seconds * 1000:.0f} ms"


def _freshness(snap: dict[str, Any]) -> str:
    """The worst source's p50 and p99 (per-source quantiles cannot be merged)."""
    sources = [s for s in (snap.get("freshness") or {}).values() if isinstance(s, dict)]
    p50s = [s["p50_s"] for s in sources if isinstance(s.get("p50_s"), int | float)]
    p99s = [s["p99_s"] for s in sources if isinstance(s.get("p99_s"), int | float)]
    return f"p50 {_ms(max(p50s) if p50s else None)} p99 {_ms(max(p99s) if p99s else None)}"


def _lag(snap: dict[str, Any]) -> str:
    groups = [g for g in ((snap.get("lag") or {}).get("groups") or []) if isinstance(g, dict)]
    if not groups:
        return DASH
    lags = [g["max_lag"] for g in groups if isinstance(g.get("max_lag"), int)]
    statuses = [str(g.get("status")) for g in groups if g.get("status") is not None]
    worst = max(statuses, key=lambda s: STATUS_ORDER.index(s) if s in STATUS_ORDER else len(STATUS_ORDER),
                default=None)
    return f"{max(lags) if lags else DASH}" + (f" ({worst})" if worst else "")


def _dlq(snap: dict[str, Any]) -> str:
    dlq = snap.get("dlq") or {}
    values = [v for v in dlq.values() if isinstance(v, int)]
    return str(sum(values)) if values else DASH


def summary_line(prev: dict[str, Any], cur: dict[str, Any], elapsed_s: float) -> str:
    """One line from two ops snapshots ``elapsed_s`` apart: connector events/s and golden changes/s (counter
    differences over the interval), the worst source's freshness p50/p99, the largest consumer-group lag with
    the worst group status, and dead-lettered plus rule-rejected rows. Missing values show as :data:`DASH`."""
    return (f"events/s {_rate(_events(prev), _events(cur), elapsed_s)} · "
            f"golden changes/s {_rate(_golden(prev), _golden(cur), elapsed_s)} · "
            f"freshness {_freshness(cur)} · max consumer lag {_lag(cur)} · DLQ {_dlq(cur)}")


def print_summaries(snapshot: Callable[[], dict[str, Any]], emit: Callable[[str], None], stop: Event,
                    every_s: float = 5.0) -> None:
    """Every ``every_s`` until ``stop`` is set: take a snapshot and emit the line against the previous one."""
    prev: dict[str, Any] | None = None
    t0 = time.monotonic()
    while True:
        try:
            cur, t1 = snapshot(), time.monotonic()
        except Exception as exc:  # a failed read must not end the demo
            emit(f"summary unavailable: {exc}")
            cur, t1 = None, time.monotonic()
        if prev is not None and cur is not None:
            emit(summary_line(prev, cur, t1 - t0))
        if cur is not None:
            prev, t0 = cur, t1
        if stop.wait(every_s):
            return
