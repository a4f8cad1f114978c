"""How `crmhub run` takes SIGINT / SIGTERM: before it has started, while it waits, and twice."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from hub.cli import serve


@pytest.fixture
def exits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The codes ``os._exit`` was called with; no handler is installed in the test process."""
    codes: list[int] = []
    monkeypatch.setattr(serve.signal, "signal", lambda *_a: None)
    monkeypatch.setattr(serve.os, "_exit", codes.append)
    monkeypatch.setattr(serve.logging, "shutdown", lambda: None)  # the test process keeps its log handlers
    return codes


def test_a_signal_while_starting_ends_the_process_when_starting_outlasts_the_deadline(exits: list[int]) -> None:
    signals = serve.StopSignals(start_deadline_s=0.2)
    signals._handler(signal.SIGTERM, None)
    deadline = time.monotonic() + 5
    while not exits and time.monotonic() < deadline:
        time.sleep(0.02)
    assert exits == [128 + signal.SIGTERM]


def test_a_signal_while_starting_stops_the_hub_once_it_has_started_in_time(exits: list[int]) -> None:
    signals = serve.StopSignals(start_deadline_s=0.5)
    signals._handler(signal.SIGINT, None)
    waited = threading.Thread(target=signals.wait)
    waited.start()
    waited.join(2)
    assert not waited.is_alive()  # the signal had come: wait returns at once
    time.sleep(0.8)
    assert exits == []  # started within the deadline: a clean stop follows, no exit


def test_a_second_signal_ends_the_process_at_once(exits: list[int]) -> None:
    signals = serve.StopSignals()
    done = threading.Thread(target=signals.wait, daemon=True)
    done.start()
    time.sleep(0.05)
    assert done.is_alive()  # nothing came yet
    signals._handler(signal.SIGTERM, None)
    done.join(2)
    assert not done.is_alive() and exits == []
    signals._handler(signal.SIGINT, None)
    assert exits == [128 + signal.SIGINT]
