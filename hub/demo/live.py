"""The demo kept running: the change generator in a thread and the live summary every few seconds.

    generated 20.0/s · events/s 31.2 · golden changes/s 6.4 · freshness p50 420 ms p99 900 ms · max consumer
    lag 3 (OK) · DLQ 0

The first figure is what the generator made over the interval (changes a second: one change may write several
rows, e.g. an order's lines, allocations and header); the rest is :func:`hub.demo.summary.summary_line` over the
running hub's ops snapshots, with the freshness quantiles taken over the interval too (the difference of the
freshness histogram's buckets between two snapshots): the cumulative ones would carry the initial snapshot's
rows, stamped before the hub started, for minutes.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry
from rich.console import Console

from hub.demo.generator import ChangeGenerator, DemoSources, run
from hub.demo.hub import DemoPaths
from hub.demo.summary import print_summaries
from hub.metrics import bucket_quantile

FRESHNESS_METRIC = "crmhub_freshness_seconds"
Buckets = dict[str, list[tuple[float, float]]]


class GeneratorThread:
    """Runs :func:`hub.demo.generator.run` at ``rate`` in a daemon thread; ``made`` counts what it made."""

    def __init__(self, paths: DemoPaths, rate: float, seed: int | None = None,
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self.generator = ChangeGenerator(DemoSources(paths.legacy, paths.ar, paths.helpdesk), seed=seed)
        self.rate = rate
        self.stop = threading.Event()
        self.made: Counter[str] = Counter()
        self.errors: list[str] = []
        self._on_error = on_error
        self._thread = threading.Thread(target=self._run, name="demo-generator", daemon=True)

    def _run(self) -> None:
        run(self.generator, self.rate, self.stop, on_change=lambda c: self.made.update([c.kind]),
            on_error=self._error)

    def _error(self, exc: BaseException) -> None:
        self.errors.append(f"{type(exc).__name__}: {exc}")
        if self._on_error is not None:
            self._on_error(exc)

    def total(self) -> int:
        return sum(self.made.values())

    def start(self) -> GeneratorThread:
        self._thread.start()
        return self

    def close(self, timeout_s: float = 5.0) -> None:
        self.stop.set()
        self._thread.join(timeout=timeout_s)
        if not self._thread.is_alive():
            self.generator.close()


def generated_prefix(snapshot: Callable[[], dict[str, Any]], count: Callable[[], int] | None
                     ) -> tuple[Callable[[], dict[str, Any]], Callable[[str], str]]:
    """A snapshot function that also notes the generator's count (``count()``: changes made so far), and a
    formatter putting ``generated X/s`` in front of a summary line (the rate between the last two snapshots)."""
    marks: list[tuple[float, int]] = []

    def snap() -> dict[str, Any]:
        doc = snapshot()
        if count is not None:
            marks.append((time.monotonic(), count()))
            del marks[:-2]
        return doc

    def fmt(line: str) -> str:
        if count is None or len(marks) < 2 or line.startswith("summary unavailable"):
            return line
        (t0, n0), (t1, n1) = marks
        return f"generated {(n1 - n0) / max(t1 - t0, 1e-9):.1f}/s · {line}"

    return snap, fmt


def freshness_buckets(registry: CollectorRegistry = REGISTRY) -> Buckets:
    """The freshness histogram's cumulative buckets per source: (upper bound, count), sorted."""
    out: Buckets = {}
    for metric in registry.collect():
        if metric.name == FRESHNESS_METRIC:
            for s in metric.samples:
                if s.name == f"{FRESHNESS_METRIC}_bucket":
                    out.setdefault(s.labels["source"], []).append((float(s.labels["le"]), s.value))
    return {source: sorted(b) for source, b in out.items()}


def interval_freshness(prev: Buckets, cur: Buckets) -> dict[str, dict[str, float | None]]:
    """p50 / p99 / count per source of the observations made between two :func:`freshness_buckets`."""
    out: dict[str, dict[str, float | None]] = {}
    for source, buckets in cur.items():
        before = dict(prev.get(source, ()))
        delta = [(bound, count - before.get(bound, 0.0)) for bound, count in buckets]
        out[source] = {"p50_s": bucket_quantile(delta, 0.5), "p99_s": bucket_quantile(delta, 0.99),
                       "count": delta[-1][1] if delta else 0.0}
    return out


def interval_snapshots(snapshot: Callable[[], dict[str, Any]], buckets: Callable[[], Buckets] = freshness_buckets
                       ) -> Callable[[], dict[str, Any]]:
    """``snapshot`` with its ``freshness`` replaced by the quantiles since the previous call."""
    last: list[Buckets] = [buckets()]

    def snap() -> dict[str, Any]:
        doc = snapshot()
        cur = buckets()
        doc["freshness"] = interval_freshness(last[0], cur)
        last[0] = cur
        return doc

    return snap


def keep_running_live(hub: Any, paths: DemoPaths, console: Console, keep_running: Callable[[], None], *,
                      rate: float = 0.0, seed: int | None = None, every_s: float = 5.0) -> None:
    """Run ``keep_running`` (blocks until Ctrl-C) while the generator makes ``rate`` changes a second (none
    when 0) and a thread prints the live summary every ``every_s``. When the hub runs its stages in processes
    (``hub.stages``) the generator is a process too, and the summary reads their metrics (and says when one of
    them exited)."""
    from hub.gateway.ops import ops_snapshot

    stages = getattr(hub, "stages", None)

    def emit(line: str) -> None:
        if stages is not None:
            line += "".join(f" · {s.name} {s.state()}, see {s.log}" for s in stages.stages if s.proc.poll() is not None)
        console.print(fmt(line), highlight=False, markup=False, soft_wrap=True)

    def report(exc: BaseException) -> None:
        if gen is not None and len(gen.errors) <= 3:  # the first few, not a flood
            console.print(f"generator: a change failed ({type(exc).__name__}: {exc}); going on", highlight=False,
                          markup=False)

    gen: GeneratorThread | None = None
    count: Callable[[], int] | None = None
    if rate > 0 and stages is not None:
        stages.start_generator(paths.legacy, paths.ar, paths.helpdesk, rate, seed)
        count = stages.generated
    elif rate > 0:
        gen = GeneratorThread(paths, rate, seed, on_error=report).start()
        count = gen.total
    if rate > 0:
        console.print(f"[bold]Change generator[/] {rate:g} changes/s: credit freezes and releases, inventory "
                      "moves, orders with lines and shipments, new customers (typos in AR and the helpdesk), "
                      "contact changes, helpdesk tickets")
    buckets = (lambda: freshness_buckets(stages.registry)) if stages is not None else freshness_buckets
    snap, fmt = generated_prefix(interval_snapshots(lambda: ops_snapshot(hub), buckets), count)
    stop = threading.Event()
    thread = threading.Thread(target=print_summaries, name="demo-summary", daemon=True,
                              args=(snap, emit, stop, every_s))
    thread.start()
    try:
        keep_running()
    finally:
        stop.set()
        if gen is not None:
            gen.close()
        thread.join(timeout=every_s)
