"""Pure transaction buffering of V$LOGMNR_CONTENTS rows, and the connector's position model.

**Buffering.** Rows arrive in SCN order, committed or not. DML rows (1 insert, 2 delete, 3 update) are kept
per transaction (XID = ``XIDUSN.XIDSLT.XIDSQN``); a redo statement longer than 4000 characters comes as
several rows with ``CSF = 1`` whose SQL_REDO is joined until the row with ``CSF = 0``. ``6`` START opens a
transaction (its SCN is the transaction's start SCN; a transaction seen first through a DML starts there).
``7`` COMMIT releases the transaction (:class:`Committed`) with its commit SCN; commits arrive in commit SCN
order, so events leave in commit order. ``36`` ROLLBACK drops the transaction. A row with ``ROLLBACK = 1``
undoes an earlier row of the same transaction (statement failure, ROLLBACK TO SAVEPOINT): the last buffered
change with the same ROW_ID is dropped, and the undo row itself is not kept.

**Position** (the state's ``stream`` part, see :func:`make_position`):

- ``scn``: where the next LogMiner window starts after a restart (inclusive) = the smallest start SCN of the
  transactions open at that point and of a transaction emitted only in part, else the commit SCN just
  handled (at a window end: the window end + 1 when no transaction is open).
  A transaction open across windows therefore keeps ``scn`` at its start, and a restart mines it again from
  its first row (its events were not emitted: they leave only at its commit).
- ``commit_scn`` and ``done``: a transaction committed at C is emitted iff C > ``commit_scn``, or C ==
  ``commit_scn`` and its XID is not in ``done`` (``done`` = None means every transaction at ``commit_scn``
  is done: the snapshot's SCN, whose commits the flashback query already read).
- ``partial``: ``{"xid", "events"}`` when a batch ended inside a transaction at ``commit_scn``: a restart
  skips its first ``events`` events.

So a crash anywhere resumes without loss (nothing before ``scn`` is needed) and without duplicates (commits
up to the saved point are skipped; events within a half-emitted transaction are counted).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Change", "Committed", "TxBuffer", "is_emitted", "load_position", "make_position", "xid_of"]

INSERT, DELETE, UPDATE, START, COMMIT, ROLLBACK = 1, 2, 3, 6, 7, 36
_DML = frozenset({INSERT, DELETE, UPDATE})


@dataclass(slots=True)
class Change:
    """One DML row of a transaction (SQL_REDO already joined across continuation rows)."""

    scn: int
    owner: str
    table: str
    sql: str
    row_id: str | None
    timestamp: datetime | None


@dataclass(slots=True)
class _Open:
    xid: str
    start_scn: int
    changes: list[Change] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # SQL_REDO pieces of a CSF = 1 run
    pending_row: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Committed:
    xid: str
    start_scn: int
    commit_scn: int
    commit_time: datetime | None
    changes: list[Change]


def xid_of(row: Mapping[str, Any]) -> str:
    """``XIDUSN.XIDSLT.XIDSQN`` (the XID's parts as numbers), else the XID RAW as hex."""
    usn, slt, sqn = row.get("XIDUSN"), row.get("XIDSLT"), row.get("XIDSQN")
    if usn is not None and slt is not None and sqn is not None:
        return f"{int(usn)}.{int(slt)}.{int(sqn)}"
    raw = row.get("XID")
    return bytes(raw).hex().upper() if isinstance(raw, bytes | bytearray | memoryview) else str(raw)


class TxBuffer:
    """Open transactions by XID, in first-seen order."""

    def __init__(self) -> None:
        self.open: dict[str, _Open] = {}

    def oldest_start(self) -> int | None:
        return min((t.start_scn for t in self.open.values()), default=None)

    def feed(self, row: Mapping[str, Any]) -> Committed | None:
        """Take one V$LOGMNR_CONTENTS row; the transaction it commits, if it is a commit."""
        code = int(row["OPERATION_CODE"])
        scn = int(row["SCN"])
        xid = xid_of(row)
        if code == COMMIT:
            tx = self.open.pop(xid, None)
            commit_scn = int(row["COMMIT_SCN"]) if row.get("COMMIT_SCN") is not None else scn
            when = row.get("COMMIT_TIMESTAMP") or row.get("TIMESTAMP")
            if tx is None:
                return Committed(xid, scn, commit_scn, when, [])
            return Committed(xid, tx.start_scn, commit_scn, when, tx.changes)
        if code == ROLLBACK:
            self.open.pop(xid, None)
            return None
        tx = self.open.get(xid)
        if tx is None:
            tx = self.open[xid] = _Open(xid, scn)
        if code in _DML:
            self._dml(tx, row, scn)
        return None

    @staticmethod
    def _dml(tx: _Open, row: Mapping[str, Any], scn: int) -> None:
        piece = row.get("SQL_REDO") or ""
        if int(row.get("CSF") or 0) == 1:
            tx.pending.append(piece)
            if tx.pending_row is None:
                tx.pending_row = row
            return
        first = tx.pending_row or row
        sql = "".join([*tx.pending, piece]) if tx.pending else piece
        tx.pending.clear()
        tx.pending_row = None
        row_id = first.get("ROW_ID")
        if int(first.get("ROLLBACK") or 0) == 1:
            for i in range(len(tx.changes) - 1, -1, -1):  # undo of the last change of that row
                if tx.changes[i].row_id == row_id and tx.changes[i].table == first.get("TABLE_NAME"):
                    del tx.changes[i]
                    break
            return
        tx.changes.append(Change(int(first["SCN"]), str(first.get("SEG_OWNER")), str(first.get("TABLE_NAME")),
                                 sql, row_id, first.get("TIMESTAMP")))


# --- the position -----------------------------------------------------------------------------------------

def make_position(scn: int, commit_scn: int, done: list[str] | None = None,
                  partial: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON-safe stream position (module docstring): ``done`` None = all at ``commit_scn`` done."""
    return {"scn": int(scn), "commit_scn": int(commit_scn), "done": None if done is None else list(done),
            "partial": None if partial is None else {"xid": str(partial["xid"]), "events": int(partial["events"])}}


def load_position(pos: Mapping[str, Any]) -> dict[str, Any]:
    return make_position(pos["scn"], pos["commit_scn"], pos.get("done"), pos.get("partial"))


def is_emitted(pos: Mapping[str, Any], commit_scn: int, xid: str) -> int | None:
    """How many of this transaction's events were already emitted: None = all of them (skip it), else the
    count to skip (0 = a new transaction)."""
    last = int(pos["commit_scn"])
    if commit_scn < last:
        return None
    if commit_scn > last:
        return 0
    done = pos.get("done")
    if done is None or xid in done:
        return None
    partial = pos.get("partial")
    if partial and partial["xid"] == xid:
        return int(partial["events"])
    return 0
