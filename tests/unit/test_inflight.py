"""The in-flight window of the connector runner: positions are settled strictly in the order batches were
sent, only after their acknowledgements; a failed batch stops the settling and its error reaches the sender."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from connectors.base import Batch
from hub.kafka.clients import Sending
from hub.runtime.encode import Encoded
from hub.runtime.inflight import InFlight, Sent
from schemas.errors import RetriableError
from tests.factories import Future


def sent(n: int, future: Future | None, nbytes: int = 10) -> Sent:
    return Sent(Batch([], {"n": n}), Encoded([], 1, 0, nbytes), Sending([future]) if future else None)


def eventually(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


def test_a_later_ack_waits_for_the_earlier_batch() -> None:
    saved: list[int] = []
    window = InFlight("c", lambda s: saved.append(s.batch.state["n"]))
    first, second = Future(), Future()
    window.put(sent(1, first))
    window.put(sent(2, second))
    window.put(sent(3, None))  # nothing to produce: still settled after the batches before it
    second.ack()
    time.sleep(0.1)
    assert saved == []  # batch 2 is acknowledged, but batch 1 is not: nothing may be saved yet
    first.ack()
    window.drain()
    assert saved == [1, 2, 3]
    window.close()


def test_a_failed_batch_stops_the_settling_and_reaches_the_sender() -> None:
    saved: list[int] = []
    window = InFlight("c", lambda s: saved.append(s.batch.state["n"]))
    first, second = Future(), Future()
    window.put(sent(1, first))
    window.put(sent(2, second))
    second.ack()
    first.fail(RetriableError("broker gone"))
    with pytest.raises(RetriableError, match="broker gone"):
        window.drain()
    assert saved == []  # neither position: batch 2 came after the one that failed
    window.put(sent(3, None))  # the error was handed over once; the window works again
    window.drain()
    assert saved == [3]
    window.close()


@pytest.mark.parametrize(("max_batches", "max_bytes", "nbytes"), [(2, 1_000_000, 10), (10, 20, 10)])
def test_the_sender_waits_while_the_window_is_full(max_batches: int, max_bytes: int, nbytes: int) -> None:
    window = InFlight("c", lambda s: None, max_batches=max_batches, max_bytes=max_bytes)
    futures = [Future() for _ in range(3)]
    for i in range(2):
        window.put(sent(i, futures[i], nbytes))
    blocked = threading.Thread(target=window.put, args=(sent(2, futures[2], nbytes),), daemon=True)
    blocked.start()
    blocked.join(0.2)
    assert blocked.is_alive()  # two batches, or 20 of 20 bytes, in flight: the third waits
    futures[0].ack()
    blocked.join(5)
    assert not blocked.is_alive()
    for f in futures[1:]:
        f.ack()
    window.drain()
    assert window.pending == 0
    window.close()


def test_close_drops_what_is_queued_unsaved() -> None:
    saved: list[int] = []
    window = InFlight("c", lambda s: saved.append(s.batch.state["n"]))
    pending = Future()
    window.put(sent(1, pending))
    window.close()
    pending.ack()
    time.sleep(0.1)
    assert saved == []
