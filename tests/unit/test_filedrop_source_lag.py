"""File-drop source lag over a real drop folder: the age of each feed's oldest file still waiting, whatever
the connector is doing, as the source-lag monitor computes it from the heads and the saved positions."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from connectors.filedrop import make_state
from connectors.filedrop.state import Cursor
from hub.runtime.runner import ConnectorState, RunnerStatus
from hub.runtime.source_lag import SourceLag
from hub.runtime.source_lag_monitor import SourceLagMonitor, measure
from tests.unit.test_filedrop_connector import Clock, credit_csv, poll, source


def put(tmp: Path, name: str, data: bytes, mtime: float) -> None:
    path = tmp / "drop" / name
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def test_the_oldest_waiting_file_sets_the_lag_and_it_grows_until_delivered(tmp_path: Path) -> None:
    clock = Clock()
    src = source(tmp_path, clock)
    first = credit_csv(("1001", "Müller", "1000.00"))
    put(tmp_path, "credit_0101.csv", first, clock.now - 300)
    put(tmp_path, "credit_0102.csv", credit_csv(("1001", "Müller", "900.00")), clock.now - 60)
    put(tmp_path, "credit_0101.csv.done", b"", clock.now - 900)  # a marker: not a file of the feed
    put(tmp_path, "notes.txt", b"x", clock.now - 900)  # taken by no feed
    heads = src.source_heads()
    assert heads == [{"table": "credit", "ts": iso(clock.now), "file": "credit_0102.csv"},
                     {"table": "orders", "ts": iso(clock.now)}]
    saved = src.saved_positions(make_state())
    assert saved["credit"] == {"table": "credit", "ts": iso(clock.now - 300), "file": "credit_0101.csv"}
    assert measure(heads, saved) == [SourceLag("credit", 300.0, None), SourceLag("orders", 0.0, None)]

    clock.now += 100  # paused halfway through the first file: its age goes on growing
    halfway = make_state(Cursor("credit_0101.csv", hashlib.sha256(first).hexdigest(), "credit", 4, 4))
    saved = src.saved_positions(halfway)
    assert saved["credit"]["record"] == "4"
    assert measure(src.source_heads(), saved)[0] == SourceLag("credit", 400.0, None)

    _, state = poll(src, make_state())  # both files delivered and archived: nothing waits
    assert measure(src.source_heads(), src.saved_positions(state)) == [SourceLag("credit", 0.0, None),
                                                                       SourceLag("orders", 0.0, None)]


def test_the_monitor_shows_a_stopped_file_drop_falling_behind(tmp_path: Path) -> None:
    clock = Clock()
    status = RunnerStatus(state=ConnectorState.STOPPED)
    runner = SimpleNamespace(factory=lambda: source(tmp_path, clock), status=status, lag_monitored=False,
                             saved_state=make_state())
    monitor = SourceLagMonitor(lambda: {"exports": runner})  # type: ignore[dict-item]
    monitor.measure_once()
    assert status.source_lag["credit"] == {"seconds": 0.0, "rows": None}  # nothing waits
    put(tmp_path, "credit_0103.csv", credit_csv(("1001", "Müller", "800.00")), clock.now - 5)
    clock.now += 40
    monitor.measure_once()
    assert status.source_lag["credit"]["seconds"] == 45.0 and runner.lag_monitored
