"""The source-lag monitor: every few seconds, each connector's source head against the position it saved.

A connector reports its source's head only while it reads, so a lag taken from its batches alone stops where
the connector stopped: a paused connector would show the lag it had when paused (0 when it was caught up)
while its source moves on. The monitor reads the head itself, on a connector instance of its own
(:meth:`connectors.base.Connector.source_heads`), and compares it with the position the runner saved last
(:meth:`connectors.base.Connector.saved_positions` of ``runner.saved_state``), whatever the connector's state:
starting, running, paused, retrying, failed or stopped. A connector kind that cannot tell its head keeps the
lag its batches report.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

import structlog

from connectors.base import Connector
from hub.runtime.runner import ConnectorRunner
from hub.runtime.source_lag import SourceLag, saved_lag, show_source_lag
from schemas.secrets import mask_text

log = structlog.get_logger(__name__)

#: How often the monitor measures, by default.
INTERVAL_S = 3.0


def measure(heads: list[dict[str, str]], saved: Mapping[str, Mapping[str, str]]) -> list[SourceLag]:
    """The lag of each table head in ``heads`` behind its saved position in ``saved`` (pure)."""
    out = []
    for head in heads:
        lag = saved_lag(head, saved.get(head.get("table", "")))
        if lag is not None:
            out.append(lag)
    return out


class SourceLagMonitor:
    """Measures the source lag of every runner ``runners()`` returns, every ``interval_s``, in a thread."""

    def __init__(self, runners: Callable[[], Mapping[str, ConnectorRunner]], interval_s: float = INTERVAL_S) -> None:
        self.runners = runners
        self.interval_s = interval_s
        self._probes: dict[str, Connector] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: dict[str, str] = {}  # connector -> why its head could not be read (last time)

    def start(self) -> SourceLagMonitor:
        self._thread = threading.Thread(target=self._run, name="source-lag-monitor", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        for name in list(self._probes):
            self._drop(name)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.measure_once()
            self._stop.wait(self.interval_s)

    def measure_once(self) -> None:
        """One round over every runner; a source that does not answer is noted and asked again next round."""
        runners = self.runners()
        for name in [n for n in self._probes if n not in runners]:
            self._drop(name)
        for name, runner in runners.items():
            try:
                self._measure(name, runner)
                self.errors.pop(name, None)
            except Exception as exc:
                error = mask_text(f"{type(exc).__name__}: {exc}")
                if self.errors.get(name) != error:
                    log.warning("source_lag.head_unreadable", connector=name, error=error)
                self.errors[name] = error
                self._drop(name)

    def _measure(self, name: str, runner: ConnectorRunner) -> None:
        probe = self._probes.get(name)
        if probe is None:
            probe = self._probes[name] = runner.factory()
        heads = probe.source_heads()
        if not heads:
            return  # this kind cannot tell its head: the lag of its batches stays
        saved = runner.saved_state
        positions = probe.saved_positions(saved) if saved is not None else {}
        runner.lag_monitored = True
        for lag in measure(heads, positions):
            show_source_lag(name, runner.status.source_lag, lag)

    def _drop(self, name: str) -> None:
        probe = self._probes.pop(name, None)
        if probe is not None:
            try:
                probe.close()
            except Exception as exc:
                log.warning("source_lag.probe_close_failed", connector=name, error=mask_text(str(exc)))
