"""The time-ordered consumer against the real broker: two topics that are both behind come back interleaved by
record time (kafka-python alone hands out one partition's fetch, then the next), nothing lost or repeated, each
partition in offset order; a seek back and a partition taken away drop what was buffered for it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from kafka import KafkaProducer, TopicPartition

from hub.kafka.clients import Admin, KafkaSettings, Message
from hub.kafka.ordered import TimeOrderedConsumer

pytestmark = pytest.mark.kafka
N = 2000
BASE_MS = 1_700_000_000_000


@pytest.fixture()
def two_topics(kafka_settings: KafkaSettings) -> Iterator[tuple[str, str]]:
    """Topics a and b, each with N records; a's were all written first, but by record time the two alternate
    (a's i-th at BASE + 2i, b's at BASE + 2i + 1), as a mapping's two outputs of one source row."""
    a, b = f"t.a{uuid.uuid4().hex[:8]}", f"t.b{uuid.uuid4().hex[:8]}"
    admin = Admin(kafka_settings)
    admin.ensure_topic(a)
    admin.ensure_topic(b)
    admin.close()
    producer = KafkaProducer(bootstrap_servers=kafka_settings.bootstrap_servers)
    for topic, odd in ((a, 0), (b, 1)):
        for i in range(N):
            producer.send(topic, value=f"{topic}-{i}".encode(), partition=0, timestamp_ms=BASE_MS + 2 * i + odd)
    producer.flush()
    producer.close()
    yield a, b


def drain(consumer: TimeOrderedConsumer, want: int, polls: int = 200) -> list[list[Message]]:
    batches: list[list[Message]] = []
    for _ in range(polls):
        if sum(map(len, batches)) >= want:
            break
        got = consumer.poll(500, max_records=200)
        if got:
            batches.append(got)
    return batches


def test_partitions_behind_come_back_interleaved_by_record_time(kafka_settings: KafkaSettings,
                                                                two_topics: tuple[str, str]) -> None:
    a, b = two_topics
    consumer = TimeOrderedConsumer(kafka_settings, f"g-{uuid.uuid4().hex[:6]}", [a, b], max_poll_records=200)
    try:
        batches = drain(consumer, 2 * N)
    finally:
        consumer.close()
    seen = [m for batch in batches for m in batch]
    assert len(seen) == 2 * N and len({(m.topic, m.offset) for m in seen}) == 2 * N
    assert [m.timestamp_ms for m in seen] == sorted(m.timestamp_ms for m in seen)
    for topic in (a, b):
        assert [m.offset for m in seen if m.topic == topic] == list(range(N))
    # every batch holds both topics' records of the same moments: a's i-th beside b's i-th
    assert all({m.topic for m in batch} == {a, b} for batch in batches)


def test_a_seek_back_drops_what_was_buffered_for_that_partition(kafka_settings: KafkaSettings,
                                                                two_topics: tuple[str, str]) -> None:
    a, b = two_topics
    consumer = TimeOrderedConsumer(kafka_settings, f"g-{uuid.uuid4().hex[:6]}", [a, b], max_poll_records=200)
    try:
        first = drain(consumer, 1)[0]
        assert consumer.buffered > 0
        consumer.seek(a, 0, 10)
        rest = [m for batch in drain(consumer, 2 * N - 10 - len([m for m in first if m.topic == b])) for m in batch]
    finally:
        consumer.close()
    assert [m.offset for m in rest if m.topic == a] == list(range(10, N))
    assert [m.offset for m in first + rest if m.topic == b] == list(range(N))


def test_a_partition_no_longer_assigned_loses_its_buffered_records(kafka_settings: KafkaSettings,
                                                                    two_topics: tuple[str, str]) -> None:
    a, b = two_topics
    consumer = TimeOrderedConsumer(kafka_settings, None)
    consumer.assign_topics([a, b])
    try:
        first = drain(consumer, 1)[0]
        assert {m.topic for m in first} == {a, b} and consumer.buffered > 0
        consumer._consumer.assign([TopicPartition(b, 0)])  # as a rebalance would leave it
        rest = [m for batch in drain(consumer, N - len([m for m in first if m.topic == b])) for m in batch]
    finally:
        consumer.close()
    assert rest and all(m.topic == b for m in rest)
    assert [m.offset for m in first + rest if m.topic == b] == list(range(N))


def test_a_commit_without_offsets_commits_what_was_returned_not_what_was_fetched(
        kafka_settings: KafkaSettings, two_topics: tuple[str, str]) -> None:
    a, b = two_topics
    group = f"g-{uuid.uuid4().hex[:6]}"
    consumer = TimeOrderedConsumer(kafka_settings, group, [a, b], max_poll_records=200)
    try:
        first = drain(consumer, 1)[0]
        assert consumer.buffered > 0  # fetched well beyond the 200 returned
        consumer.commit()
    finally:
        consumer.close()
    returned = {t: max(m.offset for m in first if m.topic == t) + 1 for t in (a, b)}
    admin = Admin(kafka_settings)
    try:
        assert admin.group_offsets(group) == {(a, 0): returned[a], (b, 0): returned[b]}
    finally:
        admin.close()
    # the next member of the group goes on from there: nothing skipped, nothing read twice
    again = TimeOrderedConsumer(kafka_settings, group, [a, b], max_poll_records=200)
    try:
        rest = [m for batch in drain(again, 2 * N - len(first)) for m in batch]
    finally:
        again.close()
    assert sorted((m.topic, m.offset) for m in first + rest) == sorted(
        [(a, i) for i in range(N)] + [(b, i) for i in range(N)])


def test_the_buffer_stays_within_its_bytes(kafka_settings: KafkaSettings, two_topics: tuple[str, str]) -> None:
    a, b = two_topics
    consumer = TimeOrderedConsumer(kafka_settings, f"g-{uuid.uuid4().hex[:6]}", [a, b], max_poll_records=100,
                                   buffer_bytes=2000)
    sizes: list[int] = []
    seen: list[Message] = []
    try:
        for _ in range(400):
            got = consumer.poll(500, max_records=100)
            seen.extend(got)
            sizes.append(consumer.buffered)
            if len(seen) >= 2 * N:
                break
    finally:
        consumer.close()
    # checked before each fetch from the client, so at most one client poll (100 records) beyond the bound; the
    # values are 13-16 bytes, so 2,000 bytes hold at most 153 records
    assert max(sizes) <= 2000 // 13 + 100
    for topic in (a, b):
        assert [m.offset for m in seen if m.topic == topic] == list(range(N))
