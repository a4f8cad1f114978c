"""Lag math without a broker: lag in messages, time-lag interpolation, Burrow-style rules, thresholds/alerts."""

from __future__ import annotations

import math

import pytest
from prometheus_client import REGISTRY

from hub.config import validate_config_text
from hub.lag.alerts import AlertBook
from hub.lag.model import (
    Breach,
    GroupStatus,
    Levels,
    LookupTable,
    PartitionWindow,
    Sample,
    Status,
    breach,
    commit_time,
    evaluate_partition,
    group_status,
    lag_seconds,
    partition_lag,
    status_breach,
    worst_status,
)
from schemas.errors import ConfigError


def window(*rows: tuple[int, int | None], size: int = 10, step: float = 10.0, t0: float = 1000.0) -> PartitionWindow:
    """A window of samples ``(end, committed)``, ``step`` seconds apart from ``t0``."""
    w = PartitionWindow(size)
    for i, (end, committed) in enumerate(rows):
        w.add(Sample(t0 + i * step, end, committed, partition_lag(end, committed)))
    return w


def status_of(w: PartitionWindow) -> Status:
    return evaluate_partition(w.samples, w.last_commit_ts, w.samples[-1].ts)


# --- lag in messages -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("end", "committed", "earliest", "lag"), [
    (100, 40, 0, 60),
    (100, 100, 0, 0),
    (100, 130, 0, 0),  # committed seen past a stale end offset: never negative
    (100, None, 30, 70),  # no commit: counted from the earliest offset on the log
    (30, None, 30, 0),
    (0, None, 0, 0),
])
def test_partition_lag_is_never_negative(end: int, committed: int | None, earliest: int, lag: int) -> None:
    assert partition_lag(end, committed, earliest) == lag


# --- lag in seconds ----------------------------------------------------------------------------------------

POINTS = [(100, 10.0), (200, 20.0), (400, 30.0)]


def test_commit_time_exact_on_a_point() -> None:
    assert commit_time(POINTS, 200) == 20.0


def test_commit_time_interpolates_between_points() -> None:
    assert commit_time(POINTS, 150) == pytest.approx(15.0)
    assert commit_time(POINTS, 300) == pytest.approx(25.0)


def test_commit_time_extrapolates_below_the_oldest_point_along_the_slope_to_the_next_offset() -> None:
    # 100 offsets in 10 s from the oldest point → 10 offsets/s; 100 - 25 = 75 offsets → 7.5 s earlier
    assert commit_time(POINTS, 25) == pytest.approx(2.5)


def test_commit_time_at_or_beyond_the_newest_point_is_the_newest_time() -> None:
    assert commit_time(POINTS, 400) == 30.0
    assert commit_time(POINTS, 450) == 30.0


def test_commit_time_is_unknown_only_without_points() -> None:
    assert commit_time([], 10) is None
    # below the only point (or a flat table): the records were there when that offset was first seen
    assert commit_time([(100, 10.0)], 50) == 10.0
    assert commit_time([(100, 10.0), (100, 70.0)], 50) == 10.0


def test_commit_time_below_the_oldest_point_follows_the_slope_to_the_next_offset() -> None:
    assert commit_time([(100, 10.0), (100, 50.0), (110, 60.0)], 99) == pytest.approx(5.0)  # 5 s per offset
    # the slope to the next offset, not across the idle stretch that follows it
    assert commit_time([(100, 10.0), (200, 20.0), (200, 900.0)], 50) == pytest.approx(5.0)


def test_lag_seconds_is_now_minus_the_interpolated_time_and_zero_without_lag() -> None:
    assert lag_seconds(POINTS, 150, lag=250, now=40.0) == pytest.approx(25.0)
    assert lag_seconds(POINTS, 400, lag=0, now=40.0) == 0.0
    assert lag_seconds([], 10, lag=5, now=40.0) is None


def test_lookup_table_keeps_first_seen_times_and_restarts_on_a_lower_offset() -> None:
    table = LookupTable(limit=4)
    for offset, ts in [(10, 1.0), (10, 2.0), (10, 3.0), (20, 4.0)]:
        table.add(offset, ts)
    assert table.points == [(10, 1.0), (10, 3.0), (20, 4.0)]  # idle offset 10: first seen 1.0, last seen 3.0
    for ts in (5.0, 6.0, 7.0):
        table.add(20, ts)
    assert table.points == [(10, 1.0), (10, 3.0), (20, 4.0), (20, 7.0)]  # 20 keeps its first-seen time
    table.add(30, 8.0)
    assert table.points == [(10, 3.0), (20, 4.0), (20, 7.0), (30, 8.0)]  # the oldest point goes
    table.add(5, 9.0)  # topic re-created
    assert table.points == [(5, 9.0)]


