"""Commit records of ``__consumer_offsets`` decoded from bytes laid out as Kafka's OffsetCommitKey and
OffsetCommitValue schemas describe them (int16 version first; strings int16-length, or compact from the value's
version 4)."""

from __future__ import annotations

import struct

import pytest

from hub.lag.commits import Commit, parse_commit


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">h", len(data)) + data


def _compact(text: str) -> bytes:
    data = text.encode()
    assert len(data) + 1 < 0x80
    return bytes([len(data) + 1]) + data


def commit_key(group: str, topic: str, partition: int, version: int = 1) -> bytes:
    return struct.pack(">h", version) + _string(group) + _string(topic) + struct.pack(">i", partition)


def commit_value(version: int, offset: int, ts_ms: int, metadata: str = "") -> bytes:
    out = struct.pack(">hq", version, offset)
    if version >= 3:
        out += struct.pack(">i", 7)  # leader epoch
    out += _compact(metadata) if version >= 4 else _string(metadata)
    out += struct.pack(">q", ts_ms)
    if version == 1:
        out += struct.pack(">q", ts_ms + 86_400_000)  # expire time
    if version >= 4:
        out += b"\x00"  # no tagged fields
    return out


@pytest.mark.parametrize("version", [0, 1, 2, 3, 4])
def test_every_value_version_gives_the_offset_and_the_commit_time(version: int) -> None:
    parsed = parse_commit(commit_key("billing", "canon.customer", 3), commit_value(version, 4711, 1_764_000_123_456,
                                                                                     metadata="m"))
    assert parsed == (("billing", "canon.customer", 3), Commit(4711, 1_764_000_123.456))


def test_key_version_0_is_an_offset_commit_too() -> None:
    parsed = parse_commit(commit_key("g", "t", 0, version=0), commit_value(1, 5, 1000))
    assert parsed == (("g", "t", 0), Commit(5, 1.0))


def test_a_tombstone_deletes_the_commit() -> None:
    assert parse_commit(commit_key("g", "t", 1), None) == (("g", "t", 1), None)


@pytest.mark.parametrize("key", [None, b"", b"\x00", struct.pack(">h", 2) + _string("g"),
                                 struct.pack(">h", 11) + b"\x00\x00"])
def test_records_that_are_no_offset_commit_are_skipped(key: bytes | None) -> None:
    assert parse_commit(key, b"\x00\x03") is None


def test_an_unknown_value_version_is_skipped() -> None:
    assert parse_commit(commit_key("g", "t", 0), struct.pack(">hq", 9, 1)) is None


def test_only_a_refusal_turns_the_commit_log_off() -> None:
    from kafka.errors import KafkaTimeoutError, TopicAuthorizationFailedError

    from hub.kafka.common import KafkaSettings
    from hub.lag.commits import CommitLog, refused
    from schemas.errors import RetriableError

    wrapped = RetriableError("listing partition offsets: refused")
    wrapped.__cause__ = TopicAuthorizationFailedError("__consumer_offsets")
    assert refused(wrapped) and refused(TopicAuthorizationFailedError())
    assert not refused(KafkaTimeoutError("Unable to bootstrap"))

    class Failing:
        def __init__(self, exc: Exception) -> None:
            self.exc = exc

        def topic_partitions(self, topics: list[str]) -> dict[str, list[int]]:
            raise self.exc

    log = CommitLog(KafkaSettings())
    log.refresh(Failing(RetriableError("Kafka unreachable or busy")))  # type: ignore[arg-type]
    assert log.available
    log.refresh(Failing(wrapped))  # type: ignore[arg-type]
    assert not log.available


def test_the_ring_keeps_the_last_commits_at_least_a_second_apart() -> None:
    from hub.lag.commits import CommitRing

    ring = CommitRing(depth=3)
    key = ("g", "t", 0)
    assert ring.commits(key) == []
    for offset, ts in ((1, 100.0), (2, 100.2), (3, 100.9), (4, 101.5), (5, 103.0), (6, 110.0)):
        ring.add(key, Commit(offset, ts))  # the first three are within a second of each other: one entry
    assert ring.commits(key) == [(4, 101.5), (5, 103.0), (6, 110.0)]
    ring.add(key, Commit(6, 110.4))
    assert ring.commits(key)[-1] == (6, 110.4)
    ring.forget(key)
    assert ring.commits(key) == []


def test_a_commits_lag_is_against_the_end_offset_known_when_it_was_made() -> None:
    from hub.lag.commits import commit_samples, end_known_at

    points = [(100, 10.0), (130, 12.0), (130, 20.0), (170, 22.0)]  # (end offset, first seen; flat: last seen)
    assert [end_known_at(points, ts) for ts in (9.0, 10.0, 10.1, 12.0, 21.0, 30.0)] == [None, None, 100, 100,
                                                                                          130, 170]
    samples = commit_samples([(90, 9.5), (95, 11.0), (130, 15.0), (150, 22.5)], points)
    assert [(s.committed, s.lag) for s in samples] == [(90, None), (95, 5), (130, 0), (150, 20)]
