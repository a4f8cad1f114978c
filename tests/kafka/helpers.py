"""Helpers shared by the tests that talk to the real broker."""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable

from hub.kafka.clients import Consumer, KafkaSettings, Message


def wait_for(cond: Callable[[], bool], timeout: float = 60.0, state: Callable[[], object] | None = None) -> None:
    """Poll ``cond`` until it holds; fail the test after ``timeout`` seconds, showing ``state()`` if given."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in time{f': {state()}' if state else ''}")
        time.sleep(0.1)


def thread_stacks(prefixes: tuple[str, ...] = ("crmhub", "kafka")) -> str:
    """The stacks of the live threads whose name starts with one of ``prefixes`` (for a timeout's message)."""
    frames = sys._current_frames()
    return "\n".join(f"--- {t.name}\n" + "".join(traceback.format_stack(frames[t.ident]))
                     for t in threading.enumerate() if t.name.startswith(prefixes) and t.ident in frames)


def read_all(settings: KafkaSettings, topic: str, expect: int, timeout: float = 60.0) -> list[Message]:
    """Messages of ``topic`` from the beginning, until at least ``expect`` were read or the timeout."""
    consumer = Consumer(settings, group_id=None)
    consumer.assign(topic)
    out: list[Message] = []
    deadline = time.monotonic() + timeout
    while len(out) < expect and time.monotonic() < deadline:
        out.extend(consumer.poll(300))
    consumer.close()
    return out
