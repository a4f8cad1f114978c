"""Source lag of the journal connector: the journal's newest entry against the saved position.

The head of every captured file is the journal's newest entry (``JOURNAL_RECEIVER_INFO``'s last sequence of
the attached receiver) with its time. The saved position stands at the time of the first change of a captured
file after it (the oldest change not read yet); when none follows, at the head itself (caught up). The
seconds the monitor computes are thus how long the journal has gone on since the oldest change not captured.
Entry times are the server's local time (``server_timezone``), given in UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from connectors.ibmi_journal.entries import Position
from connectors.ibmi_journal.queries import ENTRY_AT_SQL, first_change_query

__all__ = ["Query", "entry_time", "first_change_time", "lag_position"]

Query = Callable[[str, Sequence[Any], str], list[dict[str, Any]]]
"""The connector's query: SQL, markers, what it is doing (for errors) -> rows as dicts."""


def lag_position(table: str, sequence: int, stamp: datetime | None, zone: ZoneInfo) -> dict[str, str]:
    """A file's head or saved position for source lag: the journal sequence and, if known, its time in UTC."""
    out = {"table": table, "sequence": str(sequence)}
    if stamp is not None:
        aware = stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=zone)
        out["ts"] = aware.astimezone(UTC).isoformat()
    return out


def _found(rows: list[dict[str, Any]]) -> tuple[int, datetime | None] | None:
    if not rows:
        return None
    stamp = rows[0].get("ENTRY_TIMESTAMP")
    return int(rows[0]["SEQUENCE_NUMBER"]), stamp if isinstance(stamp, datetime) else None


def entry_time(query: Query, journal: tuple[str, str], at: Position) -> tuple[int, datetime | None] | None:
    """The sequence and time of the entry at ``at`` (or the first one after it), None if there is none."""
    params = [*journal, at.receiver_library, at.receiver, at.sequence]
    return _found(query(ENTRY_AT_SQL, params, f"reading the journal entry at {at.label()}"))


def first_change_time(query: Query, journal: tuple[str, str], after: Position,
                      objects: Sequence[str]) -> tuple[int, datetime | None] | None:
    """The sequence and time of the first change of a captured file (``objects``: DISPLAY_JOURNAL's OBJECT
    prefixes) after ``after``, None when none follows."""
    params = [*journal, after.receiver_library, after.receiver, after.sequence, after.sequence, *objects]
    return _found(query(first_change_query(len(objects)), params, f"reading the journal after {after.label()}"))
