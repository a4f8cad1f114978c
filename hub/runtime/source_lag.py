"""Source lag: how far a connector's captured position is behind the newest position of its source.

Connectors report the head of each table they poll (``Batch.source_head``: the newest change timestamp
``ts`` and/or the highest id ``id``, as the SQL connector's positions encode them) next to the events they
read; the captured position is the newest delivered event's ``source.position``. A batch without events
(a heartbeat) means the connector is caught up.

The source-lag monitor (:mod:`hub.runtime.source_lag_monitor`) measures the same at all times from the source's
head, read on a connector instance of its own, and the position the runner saved (:func:`saved_lag`), so a
paused, stopped or failed connector's lag keeps growing while the source moves on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from hub.metrics import SOURCE_LAG_NOW, SOURCE_LAG_ROWS


@dataclass(frozen=True, slots=True)
class SourceLag:
    table: str
    seconds: float | None  # head change time minus captured change time; None if not comparable
    rows: int | None  # head id minus captured id (numeric ids only); None if not comparable


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None


def _number(text: str | None) -> Decimal | None:
    if not text:
        return None
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return None


def source_lag(head: Mapping[str, str], captured: Mapping[str, str] | None) -> SourceLag | None:
    """The lag of ``captured`` behind ``head`` (never negative), for one table; None without a table head."""
    table = head.get("table")
    if not table:
        return None
    if captured is None:  # nothing read in this batch: the connector is at the head
        return SourceLag(table, 0.0, 0)
    seconds = rows = None
    head_ts, cap_ts = _time(head.get("ts")), _time(captured.get("ts"))
    if head_ts is not None and cap_ts is not None and (head_ts.tzinfo is None) == (cap_ts.tzinfo is None):
        seconds = max(0.0, (head_ts - cap_ts).total_seconds())
    head_id, cap_id = _number(head.get("id")), _number(captured.get("id"))
    if head_id is not None and cap_id is not None:
        rows = max(0, int(head_id - cap_id))
    return SourceLag(table, seconds, rows)


def saved_lag(head: Mapping[str, str], saved: Mapping[str, str] | None) -> SourceLag | None:
    """The lag of the saved position ``saved`` behind ``head``; unknown (None parts) when nothing was saved for
    the table yet. None without a table head."""
    table = head.get("table")
    if not table:
        return None
    if saved is None:
        return SourceLag(table, None, None)
    return source_lag(head, saved)


def show_source_lag(connector: str, shown: dict[str, dict[str, float | int | None]], lag: SourceLag) -> None:
    """Keep ``lag`` as the connector's current source lag: in its status (``shown``) and the gauges."""
    shown[lag.table] = {"seconds": lag.seconds, "rows": lag.rows}
    if lag.seconds is not None:
        SOURCE_LAG_NOW.labels(connector, lag.table).set(lag.seconds)
    if lag.rows is not None:
        SOURCE_LAG_ROWS.labels(connector, lag.table).set(lag.rows)
