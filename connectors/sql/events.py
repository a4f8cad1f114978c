"""Change events of polled or snapshot rows: each row normalised to its columns' types (a row whose values do
not fit becomes a dead row with the reason), its operation decided (:meth:`SourceTable.op`), its source info
and position attached, and the emitted keys recorded in the key store when there is one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from connectors.base import DeadRow
from connectors.sql.catalog import SourceTable
from connectors.sql.keystore import KeyStore
from connectors.sql.queries import key_text
from connectors.sql.values import ValueProblem, commit_ts_ms, normalise_row
from schemas.envelope import ChangeEvent, Op, SourceInfo
from schemas.errors import SkippableError


def source_info(origin: tuple[str, str], t: SourceTable, ts_ms: int, position: Mapping[str, str],
                snapshot: bool = False) -> SourceInfo:
    """``origin``: the connector's kind and name."""
    return SourceInfo(connector=origin[0], name=origin[1], db=t.meta.db, schema=t.meta.schema, table=t.meta.name,
                      ts_ms=max(0, ts_ms), snapshot="true" if snapshot else "false", position=position)


def row_events(t: SourceTable, rows: Sequence[Mapping[str, Any]], now: datetime, *, snapshot: bool, max_id: Any,
               store: KeyStore | None, origin: tuple[str, str], poll_ms: int
               ) -> tuple[list[ChangeEvent], list[DeadRow]]:
    """Events for raw rows (``now``: the database's time of the poll, for each row's commit time)."""
    good: list[tuple[Mapping[str, Any], dict[str, Any], str]] = []
    dead: list[DeadRow] = []
    for raw in rows:
        try:
            row = normalise_row(raw, t.meta.columns, trim_char=t.cfg.trim_char)
            good.append((raw, row, key_text(row, t.meta.key) if store is not None else ""))
        except ValueProblem as exc:
            dead.append(DeadRow(t.label, str(exc), dict(raw), t.position(raw)))
    known: set[str] = set()
    if store is not None and not snapshot and t.ts is not None and t.inc is None:
        known = store.live(t.label, [text for _, _, text in good])
    events: list[ChangeEvent] = []
    emitted: dict[Op, list[str]] = {Op.DELETE: [], Op.READ: []}
    for raw, row, text in good:
        op = t.op(row, raw, snapshot=snapshot, max_id=max_id, known=text in known or store is None)
        if op is None:  # a soft-deleted row in the snapshot: nothing to read
            continue
        position = t.position(raw)
        source = source_info(origin, t, commit_ts_ms(row, t.ts, now, poll_ms), position, snapshot)
        before, after = (row, None) if op is Op.DELETE else (None, row)
        try:
            events.append(ChangeEvent.create(key={k: row[k] for k in t.meta.key}, before=before, after=after,
                                             op=op, source=source, ts_ms=poll_ms))
        except SkippableError as exc:
            dead.append(DeadRow(t.label, exc.reason, dict(raw), position))
            continue
        emitted[Op.DELETE if op is Op.DELETE else Op.READ].append(text)
    if store is not None:  # keys already live stay as they are: only new (or deleted) ones are written
        store.mark_seen(t.label, [text for text in emitted[Op.READ] if text not in known])
        store.mark_deleted(t.label, emitted[Op.DELETE], 0)
    return events, dead