def _table(points: list[tuple[int, float]]) -> LookupTable:
    table = LookupTable(limit=60)
    for offset, ts in points:
        table.add(offset, ts)
    return table


def test_lag_seconds_after_traffic_stops_is_the_age_of_the_oldest_unread_record() -> None:
    # one record a second for 100 s, polled every 10 s; then nothing more, and 5 records stay unread
    table = _table([(t, float(t)) for t in range(0, 101, 10)])
    produced_at = {offset: float(offset) for offset in range(100)}  # record n written at n s
    committed = 95
    for tick in range(110, 401, 10):
        table.add(100, float(tick))
    now = 400.0
    age = now - produced_at[committed]
    seconds = lag_seconds(table.points, committed, lag=5, now=now)
    assert seconds is not None and abs(seconds - age) <= 0.1 * age
    assert seconds > 300 - 10  # not the 75 s of a table whose idle point moved to the newest poll


def test_lag_seconds_on_a_quiet_topic_counts_from_the_last_time_the_consumer_was_caught_up() -> None:
    # a quiet topic at end offset 40, the group caught up at 40; at 1000 s five records arrive and wait
    polls = [(40, float(t)) for t in range(0, 1000, 10)] + [(45, 1005.0)]
    table = _table(polls)
    seconds = None
    for tick in range(1010, 1306, 10):  # never unknown while the records wait
        table.add(45, float(tick))
        seconds = lag_seconds(table.points, 40, lag=5, now=float(tick))
        assert seconds is not None and seconds > 0
    age = 1300.0 - 1000.0  # the oldest unread record was written at 1000 s
    assert seconds is not None and abs(seconds - age) <= 0.1 * age


def test_lag_seconds_on_a_quiet_topic_whose_records_waited_before_the_first_poll() -> None:
    table = _table([(5, 100.0), (5, 110.0), (5, 400.0)])  # 5 records, never read, nothing new
    assert lag_seconds(table.points, 0, lag=5, now=400.0) == 300.0  # at least since first seen; never None


# --- evaluator rules ---------------------------------------------------------------------------------------


def test_ok_when_the_consumer_keeps_up() -> None:
    assert status_of(window((100, 90), (120, 115), (140, 138), (160, 160))) is Status.OK


def test_ok_when_committing_and_lag_decreases() -> None:
    assert status_of(window((100, 50), (110, 70), (120, 100), (130, 125))) is Status.OK


def test_warn_when_lag_grows_while_committing() -> None:
    assert status_of(window((100, 90), (130, 110), (170, 130), (220, 150))) is Status.WARN
    assert status_of(window((100, 90), (110, 100), (120, 110))) is Status.WARN  # fixed lag: not catching up


def test_stall_when_committed_offset_does_not_move_with_lag() -> None:
    assert status_of(window((100, 50), (120, 50), (150, 50))) is Status.STALL


def test_stall_becomes_stop_once_the_last_commit_is_older_than_the_window() -> None:
    w = window((100, 50), (120, 50), (150, 50), size=3)
    assert status_of(w) is Status.STALL  # the commit was first seen at the window's oldest sample
    w.add(Sample(1030.0, 170, 50, 120))  # the window slides past the last change of the committed offset
    assert status_of(w) is Status.STOP


def test_stop_keeps_updating_while_the_consumer_does_not_commit() -> None:
    w = window((100, 80), (110, 100), (120, 110), size=3)
    assert status_of(w) is Status.OK
    for i in range(3, 6):
        w.add(Sample(1000.0 + i * 10, 120 + i * 10, 110, 10 + i * 10))
    assert status_of(w) is Status.STOP
    assert evaluate_partition(w.samples, w.last_commit_ts, now=w.samples[-1].ts + 600) is Status.STOP


