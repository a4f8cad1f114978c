"""The accounting of the capture benchmark (bench/bench_capture.py) over given writes and deliveries."""

from __future__ import annotations

import math
from pathlib import Path

from bench.bench_capture import parse_args, summary
from bench.capture_accounting import Delivery, Outcome, account, median_outcome, percentile, ratio, table
from bench.capture_debezium import ConnectWorker, PgTarget
from bench.capture_workloads import debezium_after

WRITES = {(1, 0): 1000.0, (2, 0): 1000.0, (3, 0): 1010.0, (1, 1): 1020.0}


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # 1..100, unsorted
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1.0) == 100
    assert percentile([7.0], 0.99) == 7
    assert math.isnan(percentile([], 0.5))


def test_lost_duplicated_and_foreign_deliveries_are_told_apart() -> None:
    deliveries = [Delivery(1, 0, 1005), Delivery(2, 0, 1030), Delivery(1, 0, 1040),  # (1, 0) twice
                  Delivery(1, 1, 1050), Delivery(9, 0, 1060)]  # (9, 0): not written in the measured phase
    out = account("crmhub", "bulk", WRITES, deliveries, started_ms=990.0)
    assert (out.written, out.delivered, out.lost, out.duplicated, out.other) == (4, 3, 1, 1, 1)
    # latencies of the first deliveries: 5, 30, 30 ms; the duplicate's 40 ms counts for nothing
    assert (out.p50_ms, out.p99_ms) == (30.0, 30.0)
    # 3 writes delivered between the first write's start (990) and the last first delivery (1050)
    assert out.events_per_s == 3 / 0.060


def test_nothing_delivered_is_all_lost_and_no_rate() -> None:
    out = account("debezium", "latency", WRITES, [], started_ms=0.0)
    assert (out.lost, out.delivered, out.duplicated) == (4, 0, 0)
    assert math.isnan(out.events_per_s) and math.isnan(out.p50_ms)


def outcome(tool: str, workload: str, rate: float, p50: float, p99: float, lost: int = 0) -> Outcome:
    return Outcome(tool, workload, 100, 100 - lost, lost, 0, 0, rate, p50, p99)


def test_medians_over_repeats_and_summed_counts() -> None:
    runs = [outcome("crmhub", "bulk", r, p, 2 * p, lost) for r, p, lost in ((10, 5, 0), (30, 1, 2), (20, 9, 1))]
    folded = median_outcome(runs)
    assert (folded.events_per_s, folded.p50_ms, folded.p99_ms) == (20, 5, 10)
    assert (folded.written, folded.lost) == (300, 3)


def test_table_gives_each_tool_its_ratio_to_debezium_of_the_same_workload() -> None:
    rows = [outcome("crmhub", "bulk", 3000, 100, 400), outcome("debezium", "bulk", 1500, 200, 200),
            outcome("crmhub", "latency", 1000, 25, 60)]  # no Debezium row for latency: no ratio
    text = table(rows).splitlines()
    assert text[2].endswith("| 2.00x; 0.50x; 2.00x |")
    assert text[3].endswith("|  |") and text[4].endswith("|  |")
    assert math.isnan(ratio(1.0, 0.0)) and math.isnan(ratio(math.nan, 2.0))


def test_summary_orders_by_workload_then_tool() -> None:
    runs = [outcome("debezium", "latency", 1, 1, 1), outcome("crmhub", "bulk", 1, 1, 1),
            outcome("debezium-default", "latency", 1, 1, 1), outcome("crmhub", "latency", 1, 1, 1),
            outcome("debezium", "bulk", 1, 1, 1), outcome("crmhub", "bulk", 3, 1, 1)]
    assert [(r.workload, r.tool) for r in summary(runs)] == [
        ("bulk", "crmhub"), ("bulk", "debezium"), ("latency", "crmhub"), ("latency", "debezium"),
        ("latency", "debezium-default")]


def test_debezium_json_envelope_gives_the_row_image() -> None:
    value = b'{"schema": {"type": "struct"}, "payload": {"before": null, "after": {"id": 7, "version": 2}, "op": "u"}}'
    assert debezium_after(value) == {"id": 7, "version": 2}
    assert debezium_after(b'{"schema": null, "payload": {"after": null, "op": "d"}}') is None


def test_debezium_connector_streams_without_snapshot_and_default_poll_is_left_out(tmp_path: Path) -> None:
    pg = PgTarget("127.0.0.1", 25432, "u", "secret", "db")
    worker = ConnectWorker(tmp_path, "127.0.0.1:9092", pg, "cap1", "public.t", 20)
    props = worker.connector_properties()
    assert (props["snapshot.mode"], props["plugin.name"], props["poll.interval.ms"]) == ("no_data", "pgoutput", "20")
    assert worker.topic == "cap1.public.t"
    default = ConnectWorker(tmp_path, "127.0.0.1:9092", pg, "cap2", "public.t", None)
    assert "poll.interval.ms" not in default.connector_properties()


def test_quick_is_a_small_run() -> None:
    args = parse_args(["--quick", "--events", "100000"])
    assert (args.events, args.latency_seconds, args.latency_warmup, args.repeat) == (5000, 4.0, 3.0, 1)
    assert parse_args([]).events == 100_000
