"""The connector's JSON-safe state (``mode: logminer``): snapshot progress and the stream position."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.oracle_logminer.txbuffer import load_position

__all__ = ["load_state", "make_state"]


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
