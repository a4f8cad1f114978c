"""The lag collector: polls every watched consumer group's committed offsets and the partitions' end offsets,
keeps a window of samples per partition, and publishes statuses, Prometheus gauges and alerts.

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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import structlog
from prometheus_client import Gauge

from hub.config import LagConfig
from hub.kafka.clients import Admin, KafkaSettings
from hub.lag import metrics as m
from hub.lag.alerts import AlertBook, AlertKey
from hub.lag.model import (
    Breach,
    GroupLag,
    LagSnapshot,
    Levels,
    LookupTable,
    PartitionLag,
    PartitionWindow,
    Sample,
    breach,
    group_status,
    lag_seconds,
    partition_lag,
    status_breach,
)
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
        self._windows: dict[tuple[str, str, int], PartitionWindow] = {}
        self._tables: dict[TP, LookupTable] = {}
        self._exported: tuple[set[tuple[str, str, int]], set[str], set[TP]] = (set(), set(), set())
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

    def sample(self) -> LagSnapshot:
        """Poll the broker once and update windows, statuses, gauges and alerts."""
        offsets = self._read()
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
        assigned = admin.group_assignments(groups)
        wanted: dict[str, set[str]] = {}
        for g in groups:
            tps = set(committed.get(g, {})) | assigned.get(g, ("", set()))[1]
            wanted[g] = {t for t, _ in tps if not t.startswith("__")}
        partitions = admin.topic_partitions(sorted(set().union(*wanted.values())))
        group_tps = {g: [(t, p) for t in sorted(topics) for p in partitions.get(t, ())] for g, topics in wanted.items()}
        all_tps = sorted({tp for tps in group_tps.values() for tp in tps})
        return Offsets(states={g: assigned.get(g, ("", set()))[0] for g in groups}, committed=committed,
                       group_tps=group_tps, ends=admin.end_offsets(all_tps),
                       earliest=admin.end_offsets(all_tps, earliest=True))

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
                window.add(Sample(now, end, committed, lag))
                status = window.status(now, self.allowed_lag)
                seconds = lag_seconds(self._tables[tp].points, earliest if committed is None else committed, lag, now)
                parts.append(PartitionLag(group, tp[0], tp[1], end, earliest, committed, lag, seconds, status))
            groups.append(GroupLag(group, offsets.states.get(group, ""), group_status(p.status for p in parts),
                                   tuple(parts)))
        for key in set(self._windows) - seen:
            del self._windows[key]
        for tp in set(self._tables) - set(offsets.ends):
            del self._tables[tp]
        return LagSnapshot(now, tuple(groups))

    # --- outputs -----------------------------------------------------------------------------------------

    def _export(self, snapshot: LagSnapshot) -> None:
        parts: set[tuple[str, str, int]] = set()
        groups: set[str] = set()
        tps: set[TP] = set()
        for g in snapshot.groups:
            groups.add(g.group)
            for p in g.partitions:
                labels = (g.group, p.topic, str(p.partition))
                parts.add((g.group, p.topic, p.partition))
                tps.add((p.topic, p.partition))
                m.GROUP_LAG.labels(*labels).set(p.lag)
                m.GROUP_LAG_SECONDS.labels(*labels).set(_num(p.lag_seconds))
                m.GROUP_OFFSET.labels(*labels).set(-1 if p.committed is None else p.committed)
                m.PARTITION_STATUS.labels(*labels).set(p.status.code)
                m.LATEST_OFFSET.labels(p.topic, str(p.partition)).set(p.end)
            m.GROUP_MAX_LAG.labels(g.group).set(g.max_lag)
            m.GROUP_SUM_LAG.labels(g.group).set(g.sum_lag)
            m.GROUP_MAX_LAG_SECONDS.labels(g.group).set(_num(g.max_lag_seconds))
            m.GROUP_STATUS.labels(g.group).set(g.status.code)
        old_parts, old_groups, old_tps = self._exported
        _remove(m.PARTITION_GAUGES, ((g, t, str(p)) for g, t, p in old_parts - parts))
        _remove(m.GROUP_GAUGES, ((g,) for g in old_groups - groups))
        _remove((m.LATEST_OFFSET,), ((t, str(p)) for t, p in old_tps - tps))
        self._exported = (parts, groups, tps)

    def _breaches(self, snapshot: LagSnapshot) -> dict[AlertKey, Breach]:
        th = self.cfg.thresholds
        messages = Levels(th.lag_messages.warn, th.lag_messages.critical)
        seconds = Levels(th.lag_seconds.warn, th.lag_seconds.critical)
        severities: dict[str, str] = {str(k): str(v) for k, v in th.status.items()}
        out: dict[AlertKey, Breach] = {}
        for g in snapshot.groups:
            for p in g.partitions:
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

    close = stop

    def _drop_admin(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            with contextlib.suppress(Exception):  # a broken connection is being dropped anyway
                admin.close()


def _num(value: float | None) -> float:
    return float("nan") if value is None else value


def _remove(gauges: Iterable[Gauge], label_sets: Iterable[tuple[str, ...]]) -> None:
    sets = list(label_sets)
    for gauge in gauges:
        for labels in sets:
            with contextlib.suppress(KeyError):
                gauge.remove(*labels)
