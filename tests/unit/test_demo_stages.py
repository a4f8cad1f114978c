"""``crmhub demo --processes``: child processes whose Prometheus metrics the demo reads from one directory."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Histogram

from hub.demo import sources as demo_sources
from hub.demo import stands as demo_stands
from hub.demo.stages import StageProcesses
from hub.gateway.ops import ops_snapshot


def test_the_generator_process_makes_changes_counted_through_the_metrics_directory(tmp_path: Path) -> None:
    legacy, ar, helpdesk = tmp_path / "legacy.db", tmp_path / "ar.db", tmp_path / "helpdesk.db"
    demo_sources.seed_legacy_db(legacy)
    demo_stands.seed_ar_db(ar)
    demo_stands.seed_helpdesk_db(helpdesk)
    before = sqlite3.connect(legacy).execute("SELECT MAX(CHGTS) FROM ITMBAL").fetchone()[0]
    stages = StageProcesses(tmp_path / "unused.yaml", tmp_path / "run")
    stage = stages.start_generator(legacy, ar, helpdesk, 50.0, seed=2)
    deadline = time.monotonic() + 60
    while stages.generated() < 40 and time.monotonic() < deadline and stage.proc.poll() is None:
        time.sleep(0.2)
    assert stage.state() == "RUNNING"
    stages.stop()
    assert stage.proc.returncode == 0 and stage.state() == "EXITED (0)"  # SIGTERM: a clean stop
    made = stages.generated()
    assert made >= 40, stage.log.read_text()
    db = sqlite3.connect(legacy)
    assert db.execute("SELECT MAX(CHGTS) FROM ITMBAL").fetchone()[0] > before  # it did write the stand-ins
    assert stages.statuses() == []  # no pipeline stage was started
    again = StageProcesses(tmp_path / "unused.yaml", tmp_path / "run")  # a new run starts from zero
    assert again.generated() == 0


class _Hub:
    runners: dict[str, Any] = {}
    workers: list[Any] = []
    lag = None

    def __init__(self, stages: Any) -> None:
        self.stages = stages


class _Stages:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        fresh = Histogram("crmhub_freshness_seconds", "test", ["source"], registry=self.registry,
                          buckets=(0.1, 0.25, 0.5, 1))
        for v in (0.05, 0.2, 0.2, 0.3):
            fresh.labels("ibmi").observe(v)

    def statuses(self) -> list[dict[str, Any]]:
        return [{"name": "unify", "state": "RUNNING", "messages": 7, "extra": {"golden_changed": 3}}]

    def rejected(self) -> int:
        return 2

    def dq(self) -> list[dict[str, Any]]:
        return [{"source": "helpdesk", "table": "Contacts", "rule": "phone", "level": "error", "total": 2}]


def test_the_ops_snapshot_shows_stages_running_in_other_processes() -> None:
    snap = ops_snapshot(_Hub(_Stages()))
    assert snap["pipelines"] == [{"name": "unify", "state": "RUNNING", "messages": 7, "extra": {"golden_changed": 3}}]
    assert snap["dlq"]["rejected_by_rules"] == 2
    assert snap["dq"] == _Stages().dq()  # the data-quality view of the canonicalize process
    ibmi = snap["freshness"]["ibmi"]
    assert ibmi["count"] == 4 and 0.1 < ibmi["p50_s"] <= 0.25 and 0.25 < ibmi["p99_s"] <= 0.5
