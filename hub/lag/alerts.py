"""Open lag alerts and their bounded history: raised once when a threshold is crossed, cleared once when it
no longer is (logged both times, counted in ``crmhub_lag_alerts_total``). A change of severity clears the
old alert and raises the new one."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

import structlog

from hub.lag.metrics import LAG_ALERTS
from hub.lag.model import Breach

log = structlog.get_logger(__name__)

# (group, topic, partition, measure); topic and partition are None for a group-level alert
AlertKey = tuple[str, str | None, int | None, str]


@dataclass
class Alert:
    group: str
    topic: str | None
    partition: int | None
    measure: str  # lag_messages | lag_seconds | status
    value: float
    threshold: float | str
    severity: str
    since: float  # wall time it was raised
    cleared_at: float | None = None

    @property
    def key(self) -> AlertKey:
        return (self.group, self.topic, self.partition, self.measure)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class AlertBook:
    """The open alerts by key, and the last ``history`` raised-or-cleared alerts (newest last)."""

    def __init__(self, history: int = 200) -> None:
        self._open: dict[AlertKey, Alert] = {}
        self._history: deque[Alert] = deque(maxlen=history)
        self._lock = threading.Lock()

    def update(self, breaches: Mapping[AlertKey, Breach], now: float) -> tuple[list[Alert], list[Alert]]:
        """Apply one sample's breaches (every breach of every watched group); returns (raised, cleared)."""
        raised: list[Alert] = []
        cleared: list[Alert] = []
        with self._lock:
            for key, alert in list(self._open.items()):
                hit = breaches.get(key)
                if hit is None or hit.severity != alert.severity:
                    alert.cleared_at = now
                    del self._open[key]
                    cleared.append(alert)
                else:  # still open: follow the value (and, for a status, which status it is now)
                    alert.value, alert.threshold = hit.value, hit.threshold
            for key, hit in breaches.items():
                if key not in self._open:
                    alert = Alert(*key, value=hit.value, threshold=hit.threshold, severity=hit.severity, since=now)
                    self._open[key] = alert
                    raised.append(alert)
            self._history.extend(replace(a) for a in [*cleared, *raised])  # as they were at this moment
        for alert in cleared:
            LAG_ALERTS.labels(group=alert.group, measure=alert.measure, severity=alert.severity,
                              event="cleared").inc()
            log.info("lag.alert_cleared", **_fields(alert))
        for alert in raised:
            LAG_ALERTS.labels(group=alert.group, measure=alert.measure, severity=alert.severity,
                              event="raised").inc()
            log.warning("lag.alert_raised", **_fields(alert))
        return raised, cleared

    def open_alerts(self) -> list[Alert]:
        with self._lock:
            return sorted(self._open.values(), key=lambda a: (a.group, a.topic or "", a.partition or -1, a.measure))

    def history(self) -> list[Alert]:
        with self._lock:
            return list(self._history)


def _fields(alert: Alert) -> dict[str, Any]:
    return {k: v for k, v in alert.as_dict().items() if v is not None}
