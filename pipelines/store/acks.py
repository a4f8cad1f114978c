"""Acknowledgements of alerts: who (a token's name) said they have seen an alert, and when.

An alert is kept by its id in ``alert_log`` (a re-fired alert with the same id replaces it); its acknowledgement
is kept apart, by the same id, so it survives the replacement. The first acknowledgement counts: acknowledging
again changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import Connection

from pipelines.store.raw import in_params, jload, raw


def alert_by_id(conn: Connection, alert_id: str) -> dict[str, Any] | None:
    """The stored alert with this id (None: unknown)."""
    row = raw(conn).one("SELECT body FROM alert_log WHERE alert_id = :i", {"i": alert_id})
    return None if row is None else jload(row[0])


def acknowledge(conn: Connection, alert_id: str, by: str, ts_ms: int) -> dict[str, Any]:
    """Record ``by`` acknowledging the alert unless someone did before; the acknowledgement that counts."""
    db = raw(conn)
    row = db.one("SELECT acked_by, acked_ms FROM alert_ack WHERE alert_id = :i", {"i": alert_id})
    if row is None:
        db.run("INSERT INTO alert_ack (alert_id, acked_by, acked_ms) VALUES (:i, :b, :t)",
               {"i": alert_id, "b": by, "t": ts_ms})
        return {"by": by, "ts_ms": ts_ms}
    return {"by": row[0], "ts_ms": int(row[1])}


def acks_for(conn: Connection, alert_ids: Collection[str]) -> dict[str, dict[str, Any]]:
    """The acknowledgements of some alerts, by alert id (unacknowledged ones are absent)."""
    if not alert_ids:
        return {}
    marks, params = in_params("a", list(alert_ids))
    rows = raw(conn).rows(f"SELECT alert_id, acked_by, acked_ms FROM alert_ack WHERE alert_id IN ({marks})", params)
    return {r[0]: {"by": r[1], "ts_ms": int(r[2])} for r in rows}


def with_acks(conn: Connection, alerts: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``alerts`` each with ``acknowledged``: ``{"by", "ts_ms"}`` or None."""
    found = [dict(a) for a in alerts]
    acks = acks_for(conn, {str(a["alert_id"]) for a in found if a.get("alert_id")})
    for a in found:
        a["acknowledged"] = acks.get(str(a.get("alert_id")))
    return found
