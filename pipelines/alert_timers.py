"""Durable timers of absence alert rules: the operations the engine emits, and what applying one means.

:func:`merge_timer` is the one definition of the semantics; a store loads the current row, calls it and writes
the result back (:class:`MemoryTimerStore` does exactly that, and is the reference in tests). States:
``pending`` (waiting for ``due_ms``), ``fired`` (its alert was published), ``cancelled`` (a tombstone kept so
that a replayed older start cannot revive it; a store may purge tombstones older than its replay horizon).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

PENDING, FIRED, CANCELLED = "pending", "fired", "cancelled"


@dataclass(frozen=True, slots=True)
class StartTimer:
    timer_id: str
    rule: str
    subject: str
    due_ms: int
    payload: dict[str, Any]  # JSON-safe: everything needed to build the alert
    version: str  # orders operations on one timer; older ones are ignored
    episode: str  # same episode = same arming: a running or fired timer is kept


@dataclass(frozen=True, slots=True)
class CancelTimer:
    timer_id: str
    version: str


TimerOp = StartTimer | CancelTimer


@dataclass(frozen=True, slots=True)
class Timer:
    timer_id: str
    rule: str
    subject: str
    due_ms: int
    payload: dict[str, Any]
    version: str
    episode: str
    state: str = PENDING  # pending | fired | cancelled


def merge_timer(current: Timer | None, op: TimerOp) -> Timer | None:
    """The timer after ``op``. Older operations (lower ``version``) change nothing; cancelling an unknown
    timer is a no-op; a cancelled timer stays as a tombstone (so a replayed older start cannot revive it);
    a start re-arms unless the timer is in the same episode, in which case a pending timer only takes the
    newer payload and a fired one stays fired."""
    if current is not None and op.version < current.version:
        return current
    if isinstance(op, CancelTimer):
        if current is None or current.state == CANCELLED:
            return current
        return replace(current, state=CANCELLED, version=op.version)
    if current is None or current.state == CANCELLED or current.episode != op.episode:
        return Timer(op.timer_id, op.rule, op.subject, op.due_ms, op.payload, op.version, op.episode)
    if current.state == PENDING:
        return replace(current, payload=op.payload, version=op.version)
    return replace(current, version=op.version)


class TimerStore(Protocol):
    def apply(self, ops: Sequence[TimerOp]) -> None:
        """Apply in order, each as :func:`merge_timer` defines."""

    def due(self, now_ms: int, limit: int) -> list[Timer]:
        """Pending timers with ``due_ms <= now_ms``, earliest first (then by id), at most ``limit``."""

    def mark_fired(self, timers: Sequence[Timer]) -> None:
        """Set these timers fired, each only if still pending with the same ``due_ms`` and ``episode`` (a
        timer re-armed since :meth:`due` read it must stay pending)."""


class MemoryTimerStore:
    """The reference :class:`TimerStore`, in a dict."""

    def __init__(self) -> None:
        self.timers: dict[str, Timer] = {}

    def apply(self, ops: Sequence[TimerOp]) -> None:
        for op in ops:
            merged = merge_timer(self.timers.get(op.timer_id), op)
            if merged is not None:
                self.timers[op.timer_id] = merged

    def due(self, now_ms: int, limit: int) -> list[Timer]:
        ready = [t for t in self.timers.values() if t.state == PENDING and t.due_ms <= now_ms]
        return sorted(ready, key=lambda t: (t.due_ms, t.timer_id))[:limit]

    def mark_fired(self, timers: Sequence[Timer]) -> None:
        for timer in timers:
            now = self.timers.get(timer.timer_id)
            if now and now.state == PENDING and (now.due_ms, now.episode) == (timer.due_ms, timer.episode):
                self.timers[timer.timer_id] = replace(now, state=FIRED)
