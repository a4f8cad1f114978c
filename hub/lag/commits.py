"""Commit times from the broker's own commit log, ``__consumer_offsets``, as Burrow reads them.

The OffsetFetch answer (``list_group_offsets``) carries the committed offsets but not when they were committed.
Every commit is also a record of the compacted ``__consumer_offsets`` topic: the key names the group, topic and
partition, the value holds the offset and the commit time the coordinator gave it. With those times a consumer
that keeps committing the same offset (alive, not moving: STALL) is told from one that stopped committing
(STOP). ``parse_commit`` decodes one record (pure, per Kafka's ``OffsetCommitKey``/``OffsetCommitValue``
schemas); ``CommitRing`` keeps each partition's last commits as Burrow's storage does; ``CommitLog`` reads the
topic from its beginning and then follows it, without a consumer group.
"""

from __future__ import annotations

import bisect
import struct
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from hub.kafka.clients import Admin, Consumer, KafkaSettings
from hub.lag.model import Sample
from schemas.secrets import mask_text

log = structlog.get_logger(__name__)

OFFSETS_TOPIC = "__consumer_offsets"
CommitKey = tuple[str, str, int]  # (group, topic, partition)


@dataclass(frozen=True, slots=True)
class Commit:
    offset: int
    ts: float  # the commit time, seconds since the epoch


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return int(value)

    def string(self, compact: bool = False) -> str:
        size = self.uvarint() - 1 if compact else self.take(">h")
        if size < 0:
            return ""
        text = self.data[self.pos:self.pos + size].decode("utf-8")
        self.pos += size
        return text

    def uvarint(self) -> int:
        shift = value = 0
        while True:
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7


def parse_commit(key: bytes | None, value: bytes | None) -> tuple[CommitKey, Commit | None] | None:
    """One ``__consumer_offsets`` record: ``(key, commit)`` for an offset commit, ``(key, None)`` for a deleted
    one (a tombstone), None for any other record (group metadata, the newer coordinator's records).

    Key: int16 version (0 or 1: an offset commit), group, topic (int16-length strings), partition (int32).
    Value: int16 version 0-4, offset (int64), leader epoch (int32, version 3+), metadata (a string; compact
    from version 4, the first flexible one), commit time in ms (int64), expire time (version 1 only).
    """
    if not key or len(key) < 2:
        return None
    k = _Reader(key)
    if k.take(">h") not in (0, 1):
        return None
    commit_key = (k.string(), k.string(), k.take(">i"))
    if value is None:
        return commit_key, None
    v = _Reader(value)
    version = v.take(">h")
    if not 0 <= version <= 4:
        return None
    offset = v.take(">q")
    if version >= 3:
        v.take(">i")
    v.string(compact=version >= 4)
    return commit_key, Commit(offset, v.take(">q") / 1000.0)


def end_known_at(points: Sequence[tuple[int, float]], ts: float) -> int | None:
    """The newest end offset first seen before ``ts`` (``LookupTable`` points); None before them all."""
    i = bisect.bisect_left([p[1] for p in points], ts) - 1
    return points[i][0] if i >= 0 else None


def commit_samples(commits: Sequence[tuple[int, float]], points: Sequence[tuple[int, float]]) -> list[Sample]:
    """Burrow's window of commits: each (offset, time) with its lag against the end offset known before it was
    made (the last poll's), as Burrow computes a commit's lag from the broker offsets it has, so a consumer
    that read everything there was a poll ago has lag 0 however steady the traffic; unknown (None) for a commit
    older than the first poll."""
    out = []
    for offset, ts in commits:
        end = end_known_at(points, ts)
        out.append(Sample(ts, offset if end is None else max(end, offset), offset,
                          None if end is None else max(0, end - offset)))
    return out


