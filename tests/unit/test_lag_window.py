"""The status window as polls fill it: the lag of each poll measured as Burrow measures a commit's, commit times
from the commit log (STALL and STOP told apart), how long STOP takes at the default settings, and no alert,
metric leftovers or verdict from a window that is not complete."""

from __future__ import annotations

from prometheus_client import REGISTRY

from hub.config import validate_config_text
from hub.kafka.common import KafkaSettings
from hub.lag.collector import LagCollector, Offsets, describe_members
from hub.lag.commits import Commit
from hub.lag.model import Member, PartitionWindow, Status
from hub.lag.settings import LagConfig


def steady(window: PartitionWindow, polls: int, *, t0: float, interval: float, rate: int, behind: list[int],
           end0: int = 1000) -> float:
    """``polls`` polls ``interval`` s apart of a topic receiving ``rate`` records a poll; the committed offset
    is ``behind[i % len(behind)]`` records short of each poll's end. Returns the last poll's time."""
    ts = t0
    for i in range(polls):
        ts = t0 + i * interval
        end = end0 + i * rate
        window.observe(ts, end, end - behind[i % len(behind)], commit_ts=ts)
    return ts


def test_a_consumer_one_or_two_records_behind_under_steady_traffic_is_ok() -> None:
    for behind in ([1], [2], [1, 2], [2, 2, 1]):
        w = PartitionWindow(10)
        now = steady(w, 12, t0=1000.0, interval=2.0, rate=20, behind=behind)
        assert w.complete and w.current_lag == behind[11 % len(behind)]
        assert w.status(now) is Status.OK, behind


def test_a_consumer_falling_further_behind_is_warn() -> None:
    w = PartitionWindow(10)
    for i in range(20):
        ts = 1000.0 + 2 * i
        w.observe(ts, 1000 + 20 * i, 1000 + 12 * i, commit_ts=ts)  # reads 12 of the 20 new records a poll
        if i == 10:  # the window still holds the polls at which it was caught up
            assert w.status(ts) is Status.OK
    assert w.status(1038.0) is Status.WARN


def test_commit_times_tell_stall_from_stop() -> None:
    stalled, stopped = PartitionWindow(10), PartitionWindow(10)
    for i in range(12):
        ts = 1000.0 + 2 * i
        stalled.observe(ts, 500 + 10 * i, 400, commit_ts=ts - 0.5)  # commits the same offset again and again
        stopped.observe(ts, 500 + 10 * i, 400, commit_ts=990.0)  # its last commit was before the first poll
    assert stalled.status(1022.0) is Status.STALL
    assert stopped.status(1022.0) is Status.STOP


def test_without_commit_times_a_commit_counts_from_when_its_offset_was_first_seen() -> None:
    w = PartitionWindow(3)
    w.observe(1000.0, 100, 50)
    w.observe(1002.0, 110, 60)
    assert w.last_commit_ts == 1002.0
    w.observe(1004.0, 120, 60)
    assert w.last_commit_ts == 1002.0


def run_consumer(cfg: LagConfig, commit_every: float, stop_at: float | None,
                 until: float) -> tuple[float, list[tuple[float, Status]]]:
    """A consumer committing every ``commit_every`` s, 1-2 records behind a topic receiving 10 records a
    second, that stops at ``stop_at`` (None: never), its commits in the commit log as the broker writes them
    (the ones of the last ``window`` commit intervals before the monitor started too); the collector polls
    every ``interval_s`` from 1000 s until ``until``. Returns (last commit time, [(poll, status)])."""
    collector = LagCollector(KafkaSettings(), cfg)
    assert collector._commit_log is not None
    tp = ("t", 0)
    last_commit = next_commit = 1000.0 - cfg.window * commit_every
    out = []
    t = 1000.0
    while t <= until:
        while next_commit < t and (stop_at is None or next_commit <= stop_at):
            last_commit = next_commit
            collector._commit_log.ring.add(("g", *tp), Commit(int((last_commit - 1000.0) * 10) + 10_098, last_commit))
            next_commit += commit_every
        committed = int((last_commit - 1000.0) * 10) + 10_098
        offsets = Offsets(states={"g": "Stable"}, committed={"g": {tp: committed}}, group_tps={"g": [tp]},
                          ends={tp: int((t - 1000.0) * 10) + 10_100}, earliest={tp: 0})
        out.append((t, collector._update(offsets, t).groups[0].partitions[0].status))
        t += cfg.interval_s
    return last_commit, out


def stop_after(cfg: LagConfig, commit_every: float) -> float:
    """Seconds from the last commit of a consumer that stops to the first poll that says STOP."""
    stop_at = 1000.0 + max(60 * cfg.interval_s, 12 * commit_every)
    last, polls = run_consumer(cfg, commit_every, stop_at, until=stop_at + 1200)
    return next(t for t, status in polls if t > stop_at and status is Status.STOP) - last


def test_stop_is_noticed_within_30_s_at_the_default_settings() -> None:
    cfg = validate_config_text("").lag
    for commit_every in (0.2, 0.5, 1.0, 2.0):  # per batch under steady traffic, as crmhub's pipelines commit
        assert stop_after(cfg, commit_every) <= 30.0, commit_every


def test_a_consumer_that_commits_seldom_is_never_stop_while_it_commits() -> None:
    cfg = validate_config_text("").lag
    for commit_every in (5.0, 30.0, 60.0):  # auto-commit intervals, a Kafka Connect sink's offset flush
        _, polls = run_consumer(cfg, commit_every, None, until=1000.0 + 20 * commit_every)
        assert {s for _, s in polls} == {Status.OK}, commit_every
        # once it stops: STOP after the span of its own last commits (Burrow's rule), not before
        assert stop_after(cfg, commit_every) > (cfg.window - 1) * commit_every


