"""The dashboard's history: a small ring buffer of samples taken every few seconds in the gateway's process,
and the time series drawn from it (events a second, golden changes a second, freshness p50/p99 per source,
lag per consumer group) over a window (5 minutes, 1 hour). Nothing is written to disk: a restart starts an
empty history.

A sample keeps counters (events, golden changes) and the freshness histogram's cumulative bucket counts per
source (the bucket bounds shared between samples), so a point's rate or quantile covers exactly the time since
the point before it, whatever the spacing: two rings, 5 minutes of samples every 2 s and an hour of samples
every 15 s (a few hundred samples, a few kB each), and the series thinned to :data:`MAX_POINTS`; the 1-hour
freshness quantiles are those of all changes in each step, not of one sample in it. Lag is a level, taken as
it was at the point.

:class:`Ring`, :func:`sample_of` and :func:`series` are pure; :class:`OpsHistory` samples in a daemon thread.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

import structlog
from prometheus_client import REGISTRY, CollectorRegistry

from hub.metrics import bucket_quantile

log = structlog.get_logger(__name__)
T = TypeVar("T")

FRESHNESS_METRIC = "crmhub_freshness_seconds"
SAMPLE_EVERY_S = 2.0
COARSE_EVERY_S = 15.0
MAX_POINTS = 240
WINDOWS = {"5m": 300.0, "1h": 3600.0}

Buckets = dict[str, list[tuple[float, float]]]


class Ring(Generic[T]):
    """The last ``size`` items, oldest first."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a ring holds at least one item")
        self._items: deque[T] = deque(maxlen=size)
        self._lock = threading.Lock()

    def append(self, item: T) -> None:
        with self._lock:
            self._items.append(item)

    def items(self) -> list[T]:
        with self._lock:
            return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items())


def freshness_buckets(registries: Iterable[CollectorRegistry] = (REGISTRY,)) -> Buckets:
    """The freshness histogram's cumulative buckets per source, summed over ``registries``, sorted by bound."""
    out: dict[str, dict[float, float]] = {}
    for registry in registries:
        for metric in registry.collect():
            if metric.name != FRESHNESS_METRIC:
                continue
            for s in metric.samples:
                if s.name == f"{FRESHNESS_METRIC}_bucket":
                    per = out.setdefault(s.labels["source"], {})
                    bound = float(s.labels["le"])
                    per[bound] = per.get(bound, 0.0) + s.value
    return {source: sorted(b.items()) for source, b in out.items()}


def _total(items: Any, get: Callable[[Mapping[str, Any]], Any]) -> int:
    return int(sum(v for v in (get(i) for i in items or () if isinstance(i, Mapping))
                   if isinstance(v, int | float)))


def sample_of(snapshot: Mapping[str, Any], buckets: Buckets, t: float,
              bounds: dict[tuple[float, ...], tuple[float, ...]] | None = None) -> dict[str, Any]:
    """One sample at ``t`` (seconds since the epoch) of an ops summary (:func:`hub.gateway.ops.ops_snapshot`)
    and the freshness buckets at that moment, kept as (bounds, counts) per source; ``bounds`` interns the
    bounds so that samples share one tuple of them."""
    seen = {} if bounds is None else bounds
    fresh = {}
    for source, b in buckets.items():
        key = tuple(bound for bound, _ in b)
        fresh[source] = (seen.setdefault(key, key), tuple(count for _, count in b))
    groups = [g for g in ((snapshot.get("lag") or {}).get("groups") or []) if isinstance(g, Mapping)]
    return {"t": t,
            "events": _total(snapshot.get("connectors"), lambda c: c.get("events")),
            "golden": _total(snapshot.get("pipelines"), lambda p: (p.get("extra") or {}).get("golden_changed")),
            "freshness": fresh,
            "lag": {str(g["group"]): g.get("sum_lag") for g in groups},
            "lag_s": {str(g["group"]): g.get("max_lag_seconds") for g in groups}}


