"""The connector's JSON-safe state (``mode: logminer``): snapshot progress and the stream position."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.oracle_logminer.txbuffer import load_position

__all__ = ["lag_position", "load_state", "make_state", "saved_scn"]


def make_state(*, snapshot_done: bool = False, snapshot_scn: int | None = None,
               snapshot: Mapping[str, Mapping[str, Any]] | None = None,
               stream: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``snapshot``: ``OWNER.TABLE`` -> {"last_key": [..] | None, "done": bool, "rows": n};
    ``snapshot_scn``: the flashback SCN; ``stream``: the position of :mod:`.txbuffer` (None before any)."""
    return {
        "version": 1,
        "snapshot_done": snapshot_done,
        "snapshot_scn": snapshot_scn,
        "snapshot": {t: {"last_key": p.get("last_key"), "done": bool(p.get("done")), "rows": int(p.get("rows") or 0)}
                     for t, p in (snapshot or {}).items()},
        "stream": None if stream is None else load_position(stream),
    }


def load_state(state: Mapping[str, Any] | None) -> dict[str, Any]:
    """A state as the runner hands it back, every part present."""
    state = state or {}
    scn = state.get("snapshot_scn")
    return make_state(snapshot_done=bool(state.get("snapshot_done")), snapshot_scn=None if scn is None else int(scn),
                      snapshot=state.get("snapshot"), stream=state.get("stream"))


def saved_scn(state: Mapping[str, Any] | None) -> int | None:
    """The SCN up to which every commit was captured, as far as ``state`` tells: the newer of the last commit SCN
    emitted in full and the SCN before where the next window starts; None before streaming began."""
    stream = load_state(state)["stream"]
    if stream is None:
        return None
    commit = int(stream["commit_scn"]) - (1 if stream["partial"] else 0)
    return max(commit, int(stream["scn"]) - 1)


def lag_position(table: str, scn: int, ts: datetime | None) -> dict[str, str]:
    """A table's source head or saved position for source lag: the SCN and, when the database could map it, its
    time (the database's, ISO 8601)."""
    out = {"table": table, "scn": str(scn)}
    if ts is not None:
        out["ts"] = ts.isoformat()
    return out