def test_a_new_group_raises_no_alert_before_its_window_is_complete() -> None:
    cfg = validate_config_text("lag: {window: 3, thresholds: {lag_messages: {warn: 1}, "
                               "lag_seconds: {warn: 1}}}").lag
    collector = LagCollector(KafkaSettings(), cfg)
    tp = ("orders", 0)
    breaches = []
    for i in range(6):  # six polls without a commit: records wait, but the group has not started here
        offsets = Offsets(states={"g-fresh": "Stable"}, committed={"g-fresh": {}}, group_tps={"g-fresh": [tp]},
                          ends={tp: 50}, earliest={tp: 0})
        snapshot = collector._update(offsets, 1000.0 + 10 * i)
        breaches.append(collector._breaches(snapshot))
    assert breaches == [{}] * 6
    [partition] = snapshot.groups[0].partitions
    assert (partition.lag, partition.complete, partition.status) == (50, False, Status.OK)
    assert snapshot.groups[0].complete == 0.0


def _value(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_metrics_carry_cluster_and_member_labels_and_follow_the_owner() -> None:
    cfg = validate_config_text("lag: {cluster_name: unit-cluster}").lag
    collector = LagCollector(KafkaSettings(), cfg)
    tps = [("sales", 0), ("sales", 1), ("stock", 0)]
    one = Member("consumer-1-abc", "crmhub-unify", "/10.0.0.5")
    two = Member("consumer-2-def", "crmhub-unify", "/10.0.0.6")

    def poll(now: float, owner: Member) -> None:
        offsets = Offsets(states={"g-lab": "Stable"}, committed={"g-lab": {tp: 5 for tp in tps}},
                          group_tps={"g-lab": tps}, ends={tp: 9 for tp in tps}, earliest={tp: 2 for tp in tps},
                          members={"g-lab": {tp: owner for tp in tps}})
        collector.poll_time_ms = 12.5
        collector._export(collector._update(offsets, now))

    poll(1000.0, one)
    base = {"cluster_name": "unit-cluster", "group": "g-lab"}
    owner_one = {"member_host": "/10.0.0.5", "consumer_id": "consumer-1-abc", "client_id": "crmhub-unify"}
    assert _value("kafka_consumergroup_group_lag", **base, topic="sales", partition="1", **owner_one) == 4
    assert _value("kafka_consumergroup_group_topic_sum_lag", **base, topic="sales") == 8
    assert _value("kafka_consumergroup_group_topic_sum_lag", **base, topic="stock") == 4
    assert _value("kafka_partition_earliest_offset", cluster_name="unit-cluster", topic="stock", partition="0") == 2
    assert _value("kafka_partition_latest_offset", cluster_name="unit-cluster", topic="stock", partition="0") == 9
    assert _value("kafka_consumergroup_poll_time_ms", cluster_name="unit-cluster") == 12.5
    poll(1002.0, two)  # a rebalance moved the partitions: the old member's series go
    assert _value("kafka_consumergroup_group_offset", **base, topic="sales", partition="0", **owner_one) is None
    assert _value("kafka_consumergroup_group_offset", **base, topic="sales", partition="0", member_host="/10.0.0.6",
                  consumer_id="consumer-2-def", client_id="crmhub-unify") == 5


def test_the_cluster_name_defaults_to_the_first_bootstrap_server() -> None:
    collector = LagCollector(KafkaSettings(bootstrap_servers="kafka-a:9092,kafka-b:9092"), LagConfig())
    assert collector.cluster_name == "kafka-a:9092"


def test_members_are_read_from_the_group_description() -> None:
    described = {"g": {"group_state": "Stable", "members": [
        {"member_id": "m-1", "client_id": "c-1", "client_host": "/127.0.0.1",
         "member_assignment": {"assigned_partitions": [{"topic": "t", "partitions": [0, 2]}]}},
        {"member_id": "m-2", "client_id": "c-2", "client_host": "/127.0.0.2", "member_assignment": None}]},
        "idle": {"group_state": "Empty", "members": []}}
    members = describe_members(described)
    assert members["idle"] == ("Empty", {})
    state, owners = members["g"]
    assert state == "Stable"
    assert owners == {("t", 0): Member("m-1", "c-1", "/127.0.0.1"), ("t", 2): Member("m-1", "c-1", "/127.0.0.1")}


def test_a_commit_log_still_catching_up_is_not_judged_on_its_old_commits() -> None:
    cfg = validate_config_text("").lag
    collector = LagCollector(KafkaSettings(), cfg)
    assert collector._commit_log is not None
    tp = ("t", 0)
    for i in range(10):  # yesterday's commits, read first; today's have not been read yet
        collector._commit_log.ring.add(("g", *tp), Commit(100 + i, 1000.0 + 60 * i))
    snap = None
    for j in range(3):
        offsets = Offsets(states={"g": "Stable"}, committed={"g": {tp: 90_000 + j}}, group_tps={"g": [tp]},
                          ends={tp: 90_002 + j}, earliest={tp: 0})
        snap = collector._update(offsets, 90_000.0 + 2 * j)
    assert snap is not None
    [partition] = snap.groups[0].partitions
    assert (partition.status, partition.complete) == (Status.OK, False)  # no STOP from the old commits
