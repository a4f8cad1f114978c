"""Routes the agent console needs beside the REST look-ups of ``app.py``, under the same tokens, roles and audit:

=========================================== ========== =========================================================
endpoint                                    group      answer
=========================================== ========== =========================================================
GET /whoami                                 (any role) the token's name and role, its endpoint groups, the fields
                                                       its role sees masked or not at all
GET /customers/{id}/cases?open=&limit=      cases      service cases and tickets of every member source record,
                                                       open ones first, then newest first
GET /live?golden_id=&open=                  customers  Server-Sent Events: ``event: orders`` with the orders and,
                                                       for roles with ``inventory``, each line's stock per
                                                       warehouse; ``event: cases`` for roles with ``cases``;
                                                       each sent at once and again whenever it changed
POST /alerts/{alert_id}/ack                 alerts     acknowledge an alert in the token's name (the first
                                                       acknowledgement counts); alert reads carry
                                                       ``acknowledged``: ``{"by", "ts_ms"}`` or null
=========================================== ========== =========================================================

Orders, stock and cases come from their own source tables (``canon.order``, ``canon.inventory``,
``canon.case``), not from ``customer.changes``, so the live stream of ``/stream`` does not carry them. ``/live``
(which, like ``/stream``, also takes the token as ``?access_token=``, for a browser's EventSource) reads them
from the store every ``poll_s`` (a few primary-key and index reads) and sends an event only when its part of the
answer changed, plus a keep-alive comment every ``heartbeat_s``. One audit row covers the whole stream (the
golden id is resolved before the first byte; a merge later on is followed at each poll).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Connection

from hub.gateway.auth import GatewayContext, Principal, authenticate, gateway_context, record_golden_ids, require
from hub.gateway.stream import sse_frame
from pipelines.store import views
from pipelines.store.acks import acknowledge, alert_by_id
from pipelines.store.cases import cases_for

GoldenId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,40}$", description="a golden id (G000000042)")]
AlertId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,200}$", description="an alert's alert_id")]


def _resolve(conn: Connection, golden_id: str) -> views.GoldenRow:
    row = views.resolve_golden_id(conn, golden_id)
    if row is None:
        raise HTTPException(404, f"no golden record '{golden_id}'")
    return row


def _refs(row: views.GoldenRow) -> list[tuple[str, str]]:
    return [(str(m["source"]), str(m["source_key"])) for m in row.members]


def orders_with_stock(conn: Connection, row: views.GoldenRow, *, only_open: bool, stock: bool) -> list[dict[str, Any]]:
    """The orders of a golden record; with ``stock``, each order line's ``stock``: the item's warehouses."""
    found = views.orders_for(conn, _refs(row), only_open=only_open)
    found.sort(key=lambda o: (str(o["order_number"]), str(o["source"])))
    if stock:
        items = {str(line["item"]) for o in found for line in (o["data"] or {}).get("lines") or () if line.get("item")}
        by_item: dict[str, list[dict[str, Any]]] = {}
        for inv in views.inventory_for(conn, items):
            by_item.setdefault(str(inv["item"]), []).append(
                {"warehouse": inv["warehouse"], "available": (inv["data"] or {}).get("available"),
                 "on_hand": (inv["data"] or {}).get("on_hand"), "unit": (inv["data"] or {}).get("unit"),
                 "source": inv["source"], "source_key": inv["source_key"]})
        for o in found:
            for line in (o["data"] or {}).get("lines") or ():
                line["stock"] = by_item.get(str(line.get("item")), [])
    return found


def live_parts(conn: Connection, golden_id: str, groups: frozenset[str], *, only_open: bool) -> dict[str, Any]:
    """What ``/live`` sends, by event name, for a role with ``groups``: ``orders`` (with stock given
    ``inventory``), ``cases``."""
    row = _resolve(conn, golden_id)
    parts: dict[str, Any] = {}
    if "orders" in groups:
        parts["orders"] = {"golden_id": row.golden_id, "orders": orders_with_stock(
            conn, row, only_open=only_open, stock="inventory" in groups)}
    if "cases" in groups:
        parts["cases"] = {"golden_id": row.golden_id, "cases": cases_for(conn, _refs(row))}
    return parts


def console_router(*, poll_s: float = 1.0, heartbeat_s: float = 15.0) -> APIRouter:
    router = APIRouter()

    @router.get("/whoami", tags=["customers"])
    def whoami(principal: Principal = Depends(authenticate)) -> dict[str, Any]:
        """The calling token's name and role, the endpoint groups the role may call and its field policy."""
        return {"name": principal.name, "role": principal.role, "groups": sorted(principal.groups),
                "masked": sorted(principal.policy.masked), "hidden": sorted(principal.policy.hidden)}

    @router.get("/customers/{golden_id}/cases", tags=["cases"])
    def cases(golden_id: GoldenId, request: Request,
              open: Annotated[bool, Query(description="only open cases")] = False,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              principal: Principal = Depends(require("cases"))) -> dict[str, Any]:
        """Service cases and tickets of every source record of the golden record, open ones first."""
        with gateway_context(request).read() as conn:
            row = _resolve(conn, golden_id)
            found = cases_for(conn, _refs(row), only_open=open, limit=limit)
        record_golden_ids(request, [row.golden_id])
        return {"golden_id": row.golden_id, "merged_from": golden_id if golden_id != row.golden_id else None,
                "count": len(found), "cases": found}

    @router.post("/alerts/{alert_id}/ack", tags=["alerts"])
    def ack(alert_id: AlertId, request: Request, principal: Principal = Depends(require("alerts"))) -> dict[str, Any]:
        """Acknowledge an alert in the calling token's name; an alert acknowledged before keeps its first
        acknowledgement (answered as it is)."""
        ctx = gateway_context(request)
        with ctx.store.tx() as conn:
            alert = alert_by_id(conn, alert_id)
            if alert is None:
                raise HTTPException(404, f"no alert '{alert_id}'")
            done = acknowledge(conn, alert_id, principal.name, int(time.time() * 1000))
        record_golden_ids(request, [str(alert["golden_id"])] if alert.get("golden_id") else [])
        return {"alert_id": alert_id, "golden_id": alert.get("golden_id"), "acknowledged": done}

    @router.get("/live", tags=["customers"], response_class=StreamingResponse,
                responses={200: {"content": {"text/event-stream": {}},
                                 "description": "SSE frames: event: orders {golden_id, orders}, event: cases "
                                                "{golden_id, cases}"}})
    async def live(golden_id: Annotated[str, Query(pattern=r"^[A-Za-z0-9_-]{1,40}$",
                                                   description="a golden id (G000000042)")],
                   request: Request,
                   open: Annotated[bool, Query(description="only open orders")] = True,
                   principal: Principal = Depends(require("customers"))) -> StreamingResponse:
        """A record's orders (with stock for roles that may read inventory) and cases, as far as the role may read
        them, as Server-Sent Events: each at once, then again whenever it changed."""
        ctx = gateway_context(request)
        groups = principal.groups
        first = await ctx.lookup(lambda conn: live_parts(conn, golden_id, groups, only_open=open))
        record_golden_ids(request, [next((part["golden_id"] for part in first.values()), golden_id)])
        return StreamingResponse(_frames(request, ctx, golden_id, first, groups, open),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def _frames(request: Request, ctx: GatewayContext, golden_id: str, first: dict[str, Any],
                      groups: frozenset[str], only_open: bool) -> AsyncIterator[str]:
        parts = first
        sent: dict[str, str] = {}
        beat = time.monotonic() + heartbeat_s
        while True:
            for event, body in parts.items():
                text = json.dumps(body, sort_keys=True, default=str)
                if text != sent.get(event):
                    yield sse_frame(event=event, data=body)
                    sent[event] = text
                    beat = time.monotonic() + heartbeat_s
            if time.monotonic() >= beat:
                yield sse_frame(comment="keep-alive")
                beat = time.monotonic() + heartbeat_s
            await anyio.sleep(poll_s)
            if await request.is_disconnected():
                return
            try:
                parts = await ctx.lookup(lambda conn: live_parts(conn, golden_id, groups, only_open=only_open))
            except HTTPException as exc:  # the record was retired meanwhile
                yield sse_frame(event="error", data={"error": str(exc.detail)})
                return

    return router
