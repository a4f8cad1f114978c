"""The gateway's audit log: one row per authenticated request in the store's ``audit_log`` table.

A row says who (token name and role), what (method, path, query string, the golden ids the response
disclosed), when (``ts_ms``) and the HTTP status. It is written when the response starts, before any of its
body leaves, so nothing is disclosed without a row (a failing write fails the request). Requests without a
known token (401) and ``/health`` are not recorded; 403s are. Tokens never reach the table: they travel in a
header, which is not recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anyio
import structlog
from sqlalchemy import Connection, insert, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipelines.store.engine import Store
from pipelines.store.raw import jload
from pipelines.store.tables import audit_log

log = structlog.get_logger(__name__)


def strip_token(query: str) -> str:
    """The query string without an ``access_token`` parameter (a secret, never stored)."""
    return "&".join(p for p in query.split("&") if p and not p.startswith("access_token="))


def write_audit(conn: Connection, *, token_name: str, role: str, method: str, path: str, query: str | None,
                status: int, golden_ids: list[str], ts_ms: int | None = None) -> None:
    conn.execute(insert(audit_log).values(
        ts_ms=int(time.time() * 1000) if ts_ms is None else ts_ms, token_name=token_name, role=role,
        method=method, path=path[:500], query=query or None, status=status, golden_ids=golden_ids))


def read_audit(conn: Connection, *, limit: int = 100, token_name: str | None = None) -> list[dict[str, Any]]:
    """The newest ``limit`` rows, newest first (optionally of one token)."""
    q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if token_name is not None:
        q = q.where(audit_log.c.token_name == token_name)
    rows = [dict(r._mapping) for r in conn.execute(q)]
    for row in rows:
        row["golden_ids"] = jload(row["golden_ids"]) or []
    return rows


class AuditMiddleware:
    """ASGI middleware writing the audit row of each request whose caller is known (see the module doc)."""

    def __init__(self, app: ASGIApp, store: Callable[[], Store]) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        started = False

        async def send_audited(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start" and not started:
                started = True
                await self._record(scope, state, int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, send_audited)
        except Exception:
            if not started:
                started = True
                await self._record(scope, state, 500)
            raise

    async def _record(self, scope: Scope, state: dict[str, Any], status: int) -> None:
        principal = state.get("principal")
        if principal is None:
            return
        query = strip_token(scope.get("query_string", b"").decode("latin-1"))
        ids = list(state.get("golden_ids") or [])

        def write() -> None:
            with self.store().tx() as conn:
                write_audit(conn, token_name=principal.name, role=principal.role, method=scope["method"],
                            path=scope["path"], query=query, status=status, golden_ids=ids)

        await anyio.to_thread.run_sync(write)
        log.debug("gateway.request", client=principal.name, role=principal.role, method=scope["method"],
                  path=scope["path"], status=status)