def test_no_stop_while_a_recent_end_offset_was_caught_up() -> None:
    w = window((100, 100), (100, 100), (100, 100), size=3)
    w.add(Sample(1030.0, 101, 100, 1))  # an idle partition receives one record: the consumer gets a chance
    assert status_of(w) is Status.OK
    w.add(Sample(1040.0, 150, 100, 50))
    w.add(Sample(1050.0, 150, 100, 50))
    assert status_of(w) is Status.STOP  # no caught-up end offset left in the window, still no commit


def test_rewind_when_the_committed_offset_goes_back() -> None:
    assert status_of(window((100, 80), (110, 90), (120, 10))) is Status.REWIND


def test_idle_partition_with_no_lag_stays_ok() -> None:
    w = window(*[(500, 500)] * 4, size=3)
    assert status_of(w) is Status.OK
    assert evaluate_partition(w.samples, w.last_commit_ts, now=w.samples[-1].ts + 3600) is Status.OK


def test_idle_partition_with_lag_and_no_progress_is_stall_not_ok() -> None:
    assert status_of(window((500, 450), (500, 450))) is Status.STALL


def test_lag_zero_within_the_window_is_ok() -> None:
    assert status_of(window((100, 100), (120, 100), (140, 130))) is Status.OK


def window_status(w: PartitionWindow) -> Status:
    return w.status(w.samples[-1].ts)


def test_no_verdict_before_the_window_is_complete() -> None:
    no_commit = window((50, None), (50, None), (60, None), size=3)
    assert no_commit.last_commit_ts is None and not no_commit.complete
    assert window_status(no_commit) is Status.OK  # a new group before its first commits: no STALL
    no_commit.add(Sample(1030.0, 60, 30, 30))  # first commit
    no_commit.add(Sample(1040.0, 70, 30, 40))
    assert not no_commit.complete and window_status(no_commit) is Status.OK
    no_commit.add(Sample(1050.0, 80, 30, 50))
    assert no_commit.complete and window_status(no_commit) is Status.STALL  # three polls with a commit


def test_group_status_is_burrows() -> None:
    assert group_status([Status.OK, Status.WARN, Status.STALL, Status.REWIND]) is GroupStatus.ERR
    assert group_status([Status.OK, Status.REWIND]) is GroupStatus.ERR
    assert group_status([Status.STOP]) is GroupStatus.ERR
    assert group_status([Status.OK, Status.WARN]) is GroupStatus.WARN
    assert group_status([Status.OK, Status.OK]) is GroupStatus.OK
    assert group_status([]) is GroupStatus.OK
    assert worst_status([Status.STALL, Status.STOP, Status.OK]) is Status.STOP
    assert [s.code for s in GroupStatus] == [0, 1, 2]


def test_too_few_samples_is_ok() -> None:
    assert status_of(window((100, 10))) is Status.OK
    assert evaluate_partition([], None, 0.0) is Status.OK


def test_partition_status_codes() -> None:
    assert [s.code for s in Status] == [0, 1, 2, 3, 4]


# --- thresholds and alerts ---------------------------------------------------------------------------------


def test_breach_picks_the_highest_level_reached() -> None:
    levels = Levels(warn=100, critical=1000)
    assert breach(99, levels) is None
    assert breach(100, levels) == Breach("warning", 100, 100)
    assert breach(5000, levels) == Breach("critical", 5000, 1000)
    assert breach(None, levels) is None
    assert breach(10**9, Levels()) is None


def test_status_breach_uses_the_configured_severity() -> None:
    severities = {"STALL": "critical", "REWIND": "warning"}
    assert status_breach(Status.STALL, severities) == Breach("critical", 3.0, "STALL")
    assert status_breach(Status.WARN, severities) is None
    assert status_breach(Status.OK, severities) is None


def _alerts_counter(group: str, event: str, severity: str) -> float:
    value = REGISTRY.get_sample_value("crmhub_lag_alerts_total",
                                      {"group": group, "measure": "lag_messages", "severity": severity,
                                       "event": event})
    return value or 0.0


def test_alerts_are_raised_once_and_cleared_once() -> None:
    book = AlertBook(history=10)
    key = ("g-alerts", "orders", 0, "lag_messages")
    raised, cleared = book.update({key: Breach("warning", 150, 100)}, now=1.0)
    assert [a.key for a in raised] == [key] and cleared == []
    raised, cleared = book.update({key: Breach("warning", 180, 100)}, now=2.0)  # still over: no new alert
    assert raised == [] and cleared == []
    [open_alert] = book.open_alerts()
    assert (open_alert.value, open_alert.since, open_alert.severity) == (180, 1.0, "warning")
    raised, cleared = book.update({}, now=3.0)
    assert raised == [] and [a.cleared_at for a in cleared] == [3.0]
    assert book.update({}, now=4.0) == ([], [])
    assert book.open_alerts() == []
    assert [(a.since, a.cleared_at) for a in book.history()] == [(1.0, None), (1.0, 3.0)]
    assert _alerts_counter("g-alerts", "raised", "warning") == 1
    assert _alerts_counter("g-alerts", "cleared", "warning") == 1


