"""Reading ahead of the safety delay in timestamp mode: emit a row when it is seen, save the position later.

The safety delay keeps the saved position behind ``db now - delay``, so a transaction that stamped its rows
earlier and commits late is still read. It need not hold the rows back: the streaming poll reads everything
after the saved position, each row flagged safe (older than the delay) or not (:data:`SAFE_FLAG`), and every
row not emitted before is emitted at once. The position advances over the leading safe rows only; the rows
after it are read again by the next polls until they are safe, and skipped then when they are as they were
emitted. A window per table remembers them: key → (timestamp, hash of the row).

What this gives: a change reaches Kafka one poll after its commit instead of one delay after it, and a row
changed more often than the delay (a hot item balance) is emitted as it goes rather than only once it rests.
What it costs: the rows of the last ``delay`` are read again at each poll, and after a restart (the window is
in memory) they are emitted again, as the at-least-once contract already allows.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.sql.queries import SAFE_FLAG

Signature = tuple[Any, int]
Window = dict[tuple[Hashable, ...], Signature]


@dataclass
class ReadAhead:
    emit: list[dict[str, Any]]  # the rows to emit, in the order read
    safe: int  # how many leading rows are older than the delay: the saved position may pass them
    window: Window  # what the next poll of the table starts from


def _digest(row: Mapping[str, Any]) -> int:
    values = tuple(row.values())
    try:
        return hash(values)
    except TypeError:  # a driver's list or dict value
        return hash(repr(values))


def read_ahead(rows: Sequence[dict[str, Any]], window: Mapping[tuple[Hashable, ...], Signature],
               key_columns: Sequence[str], ts_column: str, *, complete: bool) -> ReadAhead:
    """Split a poll's rows (ordered by timestamp, flagged with ``SAFE_FLAG``, which is removed here) into
    those to emit and the safe prefix; ``window`` is what earlier polls emitted ahead. ``complete``: the poll
    read every row after the position (not cut by its limit), so rows of the window it did not see are gone
    (changed again, deleted) and are forgotten."""
    emit: list[dict[str, Any]] = []
    safe = 0
    prefix = True
    kept: Window = {} if complete else dict(window)
    for row in rows:
        is_safe = bool(row.pop(SAFE_FLAG, 1))
        key = tuple(row[c] for c in key_columns)
        sig = (row[ts_column], _digest(row))
        if window.get(key) != sig:
            emit.append(row)
        prefix = prefix and is_safe
        if prefix:  # ordered by timestamp, the safe rows come first; the position never passes an unsafe one
            safe += 1
            kept.pop(key, None)
        else:
            kept[key] = sig
    return ReadAhead(emit, safe, kept)
