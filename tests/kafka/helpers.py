"""Helpers shared by the tests that talk to the real broker."""

from __future__ import annotations

import time
from collections.abc import Callable

from hub.kafka.clients import Consumer, KafkaSettings, Message


def wait_for(cond: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll ``cond`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


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
