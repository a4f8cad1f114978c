"""The lag collector: polls every watched consumer group's committed offsets and the partitions' end offsets,
keeps a window of samples per partition, and publishes statuses, Prometheus gauges and alerts.

Commit times come from ``__consumer_offsets`` (``hub.lag.commits``) when ``lag.commit_log`` is on and the
topic can be read. Alerts come only from partitions whose status window is complete: a group that has not
committed yet, or that the monitor has just started to watch, raises none.

``sample()`` polls once and returns the new ``LagSnapshot``; ``run(stop_event, interval)`` polls until the
event is set (the hub runs it in a thread, see ``start()``). A group's partitions are those it has committed
on or its members are assigned, extended to every partition of those topics; topics starting with ``__``
(the broker's own) are skipped. The math is in ``hub.lag.model``.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from prometheus_client import Gauge

from hub.kafka.clients import Admin, KafkaSettings
from hub.lag import metrics as m
from hub.lag.alerts import AlertBook, AlertKey
from hub.lag.commits import CommitLog, commit_samples
from hub.lag.model import (
    Breach,
    GroupLag,
    LagSnapshot,
    Levels,
    LookupTable,
    Member,
    PartitionLag,
    PartitionWindow,
    Status,
    breach,
    group_status,
    lag_seconds,
    partition_lag,
    status_breach,
)
from hub.lag.settings import LagConfig
from schemas.secrets import mask_text

log = structlog.get_logger(__name__)

TP = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Offsets:
    """What one poll read from the broker."""

    states: Mapping[str, str]  # group -> state
    committed: Mapping[str, Mapping[TP, int]]  # group -> committed offsets
    group_tps: Mapping[str, list[TP]]  # group -> partitions to report
    ends: Mapping[TP, int]
    earliest: Mapping[TP, int]
    members: Mapping[str, Mapping[TP, Member]] = field(default_factory=dict)  # group -> partition owners


def describe_members(described: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[str, dict[TP, Member]]]:
    """Each group's state and the member each assigned partition belongs to, from ``describe_groups``."""
    out: dict[str, tuple[str, dict[TP, Member]]] = {}
    for group, info in described.items():
        owners: dict[TP, Member] = {}
        for desc in info.get("members") or ():
            member = Member(str(desc.get("member_id") or ""), str(desc.get("client_id") or ""),
                            str(desc.get("client_host") or ""))
            assignment = desc.get("member_assignment")
            for item in (assignment.get("assigned_partitions") or ()) if isinstance(assignment, dict) else ():
                owners.update({(item["topic"], p): member for p in item["partitions"]})
        out[group] = (str(info.get("group_state") or ""), owners)
    return out


