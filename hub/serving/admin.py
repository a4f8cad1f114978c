"""The hub's admin API for connectors, in the style of Kafka Connect's REST API.

GET /connectors, GET /connectors/{name}/status, PUT .../pause, PUT .../resume, POST .../restart,
POST .../snapshot, DELETE .../offsets (reset: snapshot again from scratch), GET .../offsets.
Ops: GET /lag (every watched consumer group, its partitions and statuses), GET /lag/alerts (open alerts and
the recent history), GET /metrics (Prometheus: the default registry, merged with the demo's stage processes
when it has them).

The hub serves it behind the gateway's tokens and roles (``hub/gateway/guards.py``): reads need the ``ops``
group, every change the ``manage`` group, and every call is audited.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from hub.metrics import merged_exposition
from hub.web.guard import GuardSpec, install_guard

if TYPE_CHECKING:
    from hub.lag.collector import LagCollector
    from hub.runtime.runner import ConnectorRunner


class AdminTarget(Protocol):
    """What the admin API serves: the hub's connector runners, its roles and its lag monitor (the hub passes
    itself; the admin API does not import the hub that creates it)."""

    @property
    def runners(self) -> Mapping[str, ConnectorRunner]: ...

    @property
    def roles(self) -> Collection[str]: ...

    @property
    def lag(self) -> LagCollector | None: ...

    def cluster_status(self) -> dict[str, object] | None: ...

    def runner(self, name: str) -> ConnectorRunner: ...


def runner_status(runner: ConnectorRunner) -> dict[str, Any]:
    st = runner.status
    body = dataclasses.asdict(st)
    body["state"] = st.state.value
    return {"name": runner.name, "connector": {"state": st.state.value, "trace": st.last_error}, **body}


def create_admin_app(hub: AdminTarget, guard: GuardSpec | None = None) -> FastAPI:
    """The admin API over ``hub`` behind ``guard`` (``hub/gateway/guards.py`` builds the hub's from its config:
    tokens, roles, audit; None: the request checks of ``hub/web/guard.py`` without tokens)."""
    app = FastAPIOffline(title="crmhub admin API", version="1")
    install_guard(app, guard)

    def find(name: str) -> ConnectorRunner:
        try:
            return hub.runner(name)
        except KeyError as exc:
            raise HTTPException(404, {"error_code": 404, "message": str(exc).strip("'\"")}) from None

    @app.get("/")
    def root() -> dict[str, Any]:
        return {"service": "crmhub", "roles": sorted(hub.roles)}

    @app.get("/cluster")
    def cluster() -> dict[str, Any]:
        """This worker's membership of its ``cluster.group`` and the connectors the group gave it."""
        return hub.cluster_status() or {"group": None, "connectors": sorted(hub.runners)}

    @app.get("/connectors", response_model=None)
    def connectors(expand: str | None = None) -> Any:
        if expand == "status":
            return {name: {"status": runner_status(r)} for name, r in hub.runners.items()}
        return sorted(hub.runners)

    @app.get("/connectors/{name}/status")
    def status(name: str) -> dict[str, Any]:
        return runner_status(find(name))

    @app.put("/connectors/{name}/pause", status_code=202)
    def pause(name: str) -> dict[str, Any]:
        find(name).pause()
        return runner_status(find(name))

    @app.put("/connectors/{name}/resume", status_code=202)
    def resume(name: str) -> dict[str, Any]:
        find(name).resume()
        return runner_status(find(name))

    def act(name: str, action: str) -> JSONResponse:
        runner = find(name)
        runner.request(action)
        return JSONResponse({"name": name, "requested": action}, status_code=202)

    @app.post("/connectors/{name}/restart")
    def restart(name: str) -> JSONResponse:
        return act(name, "restart")

    @app.post("/connectors/{name}/snapshot")
    def snapshot(name: str) -> JSONResponse:
        return act(name, "snapshot")

    @app.delete("/connectors/{name}/offsets")
    def reset(name: str) -> JSONResponse:
        return act(name, "reset")

    @app.get("/connectors/{name}/offsets")
    def offsets(name: str) -> dict[str, Any]:
        runner = find(name)
        return {"name": name, "offsets": runner.offsets.load(name)}

    @app.get("/lag")
    def lag() -> dict[str, Any]:
        collector = hub.lag
        if collector is None:
            raise HTTPException(404, {"error_code": 404, "message": "the lag monitor is off (lag.enabled)"})
        snapshot = collector.snapshot
        return snapshot.as_dict() if snapshot is not None else {"ts": None, "groups": []}

    @app.get("/lag/alerts")
    def lag_alerts() -> dict[str, Any]:
        collector = hub.lag
        if collector is None:
            raise HTTPException(404, {"error_code": 404, "message": "the lag monitor is off (lag.enabled)"})
        return {"open": [a.as_dict() for a in collector.alerts.open_alerts()],
                "history": [a.as_dict() for a in collector.alerts.history()]}

    @app.get("/metrics")
    def metrics() -> Response:
        stages = getattr(hub, "stages", None)  # the demo's stages in processes of their own: their series too
        body = generate_latest() if stages is None else merged_exposition(REGISTRY, stages.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return app
