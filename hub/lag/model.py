"""Consumer lag as pure functions over plain data: no Kafka here, so every rule is tested without a broker.

- ``partition_lag(end, committed, earliest)``: lag in messages, never negative. A partition the group has not
  committed yet counts from the earliest offset still on the log (``end - earliest``): what a new consumer
  starting with ``auto.offset.reset=earliest`` (this project's default) has left to read. The partition is
  still marked ``committed=None`` wherever it is reported, so "no commit" stays visible.
- ``LookupTable`` + ``commit_time``: lag in seconds the way kafka-lag-exporter estimates it. Each poll adds an
  (end offset, wall time) point; an end offset keeps the time it was FIRST seen (an idle partition adds one
  more point, its last-seen time, so a flat stretch is two points). The time at which the committed offset
  was the end offset is interpolated between points, and ``lag_seconds = now - that time``.
- ``PartitionWindow.commit_status``: Burrow's verdict over the group's last commits on a partition (from the
  commit log, ``hub.lag.commits.commit_samples``); ``PartitionWindow``: the last polls of the partition,
  each with its lag measured the same way (against the end offset of the poll before), what the statuses
  come from while the commit window is not full or without the commit log. No verdict before a window is
  complete.
- ``evaluate_partition``: a status after LinkedIn Burrow's evaluator rules (see the function);
  ``group_status``: Burrow's group status (OK, WARN, ERR). ``breach``: which threshold a value crosses.
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
    """Partition status; ``code`` is the value of the ``crmhub_consumergroup_partition_status`` gauge."""

    OK = "OK"
    WARN = "WARN"
    REWIND = "REWIND"
    STALL = "STALL"
    STOP = "STOP"

    @property
    def code(self) -> int:
        return _CODES[self]


_CODES = {Status.OK: 0, Status.WARN: 1, Status.REWIND: 2, Status.STALL: 3, Status.STOP: 4}


class GroupStatus(enum.StrEnum):
    """Group status as Burrow reports it: ERR for any STOP, STALL or REWIND partition, WARN for any WARN one;
    ``code`` is the value of the ``crmhub_consumergroup_status`` gauge."""

    OK = "OK"
    WARN = "WARN"
    ERR = "ERR"

    @property
    def code(self) -> int:
        return _GROUP_CODES[self]


_GROUP_CODES = {GroupStatus.OK: 0, GroupStatus.WARN: 1, GroupStatus.ERR: 2}

MIN_SAMPLES = 2  # fewer commits than this: OK (nothing to compare)


def partition_lag(end: int, committed: int | None, earliest: int = 0) -> int:
    """Messages the group has still to read on one partition; never negative (offsets are read at
    slightly different moments, so a committed offset can be seen past a stale end offset)."""
    start = earliest if committed is None else committed
    return max(0, end - start)


# --- lag in seconds --------------------------------------------------------------------------------------


@dataclass
class LookupTable:
    """(end offset, wall time) points of one partition, offsets non-decreasing, at most ``limit`` points.

    A new end offset is added with the time it was first seen. The same end offset seen again (idle
    partition) keeps that point and adds, or moves, a second one at the newest time: the flat stretch is
    (first seen, last seen), so the times of older offsets never move. An end offset lower than the newest
    point (topic re-created, log truncated) starts the table again.
    """

    limit: int = 60
    points: list[tuple[int, float]] = field(default_factory=list)

    def add(self, offset: int, ts: float) -> None:
        points = self.points
        if points and offset < points[-1][0]:
            points.clear()
        if len(points) >= 2 and points[-1][0] == offset == points[-2][0]:
            points[-1] = (offset, ts)  # the flat stretch's last-seen time moves; its first-seen one stays
            return
        points.append((offset, ts))
        if len(points) > self.limit:
            del points[: len(points) - self.limit]


def commit_time(points: Sequence[tuple[int, float]], committed: int) -> float | None:
    """The wall time at which ``committed`` was last the partition's end offset, from ``points``: the
    last-seen time on a point of that offset, linear between the points around it, the newest time at or
    past the newest offset. Below the oldest point it is extrapolated along the slope from the oldest point to
    the next higher offset; without a higher offset it is the oldest point's time (the records were there when
    that offset was first seen). None only without points."""
    if not points:
        return None
    newest_offset, newest_ts = points[-1]
    if committed >= newest_offset:
        return newest_ts
    offsets = [p[0] for p in points]
    i = bisect.bisect_right(offsets, committed) - 1  # the last point at or below ``committed``
    if i < 0:  # along the slope up to the next offset (an idle stretch later on would flatten it)
        o0, t0 = points[0]
        higher = next((p for p in points if p[0] > o0), None)
        if higher is None:
            return t0
        o1, t1 = higher
        return t0 - (o0 - committed) * (t1 - t0) / (o1 - o0)
    (o0, t0), (o1, t1) = points[i], points[i + 1]
    return t0 + (committed - o0) * (t1 - t0) / (o1 - o0)


def lag_seconds(points: Sequence[tuple[int, float]], position: int, lag: int, now: float) -> float | None:
    """Seconds since the group was last caught up on the partition: 0 with no lag, else ``now`` minus the
    time at which ``position`` (the committed offset, or the earliest offset without a commit) was the end
    offset; None only before the partition's first end offset was seen."""
    if lag <= 0:
        return 0.0
    at = commit_time(points, position)
    return None if at is None else max(0.0, now - at)


