"""Consumer lag as pure functions over plain data: no Kafka here, so every rule is tested without a broker.

- ``partition_lag(end, committed, earliest)``: lag in messages, never negative. A partition the group has not
  committed yet counts from the earliest offset still on the log (``end - earliest``): what a new consumer
  starting with ``auto.offset.reset=earliest`` (this project's default) has left to read. The partition is
  still marked ``committed=None`` wherever it is reported, so "no commit" stays visible.
- ``LookupTable`` + ``commit_time``: lag in seconds the way kafka-lag-exporter estimates it. Each poll adds an
  (end offset, wall time) point; the time at which the committed offset *was* the end offset is interpolated
  between points (or extrapolated past the oldest one along the table's slope), and
  ``lag_seconds = now - that time`` (0 when the lag is 0; None while there is no slope to go by).
- ``evaluate_partition``: a status over a sliding window of samples, after LinkedIn Burrow's rules (adapted to
  offsets sampled by polling, since an offset fetch carries no commit time; see the function).
- ``group_status``: the worst partition status. ``breach``: which threshold a value crosses.
"""

from __future__ import annotations

import bisect
import enum
import itertools
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


class Status(enum.StrEnum):
    """Partition / group status; ``code`` is the value of the ``crmhub_consumergroup_status`` gauge."""

    OK = "OK"
    WARN = "WARN"
    REWIND = "REWIND"
    STALL = "STALL"
    STOP = "STOP"

    @property
    def code(self) -> int:
        return _CODES[self]


_CODES = {Status.OK: 0, Status.WARN: 1, Status.REWIND: 2, Status.STALL: 3, Status.STOP: 4}

MIN_SAMPLES = 2  # fewer samples than this in the window: OK (not enough data to judge progress)


def partition_lag(end: int, committed: int | None, earliest: int = 0) -> int:
    """Messages the group has still to read on one partition; never negative (offsets are read at
    slightly different moments, so a committed offset can be seen past a stale end offset)."""
    start = earliest if committed is None else committed
    return max(0, end - start)


# --- lag in seconds --------------------------------------------------------------------------------------


@dataclass
class LookupTable:
    """(end offset, wall time) points of one partition, offsets strictly increasing, at most ``limit``.

    As in kafka-lag-exporter: an end offset seen again (idle partition) moves its point to the newer time
    (so a consumer at that offset counts as caught up until then); an end offset lower than the newest point
    (topic re-created, log truncated) starts the table again.
    """

    limit: int = 60
    points: list[tuple[int, float]] = field(default_factory=list)

    def add(self, offset: int, ts: float) -> None:
        if self.points and offset == self.points[-1][0]:
            self.points[-1] = (offset, ts)
            return
        if self.points and offset < self.points[-1][0]:
            self.points.clear()
        self.points.append((offset, ts))
        if len(self.points) > self.limit:
            del self.points[: len(self.points) - self.limit]


def commit_time(points: Sequence[tuple[int, float]], committed: int) -> float | None:
    """The wall time at which ``committed`` was the partition's end offset, from ``points`` (offsets
    strictly increasing): exact on a point, linear between two points, extrapolated along the slope of the
    whole table below the oldest point, the newest point's time at or past the newest offset; None without
    points, or below the only point (no slope to extrapolate along)."""
    if not points:
        return None
    newest_offset, newest_ts = points[-1]
    if committed >= newest_offset:
        return newest_ts
    offsets = [p[0] for p in points]
    i = bisect.bisect_left(offsets, committed)
    if i < len(points) and offsets[i] == committed:
        return points[i][1]
    if i == 0:
        if len(points) < 2:
            return None
        (o0, t0), (o1, t1) = points[0], points[-1]
        return t0 - (o0 - committed) * (t1 - t0) / (o1 - o0)
    (o0, t0), (o1, t1) = points[i - 1], points[i]
    return t0 + (committed - o0) * (t1 - t0) / (o1 - o0)


def lag_seconds(points: Sequence[tuple[int, float]], position: int, lag: int, now: float) -> float | None:
    """Seconds since the group was last caught up on the partition: 0 with no lag, else ``now`` minus the
    time at which ``position`` (the committed offset, or the earliest offset without a commit) was the end
    offset; None when that time cannot be estimated yet."""
    if lag <= 0:
        return 0.0
    at = commit_time(points, position)
    return None if at is None else max(0.0, now - at)


# --- status over a window --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    """One poll of one partition for one group."""

    ts: float
    end: int
    committed: int | None
    lag: int


