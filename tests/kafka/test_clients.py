"""The Kafka wrappers against the real broker."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from hub.kafka.clients import Admin, Consumer, KafkaSettings, Producer, Record
from hub.kafka.local import LocalKafka
from schemas.errors import RetriableError

pytestmark = pytest.mark.kafka


def test_batch_is_acknowledged_in_order_and_read_back(kafka_settings: KafkaSettings, topic: str) -> None:
    producer = Producer(kafka_settings)
    acks = producer.send_batch(Record(topic, f"k{i}".encode(), f"v{i}".encode(), (("h", b"x"),)) for i in range(500))
    producer.close()
    assert [a.offset for a in acks] == list(range(500))
    consumer = Consumer(kafka_settings, group_id=f"g-{uuid.uuid4().hex[:6]}", topics=[topic])
    seen: list[bytes] = []
    for _ in range(40):
        seen.extend(m.value or b"" for m in consumer.poll(500))
        if len(seen) >= 500:
            break
    consumer.commit()
    consumer.close()
    assert seen == [f"v{i}".encode() for i in range(500)]


def test_manual_commit_resumes_after_last_commit(kafka_settings: KafkaSettings, topic: str) -> None:
    Producer(kafka_settings).send_batch(Record(topic, None, str(i).encode()) for i in range(10))
    group = f"g-{uuid.uuid4().hex[:6]}"
    first = Consumer(kafka_settings, group_id=group, topics=[topic], max_poll_records=4)
    got: list[bytes] = []
    while not got:
        got = [m.value or b"" for m in first.poll(1000)]
    assert got == [b"0", b"1", b"2", b"3"]
    first.commit()
    first.poll(1000)  # read further but never commit: those must be delivered again
    first.close()
    admin = Admin(kafka_settings)
    assert admin.group_offsets(group) == {(topic, 0): 4}
    admin.close()
    second = Consumer(kafka_settings, group_id=group, topics=[topic])
    rest: list[bytes] = []
    for _ in range(20):
        rest.extend(m.value or b"" for m in second.poll(500))
        if len(rest) >= 6:
            break
    second.close()
    assert rest == [str(i).encode() for i in range(4, 10)]


def test_stalled_means_records_left_unread_not_a_quiet_topic(kafka_settings: KafkaSettings, topic: str) -> None:
    Producer(kafka_settings).send_batch(Record(topic, None, str(i).encode()) for i in range(6))
    consumer = Consumer(kafka_settings, group_id=f"g-{uuid.uuid4().hex[:6]}", topics=[topic], max_poll_records=2)
    try:
        got: list[bytes] = []
        while not got:
            got = [m.value or b"" for m in consumer.poll(1000)]
        assert got == [b"0", b"1"]
        assert "did not fetch" in (consumer.stall_reason() or "")  # assigned, four records not handed out
        while len(got) < 6:
            got.extend(m.value or b"" for m in consumer.poll(1000))
        assert consumer.stall_reason() is None  # caught up on a quiet topic
    finally:
        consumer.close()


def test_compacted_topic_has_compaction_config(kafka_settings: KafkaSettings) -> None:
    admin = Admin(kafka_settings)
    name = f"c.{uuid.uuid4().hex[:8]}"
    assert admin.ensure_compacted(name) is True
    assert admin.ensure_compacted(name) is False
    assert admin.topic_configs(name)["cleanup.policy"] == "compact"
    assert name in admin.list_topics()
    admin.close()


def test_unreachable_broker_is_retriable(kafka_broker: LocalKafka) -> None:
    from hub.kafka.local import free_port

    with pytest.raises(RetriableError, match="Kafka unreachable"):
        Producer(
            KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}"),
            max_block_ms=2000,
            bootstrap_timeout_ms=2000,
            request_timeout_ms=2000,
            delivery_timeout_ms=3000,
        )


def test_a_member_whose_heartbeats_stopped_is_stalled(kafka_settings: KafkaSettings, topic: str) -> None:
    """The wedge seen in CI: kafka-python believes it is a stable member but sends no heartbeats any more, so
    the broker expires it and nothing is fetched. Reproduced by disabling the client's heartbeat loop."""
    Producer(kafka_settings).send_batch([Record(topic, None, b"x")])
    consumer = Consumer(kafka_settings, group_id=f"g-{uuid.uuid4().hex[:6]}", topics=[topic],
                        session_timeout_ms=6000, heartbeat_interval_ms=1000)
    try:
        while not consumer.poll(1000):
            pass
        assert consumer.stall_reason() is None  # caught up, heartbeating
        consumer._consumer._coordinator._disable_heartbeat()  # the library's own switch
        deadline = time.monotonic() + 20
        reason = None
        while reason is None and time.monotonic() < deadline:
            consumer.poll(500)
            reason = consumer.stall_reason()
        assert reason is not None and "no heartbeat answer" in reason
    finally:
        consumer.close()



def test_a_group_member_joining_right_after_the_topic_was_created_gets_its_partitions(
        kafka_settings: KafkaSettings) -> None:
    """Another process creates the topics a moment before this one joins (the unify process beside the one
    that made the canonical topics): the member's first join assigns it every partition, because the pattern
    subscription makes kafka-python fetch fresh metadata before joining."""
    for _ in range(3):
        topics = [f"t.fresh.{uuid.uuid4().hex[:8]}" for _ in range(2)]
        admin = Admin(kafka_settings)
        for name in topics:
            admin.ensure_topic(name, partitions=3)
        admin.close()
        consumer = Consumer(kafka_settings, group_id=f"g-{uuid.uuid4().hex[:6]}", topics=topics,
                            join_after_metadata=True)
        try:
            coordinator = consumer._consumer._coordinator
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline and not coordinator.stable():
                consumer.poll(200)
            # the first completed join already has every partition (it used to be none, fixed by a rejoin later)
            assert sorted((tp.topic, tp.partition) for tp in consumer._consumer.assignment()) == [
                (t, p) for t in sorted(topics) for p in range(3)]
        finally:
            consumer.close()


def test_two_workers_growing_one_new_topic_together_both_succeed(kafka_settings: KafkaSettings) -> None:
    """Two workers start at once: the first creates the cluster topic with its partitions, the second finds it
    there but cannot describe it yet, asks the broker to grow it and is refused as already grown (the real
    broker's answer); it describes again and goes on. A topic that really lacks partitions is still grown."""
    from hub.kafka.group import ensure_work_topic

    name = f"t.grow.{uuid.uuid4().hex[:8]}"
    ensure_work_topic(kafka_settings, name, 2)  # the first worker
    admin = Admin(kafka_settings)
    try:
        describe = admin.topic_partitions
        # the second worker's first look: the new topic is not described yet
        answers: Iterator[dict[str, list[int]]] = iter([{}])
        admin.topic_partitions = lambda topics: next(answers, None) or describe(topics)  # type: ignore[method-assign]
        admin.grow_partitions(name, 2)
        assert describe([name]) == {name: [0, 1]}
        admin.grow_partitions(name, 3)  # a connector added: grown for real
        assert describe([name]) == {name: [0, 1, 2]}
        admin.topic_partitions = lambda topics: {}  # type: ignore[method-assign]
        with pytest.raises(Exception, match=f"growing {name} to 3 partitions"):
            admin.grow_partitions(name, 3, settle_s=0.3)  # never seen with them: the refusal stands
    finally:
        admin.close()
