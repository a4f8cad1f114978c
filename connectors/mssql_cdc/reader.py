"""Pure SQL text and row decoding for reading SQL Server CDC change rows.

Rows are read in ``__$start_lsn, __$seqval, __$operation`` order (Debezium's order) either through
``cdc.fn_cdc_get_all_changes_<instance>(@from, @to, N'all update old')`` or straight from
``cdc.<instance>_CT``, strictly after the reader's position, at or below the window's upper LSN and, while
an older capture instance is read, below the newer instance's start LSN. ``__$operation`` 1 delete,
2 insert, 3 before image, 4 after image of an update.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from connectors.changetables.pairing import Kind, RawChange
from connectors.changetables.position import Position, to_hex

__all__ = ["LSN_RANGE_SQL", "MAX_LSN_SQL", "changes_query", "commit_ms", "decode_change", "lsn_times_query",
           "quote"]

MAX_LSN_SQL = "SELECT sys.fn_cdc_get_max_lsn() AS max_lsn"
LSN_RANGE_SQL = "SELECT sys.fn_cdc_get_min_lsn(?) AS min_lsn, sys.fn_cdc_increment_lsn(?) AS next_lsn"
_ORDER = " ORDER BY [__$start_lsn], [__$seqval], [__$operation]"


def quote(name: str) -> str:
    """``[name]`` with ``]`` doubled."""
    return "[" + name.replace("]", "]]") + "]"


def _after(pos: Position) -> tuple[str, list[Any]]:
    if pos.seq is None:
        return "[__$start_lsn] > ?", [pos.commit]
    return ("([__$start_lsn] > ? OR ([__$start_lsn] = ? AND ([__$seqval] > ? OR ([__$seqval] = ? AND "
            "[__$operation] > ?))))", [pos.commit, pos.commit, pos.seq, pos.seq, pos.op])


def changes_query(mode: Literal["function", "table"], instance: str, pos: Position, from_lsn: bytes, upper: bytes,
                  below: bytes | None, limit: int) -> tuple[str, list[Any]]:
    """The next ``limit`` change rows of ``instance`` after ``pos``: SQL and parameters.

    ``from_lsn`` is the lower LSN the function takes (at least the instance's min LSN), ``upper`` the
    window's upper LSN (inclusive), ``below`` a newer instance's start LSN (exclusive) or None."""
    cond, params = _after(pos)
    if mode == "function":
        source = f"cdc.{quote('fn_cdc_get_all_changes_' + instance)}(?, ?, N'all update old')"
        head: list[Any] = [from_lsn, upper]
        conds = [cond]
    else:
        source = f"cdc.{quote(instance + '_CT')}"
        head = []
        conds = ["[__$start_lsn] >= ?", "[__$start_lsn] <= ?", cond]
        params = [from_lsn, upper, *params]
    if below is not None:
        conds.append("[__$start_lsn] < ?")
        params.append(below)
    sql = f"SELECT TOP ({int(limit)}) * FROM {source} WHERE " + " AND ".join(conds) + _ORDER
    return sql, [*head, *params]


def lsn_times_query(lsns: Sequence[bytes]) -> tuple[str, list[Any]]:
    """``sys.fn_cdc_map_lsn_to_time`` once per distinct LSN, in one round trip, with the server's current
    offset from UTC in minutes (the mapped times are the server's local time)."""
    values = ", ".join("(CAST(? AS binary(10)))" for _ in lsns)
    sql = ("SELECT v.lsn, sys.fn_cdc_map_lsn_to_time(v.lsn) AS commit_time, "
           f"DATEPART(TZOFFSET, SYSDATETIMEOFFSET()) AS tz_minutes FROM (VALUES {values}) AS v(lsn)")
    return sql, list(lsns)


def commit_ms(local: datetime, tz_minutes: int) -> int:
    """Epoch milliseconds of a server-local naive time, the server being ``tz_minutes`` east of UTC."""
    if local.tzinfo is not None:
        return int(local.timestamp() * 1000)
    utc = (local - timedelta(minutes=tz_minutes)).replace(tzinfo=UTC)
    return int(utc.timestamp() * 1000)


def decode_change(raw: Mapping[str, Any], instance: str) -> RawChange:
    """One change row (as pyodbc returns it: ``bytes`` LSNs) -> :class:`RawChange`; the ``__$`` columns
    become its position and ``meta`` (``capture_instance``, ``update_mask`` hex)."""
    op = int(raw["__$operation"])
    mask = raw.get("__$update_mask")
    meta = {"capture_instance": instance}
    if mask is not None:
        meta["update_mask"] = to_hex(bytes(mask))
    row = {k: v for k, v in raw.items() if not k.startswith("__$")}
    return RawChange(commit=bytes(raw["__$start_lsn"]), seq=bytes(raw["__$seqval"]), op=op, kind=Kind(op), row=row,
                     meta=meta, raw=raw)
