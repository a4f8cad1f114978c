"""Data-quality results over time with samples (the dashboard's data-quality view)."""

from __future__ import annotations

import json
from pathlib import Path

from hub.runtime.pipeline_workers import CanonWorker
from pipelines.dq_stats import DqStats, load_summary, save_summary
from tests.unit.test_canonicalize import event, row, run


def test_rejects_and_warnings_are_bucketed_with_samples() -> None:
    stats = DqStats(bucket_ms=60_000, keep_buckets=3, samples=2)
    stats.add(run(event("u", after=row(CRSTAT="Q"))), now_ms=60_000)            # a reject
    stats.add(run(event("u", after=row(CUSNO=7, CRSTAT="Q"))), now_ms=61_000)   # same rule, same minute
    stats.add(run(event("u", after=row(CUSNO=8, CRSTAT="Z"))), now_ms=125_000)  # next minute
    stats.add(run(event("u", after=row(CRSTAT="F", AGENT=None))), now_ms=125_500)  # a warning
    [reject, warning] = stats.summary()
    assert (reject["source"], reject["table"], reject["rule"], reject["level"], reject["total"]) == (
        "ibmi", "CUSTMAST", "transform:code", "error", 3)
    assert reject["series"] == [(60_000, 2), (120_000, 1)]
    assert [s["source_key"] for s in reject["samples"]] == ["7", "8"]  # the last two, newest last
    assert reject["samples"][-1]["values"] == {"CRSTAT": "Z"} and "unknown code 'Z'" in reject["samples"][-1]["reason"]
    assert (warning["rule"], warning["level"], warning["total"]) == ("frozen-needs-agent", "warning", 1)


def test_old_buckets_are_dropped_but_totals_stay() -> None:
    stats = DqStats(bucket_ms=1_000, keep_buckets=2)
    for t in (0, 1_000, 2_000, 3_000):
        stats.add(run(event("u", after=row(CRSTAT="Q"))), now_ms=t)
    [entry] = stats.summary()
    assert entry["total"] == 4 and entry["series"] == [(2_000, 1), (3_000, 1)]


def test_the_summary_crosses_processes_through_a_file(tmp_path: Path) -> None:
    stats = DqStats()
    stats.add(run(event("u", after=row(CRSTAT="Q"))), now_ms=60_000)
    path = tmp_path / "dq.json"
    assert load_summary(path) == []  # nothing written yet
    save_summary(stats, path)
    assert load_summary(path) == json.loads(json.dumps(stats.summary()))
    assert [p.name for p in tmp_path.iterdir()] == ["dq.json"]  # written through a temporary file, renamed


def test_a_canonicalize_stage_with_a_dq_file_writes_its_summary_when_idle(tmp_path: Path) -> None:
    path = tmp_path / "dq.json"
    worker = CanonWorker(None, None, None, None, [], dq_file=path)  # type: ignore[arg-type]
    worker.dq.add(run(event("u", after=row(CRSTAT="Q"))), now_ms=60_000)
    worker.idle()
    [entry] = load_summary(path)
    assert (entry["source"], entry["rule"], entry["total"]) == ("ibmi", "transform:code", 1)
