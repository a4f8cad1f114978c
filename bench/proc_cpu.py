"""CPU time of named processes over a measured window, from ``/proc/<pid>/stat`` (Linux only).

``utime + stime`` covers every thread of the process; a process that is gone reads as 0 from then on.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def stat_fields(text: str) -> list[str]:
    """The fields of a ``/proc/<pid>/stat`` line after the command name (which may hold spaces and parens):
    index 0 is the state, 11 utime, 12 stime (in clock ticks)."""
    return text[text.rindex(")") + 2:].split()


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system, all threads) used so far by ``pid``; 0 if it is gone."""
    try:
        f = stat_fields(Path(f"/proc/{pid}/stat").read_text())
    except (OSError, ValueError):
        return 0.0
    return (int(f[11]) + int(f[12])) / _TICK


@dataclass
class CpuWindow:
    """CPU per named process between :meth:`start` and :meth:`stop`, and the wall time of that window."""

    pids: dict[str, int]
    used: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0
    _t0: float = 0.0
    _c0: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self._c0 = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self._t0 = time.monotonic()

    def stop(self) -> None:
        self.wall_s = time.monotonic() - self._t0
        self.used = {name: cpu_seconds(pid) - self._c0[name] for name, pid in self.pids.items()}

    def report(self, changes: int, groups: dict[str, list[str]]) -> list[str]:
        """One line per process and one per group of process names: cores used, ms of CPU per change."""
        wall, n = max(self.wall_s, 1e-9), max(changes, 1)
        rows = [*self.used.items(), *((label, sum(self.used.get(x, 0.0) for x in names))
                                      for label, names in groups.items())]
        return [f"    {name:<38} {s / wall:5.2f} cores  {s * 1000 / n:6.3f} ms CPU/change" for name, s in rows]