class LagCollector:
    def __init__(self, settings: KafkaSettings, cfg: LagConfig, *, clock: Callable[[], float] = time.time,
                 allowed_lag: int | None = None) -> None:
        self.settings = settings
        self.cfg = cfg
        # lag (messages) that counts as none in the statuses, as Burrow's (lag.allowed_lag unless given)
        self.allowed_lag = cfg.allowed_lag if allowed_lag is None else allowed_lag
        self.alerts = AlertBook(cfg.alert_history)
        self._clock = clock
        self._include = [re.compile(p) for p in cfg.groups.include]
        self._exclude = [re.compile(p) for p in cfg.groups.exclude]
        self._admin: Admin | None = None
        self._commit_log = CommitLog(settings, depth=cfg.window) if cfg.commit_log else None
        self.cluster_name = cfg.cluster_name or settings.bootstrap_servers.split(",")[0].strip()
        self.poll_time_ms: float | None = None  # how long the last poll of the broker took
        self._windows: dict[tuple[str, str, int], PartitionWindow] = {}
        self._tables: dict[TP, LookupTable] = {}
        self._exported: dict[Gauge, set[tuple[str, ...]]] = {}
        self._snapshot: LagSnapshot | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def watches(self, group: str) -> bool:
        return (any(p.fullmatch(group) for p in self._include)
                and not any(p.fullmatch(group) for p in self._exclude))

    @property
    def snapshot(self) -> LagSnapshot | None:
        """The latest sample's result (None before the first one)."""
        return self._snapshot

    # --- polling ---------------------------------------------------------------------------------------

    @property
    def commit_times(self) -> str:
        """Where commit times come from: ``commit log`` or ``first seen``."""
        log_on = self._commit_log is not None and self._commit_log.available
        return "commit log" if log_on else "first seen"

    def sample(self) -> LagSnapshot:
        """Poll the broker once and update windows, statuses, gauges and alerts."""
        started = time.monotonic()
        offsets = self._read()
        self.poll_time_ms = (time.monotonic() - started) * 1000.0
        if self._commit_log is not None:
            self._commit_log.refresh(self._admin_client())
        with self._lock:
            snapshot = self._update(offsets, self._clock())
            self._snapshot = snapshot
        self._export(snapshot)
        self.alerts.update(self._breaches(snapshot), snapshot.ts)
        return snapshot

    def _admin_client(self) -> Admin:
        if self._admin is None:
            self._admin = Admin(self.settings)
        return self._admin

    def _read(self) -> Offsets:
        admin = self._admin_client()
        groups = [g for g in admin.list_groups() if self.watches(g)]
        committed = admin.groups_offsets(groups)
        assigned = describe_members(admin.describe_groups(groups))
        wanted: dict[str, set[str]] = {}
        for g in groups:
            tps = set(committed.get(g, {})) | set(assigned.get(g, ("", {}))[1])
            wanted[g] = {t for t, _ in tps if not t.startswith("__")}
        partitions = admin.topic_partitions(sorted(set().union(*wanted.values())))
        group_tps = {g: [(t, p) for t in sorted(topics) for p in partitions.get(t, ())] for g, topics in wanted.items()}
        all_tps = sorted({tp for tps in group_tps.values() for tp in tps})
        return Offsets(states={g: assigned.get(g, ("", {}))[0] for g in groups}, committed=committed,
                       group_tps=group_tps, ends=admin.end_offsets(all_tps),
                       earliest=admin.end_offsets(all_tps, earliest=True),
                       members={g: assigned.get(g, ("", {}))[1] for g in groups})

    def _update(self, offsets: Offsets, now: float) -> LagSnapshot:
        for tp, end in offsets.ends.items():
            self._tables.setdefault(tp, LookupTable(self.cfg.lookup_points)).add(end, now)
        seen: set[tuple[str, str, int]] = set()
        groups: list[GroupLag] = []
        for group, tps in sorted(offsets.group_tps.items()):
            parts: list[PartitionLag] = []
            for tp in tps:
                if tp not in offsets.ends:
                    continue
                end, earliest = offsets.ends[tp], offsets.earliest.get(tp, 0)
                committed = offsets.committed.get(group, {}).get(tp)
                lag = partition_lag(end, committed, earliest)
                key = (group, *tp)
                seen.add(key)
                window = self._windows.setdefault(key, PartitionWindow(self.cfg.window))
                status, complete = self._judge(window, group, tp, (end, earliest, committed), now)
                seconds = lag_seconds(self._tables[tp].points, earliest if committed is None else committed, lag, now)
                parts.append(PartitionLag(group, tp[0], tp[1], end, earliest, committed, lag, seconds, status,
                                          complete, offsets.members.get(group, {}).get(tp)))
            groups.append(GroupLag(group, offsets.states.get(group, ""), group_status(p.status for p in parts),
                                   tuple(parts)))
        for key in set(self._windows) - seen:
            del self._windows[key]
        for tp in set(self._tables) - set(offsets.ends):
            del self._tables[tp]
        return LagSnapshot(now, tuple(groups))

    def _judge(self, window: PartitionWindow, group: str, tp: TP, offsets: tuple[int, int, int | None],
               now: float) -> tuple[Status, bool]:
        """The partition's status and whether it is a verdict: Burrow's, over the group's last ``window``
        commits from the commit log once it holds that many and has read the committed offset; otherwise (and
        without the commit log) over the last ``window`` polls, with the newest commit's time and the mean gap
        between the known commits."""
        end, earliest, committed = offsets
        commits = [] if self._commit_log is None else self._commit_log.commits(group, *tp)
        newest = commits[-1] if commits and commits[-1][0] == committed else None
        gap = (commits[-1][1] - commits[0][1]) / (len(commits) - 1) if len(commits) >= 2 else None
        window.observe(now, end, committed, earliest=earliest, commit_ts=None if newest is None else newest[1],
                       commit_gap=gap)
        caught_up = committed is not None and committed in (c[0] for c in commits[-2:])  # the log has read it
        if caught_up and len(commits) >= self.cfg.window:
            samples = commit_samples(commits, self._tables[tp].points)
            return window.commit_status(samples, now, self.allowed_lag), True
        return window.status(now, self.allowed_lag), window.complete

    # --- outputs -----------------------------------------------------------------------------------------

    def _export(self, snapshot: LagSnapshot) -> None:
        c = self.cluster_name
        values: dict[Gauge, dict[tuple[str, ...], float]] = {}

        def put(gauge: Gauge, labels: tuple[str, ...], value: float) -> None:
            values.setdefault(gauge, {})[labels] = value

        for g in snapshot.groups:
            for p in g.partitions:
                member = p.member or Member("", "", "")
                labels: tuple[str, ...] = (c, g.group, p.topic, str(p.partition), member.host, member.consumer_id,
                                           member.client_id)
                put(m.GROUP_LAG, labels, p.lag)
                put(m.GROUP_LAG_SECONDS, labels, _num(p.lag_seconds))
                put(m.GROUP_OFFSET, labels, -1 if p.committed is None else p.committed)
                put(m.PARTITION_STATUS, labels, p.status.code)
                put(m.LATEST_OFFSET, (c, p.topic, str(p.partition)), p.end)
                put(m.EARLIEST_OFFSET, (c, p.topic, str(p.partition)), p.earliest)
            put(m.GROUP_MAX_LAG, (c, g.group), g.max_lag)
            put(m.GROUP_SUM_LAG, (c, g.group), g.sum_lag)
            put(m.GROUP_MAX_LAG_SECONDS, (c, g.group), _num(g.max_lag_seconds))
            put(m.GROUP_STATUS, (c, g.group), g.status.code)
            for topic, total in g.topic_sum_lag().items():
                put(m.GROUP_TOPIC_SUM_LAG, (c, g.group, topic), total)
        if self.poll_time_ms is not None:
            put(m.POLL_TIME_MS, (c,), self.poll_time_ms)
        for gauge in m.ALL_GAUGES:
            now = values.get(gauge, {})
            for labels, value in now.items():
                gauge.labels(*labels).set(value)
            for labels in self._exported.get(gauge, set()) - set(now):
                with contextlib.suppress(KeyError):
                    gauge.remove(*labels)
            self._exported[gauge] = set(now)

    def _breaches(self, snapshot: LagSnapshot) -> dict[AlertKey, Breach]:
        th = self.cfg.thresholds
        messages = Levels(th.lag_messages.warn, th.lag_messages.critical)
        seconds = Levels(th.lag_seconds.warn, th.lag_seconds.critical)
        severities: dict[str, str] = {str(k): str(v) for k, v in th.status.items()}
        out: dict[AlertKey, Breach] = {}
        for g in snapshot.groups:
            for p in g.partitions:
                if not p.complete:  # no verdict yet: no alert either
                    continue
                measures = (("lag_messages", p.lag, messages), ("lag_seconds", p.lag_seconds, seconds))
                for measure, value, levels in measures:
                    hit = breach(value, levels)
                    if hit is not None:
                        out[(g.group, p.topic, p.partition, measure)] = hit
            hit = status_breach(g.worst, severities)
            if hit is not None:
                out[(g.group, None, None, "status")] = hit
        return out

    # --- background ----------------------------------------------------------------------------------------

    def run(self, stop: threading.Event, interval: float | None = None) -> None:
        """Sample every ``interval`` seconds (default ``lag.interval_s``) until ``stop`` is set; a failed poll
        is logged and retried at the next tick."""
        every = self.cfg.interval_s if interval is None else interval
        while not stop.is_set():
            try:
                self.sample()
            except Exception as exc:
                log.warning("lag.sample_failed", error=mask_text(f"{type(exc).__name__}: {exc}"))
                self._drop_admin()
            stop.wait(every)

    def start(self, interval: float | None = None) -> threading.Thread:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, args=(self._stop, interval), name="crmhub-lag", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._drop_admin()
        if self._commit_log is not None:
            self._commit_log.close()  # read again from the beginning if sampling starts again

    close = stop

    def _drop_admin(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            with contextlib.suppress(Exception):  # a broken connection is being dropped anyway
                admin.close()


def _num(value: float | None) -> float:
    return float("nan") if value is None else value
