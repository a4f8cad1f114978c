"""Journal entries as ``QSYS2.DISPLAY_JOURNAL`` returns them, positions, and the receiver chain (pure).

Entry codes used (journal code ``R``, record level; ``C``, commitment control):

- ``R PT`` record added, ``R PX`` record added directly by RRN -> insert;
- ``R UB`` before-image of a record updated, ``R UP`` after-image -> one update (before + after);
- ``R DL`` record deleted -> delete;
- ``R DR`` record deleted for rollback, ``R BR``/``R UR`` before/after-image of a record updated for rollback:
  the compensating entries IBM i writes when a change is rolled back (to a savepoint, or fully);
- ``C SC`` commit cycle started, ``C CM`` set of record changes committed, ``C RB`` rolled back.

A commit cycle id (``COMMIT_CYCLE_ID``) is the sequence number of the entry that started the cycle; 0 means the
change was made outside commitment control.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

RECORD_TYPES = frozenset({"PT", "PX", "UB", "UP", "DL", "DR", "BR", "UR"})
COMMIT_TYPES = frozenset({"SC", "CM", "RB"})


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """Where an entry is: receiver (library, name) and its journal sequence number."""

    sequence: int
    receiver_library: str
    receiver: str

    def as_dict(self) -> dict[str, Any]:
        return {"receiver_library": self.receiver_library, "receiver": self.receiver, "sequence": self.sequence}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Position:
        return cls(int(data["sequence"]), str(data["receiver_library"]), str(data["receiver"]))

    def label(self) -> str:
        return f"{self.receiver_library}/{self.receiver} sequence {self.sequence}"


@dataclass(frozen=True, slots=True)
class Entry:
    """One journal entry (a DISPLAY_JOURNAL row)."""

    position: Position
    code: str
    type: str
    commit_cycle: int
    rrn: int
    library: str
    file: str
    member: str
    timestamp: datetime | None
    data: bytes | str | None
    nulls: object
    job: str

    @property
    def sequence(self) -> int:
        return self.position.sequence

    @property
    def table(self) -> tuple[str, str]:
        return self.library, self.file


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1").strip()
    return str(value).strip()


def entry_from_row(row: Mapping[str, Any]) -> Entry:
    """A DISPLAY_JOURNAL row (column name -> driver value) as an ``Entry``.

    ``OBJECT`` is ``file(10) library(10) member(10)`` for record entries; ``ENTRY_DATA`` is the BLOB (bytes,
    or hex text when selected as ``HEX(...)``); ``COUNT_OR_RRN`` and ``COMMIT_CYCLE_ID`` may be absent (0)."""
    obj = str(row.get("OBJECT") or "")
    position = Position(int(row["SEQUENCE_NUMBER"]), _text(row.get("RECEIVER_LIBRARY")),
                        _text(row.get("RECEIVER_NAME")))
    data = row.get("ENTRY_DATA")
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    job = "/".join(_text(row.get(k)) for k in ("JOB_NUMBER", "JOB_USER", "JOB_NAME"))
    stamp = row.get("ENTRY_TIMESTAMP")
    return Entry(position=position, code=_text(row.get("JOURNAL_CODE")), type=_text(row.get("JOURNAL_ENTRY_TYPE")),
                 commit_cycle=int(row.get("COMMIT_CYCLE_ID") or 0), rrn=int(row.get("COUNT_OR_RRN") or 0),
                 file=obj[0:10].strip(), library=obj[10:20].strip(), member=obj[20:30].strip(),
                 timestamp=stamp if isinstance(stamp, datetime) else None, data=data,
                 nulls=row.get("NULL_VALUE_INDICATORS"), job=job)


# ------------------------------------------------------------------------------------------ receiver chain


@dataclass(frozen=True, slots=True)
class Receiver:
    """One ``QSYS2.JOURNAL_RECEIVER_INFO`` row of the journal."""

    library: str
    name: str
    first: int | None
    last: int | None
    status: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Receiver:
        first, last = row.get("FIRST_SEQUENCE_NUMBER"), row.get("LAST_SEQUENCE_NUMBER")
        return cls(_text(row["JOURNAL_RECEIVER_LIBRARY"]), _text(row["JOURNAL_RECEIVER_NAME"]),
                   None if first is None else int(first), None if last is None else int(last),
                   _text(row.get("STATUS")).upper())

    @property
    def readable(self) -> bool:
        """Entries can be read (not saved with its storage freed, not partial)."""
        return self.status not in ("FREED", "PARTIAL")

    def holds(self, sequence: int) -> bool:
        if self.first is None or sequence < self.first:
            return False
        return self.status == "ATTACHED" or self.last is None or sequence <= self.last


class LostPosition(Exception):
    """The receiver holding the saved position is gone (detached and deleted, or freed) before it was read."""

    def __init__(self, position: Position, oldest: Receiver | None) -> None:
        self.position = position
        self.oldest = oldest
        tail = (f"; the oldest receiver left is {oldest.library}/{oldest.name} from sequence {oldest.first}"
                if oldest else "; the journal has no readable receiver")
        super().__init__(f"journal receiver {position.receiver_library}/{position.receiver} holding sequence "
                         f"{position.sequence} is no longer available (deleted or freed before it was read)" + tail)


def resolve_start(position: Position, receivers: Sequence[Receiver]) -> Position:
    """Where to read from so the entry at ``position`` (already consumed or still needed) is not skipped.

    The saved receiver if it is still there and readable; else a readable receiver holding the sequence (the
    chain was renamed or restored elsewhere) or starting right after it (the saved receiver was deleted once
    fully read: nothing is lost). Otherwise ``LostPosition``."""
    readable = [r for r in receivers if r.readable]
    for r in readable:
        if r.library == position.receiver_library and r.name == position.receiver:
            return position
    for r in readable:
        if r.holds(position.sequence):
            return Position(position.sequence, r.library, r.name)
    for r in readable:
        if r.first == position.sequence + 1:
            return Position(position.sequence + 1, r.library, r.name)
    oldest = min((r for r in readable if r.first is not None), key=lambda r: r.first or 0, default=None)
    raise LostPosition(position, oldest)


def head_of(receivers: Sequence[Receiver]) -> Position | None:
    """The newest position: the attached receiver's last sequence (or the newest receiver's)."""
    attached = [r for r in receivers if r.status == "ATTACHED"]
    pool = attached or [r for r in receivers if r.readable and r.last is not None]
    if not pool:
        return None
    r = max(pool, key=lambda x: (x.last or x.first or 0))
    seq = r.last if r.last is not None else (r.first or 1) - 1
    return Position(max(seq, 0), r.library, r.name)


__all__ = ["COMMIT_TYPES", "RECORD_TYPES", "Entry", "LostPosition", "Position", "Receiver", "entry_from_row",
           "head_of", "resolve_start"]