# --- status over a window --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    """One observation of one group's partition: a poll (or, replaying Burrow, one commit). ``lag`` None:
    not known for that observation (Burrow stores commits whose lag it could not compute yet)."""

    ts: float
    end: int
    committed: int | None
    lag: int | None


@dataclass
class PartitionWindow:
    """The last ``size`` polls of one group's partition, and the time of its newest commit.

    ``observe`` adds a poll the way Burrow sees a commit: the sample's lag is the committed offset's distance to
    the end offset known before this poll (the previous poll's), as Burrow measures a commit against the broker
    offsets it has; a consumer that keeps up, however steady the traffic, has caught up with that. The current
    lag (against this poll's end offset) is kept apart for rule 1. The commit's time is the one the commit log
    gives (``commit_ts``), else the time the committed offset was first seen changed (or, before the window,
    first seen at all). ``commit_gap``, the mean time between the consumer's known commits (from the commit
    log), matters for a consumer that commits less often than the polls span: STOP then waits as long as
    ``size`` of its commits span (as Burrow's window of commits would), and the polls, which cannot see it
    progress between two commits, say nothing else (no STALL or WARN). The window is ``complete`` once it holds
    ``size`` polls with a commit: until then there is no verdict (OK).
    """

    size: int = 10
    samples: deque[Sample] = field(default_factory=deque)
    last_commit_ts: float | None = None
    current_lag: int | None = None
    commit_gap: float | None = None

    def observe(self, ts: float, end: int, committed: int | None, *, earliest: int = 0,
                commit_ts: float | None = None, commit_gap: float | None = None) -> None:
        self.commit_gap = commit_gap
        known = self.samples[-1].end if self.samples else None
        lag = None if committed is None or known is None else max(0, known - committed)
        self.current_lag = partition_lag(end, committed, earliest)
        self.add(Sample(ts, end, committed, lag), commit_ts=commit_ts)

    def add(self, sample: Sample, *, commit_ts: float | None = None) -> None:
        previous = self.samples[-1].committed if self.samples else None
        if sample.committed is not None and commit_ts is not None:
            self.last_commit_ts = commit_ts
        elif sample.committed is not None and (sample.committed != previous or self.last_commit_ts is None):
            self.last_commit_ts = sample.ts
        self.samples.append(sample)
        while len(self.samples) > self.size:
            self.samples.popleft()

    @property
    def filled(self) -> int:
        """Polls in the window that saw a commit (``size`` of them make it complete)."""
        return sum(s.committed is not None for s in self.samples)

    @property
    def complete(self) -> bool:
        return self.filled >= self.size

    def status(self, now: float, allowed_lag: int = 0) -> Status:
        if not self.complete:
            return Status.OK
        gap = self.commit_gap
        status = evaluate_partition(self.samples, self.last_commit_ts, now, current_lag=self.current_lag,
                                    allowed_lag=allowed_lag, commit_span=None if gap is None else gap * (self.size - 1))
        slow = gap is not None and gap > self.samples[-1].ts - self.samples[0].ts
        return Status.OK if slow and status in (Status.STALL, Status.WARN) else status

    def commit_status(self, commits: Sequence[Sample], now: float, allowed_lag: int = 0) -> Status:
        """Burrow's verdict over ``commits`` (``commit_samples``), with this window's end offsets as the recent
        broker offsets and its current lag."""
        return evaluate_partition(commits, None, now, broker_ends=[s.end for s in self.samples],
                                  current_lag=self.current_lag, allowed_lag=allowed_lag)


def evaluate_partition(samples: Sequence[Sample], last_commit_ts: float | None, now: float, *,
                       broker_ends: Sequence[int] | None = None, current_lag: int | None = None,
                       allowed_lag: int = 0, commit_span: float | None = None) -> Status:
    """Burrow's partition rules over ``samples`` (oldest first; those without a commit are left out).

    ``current_lag`` defaults to the newest sample's lag, ``broker_ends`` (recent end offsets) to the
    samples' end offsets, ``last_commit_ts`` (None) to the newest commit's time. A lag up to ``allowed_lag``
    counts as none (Burrow's ``allowed-lag``: a transactional producer's commit markers leave 1). In order:

    1. current lag within ``allowed_lag`` → OK: a caught-up partition is never in trouble.
    2. STOP: no commit for longer than the window spans (``now - last commit > newest - oldest``, or than
       ``commit_span`` when that is longer), unless
       the committed offset was caught up with one of the recent end offsets (records just arrived).
    3. REWIND: the committed offset went back and has not yet returned to where it was before.
    4. OK if the lag was within ``allowed_lag`` at any point of the window.
    5. STALL: the committed offset is the same all window. 6. WARN: the lag never decreases (over at least
       two known lags: with none known, as for commits made before the monitor's first poll, nothing says it
       grows). 7. OK.
    """
    commits = [s for s in samples if s.committed is not None]
    if len(commits) < MIN_SAMPLES:
        return Status.OK
    current = commits[-1].lag if current_lag is None else current_lag
    if current is None or current <= allowed_lag:
        return Status.OK
    offsets = [s.committed for s in commits if s.committed is not None]
    last = commits[-1].ts if last_commit_ts is None else last_commit_ts
    ends = [s.end for s in samples] if broker_ends is None else broker_ends
    span = max(commits[-1].ts - commits[0].ts, commit_span or 0.0)
    if now - last > span and not any(end - offsets[-1] <= allowed_lag for end in ends):
        return Status.STOP
    if _unrecovered_rewind(offsets):
        return Status.REWIND
    lags = [s.lag for s in commits if s.lag is not None]
    if any(lag <= allowed_lag for lag in lags):
        return Status.OK
    if all(o == offsets[0] for o in offsets):
        return Status.STALL
    if len(lags) >= 2 and all(b >= a for a, b in itertools.pairwise(lags)):
        return Status.WARN
    return Status.OK


def _unrecovered_rewind(offsets: Sequence[int]) -> bool:
    """The committed offset went back at some point and the newest one is still below the highest offset
    committed before that (last) rewind."""
    peak: int | None = None
    for i in range(1, len(offsets)):
        if offsets[i] < offsets[i - 1]:
            peak = max(offsets[:i])
    return peak is not None and offsets[-1] < peak


def worst_status(statuses: Iterable[Status]) -> Status:
    """The worst of the partition statuses (OK < WARN < REWIND < STALL < STOP); OK for none."""
    return max(statuses, key=lambda s: s.code, default=Status.OK)


def group_status(statuses: Iterable[Status]) -> GroupStatus:
    """Burrow's group status: ERR if any partition is STOP, STALL or REWIND, else WARN if any is WARN."""
    worst = worst_status(statuses)
    if worst is Status.OK:
        return GroupStatus.OK
    return GroupStatus.WARN if worst is Status.WARN else GroupStatus.ERR


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
    complete: bool = True  # the status window is full (a verdict); False: no verdict yet, status OK
    member: Member | None = None  # the group member the partition is assigned to, if any


@dataclass(frozen=True, slots=True)
class Member:
    """A consumer group member as the broker describes it."""

    consumer_id: str  # the member id
    client_id: str
    host: str


@dataclass(frozen=True, slots=True)
class GroupLag:
    group: str
    state: str  # the broker's group state: Stable, Empty, ...
    status: GroupStatus
    partitions: tuple[PartitionLag, ...]

    @property
    def worst(self) -> Status:
        """The worst partition status (what the ``lag.thresholds.status`` severities are keyed on)."""
        return worst_status(p.status for p in self.partitions)

    @property
    def max_lag(self) -> int:
        return max((p.lag for p in self.partitions), default=0)

    @property
    def sum_lag(self) -> int:
        return sum(p.lag for p in self.partitions)

    @property
    def complete(self) -> float:
        """The share of partitions whose status window is complete, as Burrow's ``complete`` (1.0 for none)."""
        return sum(p.complete for p in self.partitions) / len(self.partitions) if self.partitions else 1.0

    def topic_sum_lag(self) -> dict[str, int]:
        """Lag in messages summed per topic."""
        out: dict[str, int] = {}
        for p in self.partitions:
            out[p.topic] = out.get(p.topic, 0) + p.lag
        return out

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
             "sum_lag": g.sum_lag, "max_lag_seconds": g.max_lag_seconds, "complete": g.complete,
             "partitions": [{"topic": p.topic, "partition": p.partition, "end": p.end, "earliest": p.earliest,
                             "committed": p.committed, "lag": p.lag, "lag_seconds": p.lag_seconds,
                             "status": p.status.value, "complete": p.complete,
                             "consumer_id": p.member.consumer_id if p.member else None,
                             "client_id": p.member.client_id if p.member else None,
                             "member_host": p.member.host if p.member else None} for p in g.partitions]}
            for g in self.groups]}
