"""The database's "now" without a round trip per poll: one reading a second, and between readings the last one
plus the time the hub's monotonic clock says has passed since.

A poll needs the database's now for its safety bound (rows younger than ``db now - safety_delay_ms`` are not
passed yet). Reading it took a query per round (a connection checkout, its liveness test, the statement and the
rollback), about a fourteenth of a busy connector's CPU at a 20 ms poll interval. The estimate never runs ahead
of the database: the reading is dated when its answer arrived, after the database took it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

REFRESH_S = 1.0  # a new reading at most this long after the last: clock steps on either side show up within it


class DbClock:
    """``now()``: the database's current time, read through ``read`` (a driver value: datetime or ISO text)
    at most once per ``refresh_s``."""

    def __init__(self, read: Callable[[], Any], refresh_s: float = REFRESH_S,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._read, self._refresh_s, self._monotonic = read, refresh_s, monotonic
        self._base: datetime | None = None
        self._at = 0.0

    def now(self) -> datetime:
        elapsed = self._monotonic() - self._at
        if self._base is None or elapsed >= self._refresh_s or elapsed < 0:
            value = self._read()
            self._base = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
            self._at = self._monotonic()
            return self._base
        return self._base + timedelta(seconds=elapsed)
