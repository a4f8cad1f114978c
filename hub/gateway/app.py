"""The HTTP gateway: REST look-ups over the golden-record store for CRM front ends (OpenAPI at ``/docs``).

=========================================== ========== =========================================================
endpoint                                    group      answer
=========================================== ========== =========================================================
GET /health                                 (no auth)  ``{"status": "ok"}``
GET /asyncapi.json                          (no auth)  the AsyncAPI 3.0 document of the topics crmhub writes
GET /customers/{id}                         customers  the golden record: data, lineage, members, status, version
GET /customers/by-source/{source}/{key}     customers  the golden record holding that source record
GET /customers?name=&phone=&email=&limit=   search     ranked hits (see ``search.py`` for what matches)
GET /customers/{id}/history?limit=          history    changes, newest first
GET /customers/{id}/orders?open=true        orders     orders of every member source record
GET /customers/{id}/alerts?limit=           alerts     alerts of the record
GET /inventory/{item}?warehouse=            inventory  stock per warehouse
GET /alerts?golden_id=&agent=&limit=        alerts     alerts, newest first
GET /audit?limit=&token=                    audit      the audit log, newest first (admin)
=========================================== ========== =========================================================

``console.py`` adds what the agent console needs: ``/whoami``, a record's cases, its orders and cases as a live
stream and acknowledging an alert (alert reads carry ``acknowledged``).

A merged golden id answers with the record it was merged into (``golden_id`` = the survivor) and says so:
``merged_from`` holds the id asked for and the ``Content-Location`` header names the survivor's URL. The
sub-resources (history, orders, alerts) follow a merge the same way. Unknown ids: 404; bad parameters: 422;
errors are ``{"error": ..., "message": ...}``. Field policies of the caller's role apply to every answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any

import anyio
import structlog
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy import Connection, text
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.config import HubConfig
from hub.gateway.asyncapi import build_asyncapi
from hub.gateway.audit import AuditMiddleware, read_audit
from hub.gateway.audit_writer import AuditWriter
from hub.gateway.auth import GatewayContext, Principal, gateway_context, record_golden_ids, require
from hub.gateway.console import console_router
from hub.gateway.guards import gateway_access
from hub.gateway.reads import StoreReads
from hub.gateway.search import search
from hub.gateway.tokens import TokenRegistry
from hub.gateway.ui import mount_pages
from hub.pipeline_setup import open_store, pipelines_conf
from hub.registry.server import ServerHandle, serve_in_thread
from hub.web.guard import install_guard
from pipelines.store import views
from pipelines.store.acks import with_acks
from pipelines.store.engine import Store

log = structlog.get_logger(__name__)

GoldenId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,40}$", description="a golden id (G000000042)")]
Limit = Annotated[int, Query(ge=1, le=1000)]


def _golden_body(row: views.GoldenRow, principal: Principal, asked: str) -> dict[str, Any]:
    policy = principal.policy
    return {"golden_id": row.golden_id, "merged_from": asked if asked != row.golden_id else None,
            "status": row.status, "version": row.version, "created_ms": row.created_ms,
            "updated_ms": row.updated_ms, "data": policy.data(row.data), "lineage": policy.lineage(row.lineage),
            "members": row.members}


def _resolve(conn: Connection, golden_id: str) -> views.GoldenRow:
    row = views.resolve_golden_id(conn, golden_id)
    if row is None:
        raise HTTPException(404, f"no golden record '{golden_id}'")
    return row


def _located(response: Response, row: views.GoldenRow, asked: str, suffix: str = "") -> None:
    if row.golden_id != asked:
        response.headers["Content-Location"] = f"/customers/{row.golden_id}{suffix}"


def _member_refs(row: views.GoldenRow) -> list[tuple[str, str]]:
    return [(str(m["source"]), str(m["source_key"])) for m in row.members]


def customer_router() -> APIRouter:
    router = APIRouter()

    @router.get("/customers/by-source/{source}/{source_key:path}", tags=["customers"])
    async def by_source(source: str, source_key: str, request: Request, response: Response,
                        principal: Principal = Depends(require("customers"))) -> dict[str, Any]:
        """The golden record a source record (``source`` + its key there) belongs to."""

        def find(conn: Connection) -> views.GoldenRow:
            gid = views.golden_of_refs(conn, [(source, source_key)]).get((source, source_key))
            if gid is None:
                raise HTTPException(404, f"no source record '{source}/{source_key}'")
            return _resolve(conn, gid)

        row = await gateway_context(request).lookup(find)
        record_golden_ids(request, [row.golden_id])
        response.headers["Content-Location"] = f"/customers/{row.golden_id}"
        return _golden_body(row, principal, row.golden_id)

    @router.get("/customers", tags=["search"])
    def find(request: Request,
             name: Annotated[str | None, Query(max_length=200, description="full name, either order")] = None,
             phone: Annotated[str | None, Query(max_length=50, description="any format")] = None,
             email: Annotated[str | None, Query(max_length=254, description="any case")] = None,
             limit: Annotated[int, Query(ge=1, le=100)] = 20,
             principal: Principal = Depends(require("search"))) -> dict[str, Any]:
        """Search by full name, phone and/or e-mail through the matcher's blocking index, best match first."""
        if not (name or phone or email):
            raise HTTPException(422, "give at least one of name, phone, email")
        ctx = gateway_context(request)
        with ctx.read() as conn:
            try:
                hits = search(conn, name, phone, email, ctx.match, limit)
            except ValueError as exc:
                raise HTTPException(422, str(exc)) from None
        record_golden_ids(request, [h.golden_id for h in hits])
        return {"count": len(hits), "results": [
            {"score": h.score, "matched": h.matched, **_golden_body(h.record, principal, h.golden_id)}
            for h in hits]}

    @router.get("/customers/{golden_id}", tags=["customers"])
    async def customer(golden_id: GoldenId, request: Request, response: Response,
                       principal: Principal = Depends(require("customers"))) -> dict[str, Any]:
        """The golden record; a merged id answers with its survivor (``merged_from`` = the id asked for)."""
        row = await gateway_context(request).lookup(lambda conn: _resolve(conn, golden_id))
        record_golden_ids(request, [row.golden_id])
        _located(response, row, golden_id)
        return _golden_body(row, principal, golden_id)

    @router.get("/customers/{golden_id}/history", tags=["history"])
    def history(golden_id: GoldenId, request: Request, response: Response, limit: Limit = 100,
                principal: Principal = Depends(require("history"))) -> dict[str, Any]:
        """The record's changes (``customer.changes``), newest first; old/new values are JSON text."""
        with gateway_context(request).read() as conn:
            row = _resolve(conn, golden_id)
            changes = views.history(conn, row.golden_id, limit)
        record_golden_ids(request, [row.golden_id])
        _located(response, row, golden_id, "/history")
        return {"golden_id": row.golden_id, "merged_from": golden_id if golden_id != row.golden_id else None,
                "changes": [principal.policy.change(c) for c in changes]}

    @router.get("/customers/{golden_id}/orders", tags=["orders"])
    def orders(golden_id: GoldenId, request: Request, response: Response,
               open: Annotated[bool, Query(description="only open orders")] = True,
               principal: Principal = Depends(require("orders"))) -> dict[str, Any]:
        """Orders of every source record of the golden record."""
        with gateway_context(request).read() as conn:
            row = _resolve(conn, golden_id)
            found = views.orders_for(conn, _member_refs(row), only_open=open)
        record_golden_ids(request, [row.golden_id])
        _located(response, row, golden_id, "/orders")
        return {"golden_id": row.golden_id, "merged_from": golden_id if golden_id != row.golden_id else None,
                "orders": found}

    @router.get("/customers/{golden_id}/alerts", tags=["alerts"])
    def customer_alerts(golden_id: GoldenId, request: Request, response: Response, limit: Limit = 100,
                        principal: Principal = Depends(require("alerts"))) -> dict[str, Any]:
        """Alerts of the golden record (and of the id asked for, when it was merged), newest first."""
        with gateway_context(request).read() as conn:
            row = _resolve(conn, golden_id)
            found = with_acks(conn, views.alerts_for(conn, golden_ids=sorted({golden_id, row.golden_id}), limit=limit))
        record_golden_ids(request, [row.golden_id])
        _located(response, row, golden_id, "/alerts")
        return {"golden_id": row.golden_id, "alerts": [principal.policy.alert(a) for a in found]}

    return router


