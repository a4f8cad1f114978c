"""Dead letters read from their topics (``dlq.<pipeline>``, ``dlq.<connector>``) with a consumer of no group
(nothing is committed), each read bounded in time: every message up to the topics' current ends, or the one
message an id names. ``crmhub dlq`` and the dashboard's dead-letter view share them; parsing and ids:
:mod:`hub.runtime.dlq_read`."""

from __future__ import annotations

import time

from hub.kafka.clients import Admin, Consumer, KafkaSettings, Message
from hub.runtime.dlq_read import TOPIC, DeadLetter, Ident, decode_body, parse, topic_id


def letter_of(m: Message) -> DeadLetter:
    key = m.key.decode("utf-8", "replace") if m.key is not None else None
    return parse(TOPIC, topic_id(m.topic, m.partition, m.offset), m.topic, key, decode_body(m.value))


def to_read(settings: KafkaSettings, topics: list[str], wait_ms: int) -> dict[tuple[str, int], int]:
    """The end offset of every partition of ``topics`` that holds messages."""
    return {tp: end for tp, (start, end) in _bounds(settings, topics, wait_ms).items() if end > start}


def _bounds(settings: KafkaSettings, topics: list[str], wait_ms: int) -> dict[tuple[str, int], tuple[int, int]]:
    """(first, end) offset of every partition of ``topics``."""
    admin = Admin(settings, bootstrap_timeout_ms=wait_ms)
    try:
        return admin.bounds(topics)
    finally:
        admin.close()


def newest_letters(settings: KafkaSettings, topics: list[str], limit: int,
                   timeout_s: float) -> tuple[list[DeadLetter], int, list[str]]:
    """The newest ``limit`` messages of each partition of ``topics`` (oldest first, by time), how many the topics
    hold in all, and notes on what was not read in time: a bounded read whatever the topics hold."""
    deadline = time.monotonic() + timeout_s
    bounds = _bounds(settings, topics, int(timeout_s * 1000))
    total = sum(end - first for first, end in bounds.values())
    left = {tp: (max(first, end - limit), end) for tp, (first, end) in bounds.items() if end > first}
    if not left:
        return [], total, []
    consumer = Consumer(settings, None, bootstrap_timeout_ms=int(timeout_s * 1000))
    found: list[Message] = []
    try:
        consumer.assign_topics(sorted({t for t, _ in left}), from_beginning=False)
        for (t, p), (start, _) in left.items():
            consumer.seek(t, p, start)
        while left and time.monotonic() < deadline:
            for m in consumer.poll(timeout_ms=200):
                r = left.get((m.topic, m.partition))
                if r is not None and m.offset < r[1]:
                    found.append(m)
                    if m.offset + 1 >= r[1]:
                        del left[(m.topic, m.partition)]
    finally:
        consumer.close()
    found.sort(key=lambda m: (m.timestamp_ms, m.topic, m.partition, m.offset))
    notes = [f"{t}/{p}: not read to its end within {timeout_s:g} s" for t, p in sorted(left)]
    return [letter_of(m) for m in found], total, notes


def topic_letters(settings: KafkaSettings, topics: list[str], timeout_s: float) -> tuple[list[DeadLetter], list[str]]:
    """Every message on ``topics`` up to their current end, and notes on what was not read in time."""
    deadline = time.monotonic() + timeout_s
    left = to_read(settings, topics, int(timeout_s * 1000))
    if not left:
        return [], []
    consumer = Consumer(settings, None, bootstrap_timeout_ms=int(timeout_s * 1000))
    out: list[DeadLetter] = []
    try:
        consumer.assign_topics(sorted({t for t, _ in left}))
        while left and time.monotonic() < deadline:
            for m in consumer.poll(timeout_ms=200):
                end = left.get((m.topic, m.partition))
                if end is not None and m.offset < end:
                    out.append(letter_of(m))
                    if m.offset + 1 >= end:
                        del left[(m.topic, m.partition)]
    finally:
        consumer.close()
    notes = [f"{t}/{p}: not read to its end within {timeout_s:g} s" for t, p in sorted(left)]
    return out, notes


def topic_message(settings: KafkaSettings, ident: Ident, timeout_s: float) -> Message | None:
    """The message an id names, or None when it is not (or no longer) on the topic."""
    deadline = time.monotonic() + timeout_s
    consumer = Consumer(settings, None, bootstrap_timeout_ms=int(timeout_s * 1000))
    try:
        consumer.assign(ident.topic, [ident.partition], from_beginning=False)
        consumer.seek(ident.topic, ident.partition, ident.offset)
        while time.monotonic() < deadline:
            for m in consumer.poll(timeout_ms=200, max_records=1):
                return m if m.offset == ident.offset else None
    finally:
        consumer.close()
    return None


def topic_letter(settings: KafkaSettings, ident: Ident, timeout_s: float) -> DeadLetter | None:
    m = topic_message(settings, ident, timeout_s)
    return None if m is None else letter_of(m)