def test_a_severity_change_clears_the_old_alert_and_raises_the_new_one() -> None:
    book = AlertBook()
    key = ("g-escalate", "orders", 1, "lag_messages")
    book.update({key: Breach("warning", 150, 100)}, now=1.0)
    raised, cleared = book.update({key: Breach("critical", 2000, 1000)}, now=2.0)
    assert [a.severity for a in cleared] == ["warning"] and [a.severity for a in raised] == ["critical"]
    assert [a.severity for a in book.open_alerts()] == ["critical"]


def test_alert_history_is_bounded() -> None:
    book = AlertBook(history=3)
    for i in range(5):
        book.update({("g-hist", "t", i, "lag_messages"): Breach("warning", 1, 1)}, now=float(i))
        book.update({}, now=i + 0.5)
    assert len(book.history()) == 3


# --- config ----------------------------------------------------------------------------------------------


def test_lag_config_defaults_and_problems() -> None:
    lag = validate_config_text("").lag
    assert (lag.enabled, lag.interval_s, lag.window, lag.lookup_points) == (True, 2.0, 10, 300)
    assert (lag.commit_log, lag.cluster_name) == (True, None)
    assert (lag.thresholds.lag_seconds.warn, lag.thresholds.lag_seconds.critical) == (60, 300)
    assert lag.thresholds.lag_messages.warn is None
    assert lag.thresholds.status == {"REWIND": "warning", "STALL": "critical", "STOP": "critical"}
    assert lag.groups.include == [".*"]
    text = "lag: {window: 1, groups: {exclude: ['(']}, thresholds: {lag_messages: {warn: 10, critical: 5}}}"
    with pytest.raises(ConfigError) as err:
        validate_config_text(text)
    problems = "\n".join(err.value.problems)
    assert "lag.window" in problems
    assert "lag.groups.exclude: not a regular expression" in problems
    assert "lag.thresholds.lag_messages.critical: must not be below warn" in problems


def test_nan_is_used_for_unknown_lag_seconds_in_metrics() -> None:
    from hub.lag.collector import _num

    assert math.isnan(_num(None)) and _num(2.5) == 2.5


# --- collector without a broker ------------------------------------------------------------------------------


def test_no_status_alert_from_an_incomplete_window_and_a_group_alert_once_complete() -> None:
    from hub.kafka.common import KafkaSettings
    from hub.lag.collector import LagCollector, Offsets

    cfg = validate_config_text("lag: {window: 3}").lag
    collector = LagCollector(KafkaSettings(), cfg)
    tp = ("orders", 0)

    def poll(now: float, end: int, committed: int | None) -> dict[tuple[str, str | None, int | None, str], Breach]:
        offsets = Offsets(states={"g-new": "Stable"}, committed={"g-new": {} if committed is None else {tp: committed}},
                          group_tps={"g-new": [tp]}, ends={tp: end}, earliest={tp: 0})
        return collector._breaches(collector._update(offsets, now))

    for i in range(4):  # a new group that has not committed yet: records wait, no verdict
        assert ("g-new", None, None, "status") not in poll(1000.0 + i, 50, None)
    assert ("g-new", None, None, "status") not in poll(1004.0, 50, 10)  # first commit: 1 of 3 polls
    assert ("g-new", None, None, "status") not in poll(1005.0, 50, 10)
    hit = poll(1006.0, 50, 10)[("g-new", None, None, "status")]  # complete, not moving: STALL → critical
    assert (hit.severity, hit.threshold) == ("critical", "STALL")
    snapshot = collector._update(Offsets(states={}, committed={"g-new": {tp: 10}}, group_tps={"g-new": [tp]},
                                         ends={tp: 50}, earliest={tp: 0}), 1007.0)
    group = snapshot.group("g-new")
    assert group is not None and (group.status, group.worst) == (GroupStatus.ERR, Status.STOP)