class CommitRing:
    """The last ``depth`` commits (offset, time) of every (group, topic, partition), as Burrow's storage keeps
    them: a commit less than ``min_distance_s`` after the one before replaces it (Burrow's ``min-distance``), so
    a consumer committing after every small batch does not fill the ring with one second of history."""

    def __init__(self, depth: int = 10, min_distance_s: float = 1.0) -> None:
        self.depth = depth
        self.min_distance_s = min_distance_s
        self._rings: dict[CommitKey, deque[tuple[int, float]]] = {}

    def add(self, key: CommitKey, commit: Commit) -> None:
        ring = self._rings.setdefault(key, deque(maxlen=self.depth))
        if ring and commit.ts - ring[-1][1] < self.min_distance_s:
            ring[-1] = (commit.offset, max(commit.ts, ring[-1][1]))
        else:
            ring.append((commit.offset, commit.ts))

    def forget(self, key: CommitKey) -> None:
        self._rings.pop(key, None)

    def commits(self, key: CommitKey) -> list[tuple[int, float]]:
        """Oldest first; empty for a key without commits."""
        return list(self._rings.get(key, ()))


def refused(exc: BaseException) -> bool:
    """The broker refused access (an authorization error anywhere in the cause chain)."""
    seen: BaseException | None = exc
    while seen is not None:
        if "Authorization" in type(seen).__name__ or "authoriz" in str(seen).lower():
            return True
        seen = seen.__cause__
    return False


class CommitLog:
    """The last commits of every (group, topic, partition), read from ``__consumer_offsets``.

    ``refresh()`` reads what was added since the last call (the whole topic the first time), for at most
    ``budget_s`` seconds. ``available`` turns False, logged once, when the broker refuses the topic (no Describe
    or Read permission on it): the monitor then judges from its polls alone. Any
    other failure (a broker restarting) is logged and the next refresh tries again.
    """

    def __init__(self, settings: KafkaSettings, *, budget_s: float = 5.0, depth: int = 10) -> None:
        self._settings = settings
        self._budget_s = budget_s
        self._consumer: Consumer | None = None
        self._partitions: list[int] = []
        self.ring = CommitRing(depth)
        self.available = True

    def commits(self, group: str, topic: str, partition: int) -> list[tuple[int, float]]:
        """The group's last commits (offset, time) on the partition, oldest first."""
        return self.ring.commits((group, topic, partition))

    def refresh(self, admin: Admin) -> None:
        if not self.available:
            return
        try:
            self._read(admin)
        except Exception as exc:
            self.close()
            error = mask_text(f"{type(exc).__name__}: {exc}")
            if not refused(exc):
                log.warning("lag.commit_log_failed", topic=OFFSETS_TOPIC, error=error, next="the next poll")
                return
            self.available = False
            log.warning("lag.commit_log_unavailable", topic=OFFSETS_TOPIC, error=error,
                        fallback="statuses from polls: a commit dates from when a poll first saw its offset")

    def _read(self, admin: Admin) -> None:
        if self._consumer is None:
            self._partitions = admin.topic_partitions([OFFSETS_TOPIC]).get(OFFSETS_TOPIC, [])
            if not self._partitions:
                return  # no group has committed yet: the broker creates the topic on the first commit
            self._consumer = Consumer(self._settings, group_id=None)
            self._consumer.assign(OFFSETS_TOPIC, self._partitions, from_beginning=True)
        ends = admin.end_offsets([(OFFSETS_TOPIC, p) for p in self._partitions])
        deadline = time.monotonic() + self._budget_s
        while time.monotonic() < deadline:
            if all(self._consumer.position(OFFSETS_TOPIC, p) >= ends.get((OFFSETS_TOPIC, p), 0)
                   for p in self._partitions):
                return
            for message in self._consumer.poll(timeout_ms=100):
                parsed = parse_commit(message.key, message.value)
                if parsed is None:
                    continue
                key, commit = parsed
                if commit is None:
                    self.ring.forget(key)
                else:
                    self.ring.add(key, commit)

    def close(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.close()