def _thin(samples: list[dict[str, Any]], max_points: int) -> list[dict[str, Any]]:
    """At most ``max_points`` + 1 samples, evenly spaced, always keeping the first and the newest."""
    if len(samples) <= max_points + 1:
        return samples
    step = -(-(len(samples) - 1) // max_points)
    picked = samples[::-step][::-1]  # from the newest backwards, so the newest is kept
    return picked if picked[0] is samples[0] else [samples[0], *picked]


Kept = tuple[tuple[float, ...], tuple[float, ...]]  # a source's bucket bounds and cumulative counts


def _quantiles(prev: Kept | None, cur: Kept) -> tuple[float | None, ...]:
    before = dict(zip(*prev, strict=True)) if prev is not None else {}
    delta = [(bound, count - before.get(bound, 0.0)) for bound, count in zip(*cur, strict=True)]
    return bucket_quantile(delta, 0.5), bucket_quantile(delta, 0.99), (delta[-1][1] if delta else 0.0)


def series(samples: list[dict[str, Any]], window_s: float, now: float,
           max_points: int = MAX_POINTS) -> dict[str, Any]:
    """The dashboard's series over the last ``window_s`` before ``now``: ``t`` (the end of each step), and per
    step ``events_per_s``, ``golden_per_s``, ``freshness`` {source: {p50_s, p99_s, count}} (None where no
    change of that source arrived in the step), and ``lag`` / ``lag_s`` {group: value at the step's end}."""
    inside = _thin([s for s in samples if s["t"] >= now - window_s], max_points)
    out: dict[str, Any] = {"window_s": window_s, "t": [], "events_per_s": [], "golden_per_s": [],
                           "freshness": {}, "lag": {}, "lag_s": {}}
    for prev, cur in itertools.pairwise(inside):
        i, dt = len(out["t"]), max(cur["t"] - prev["t"], 1e-9)
        out["t"].append(cur["t"])
        out["events_per_s"].append(max(0, cur["events"] - prev["events"]) / dt)
        out["golden_per_s"].append(max(0, cur["golden"] - prev["golden"]) / dt)
        for source, buckets in cur["freshness"].items():
            p50, p99, count = _quantiles(prev["freshness"].get(source), buckets)
            col = out["freshness"].setdefault(source, {"p50_s": [None] * i, "p99_s": [None] * i, "count": [0.0] * i})
            col["p50_s"].append(p50)
            col["p99_s"].append(p99)
            col["count"].append(count)
        for key in ("lag", "lag_s"):
            for group, value in cur[key].items():
                out[key].setdefault(group, [None] * i).append(value)
        n = len(out["t"])
        for col in out["freshness"].values():  # a source not seen at this step yet
            for name, filler in (("p50_s", None), ("p99_s", None), ("count", 0.0)):
                col[name] += [filler] * (n - len(col[name]))
        for key in ("lag", "lag_s"):
            for values in out[key].values():
                values += [None] * (n - len(values))
    out["window_freshness"] = {}  # over the whole window: what the freshness table shows
    if len(inside) > 1:
        first, last = inside[0]["freshness"], inside[-1]["freshness"]
        for source, buckets in last.items():
            p50, p99, count = _quantiles(first.get(source), buckets)
            out["window_freshness"][source] = {"p50_s": p50, "p99_s": p99, "count": count}
    return out


class OpsHistory:
    """Samples ``snapshot()`` and the freshness buckets of ``registries()`` every ``every_s``, in a daemon thread,
    into a ring of the last 5 minutes and, every ``coarse_s``, a ring of the last hour."""

    def __init__(self, snapshot: Callable[[], Mapping[str, Any]],
                 registries: Callable[[], Iterable[CollectorRegistry]] = lambda: (REGISTRY,),
                 every_s: float = SAMPLE_EVERY_S, coarse_s: float = COARSE_EVERY_S) -> None:
        self.snapshot, self.registries, self.every_s, self.coarse_s = snapshot, registries, every_s, coarse_s
        self.ring: Ring[dict[str, Any]] = Ring(int(WINDOWS["5m"] / every_s) + 2)
        self.coarse: Ring[dict[str, Any]] = Ring(int(WINDOWS["1h"] / coarse_s) + 2)
        self._bounds: dict[tuple[float, ...], tuple[float, ...]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_error: str | None = None

    def sample(self) -> None:
        try:
            sample = sample_of(self.snapshot(), freshness_buckets(self.registries()), time.time(), self._bounds)
            self.ring.append(sample)
            last = self.coarse.items()[-1:] if len(self.coarse) else []
            if not last or sample["t"] - last[0]["t"] >= self.coarse_s - self.every_s / 2:
                self.coarse.append(sample)
        except Exception as exc:  # a failed read leaves a gap, never ends the history (logged once per cause)
            error = f"{type(exc).__name__}: {exc}"
            if error != self._last_error:
                log.warning("ops.history_sample_failed", error=error)
            self._last_error = error
        else:
            self._last_error = None

    def start(self) -> OpsHistory:
        self._thread = threading.Thread(target=self._run, name="ops-history", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every_s)

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def series(self, window: str) -> dict[str, Any]:
        """The series over ``window`` (``5m``: every sample; ``1h``: the hour's samples and the newest one)."""
        if window == "5m":
            return series(self.ring.items(), WINDOWS[window], time.time())
        samples, newest = self.coarse.items(), self.ring.items()[-1:]
        if newest and (not samples or newest[0]["t"] > samples[-1]["t"]):
            samples.append(newest[0])
        return series(samples, WINDOWS[window], time.time())
