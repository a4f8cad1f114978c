"""Pure pairing of change-table rows into change events' shapes.

A capture process writes an update either as two rows (SQL Server: operation 3 = before image, 4 = after
image, same ``__$start_lsn`` and ``__$seqval``; Db2 with ``CHG_UPD_TO_DEL_INS = 'Y'`` or a partitioning-key
update: a ``D`` then an ``I`` in the same commit) or as one row (Db2 ``U``, optionally carrying before-image
columns). :func:`pair_changes` turns rows in read order into :class:`Change` items; the rule that says
whether two adjacent rows form one update is the caller's (:func:`same_seq_pair`, :func:`same_key_pair`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from schemas.envelope import Op

__all__ = ["Change", "Kind", "RawChange", "complete_prefix", "pair_changes", "same_key_pair", "same_seq_pair"]


class Kind(IntEnum):
    """What one change-table row is."""

    DELETE = 1
    INSERT = 2
    BEFORE = 3  # before image of an update (SQL Server 3)
    AFTER = 4  # after image of an update (SQL Server 4)
    UPDATE = 5  # a whole update in one row (Db2 'U'); ``before`` holds the before-image columns if any


@dataclass(frozen=True, slots=True)
class RawChange:
    """One change-table row, decoded: its position, its kind, the user columns (driver values)."""

    commit: bytes
    seq: bytes
    op: int
    kind: Kind
    row: Mapping[str, Any]
    before: Mapping[str, Any] | None = None
    meta: Mapping[str, str] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Change:
    """A change ready to become an event: ``first`` and ``last`` are the rows it was built from (the same row
    for single-row changes); the reader's position after it is ``last``'s."""

    op: Op
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    first: RawChange
    last: RawChange
    problem: str | None = None  # set for a row that cannot become an event (goes to the DLQ)


PairRule = Callable[[RawChange, RawChange], bool]


def same_seq_pair(first: RawChange, second: RawChange) -> bool:
    """SQL Server: a before image (3) and an after image (4) with the same start LSN and seqval."""
    return (first.kind is Kind.BEFORE and second.kind is Kind.AFTER and first.commit == second.commit
            and first.seq == second.seq)


def same_key_pair(key: Sequence[str]) -> PairRule:
    """Db2: a delete directly followed by an insert of the same key in the same commit is one update."""
    def rule(first: RawChange, second: RawChange) -> bool:
        return (first.kind is Kind.DELETE and second.kind is Kind.INSERT and first.commit == second.commit
                and bool(key) and all(_same(first.row.get(k), second.row.get(k)) for k in key))
    return rule


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):  # CHAR keys come blank-padded
        return a.rstrip(" ") == b.rstrip(" ")
    return bool(a == b)


def starts_pair(row: RawChange) -> bool:
    """Could ``row`` be the first half of a two-row update?"""
    return row.kind in (Kind.BEFORE, Kind.DELETE)


def complete_prefix(rows: Sequence[RawChange], limit: int, rule: PairRule) -> list[RawChange]:
    """The rows of one read to process now, when up to ``limit + 1`` rows were fetched.

    More than ``limit`` rows means the window goes on: the first ``limit`` are taken, plus the next row when
    it completes a pair the ``limit``-th row starts (so a pair is never split across batches)."""
    if len(rows) <= limit:
        return list(rows)
    taken = list(rows[:limit])
    if taken and rule(taken[-1], rows[limit]):
        taken.append(rows[limit])
    return taken


def pair_changes(rows: Sequence[RawChange], rule: PairRule) -> list[Change]:
    """Rows in read order -> changes. A pair-starting row that ``rule`` matches with the next row makes one
    update; a before image (3) without its after image is reported as a problem (it cannot be an event)."""
    out: list[Change] = []
    i = 0
    while i < len(rows):
        row = rows[i]
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        if nxt is not None and starts_pair(row) and rule(row, nxt):
            out.append(Change(Op.UPDATE, row.row, nxt.row, row, nxt))
            i += 2
            continue
        out.append(_single(row))
        i += 1
    return out


def _single(row: RawChange) -> Change:
    if row.kind is Kind.INSERT:
        return Change(Op.CREATE, None, row.row, row, row)
    if row.kind is Kind.DELETE:
        return Change(Op.DELETE, row.row, None, row, row)
    if row.kind is Kind.UPDATE:
        return Change(Op.UPDATE, row.before, row.row, row, row)
    if row.kind is Kind.AFTER:
        return Change(Op.UPDATE, None, row.row, row, row)
    return Change(Op.UPDATE, row.row, None, row, row, problem="before image of an update without its after image")
