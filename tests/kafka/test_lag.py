"""The lag monitor against the real broker: lag per partition, STALL/STOP once commits stop, gauges, API, CLI."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from typer.testing import CliRunner

from hub.cli import app
from hub.cli import commands as cli_commands  # noqa: F401  (registers the commands)
from hub.config import validate_config_text
from hub.gateway.guards import service_token
from hub.kafka.clients import Admin, Consumer, KafkaSettings, Producer, Record
from hub.kafka.local import LocalKafka, free_port
from hub.lag.collector import LagCollector
from hub.lag.model import GroupStatus, Status
from hub.registry.server import serve_in_thread
from hub.runtime.hub import Hub
from hub.serving.admin import create_admin_app
from schemas.errors import RetriableError
from tests.kafka.helpers import wait_for

pytestmark = pytest.mark.kafka


def _topic(settings: KafkaSettings, partitions: int) -> str:
    name = f"lag.{uuid.uuid4().hex[:10]}"
    admin = Admin(settings)
    admin.ensure_topic(name, partitions=partitions)
    admin.close()
    return name


def _produce(settings: KafkaSettings, topic: str, per_partition: dict[int, int]) -> None:
    producer = Producer(settings)
    producer.send_batch(Record(topic, None, b"x", partition=p) for p, n in per_partition.items() for _ in range(n))
    producer.close()


def _commit(settings: KafkaSettings, group: str, topic: str, offsets: dict[int, int]) -> None:
    """Commit exactly ``offsets`` for ``group`` (seek, then commit the positions)."""
    consumer = Consumer(settings, group_id=group)
    consumer.assign(topic, sorted(offsets), from_beginning=False)
    for partition, offset in offsets.items():
        consumer.seek(topic, partition, offset)
    consumer.commit()
    consumer.close()


def _member(settings: KafkaSettings, group: str, topic: str) -> Consumer:
    """A member of ``group`` on ``topic``, just created: it joins once its client knows the topic's partitions, as
    the pipelines do (otherwise it can be assigned none of them until a later metadata refresh and rejoin)."""
    return Consumer(settings, group_id=group, topics=[topic], join_after_metadata=True)


def _gauge(name: str, **labels: Any) -> float | None:
    return REGISTRY.get_sample_value(name, {k: str(v) for k, v in labels.items()})


NO_MEMBER = {"member_host": "", "consumer_id": "", "client_id": ""}  # partitions no live member owns


def test_lag_per_partition_then_stall_and_stop_when_commits_stop(kafka_settings: KafkaSettings) -> None:
    topic, idle_topic = _topic(kafka_settings, 3), _topic(kafka_settings, 1)
    group, idle_group = f"lag-{uuid.uuid4().hex[:6]}", f"lag-idle-{uuid.uuid4().hex[:6]}"
    _produce(kafka_settings, topic, {0: 10, 1: 10, 2: 5})
    _produce(kafka_settings, idle_topic, {0: 4})
    _commit(kafka_settings, group, topic, {0: 4, 1: 7})  # partition 2: no commit
    _commit(kafka_settings, idle_group, idle_topic, {0: 4})  # caught up, and nothing new arrives
    cfg = validate_config_text(
        f"lag: {{window: 3, groups: {{include: ['{re.escape(group)}', '{re.escape(idle_group)}']}}, "
        "thresholds: {lag_messages: {warn: 5, critical: 100}}}").lag
    collector = LagCollector(kafka_settings, cfg)
    try:
        first = collector.sample()
        assert [g.group for g in first.groups] == sorted([group, idle_group])
        busy = first.group(group)
        assert busy is not None
        rows = [(p.topic, p.partition, p.end, p.committed, p.lag) for p in busy.partitions]
        assert rows == [(topic, 0, 10, 4, 6), (topic, 1, 10, 7, 3), (topic, 2, 5, None, 5)]
        assert busy.status is GroupStatus.OK  # one sample: no verdict before a complete window
        cluster = collector.cluster_name
        assert cluster == kafka_settings.bootstrap_servers.split(",")[0]
        labels = {"cluster_name": cluster, "group": group, "topic": topic, **NO_MEMBER}
        assert _gauge("kafka_consumergroup_group_lag", **labels, partition=0) == 6
        assert _gauge("kafka_consumergroup_group_offset", **labels, partition=2) == -1
        assert collector.commit_times == "commit log"

        statuses = []
        for _ in range(3):  # the producer goes on, the consumer commits nothing more
            _produce(kafka_settings, topic, {0: 5, 1: 5, 2: 5})
            snap = collector.sample()
            busy = snap.group(group)
            assert busy is not None
            statuses.append(busy.status)
        assert statuses == [GroupStatus.OK, GroupStatus.ERR, GroupStatus.ERR]  # window complete at sample 3
        assert [(p.lag, p.status) for p in busy.partitions] == [
            (21, Status.STOP), (18, Status.STOP), (20, Status.OK)]  # no commit yet: no verdict
        p0 = busy.partitions[0]
        assert p0.lag_seconds is not None and p0.lag_seconds >= snap.ts - first.ts  # behind since before sample 1

        idle = snap.group(idle_group)
        assert idle is not None and idle.status is GroupStatus.OK
        assert [(p.lag, p.lag_seconds, p.status) for p in idle.partitions] == [(0, 0.0, Status.OK)]

        assert _gauge("kafka_consumergroup_group_lag", **labels, partition=0) == 21
        assert _gauge("kafka_consumergroup_group_offset", **labels, partition=1) == 7
        assert _gauge("kafka_partition_latest_offset", cluster_name=cluster, topic=topic, partition=2) == 20
        assert _gauge("kafka_partition_earliest_offset", cluster_name=cluster, topic=topic, partition=2) == 0
        assert _gauge("kafka_consumergroup_group_max_lag", cluster_name=cluster, group=group) == 21
        assert _gauge("kafka_consumergroup_group_sum_lag", cluster_name=cluster, group=group) == 59
        assert _gauge("kafka_consumergroup_group_topic_sum_lag", cluster_name=cluster, group=group, topic=topic) == 59
        assert (_gauge("kafka_consumergroup_poll_time_ms", cluster_name=cluster) or 0.0) > 0.0
        assert _gauge("kafka_consumergroup_group_lag_seconds", **labels, partition=0) == pytest.approx(p0.lag_seconds)
        assert _gauge("crmhub_consumergroup_status", cluster_name=cluster, group=group) == GroupStatus.ERR.code
        assert _gauge("crmhub_consumergroup_partition_status", **labels, partition=0) == Status.STOP.code
        assert _gauge("crmhub_consumergroup_status", cluster_name=cluster, group=idle_group) == GroupStatus.OK.code

        alerts = {(a.group, a.partition, a.measure, a.severity) for a in collector.alerts.open_alerts()}
        assert alerts == {(group, 0, "lag_messages", "warning"), (group, 1, "lag_messages", "warning"),
                          (group, None, "status", "critical")}  # partition 2: no commit, no verdict, no alert

        fake_hub: Any = SimpleNamespace(lag=collector, roles=frozenset(), runners={})
        api = serve_in_thread(create_admin_app(fake_hub))
        try:
            body = httpx.get(f"{api.url}/lag").json()
            open_alerts = httpx.get(f"{api.url}/lag/alerts").json()["open"]
            metrics = httpx.get(f"{api.url}/metrics").text
        finally:
            api.stop()
        [busy_json] = [g for g in body["groups"] if g["group"] == group]
        assert busy_json["status"] == "ERR" and busy_json["max_lag"] == 21
        assert [p["committed"] for p in busy_json["partitions"]] == [4, 7, None]
        assert {a["measure"] for a in open_alerts} == {"lag_messages", "status"}
        assert f'kafka_consumergroup_group_max_lag{{cluster_name="{cluster}",group="{group}"}} 21.0' in metrics
    finally:
        collector.close()


def test_crmhub_lag_prints_partitions_and_group_status(kafka_broker: LocalKafka, kafka_settings: KafkaSettings,
                                                       tmp_path: Path) -> None:
    topic = _topic(kafka_settings, 2)
    group = f"lag-cli-{uuid.uuid4().hex[:6]}"
    _produce(kafka_settings, topic, {0: 8, 1: 3})
    _commit(kafka_settings, group, topic, {0: 5, 1: 3})
    config = tmp_path / "hub.yaml"
    config.write_text(f"kafka: {{bootstrap_servers: '{kafka_broker.bootstrap}'}}\n")
    result = CliRunner().invoke(app, ["lag", "-c", str(config), "--group", group, "--interval", "0.2"],
                                env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()  # the table (alerts are logged on stderr)
    assert max(len(line) for line in lines) <= 80
    cells = [line.split() for line in lines if line.strip().startswith(topic)]
    # ten samples (lag.window) by default: a complete window, and the one commit is older than all of it
    assert [row[:5] + row[6:] for row in cells] == [[topic, "0", "8", "5", "3", "STOP"],
                                                    [topic, "1", "3", "3", "0", "OK"]]
    assert float(cells[0][5]) >= 0.0 and cells[1][5] == "0.0"  # quiet topic with records waiting: never "?"
    assert f"{group}: ERR (2 partitions" in result.output
    assert "max lag 3 / " in result.output and ", sum 3)" in result.output


def test_running_hub_samples_in_the_background_and_serves_lag(kafka_broker: LocalKafka,
                                                               kafka_settings: KafkaSettings) -> None:
    topic = _topic(kafka_settings, 1)
    group = f"lag-hub-{uuid.uuid4().hex[:6]}"
    _produce(kafka_settings, topic, {0: 6})
    _commit(kafka_settings, group, topic, {0: 2})
    cfg = validate_config_text(
        f"kafka: {{bootstrap_servers: '{kafka_broker.bootstrap}'}}\nadmin: {{port: {free_port()}}}\n"
        f"lag: {{interval_s: 0.2, window: 3, groups: {{include: ['{re.escape(group)}']}}}}\n")
    hub = Hub(cfg, frozenset({"admin"}))
    hub.start()
    try:
        assert hub.admin is not None and hub.lag is not None
        url = hub.admin.url
        auth = {"Authorization": f"Bearer {service_token(cfg)}"}  # the admin API takes the hub's service token

        def group_status() -> str | None:
            groups = httpx.get(f"{url}/lag", headers=auth).json()["groups"]
            return groups[0]["status"] if groups else None

        wait_for(lambda: group_status() == "ERR", timeout=30, state=group_status)  # keeps sampling by itself
        [partition] = httpx.get(f"{url}/lag", headers=auth).json()["groups"][0]["partitions"]
        assert (partition["end"], partition["committed"], partition["lag"]) == (6, 2, 4)
        alerts = httpx.get(f"{url}/lag/alerts", headers=auth).json()
        assert [(a["measure"], a["severity"]) for a in alerts["open"]] == [("status", "critical")]
    finally:
        hub.stop()
    assert hub.lag._thread is None  # stopped with the hub


def test_crmhub_lag_exits_1_for_an_unknown_group(kafka_broker: LocalKafka, tmp_path: Path) -> None:
    config = tmp_path / "hub.yaml"
    config.write_text(f"kafka: {{bootstrap_servers: '{kafka_broker.bootstrap}'}}\n")
    result = CliRunner().invoke(app, ["lag", "-c", str(config), "-g", f"nosuch-{uuid.uuid4().hex[:6]}"])
    assert result.exit_code == 1, result.output
    assert "no consumer group 'nosuch-" in result.output


def test_an_idle_partition_that_receives_one_record_is_not_stopped(kafka_settings: KafkaSettings) -> None:
    topic = _topic(kafka_settings, 1)
    group = f"lag-idle1-{uuid.uuid4().hex[:6]}"
    _produce(kafka_settings, topic, {0: 3})
    _commit(kafka_settings, group, topic, {0: 3})  # caught up; the committed offset does not change after this
    cfg = validate_config_text(f"lag: {{window: 3, groups: {{include: ['{re.escape(group)}']}}}}").lag
    collector = LagCollector(kafka_settings, cfg)
    try:
        for _ in range(5):  # idle, caught up, the window complete and older than the last commit
            collector.sample()
        _produce(kafka_settings, topic, {0: 1})
        snap = collector.sample()
        busy = snap.group(group)
        assert busy is not None
        [partition] = busy.partitions
        assert (partition.lag, partition.status, busy.status) == (1, Status.OK, GroupStatus.OK)
        assert partition.lag_seconds is not None and partition.lag_seconds >= 0.0
        for _ in range(3):  # the window slides past the caught-up end offsets and still no commit
            snap = collector.sample()
        stopped = snap.group(group)
        assert stopped is not None and stopped.partitions[0].status is Status.STOP
        assert stopped.status is GroupStatus.ERR
    finally:
        collector.close()


def test_commit_times_from_the_commit_log_tell_stall_from_stop(kafka_settings: KafkaSettings) -> None:
    topic = _topic(kafka_settings, 1)
    stuck, gone = f"lag-stuck-{uuid.uuid4().hex[:6]}", f"lag-gone-{uuid.uuid4().hex[:6]}"
    _produce(kafka_settings, topic, {0: 5})
    _commit(kafka_settings, gone, topic, {0: 2})  # commits once, then never again
    cfg = validate_config_text(f"lag: {{window: 3, groups: {{include: ['{re.escape(stuck)}', "
                               f"'{re.escape(gone)}']}}}}").lag
    collector = LagCollector(kafka_settings, cfg)
    try:
        for _ in range(4):  # records keep arriving; one group re-commits offset 2 before every poll
            _commit(kafka_settings, stuck, topic, {0: 2})
            _produce(kafka_settings, topic, {0: 2})
            snap = collector.sample()
        assert collector.commit_times == "commit log"
        statuses = {g.group: (g.partitions[0].status, g.status) for g in snap.groups}
        assert statuses == {stuck: (Status.STALL, GroupStatus.ERR), gone: (Status.STOP, GroupStatus.ERR)}
    finally:
        collector.close()


def test_without_the_commit_log_a_commit_dates_from_when_it_was_first_seen(kafka_settings: KafkaSettings) -> None:
    topic = _topic(kafka_settings, 1)
    group = f"lag-nolog-{uuid.uuid4().hex[:6]}"
    _produce(kafka_settings, topic, {0: 5})
    _commit(kafka_settings, group, topic, {0: 2})
    only = f"groups: {{include: ['{re.escape(group)}']}}"
    cfg = validate_config_text(f"lag: {{window: 3, commit_log: false, {only}}}").lag
    collector = LagCollector(kafka_settings, cfg)
    try:
        for _ in range(4):
            _commit(kafka_settings, group, topic, {0: 2})  # the same offset again: not visible without the log
            _produce(kafka_settings, topic, {0: 2})
            snap = collector.sample()
        assert collector.commit_times == "first seen"
        [partition] = snap.groups[0].partitions
        assert partition.status is Status.STOP
    finally:
        collector.close()


def test_stop_at_the_default_settings_after_a_live_consumer_stops(kafka_settings: KafkaSettings) -> None:
    """A consumer reading a topic that receives ~20 records a second, committing after every poll, then gone;
    the monitor samples at its default settings. Prints the seconds from the last commit to STOP."""
    import threading
    import time

    topic = _topic(kafka_settings, 2)
    group = f"lag-live-{uuid.uuid4().hex[:6]}"
    cfg = validate_config_text(f"lag: {{groups: {{include: ['{re.escape(group)}']}}}}").lag
    stop_producing, stop_consuming = threading.Event(), threading.Event()
    last_commit = [0.0]

    produce_errors: list[str] = []

    def produce() -> None:
        # the lag to see only grows while records keep coming: a send that fails (a broker busy with another
        # test's clients) is retried, never the end of the producer
        producer = Producer(kafka_settings)
        while not stop_producing.is_set():
            try:
                producer.send_batch([Record(topic, None, b"x", partition=p) for p in (0, 1)])
            except RetriableError as exc:
                produce_errors.append(str(exc))
            stop_producing.wait(0.1)
        producer.close()

    def consume() -> None:
        consumer = _member(kafka_settings, group, topic)
        while not stop_consuming.is_set():
            if consumer.poll(200):
                consumer.commit()
                last_commit[0] = time.time()
        consumer.close()

    threads = [threading.Thread(target=produce, daemon=True), threading.Thread(target=consume, daemon=True)]
    for thread in threads:
        thread.start()
    collector = LagCollector(kafka_settings, cfg)
    collector.start()
    try:
        def verdict() -> tuple[str, float] | None:
            snap = collector.snapshot
            g = snap.group(group) if snap else None
            return None if g is None or g.complete < 1.0 else (g.status.value, g.max_lag_seconds or 0.0)

        wait_for(lambda: verdict() is not None, timeout=120, state=verdict)
        healthy = verdict()
        assert healthy is not None and healthy[0] == "OK", healthy
        assert not [a for a in collector.alerts.history() if a.group == group]
        stop_consuming.set()
        threads[1].join(10)
        stopped_at = last_commit[0]
        wait_for(lambda: (verdict() or ("",))[0] == "ERR", timeout=120,
                 state=lambda: (verdict(), threads[0].is_alive(), produce_errors[-3:]))
        snap = collector.snapshot
        assert snap is not None
        g = snap.group(group)
        assert g is not None and {p.status for p in g.partitions} == {Status.STOP}
        print(f"\nSTOP {snap.ts - stopped_at:.1f} s after the last commit (interval {cfg.interval_s} s, "
              f"window {cfg.window})")
    finally:
        stop_producing.set()
        stop_consuming.set()
        collector.stop()
        collector.close()


def test_a_consumer_keeping_up_on_50_partitions_is_ok_everywhere(kafka_broker: LocalKafka,
                                                                  kafka_settings: KafkaSettings,
                                                                  tmp_path: Path) -> None:
    """Steady traffic over 50 partitions, a consumer committing after every poll, a record or two behind at any
    moment: every complete window says OK, no alert is raised, and `crmhub lag` with its defaults says OK."""
    import threading

    topic = _topic(kafka_settings, 50)
    group = f"lag-keepup-{uuid.uuid4().hex[:6]}"
    stop = threading.Event()

    def produce() -> None:
        producer = Producer(kafka_settings)
        while not stop.is_set():
            producer.send_batch([Record(topic, None, b"x", partition=p) for p in range(50)])
            stop.wait(0.2)
        producer.close()

    def consume() -> None:
        consumer = _member(kafka_settings, group, topic)
        while not stop.is_set():
            if consumer.poll(100):
                consumer.commit()
        consumer.close()

    threads = [threading.Thread(target=produce, daemon=True), threading.Thread(target=consume, daemon=True)]
    for thread in threads:
        thread.start()
    cfg = validate_config_text(f"lag: {{interval_s: 0.5, groups: {{include: ['{re.escape(group)}']}}}}").lag
    collector = LagCollector(kafka_settings, cfg)
    try:
        def joined() -> bool:
            try:
                g = collector.sample().group(group)
            except RetriableError:  # a broker started a moment ago still loads its group coordinator
                return False
            return g is not None and len(g.partitions) == 50 and all(p.committed is not None for p in g.partitions)

        wait_for(joined, timeout=90)
        verdicts = []
        for _ in range(25):
            snap = collector.sample()
            g = snap.group(group)
            assert g is not None
            verdicts += [p.status for p in g.partitions if p.complete]
        assert len(verdicts) >= 50 * 10 and set(verdicts) == {Status.OK}
        owners = {p.member for p in g.partitions}  # the one live member owns every partition
        [owner] = owners
        assert owner is not None and owner.consumer_id and owner.client_id == kafka_settings.client_id
        assert owner.host.lstrip("/") == "127.0.0.1"
        labels = {"cluster_name": collector.cluster_name, "group": group, "topic": topic, "partition": "7",
                  "member_host": owner.host, "consumer_id": owner.consumer_id, "client_id": owner.client_id}
        assert _gauge("kafka_consumergroup_group_offset", **labels) == g.partitions[7].committed
        assert not [a for a in collector.alerts.history() if a.group == group]
        config = tmp_path / "hub.yaml"
        config.write_text(f"kafka: {{bootstrap_servers: '{kafka_broker.bootstrap}'}}\n")
        result = CliRunner().invoke(app, ["lag", "-c", str(config), "-g", group, "--interval", "0.5"],
                                    env={"COLUMNS": "80"})
        assert result.exit_code == 0, result.output
        assert f"{group}: OK (50 partitions" in result.stdout
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        collector.close()
