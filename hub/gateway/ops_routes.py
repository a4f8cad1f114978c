"""The dashboard's routes beside ``GET /ops/summary``, each behind the gateway's tokens and roles (and so in its
audit log):

====================================================== ======== =================================================
route                                                  group    what
====================================================== ======== =================================================
``GET /ops/history?window=5m|1h``                      ops      time series from the in-memory history
``PUT /ops/connectors/{name}/pause`` · ``resume``      manage   as the admin API's routes of the same name
``POST /ops/connectors/{name}/restart`` · ``snapshot`` manage   as the admin API's routes of the same name
``GET /ops/topics``                                    ops      topics, partitions, first and end offsets
``GET /ops/topics/{topic}/messages``                   ops      messages by offset or key, decoded (bounded)
``GET /ops/schemas``                                   ops      the registry's subjects and their versions
``GET /ops/schemas/{subject}/versions/{version}``      ops      one version's schema
``GET /ops/schemas/{subject}/diff?from=&to=``          ops      two versions compared, field by field
====================================================== ======== =================================================
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import JSONResponse

from hub.gateway.auth import Principal, require
from hub.gateway.ops_browse import (
    MAX_MESSAGES,
    decode_payload,
    read_messages,
    schema_diff,
    topic_list,
)
from hub.gateway.ops_history import OpsHistory
from hub.kafka.clients import KafkaSettings
from hub.registry.client import RegistryRequestError
from hub.registry.serde import AvroSerde

TopicName = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,249}$")]


def _runner(hub: Any, name: str) -> Any:
    try:
        return hub.runner(name)
    except KeyError as exc:
        raise HTTPException(404, str(exc).strip("'\"")) from None


def _status(runner: Any) -> dict[str, Any]:
    st = runner.status
    return {"name": runner.name, "state": st.state.value, "source_lag": dict(st.source_lag)}


def _registry_call(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except RegistryRequestError as exc:
        raise HTTPException(exc.http_status if exc.http_status in (404, 422) else 502, exc.message) from None


def ops_routes(hub: Any, settings: KafkaSettings, serde: AvroSerde, history: OpsHistory) -> APIRouter:
    """The routes over ``hub`` (a running Hub: ``runner(name)`` for the connector actions)."""
    router = APIRouter(tags=["ops"])
    ops, manage = Depends(require("ops")), Depends(require("manage"))

    @router.get("/ops/history")
    def ops_history(window: Literal["5m", "1h"] = "5m", _: Principal = ops) -> dict[str, Any]:
        """Events/s, golden changes/s, freshness p50/p99 per source and lag per group over the window."""
        return history.series(window)

    @router.put("/ops/connectors/{name}/pause", status_code=202)
    def pause(name: str, _: Principal = manage) -> dict[str, Any]:
        """Pause a connector (its position saved): as the admin API's ``PUT /connectors/{name}/pause``."""
        runner = _runner(hub, name)
        runner.pause()
        return _status(runner)

    @router.put("/ops/connectors/{name}/resume", status_code=202)
    def resume(name: str, _: Principal = manage) -> dict[str, Any]:
        runner = _runner(hub, name)
        runner.resume()
        return _status(runner)

    @router.post("/ops/connectors/{name}/{action}")
    def act(name: str, action: Literal["restart", "snapshot"], _: Principal = manage) -> JSONResponse:
        """Restart from the saved position, or snapshot again then stream (as the admin API)."""
        _runner(hub, name).request(action)
        return JSONResponse({"name": name, "requested": action}, status_code=202)

    @router.get("/ops/topics")
    def topics(_: Principal = ops) -> dict[str, Any]:
        return {"topics": topic_list(settings)}

    def decode(data: bytes | None) -> dict[str, Any]:
        return decode_payload(data, serde.deserialize)

    @router.get("/ops/topics/{topic}/messages")
    def messages(topic: TopicName, partition: Annotated[int | None, Query(ge=0)] = None,
                 offset: Annotated[int | None, Query(ge=0)] = None,
                 key: Annotated[str | None, Query(max_length=500)] = None,
                 limit: Annotated[int, Query(ge=1, le=MAX_MESSAGES)] = 10, _: Principal = ops) -> dict[str, Any]:
        """Up to ``limit`` messages from ``offset`` of ``partition`` (default: the newest), or the newest with
        ``key`` (among the newest 2,000 of each partition); keys and values decoded (Avro through the registry)."""
        found = read_messages(settings, topic, partition=partition, offset=offset, key=key or None,
                              decode_key=decode, limit=limit)
        return {"topic": topic, "messages": [
            {"partition": m.partition, "offset": m.offset, "timestamp_ms": m.timestamp_ms, "key": decode(m.key),
             "value": decode(m.value),
             "headers": {k: (v or b"").decode("utf-8", "replace") for k, v in m.headers}} for m in found]}

    reg = serde.client

    @router.get("/ops/schemas")
    def subjects(_: Principal = ops) -> dict[str, Any]:
        names = _registry_call(reg.subjects)
        return {"subjects": [{"subject": s, "versions": _registry_call(reg.versions, s)} for s in sorted(names)]}

    @router.get("/ops/schemas/{subject}/versions/{version}")
    def version(subject: str, version: int, _: Principal = ops) -> dict[str, Any]:
        got = _registry_call(reg.get_version, subject, version)
        return {"subject": subject, "version": got.version, "id": got.schema_id, "schema": json.loads(got.schema)}

    @router.get("/ops/schemas/{subject}/diff")
    def diff(subject: str, old: Annotated[int, Query(alias="from", ge=1)],
             new: Annotated[int, Query(alias="to", ge=1)], _: Principal = ops) -> dict[str, Any]:
        """Field changes from version ``from`` to ``to`` (added, removed, changed type or default) and the
        unified diff of both schemas."""
        a, b = _registry_call(reg.get_version, subject, old), _registry_call(reg.get_version, subject, new)
        changes, lines = schema_diff(json.loads(a.schema), json.loads(b.schema))
        return {"subject": subject, "from": old, "to": new,
                "changes": [{"path": c.path, "change": c.change, "old": c.old, "new": c.new} for c in changes],
                "lines": lines}

    return router
