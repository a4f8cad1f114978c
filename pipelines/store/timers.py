"""Durable alert timers in the store: the :class:`pipelines.alerts.TimerStore` protocol over one transaction.

The semantics are those of :func:`pipelines.alerts.merge_timer` (older operations ignored, cancelled timers
kept as tombstones, a re-start in the same episode does not re-arm), applied row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pipelines.alerts import FIRED, PENDING, Timer, TimerOp, merge_timer
from pipelines.store.tables import timer


def _timer(r: Any) -> Timer:
    return Timer(r.timer_id, r.rule, r.subject, r.due_ms, dict(r.payload), r.version, r.episode, r.state)


class SqlTimerStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, timer_id: str) -> Timer | None:
        r = self.conn.execute(select(timer).where(timer.c.timer_id == timer_id)).first()
        return None if r is None else _timer(r)

    def apply(self, ops: Sequence[TimerOp]) -> None:
        for op in ops:
            current = self.get(op.timer_id)
            merged = merge_timer(current, op)
            if merged is None or merged == current:
                continue
            values = {"rule": merged.rule, "subject": merged.subject, "due_ms": merged.due_ms,
                      "payload": merged.payload, "version": merged.version, "episode": merged.episode,
                      "state": merged.state}
            if current is None:
                self.conn.execute(insert(timer).values(timer_id=merged.timer_id, **values))
            else:
                self.conn.execute(update(timer).where(timer.c.timer_id == merged.timer_id).values(**values))

    def due(self, now_ms: int, limit: int) -> list[Timer]:
        q = (select(timer).where(timer.c.state == PENDING, timer.c.due_ms <= now_ms)
             .order_by(timer.c.due_ms, timer.c.timer_id).limit(limit))
        return [_timer(r) for r in self.conn.execute(q)]

    def mark_fired(self, timers: Sequence[Timer]) -> None:
        for t in timers:
            self.conn.execute(update(timer).where(
                timer.c.timer_id == t.timer_id, timer.c.state == PENDING, timer.c.due_ms == t.due_ms,
                timer.c.episode == t.episode).values(state=FIRED))
