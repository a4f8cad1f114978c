"""Service cases and tickets (``canon.case``) in the store, by the customer record each belongs to.

A case names its customer by ``customer_source`` + ``customer_key`` (a helpdesk ticket: its contact), so the
cases of a golden record are those of its member source records, as for orders. Each row is versioned like
the other entities: a replayed or older event changes nothing. A deleted case is kept as ``deleted``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import Connection

from pipelines.store.tables import cases
from pipelines.store.views import _versioned_upsert, customer_rows

#: Statuses of a case that is finished: such a case is not open.
CLOSED_STATUSES = frozenset({"CLOSED", "RESOLVED", "CANCELLED", "DONE"})


def save_case(conn: Connection, source: str, key: str, data: Mapping[str, Any] | None, version: str,
              source_ts_ms: int, previous: Mapping[str, Any] | None = None) -> bool:
    """Store one case (``data`` None: deleted, kept with ``previous`` or a stub); False if the stored version
    is newer."""
    body = data if data is not None else previous
    if body is None:
        body = {"case_number": key, "customer_key": "", "status": "DELETED"}
    status = str(body.get("status") or "")
    values = {"case_number": str(body.get("case_number") or key),
              "customer_source": body.get("customer_source") or source,
              "customer_key": str(body.get("customer_key") or ""), "status": status,
              "is_open": data is not None and status.upper() not in CLOSED_STATUSES,
              "data": dict(body), "source_ts_ms": source_ts_ms, "deleted": data is None}
    return _versioned_upsert(conn, cases, {"source": source, "source_key": key}, version, values)


def cases_for(conn: Connection, refs: Collection[tuple[str, str]], *, only_open: bool = False,
              limit: int = 100) -> list[dict[str, Any]]:
    """The cases of the customer records ``refs``, open ones first, then newest first (by source time)."""
    out = customer_rows(conn, cases, refs, only_open)
    out.sort(key=lambda c: (not c["is_open"], -int(c["source_ts_ms"] or 0), str(c["case_number"])))
    return out[:limit]
