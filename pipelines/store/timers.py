"""Durable alert timers in the store: the :class:`pipelines.alerts.TimerStore` protocol over one transaction.

The semantics are those of :func:`pipelines.alerts.merge_timer` (older operations ignored, cancelled timers
kept as tombstones, a re-start in the same episode does not re-arm), applied row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, update

from pipelines.alerts import FIRED, PENDING, Timer, TimerOp, merge_timer
from pipelines.store.raw import jdump, jload, raw
from pipelines.store.tables import timer

_COLUMNS = "timer_id, rule, subject, due_ms, payload, version, episode, state"


def _timer(r: Sequence[Any]) -> Timer:
    """A timer from a row of ``_COLUMNS`` as the driver returns it (the payload JSON as text or decoded)."""
    return Timer(r[0], r[1], r[2], int(r[3]), dict(jload(r[4])), r[5], r[6], r[7])


class SqlTimerStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, timer_id: str) -> Timer | None:
        r = raw(self.conn).one(f"SELECT {_COLUMNS} FROM timer WHERE timer_id = :id", {"id": timer_id})
        return None if r is None else _timer(r)

    def apply(self, ops: Sequence[TimerOp]) -> None:
        """Each op merged with the stored timer (one small statement each way, on the driver's cursor: this
        runs for every event an alert rule watches)."""
        for op in ops:
            current = self.get(op.timer_id)
            merged = merge_timer(current, op)
            if merged is None or merged == current:
                continue
            values = {"id": merged.timer_id, "r": merged.rule, "s": merged.subject, "due": merged.due_ms,
                      "p": jdump(merged.payload), "v": merged.version, "e": merged.episode, "st": merged.state}
            if current is None:
                raw(self.conn).run(f"INSERT INTO timer ({_COLUMNS}) VALUES (:id, :r, :s, :due, :p, :v, :e, :st)",
                                   values)
            else:
                raw(self.conn).run("UPDATE timer SET rule = :r, subject = :s, due_ms = :due, payload = :p, "
                                   "version = :v, episode = :e, state = :st WHERE timer_id = :id", values)

    def due(self, now_ms: int, limit: int) -> list[Timer]:
        rows = raw(self.conn).rows(f"SELECT {_COLUMNS} FROM timer WHERE state = :st AND due_ms <= :now "
                                   "ORDER BY due_ms, timer_id LIMIT :n", {"st": PENDING, "now": now_ms, "n": limit})
        return [_timer(r) for r in rows]

    def mark_fired(self, timers: Sequence[Timer]) -> None:
        for t in timers:
            self.conn.execute(update(timer).where(
                timer.c.timer_id == t.timer_id, timer.c.state == PENDING, timer.c.due_ms == t.due_ms,
                timer.c.episode == t.episode).values(state=FIRED))
