"""Merging partitions' fetched records in record-time order (the unify consumer's polls)."""

from __future__ import annotations

from collections import deque

import pytest
from kafka import TopicPartition

from hub.kafka import ordered
from hub.kafka.clients import Message
from hub.kafka.ordered import TimeOrderedConsumer, take_in_time_order


def msgs(topic: str, stamps: list[int], first: int = 0) -> deque[Message]:
    return deque(Message(topic, 0, first + i, None, None, ts) for i, ts in enumerate(stamps))


def test_the_earliest_records_of_all_partitions_come_first() -> None:
    runs = {("canon.customer", 0): msgs("canon.customer", [10, 20, 30, 40]),
            ("canon.credit", 0): msgs("canon.credit", [10, 20, 30, 40])}
    out = take_in_time_order(runs, 5)
    assert [(m.topic, m.timestamp_ms) for m in out] == [
        ("canon.customer", 10), ("canon.credit", 10), ("canon.customer", 20), ("canon.credit", 20),
        ("canon.customer", 30)]
    # the rest stays for the next poll, each partition from where it stopped
    assert [m.offset for m in runs["canon.customer", 0]] == [3]
    assert [m.offset for m in runs["canon.credit", 0]] == [2, 3]


def test_a_partition_keeps_its_offset_order_whatever_its_timestamps() -> None:
    # producer-set timestamps need not grow within a partition: only the head of each run is ever taken
    runs = {("a", 0): msgs("a", [50, 10, 60]), ("b", 0): msgs("b", [20, 30])}
    out = take_in_time_order(runs, 10)
    assert [(m.topic, m.offset) for m in out] == [("b", 0), ("b", 1), ("a", 0), ("a", 1), ("a", 2)]
    assert all(not run for run in runs.values())


def test_an_empty_or_missing_partition_and_a_zero_count() -> None:
    runs = {("a", 0): msgs("a", []), ("b", 0): msgs("b", [5, 6])}
    assert take_in_time_order(runs, 0) == []
    assert [m.offset for m in take_in_time_order(runs, 10)] == [0, 1]
    assert take_in_time_order({}, 10) == []


class _Client:
    """kafka-python's consumer as far as the wait for unfetched partitions asks it: two partitions assigned, no
    fetch answered for either (no high watermark)."""

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition("canon.customer", 0), TopicPartition("canon.credit", 0)}

    def highwater(self, tp: TopicPartition) -> int | None:
        return None


def test_every_unfetched_partition_is_waited_for_from_the_same_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    consumer = TimeOrderedConsumer.__new__(TimeOrderedConsumer)  # no client to connect: only the waiting rule
    consumer._consumer, consumer._runs, consumer._unfetched_since, consumer.fetch_grace_s = _Client(), {}, {}, 2.0
    clock = [100.0]
    monkeypatch.setattr(ordered.time, "monotonic", lambda: clock[0])
    assert consumer._unfetched()
    clock[0] = 101.9
    assert consumer._unfetched()
    clock[0] = 102.1  # the grace of both ran out together, not one after the other
    assert not consumer._unfetched()