@dataclass
class PartitionWindow:
    """The last ``size`` samples of one group's partition, plus when its committed offset last changed
    (first seen, by polling; before the window when the offset has not moved for longer)."""

    size: int = 10
    samples: deque[Sample] = field(default_factory=deque)
    last_commit_ts: float | None = None

    def add(self, sample: Sample) -> None:
        previous = self.samples[-1].committed if self.samples else None
        if sample.committed is not None and (sample.committed != previous or self.last_commit_ts is None):
            self.last_commit_ts = sample.ts
        self.samples.append(sample)
        while len(self.samples) > self.size:
            self.samples.popleft()

    @property
    def complete(self) -> bool:
        return len(self.samples) >= self.size


def evaluate_partition(samples: Sequence[Sample], last_commit_ts: float | None, now: float) -> Status:
    """Burrow's partition rules, over samples taken by polling (oldest first). In this order:

    1. current lag 0 → OK (an idle partition that is caught up is never in trouble), and so is a window
       with fewer than ``MIN_SAMPLES`` samples (not enough data).
    2. STOP: the group has a commit on the partition and ``now - last_commit_ts`` exceeds the window's time
       span (newest minus oldest sample): the committed offset has not moved for longer than the window.
    3. REWIND: the committed offset went back between two samples of the window.
    4. If the lag was 0 in any sample of the window: OK (the consumer was caught up within the window).
    5. STALL: the committed offset is the same in every sample (or the group never committed there).
    6. WARN: the committed offset moves but the lag never decreases from one sample to the next.
    7. Otherwise OK.
    """
    if not samples or samples[-1].lag <= 0 or len(samples) < MIN_SAMPLES:
        return Status.OK
    span = samples[-1].ts - samples[0].ts
    if last_commit_ts is not None and samples[-1].committed is not None and now - last_commit_ts > span:
        return Status.STOP
    pairs = list(itertools.pairwise(samples))
    if any(a.committed is not None and b.committed is not None and b.committed < a.committed for a, b in pairs):
        return Status.REWIND
    if any(s.lag <= 0 for s in samples):
        return Status.OK
    if all(s.committed == samples[0].committed for s in samples):
        return Status.STALL
    if all(b.lag >= a.lag for a, b in pairs):
        return Status.WARN
    return Status.OK


def group_status(statuses: Iterable[Status]) -> Status:
    """The worst of the partition statuses (OK < WARN < REWIND < STALL < STOP); OK for none."""
    return max(statuses, key=lambda s: s.code, default=Status.OK)


# --- thresholds ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Levels:
    """Warn / critical thresholds of one measure; None = no alert at that level."""

    warn: float | None = None
    critical: float | None = None


@dataclass(frozen=True, slots=True)
class Breach:
    severity: str  # "warning" | "critical"
    value: float
    threshold: float | str


def breach(value: float | None, levels: Levels) -> Breach | None:
    """The highest level ``value`` reaches (``>=``), or None (also for an unknown value)."""
    if value is None:
        return None
    if levels.critical is not None and value >= levels.critical:
        return Breach("critical", value, levels.critical)
    if levels.warn is not None and value >= levels.warn:
        return Breach("warning", value, levels.warn)
    return None


def status_breach(status: Status, severities: dict[str, str]) -> Breach | None:
    """The severity configured for ``status`` (e.g. STALL → critical), or None."""
    severity = severities.get(status.value)
    return None if severity is None else Breach(severity, float(status.code), status.value)


# --- results ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    end: int
    earliest: int
    committed: int | None  # None: the group has no commit on this partition
    lag: int
    lag_seconds: float | None
    status: Status


@dataclass(frozen=True, slots=True)
class GroupLag:
    group: str
    state: str  # the broker's group state: Stable, Empty, ...
    status: Status
    partitions: tuple[PartitionLag, ...]

    @property
    def max_lag(self) -> int:
        return max((p.lag for p in self.partitions), default=0)

    @property
    def sum_lag(self) -> int:
        return sum(p.lag for p in self.partitions)

    @property
    def max_lag_seconds(self) -> float | None:
        known = [p.lag_seconds for p in self.partitions if p.lag_seconds is not None]
        return max(known, default=None)


@dataclass(frozen=True, slots=True)
class LagSnapshot:
    ts: float
    groups: tuple[GroupLag, ...] = ()

    def group(self, name: str) -> GroupLag | None:
        return next((g for g in self.groups if g.group == name), None)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: ``{"ts", "groups": [{"group", "state", "status", "max_lag", ..., "partitions": [...]}]}``."""
        return {"ts": self.ts, "groups": [
            {"group": g.group, "state": g.state, "status": g.status.value, "max_lag": g.max_lag,
             "sum_lag": g.sum_lag, "max_lag_seconds": g.max_lag_seconds,
             "partitions": [{"topic": p.topic, "partition": p.partition, "end": p.end, "earliest": p.earliest,
                             "committed": p.committed, "lag": p.lag, "lag_seconds": p.lag_seconds,
                             "status": p.status.value} for p in g.partitions]}
            for g in self.groups]}