def other_router() -> APIRouter:
    router = APIRouter()

    @router.get("/inventory/{item}", tags=["inventory"])
    def inventory(item: Annotated[str, Path(max_length=100)], request: Request,
                  warehouse: Annotated[str | None, Query(max_length=100)] = None,
                  _: Principal = Depends(require("inventory"))) -> dict[str, Any]:
        """Stock of an item per warehouse (or in one warehouse)."""
        with gateway_context(request).read() as conn:
            rows = views.inventory_for(conn, [item])
        rows = [r for r in rows if warehouse is None or r["warehouse"] == warehouse]
        if not rows:
            where = f" in warehouse '{warehouse}'" if warehouse else ""
            raise HTTPException(404, f"no inventory for item '{item}'{where}")
        return {"item": item, "warehouses": rows}

    @router.get("/alerts", tags=["alerts"])
    def alerts(request: Request, golden_id: Annotated[str | None, Query(max_length=40)] = None,
               agent: Annotated[str | None, Query(max_length=100)] = None, limit: Limit = 100,
               principal: Principal = Depends(require("alerts"))) -> dict[str, Any]:
        """Alerts of a golden record and/or of an agent (either matches), newest first; neither: all."""
        with gateway_context(request).read() as conn:
            found = with_acks(conn, views.alerts_for(conn, golden_ids=[golden_id] if golden_id else (), agent=agent,
                                                     limit=limit))
        record_golden_ids(request, [str(a["golden_id"]) for a in found if a.get("golden_id")])
        return {"count": len(found), "alerts": [principal.policy.alert(a) for a in found]}

    @router.get("/audit", tags=["audit"])
    def audit(request: Request, limit: Limit = 100, token: Annotated[str | None, Query(max_length=100)] = None,
              _: Principal = Depends(require("audit"))) -> dict[str, Any]:
        """The audit log, newest first (optionally of one token name)."""
        ctx = gateway_context(request)
        if ctx.audit is not None and not ctx.audit.flush(timeout=5.0):
            log.warning("gateway.audit_flush_slow", pending=ctx.audit.pending)  # answer with what is written
        with ctx.read() as conn:
            rows = read_audit(conn, limit=limit, token_name=token)
        return {"count": len(rows), "entries": rows}

    return router


