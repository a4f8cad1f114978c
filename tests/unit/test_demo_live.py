"""The demo kept running: the generator thread and the ``generated X/s`` in front of the live summary."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from hub.demo import sources as demo_sources
from hub.demo import stands as demo_stands
from hub.demo.hub import DemoPaths
from hub.demo.live import GeneratorThread, generated_prefix


def test_generator_thread_makes_changes_at_the_rate_and_the_summary_says_so(tmp_path: Path) -> None:
    paths = DemoPaths(tmp_path / "legacy.db", tmp_path / "drop", tmp_path / "ar.db", tmp_path / "helpdesk.db")
    demo_sources.seed_legacy_db(paths.legacy)
    demo_stands.seed_ar_db(tmp_path / "ar.db")
    demo_stands.seed_helpdesk_db(tmp_path / "helpdesk.db")
    gen = GeneratorThread(paths, 40.0, seed=1)  # created here, run in its own thread
    calls: list[int] = []

    def snapshot() -> dict[str, Any]:
        calls.append(1)
        return {}

    snap, fmt = generated_prefix(snapshot, gen.total)
    snap()
    assert fmt("events/s 1.0") == "events/s 1.0"  # one snapshot: no rate yet
    gen.start()
    try:
        time.sleep(1.0)
        snap()
    finally:
        gen.close()
    assert gen.errors == []
    assert 30 <= gen.total() <= 50
    line = fmt("events/s 1.0")
    rate = float(line.split()[1].removesuffix("/s"))
    assert line.startswith("generated ") and line.endswith(" · events/s 1.0") and 25 <= rate <= 50
    assert fmt("summary unavailable: boom") == "summary unavailable: boom"
    snap_only, fmt_only = generated_prefix(snapshot, None)
    snap_only()
    snap_only()
    assert fmt_only("events/s 2.0") == "events/s 2.0" and len(calls) == 4


def test_freshness_is_taken_over_the_interval_not_since_the_start() -> None:
    from prometheus_client import CollectorRegistry, Histogram

    from hub.demo.live import freshness_buckets, interval_freshness, interval_snapshots

    registry = CollectorRegistry()
    fresh = Histogram("crmhub_freshness_seconds", "test", ["source"], buckets=(0.5, 1, 60, 300),
                      registry=registry)
    for _ in range(50):  # the initial snapshot: rows stamped before the hub started
        fresh.labels(source="ibmi").observe(200.0)
    snap = interval_snapshots(lambda: {"freshness": {"ibmi": {"p99_s": 290.0}}},
                              lambda: freshness_buckets(registry))
    for _ in range(100):
        fresh.labels(source="ibmi").observe(0.4)
    fresh.labels(source="ar").observe(0.8)
    doc = snap()
    ibmi, ar = doc["freshness"]["ibmi"], doc["freshness"]["ar"]
    assert ibmi["count"] == 100 and ibmi["p99_s"] is not None and ibmi["p99_s"] <= 0.5
    assert ar["count"] == 1 and ar["p50_s"] is not None and 0.5 < ar["p50_s"] <= 1
    assert snap()["freshness"]["ibmi"] == {"p50_s": None, "p99_s": None, "count": 0.0}  # nothing new
    assert interval_freshness({}, {}) == {}
