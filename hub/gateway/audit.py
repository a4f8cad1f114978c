"""The gateway's audit log: one row per authenticated request in the store's ``audit_log`` table.

A row says who (token name and role), what (method, path, query string without ``access_token``, the golden
ids the response disclosed), when (``ts_ms``) and the HTTP status; 403s too, ``/health`` not. Requests without
a known token are refused (401) before this middleware by the guard in front of every server
(``hub/web/guard.py``), which writes their rows itself with the token name ``-``. Tokens never reach the table:
they travel in a header (or in the ``access_token`` parameter, which is stripped), neither of which is
recorded.

The row is queued when the response starts, before any of its body leaves, and written by a background thread
in batches (``audit_writer.py``): nothing is disclosed without its row queued, and queued rows are committed
within ~0.1 s and on a clean stop. When the queue stays full (the store is down or too slow) the request is
refused with 503 and ``Retry-After`` instead of being served unaudited (counted in
``crmhub_gateway_audit_rejected_total`` and logged). ``GET /audit`` flushes the queue before reading, so it
shows every request answered before it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import anyio
import orjson
import structlog
from sqlalchemy import Connection, insert, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.gateway.audit_writer import AuditEntry, AuditWriter
from hub.web.access import strip_token as strip_token  # the audit rows keep queries without it
from pipelines.store.raw import jload
from pipelines.store.tables import audit_log

log = structlog.get_logger(__name__)


def write_audit(conn: Connection, *, token_name: str, role: str, method: str, path: str, query: str | None,
                status: int, golden_ids: list[str], ts_ms: int | None = None) -> None:
    """Insert one row in ``conn``'s transaction, now (the gateway queues its rows: ``AuditWriter``)."""
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


class _AuditRefused(Exception):
    """Raised into the app's ``send`` once the 503 went out instead of its response (ends a stream too)."""


def _is_refusal(exc: BaseException) -> bool:
    if isinstance(exc, _AuditRefused):
        return True
    if isinstance(exc, BaseExceptionGroup):  # raised inside a task group (streaming responses)
        match, rest = exc.split(_AuditRefused)
        return match is not None and rest is None
    return False


_REFUSED_BODY = orjson.dumps({"error": "service_unavailable",
                              "message": "the audit log cannot keep up; try again shortly"})


class AuditMiddleware:
    """ASGI middleware queueing the audit row of each request whose caller is known (see the module doc);
    ``writer()`` is the app's :class:`AuditWriter`."""

    def __init__(self, app: ASGIApp, writer: Callable[[], AuditWriter]) -> None:
        self.app = app
        self.writer = writer

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
                if not await self._record(scope, state, int(message["status"])):
                    await _refuse(send)
                    raise _AuditRefused
            await send(message)

        try:
            await self.app(scope, receive, send_audited)
        except Exception as exc:
            if _is_refusal(exc):
                return
            if not started:
                started = True
                await self._record(scope, state, 500)
            raise

    async def _record(self, scope: Scope, state: dict[str, Any], status: int) -> bool:
        """Queue the row (False: refused, the queue stayed full); True without a principal (no row)."""
        principal = state.get("principal")
        if principal is None:
            return True
        raw_query: bytes = scope.get("query_string", b"")
        query = strip_token(raw_query.decode("latin-1")) if raw_query else ""
        entry = AuditEntry(principal.name, principal.role, scope["method"], scope["path"], query or None, status,
                           list(state.get("golden_ids") or ()))
        if _debug_enabled():
            log.debug("gateway.request", client=principal.name, role=principal.role, method=scope["method"],
                      path=scope["path"], status=status)
        writer = self.writer()
        if writer.offer(entry):
            return True
        return bool(await anyio.to_thread.run_sync(writer.submit, entry))


_stdlib_log = logging.getLogger(__name__)


def _debug_enabled() -> bool:  # skip building the debug event when it would be dropped (the usual case)
    return _stdlib_log.isEnabledFor(logging.DEBUG)


async def _refuse(send: Send) -> None:
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"retry-after", b"1"),
                            (b"content-length", str(len(_REFUSED_BODY)).encode())]})
    await send({"type": "http.response.body", "body": _REFUSED_BODY, "more_body": False})