def _error(status: int, message: Any, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    name = HTTPStatus(status).phrase.lower().replace(" ", "_") if status in HTTPStatus._value2member_map_ else "error"
    return JSONResponse({"error": name, "message": message, **extra}, status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, exc.detail, dict(exc.headers) if exc.headers else None)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return _error(422, "; ".join(problems), problems=problems)


def create_gateway_app(cfg: HubConfig, store: Store, extra_routers: Iterable[APIRouter] = (), *,
                       audit: AuditWriter | None = None) -> FastAPI:
    """The gateway app over ``store``; ``extra_routers`` (live stream, webhooks) are mounted with the same auth
    (their routes use ``require(group)``) and the same audit log. The app's lifespan ends with
    :func:`close_gateway_app` (writes the queued audit rows); call it where the server runs without one.
    ``audit``: the audit writer to use (default: one over ``store`` with the defaults of ``audit_writer.py``)."""
    conf = pipelines_conf(cfg)
    audit = AuditWriter(store) if audit is None else audit
    reads = StoreReads(store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await anyio.to_thread.run_sync(close_gateway_app, app)

    app = FastAPIOffline(title="crmhub gateway", version="1", lifespan=lifespan,
                  description="Golden customer records for CRM front ends. Authorization: Bearer <token>.")
    tokens = TokenRegistry(cfg.gateway.tokens_file)
    app.state.gateway = GatewayContext(store, tokens, cfg.gateway.effective_roles(), conf.unify.match, audit, reads)
    app.state.audit = audit
    _install_error_handlers(app)
    app.add_middleware(AuditMiddleware, writer=lambda: audit)
    install_guard(app, gateway_access(cfg, tokens, audit))  # outermost: before the audit row and any route

    @app.get("/health", tags=["health"])
    def health() -> dict[str, Any]:
        """Liveness and store reachability (no token needed)."""
        with store.read() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    built: list[dict[str, Any]] = []  # the document, built on the first request

    @app.get("/asyncapi.json", tags=["docs"], summary="AsyncAPI document of the topics")
    def asyncapi() -> dict[str, Any]:
        """The AsyncAPI 3.0 document of every topic crmhub writes for this config (no token needed, as for
        ``/openapi.json``); ``crmhub asyncapi -c FILE`` writes the same document."""
        if not built:
            built.append(build_asyncapi(cfg))
        return built[0]

    app.include_router(customer_router())
    app.include_router(other_router())
    app.include_router(console_router())
    for router in extra_routers:
        app.include_router(router)
    mount_pages(app)
    return app


def close_gateway_app(app: FastAPI) -> None:
    """Write the queued audit rows and close the read connections of a gateway app (idempotent)."""
    ctx: GatewayContext = app.state.gateway
    if ctx.audit is not None and not ctx.audit.close():
        log.error("gateway.audit_not_flushed", lost=ctx.audit.lost, pending=ctx.audit.pending)
    if ctx.reads is not None:
        ctx.reads.close()


@dataclass
class GatewayService:
    """The gateway served in a thread, with the store it opened."""

    http: ServerHandle
    store: Store
    app: FastAPI | None = None

    @property
    def url(self) -> str:
        return self.http.url

    def stop(self) -> None:
        self.http.stop()
        if self.app is not None:
            close_gateway_app(self.app)  # the server runs without lifespan events
        self.store.dispose()


def serve_gateway(cfg: HubConfig, extra_routers: Iterable[APIRouter] = (), *,
                  port: int | None = None) -> GatewayService:
    """Open the store of ``pipelines.store`` and serve the gateway on ``gateway.host``/``port``."""
    store = open_store(pipelines_conf(cfg))
    app = create_gateway_app(cfg, store, extra_routers)
    http = serve_in_thread(app, cfg.gateway.host, cfg.gateway.port if port is None else port,
                           tls=cfg.gateway.http.tls)
    return GatewayService(http, store, app)
