"""The SQL connector's JSON-safe state: per table the snapshot progress and the stream position, and the
reconciliation generation whose deletes the state covers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["load_state", "make_state", "stream_positions"]


def make_state(
    *,
    snapshot_done: bool = False,
    snapshot: Mapping[str, Mapping[str, Any]] | None = None,
    stream: Mapping[str, Mapping[str, Any]] | None = None,
    recon_gen: int = 0,
) -> dict[str, Any]:
    """The connector's JSON-safe state. ``snapshot``: table -> {"last_key": [..] | None, "done": bool,
    "rows": rows read so far}, and for a table read in chunks (:mod:`connectors.sql.snapshot`) "total" (its
    row count when the snapshot began) and "chunks": [{"after": [..] | None, "upto": [..] | None, "last_key":
    [..] | None, "done": bool}, ...];
    ``stream``: table -> {"ts": .., "id": [..] | None, "max_id": ..}; ``recon_gen``: the last
    reconciliation generation whose deletes this state covers. Tables are keyed by their configured name."""
    return {
        "version": 1,
        "snapshot_done": snapshot_done,
        "snapshot": {t: _progress(p) for t, p in (snapshot or {}).items()},
        "stream": {t: {"ts": p.get("ts"), "id": p.get("id"), "max_id": p.get("max_id")} for t, p in
                   (stream or {}).items()},
        "recon_gen": recon_gen,
    }


def load_state(state: Mapping[str, Any] | None) -> dict[str, Any]:
    """A state as the runner hands it back, with every part present (empty for None)."""
    state = state or {}
    return make_state(snapshot_done=bool(state.get("snapshot_done")), snapshot=state.get("snapshot"),
                      stream=state.get("stream"), recon_gen=int(state.get("recon_gen") or 0))


def _progress(p: Mapping[str, Any]) -> dict[str, Any]:
    out = {"last_key": p.get("last_key"), "done": bool(p.get("done")), "rows": int(p.get("rows") or 0)}
    if p.get("chunks") is not None:
        out["total"] = p.get("total")
        out["chunks"] = [{"after": c.get("after"), "upto": c.get("upto"), "last_key": c.get("last_key"),
                          "done": bool(c.get("done"))} for c in p["chunks"]]
    return out


def stream_positions(state: Mapping[str, Any] | None) -> dict[str, dict[str, str]]:
    """Per table, the stream position of ``state`` as its events' ``source.position`` encodes one: the table, the
    change timestamp ``ts`` and, for a single id column, the ``id``."""
    out: dict[str, dict[str, str]] = {}
    for table, p in load_state(state)["stream"].items():
        pos = {"table": table}
        ids = p.get("id") or []
        if p.get("ts") is not None:
            pos["ts"] = str(p["ts"])
        if len(ids) == 1 and ids[0] is not None:
            pos["id"] = str(ids[0])
        out[table] = pos
    return out
