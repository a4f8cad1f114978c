"""The journal connector's JSON-safe state.

``position``: where reading resumes (inclusive): the first entry of the oldest open commit cycle, else the
last entry read. ``emitted``: the sequence of the last unit emitted (a ``CM`` entry or a change outside
commitment control); units at or below it are skipped on resume. ``snapshot``: per table the last key read
(coded for JSON by :func:`json_key`, bound again by :func:`bind_key`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from datetime import time as dtime
from decimal import Decimal
from typing import Any

from schemas.columns import ColumnType, TableMeta


def make_state(*, snapshot_done: bool = False, snapshot: Mapping[str, Mapping[str, Any]] | None = None,
               position: Mapping[str, Any] | None = None, emitted: int | None = None) -> dict[str, Any]:
    """``position`` = {"receiver_library", "receiver", "sequence"}; tables keyed by their configured name."""
    return {
        "version": 1,
        "snapshot_done": snapshot_done,
        "snapshot": {t: {"last_key": p.get("last_key"), "done": bool(p.get("done")), "rows": int(p.get("rows") or 0)}
                     for t, p in (snapshot or {}).items()},
        "position": None if position is None else {"receiver_library": str(position["receiver_library"]),
                                                   "receiver": str(position["receiver"]),
                                                   "sequence": int(position["sequence"])},
        "emitted": None if emitted is None else int(emitted),
    }


def load_state(state: Mapping[str, Any] | None) -> dict[str, Any]:
    state = state or {}
    return make_state(snapshot_done=bool(state.get("snapshot_done")), snapshot=state.get("snapshot"),
                      position=state.get("position"), emitted=state.get("emitted"))


__all__ = ["load_state", "make_state"]


def json_key(value: Any) -> Any:
    """A key value as JSON keeps it (for the snapshot's last key); :func:`bind_key` turns it back."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime | date | dtime):
        return value.isoformat()
    return value


_FROM_JSON: dict[ColumnType, Callable[[Any], Any]] = {
    ColumnType.DECIMAL: Decimal, ColumnType.BYTES: bytes.fromhex, ColumnType.TIMESTAMP: datetime.fromisoformat,
    ColumnType.DATE: date.fromisoformat, ColumnType.TIME: dtime.fromisoformat}


def bind_key(last_key: Sequence[Any], meta: TableMeta) -> list[Any]:
    """The saved last key as the driver binds it (the column's Python type)."""
    out = []
    for value, col in zip(last_key, meta.key_columns, strict=True):
        convert = _FROM_JSON.get(col.type)
        out.append(convert(value) if convert is not None and isinstance(value, str) else value)
    return out
