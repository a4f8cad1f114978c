"""The live summary line of `crmhub demo --serve`, from hand-made ops snapshots."""

from __future__ import annotations

import threading
from typing import Any

from hub.demo.summary import DASH, print_summaries, summary_line


def snap(events: tuple[int, ...] = (), golden: int | None = None, freshness: dict[str, Any] | None = None,
         lag: dict[str, Any] | None = None, dead: int = 0, rejected: int = 0) -> dict[str, Any]:
    pipelines: list[dict[str, Any]] = [{"name": "canonicalize", "state": "RUNNING", "messages": 10, "extra": {}}]
    if golden is not None:
        pipelines.append({"name": "unify", "state": "RUNNING", "messages": 10, "extra": {"golden_changed": golden}})
    return {"connectors": [{"name": f"c{i}", "events": e, "dead": 0} for i, e in enumerate(events)],
            "pipelines": pipelines, "freshness": freshness or {}, "lag": lag,
            "dlq": {"connector_dead_rows": dead, "rejected_by_rules": rejected}, "dq": []}


def test_rates_are_counter_differences_over_elapsed_time() -> None:
    line = summary_line(snap((10, 5), golden=2), snap((60, 17), golden=17), 5.0)
    assert line.startswith("events/s 12.4 · golden changes/s 3.0 · ")


def test_full_line() -> None:
    fresh = {"ibmi": {"p50_s": 0.18, "p99_s": 0.9, "count": 40.0},
             "exports": {"p50_s": 0.05, "p99_s": 0.2, "count": 6.0}}
    lag = {"ts": 1.0, "groups": [{"group": "crmhub-unify", "status": "OK", "max_lag": 0}]}
    line = summary_line(snap((0,), golden=0), snap((62,), golden=15, freshness=fresh, lag=lag, dead=1,
                                                     rejected=1), 5.0)
    assert line == ("events/s 12.4 · golden changes/s 3.0 · freshness p50 180 ms p99 900 ms · "
                    "max consumer lag 0 (OK) · DLQ 2")


def test_missing_values_show_a_dash() -> None:
    line = summary_line({}, snap((), freshness={"ibmi": {"p50_s": None, "p99_s": None, "count": 0.0}}), 5.0)
    assert line == (f"events/s {DASH} · golden changes/s {DASH} · freshness p50 {DASH} p99 {DASH} · "
                    f"max consumer lag {DASH} · DLQ 0")


def test_no_freshness_and_lag_none() -> None:
    line = summary_line(snap((3,)), snap((3,)), 5.0)
    assert "events/s 0.0" in line
    assert f"freshness p50 {DASH} p99 {DASH}" in line
    assert f"max consumer lag {DASH}" in line


def test_worst_group_status_and_largest_lag() -> None:
    lag = {"ts": 1.0, "groups": [
        {"group": "a", "status": "OK", "max_lag": 3},
        {"group": "b", "status": "STALL", "max_lag": 1},
        {"group": "c", "status": "WARN", "max_lag": 40},
    ]}
    assert "max consumer lag 40 (STALL)" in summary_line(snap(), snap(lag=lag), 5.0)
    assert f"max consumer lag {DASH}" in summary_line(snap(), snap(lag={"ts": 1.0, "groups": []}), 5.0)


def test_counter_reset_and_zero_elapsed() -> None:
    assert summary_line(snap((50,)), snap((10,)), 5.0).startswith("events/s 0.0 ")
    assert summary_line(snap((0,)), snap((10,)), 0.0).startswith(f"events/s {DASH} ")


def test_dlq_sums_dead_rows_and_rejections() -> None:
    assert summary_line(snap(), snap(dead=3, rejected=4), 5.0).endswith("· DLQ 7")


def test_print_summaries_emits_until_stopped() -> None:
    stop = threading.Event()
    counter = iter(range(0, 10_000, 10))
    lines: list[str] = []

    def emit(line: str) -> None:
        lines.append(line)
        if len(lines) >= 2:
            stop.set()

    print_summaries(lambda: snap((next(counter),)), emit, stop, every_s=0.01)
    assert len(lines) == 2
    assert all(line.startswith("events/s ") for line in lines)
