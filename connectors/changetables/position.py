"""The reader's position in the change tables and the connector's JSON-safe state.

A position is ``(commit, seq, op)``: ``commit`` is the binary commit position (SQL Server LSN, Db2
COMMITSEQ), ``seq`` the position of the last row read inside that commit (``__$seqval`` / INTENTSEQ) and
``op`` SQL Server's ``__$operation`` (its 3/4 pair shares one seqval; Db2 uses 0). ``seq`` None means every
row of ``commit`` was read (a window read to its end, or the snapshot's start point). Binary values are
kept hex in the state, as lower-case text.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["Position", "from_hex", "lag_position", "load_state", "make_state", "to_hex"]


def to_hex(value: bytes) -> str:
    """Binary position -> lower-case hex text (``b'\\x00\\x2a'`` -> ``'002a'``)."""
    return bytes(value).hex()


def from_hex(text: str) -> bytes:
    """Hex text (as :func:`to_hex` wrote it; a ``0x`` prefix is accepted) -> bytes; ``ValueError`` if not hex."""
    text = text.strip()
    if text[:2].lower() == "0x":
        text = text[2:]
    return bytes.fromhex(text)


@dataclass(frozen=True, slots=True)
class Position:
    """Where a table's reader stands: every row at or before this point was emitted and acknowledged."""

    commit: bytes
    seq: bytes | None = None
    op: int = 0

    def before_row(self, commit: bytes, seq: bytes, op: int = 0) -> bool:
        """True when the row ``(commit, seq, op)`` comes after this position (still to be read)."""
        if commit != self.commit:
            return commit > self.commit
        if self.seq is None:
            return False
        return (seq, op) > (self.seq, self.op)

    def to_json(self) -> dict[str, Any]:
        return {"commit": to_hex(self.commit), "seq": None if self.seq is None else to_hex(self.seq), "op": self.op}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Position:
        seq = data.get("seq")
        return cls(from_hex(str(data["commit"])), None if seq is None else from_hex(str(seq)), int(data.get("op") or 0))


def make_state(
    *,
    snapshot_done: bool = False,
    snapshot: Mapping[str, Mapping[str, Any]] | None = None,
    stream: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The state of a change-table connector, keyed by configured table name.

    ``snapshot``: table -> {"last_key": [..] | None, "done": bool, "rows": int};
    ``stream``: table -> {"commit": hex, "seq": hex | None, "op": int, "source": name | None} where
    ``source`` is the change table being read (SQL Server: the capture instance)."""
    return {
        "version": 1,
        "snapshot_done": snapshot_done,
        "snapshot": {t: {"last_key": p.get("last_key"), "done": bool(p.get("done")), "rows": int(p.get("rows") or 0)}
                     for t, p in (snapshot or {}).items()},
        "stream": {t: {"commit": p["commit"], "seq": p.get("seq"), "op": int(p.get("op") or 0),
                       "source": p.get("source")} for t, p in (stream or {}).items()},
    }


def load_state(state: Mapping[str, Any] | None) -> dict[str, Any]:
    """A state as the runner hands it back (or None), with every part present; the input is not changed."""
    state = copy.deepcopy(dict(state or {}))
    return make_state(snapshot_done=bool(state.get("snapshot_done")), snapshot=state.get("snapshot"),
                      stream=state.get("stream"))


def stream_entry(position: Position, source: str | None) -> dict[str, Any]:
    """One table's ``stream`` entry."""
    return {**position.to_json(), "source": source}


def lag_position(table: str, commit: bytes, ms: int | None) -> dict[str, str]:
    """A table's source head or saved position as the source-lag monitor compares them: the commit position
    (hex) and, when the server could map it to a time (epoch ms), that time in UTC (ISO 8601)."""
    out = {"table": table, "commit": to_hex(commit)}
    if ms is not None:
        out["ts"] = datetime.fromtimestamp(ms / 1000, UTC).isoformat()
    return out
