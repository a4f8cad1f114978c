"""The Confluent-compatible schema registry REST API over a ``SchemaStore``, and a way to serve it in a thread.

Same paths, bodies, status codes and ``error_code`` values as Confluent's registry, so its clients
(confluent-kafka's ``SchemaRegistryClient``, Kafka Connect converters, kcat, the UI tools) work unchanged.
AVRO only: another ``schemaType`` or schema references are refused with 42201.
Handlers are plain functions: FastAPI runs them in worker threads, and the store's lock serializes them.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.kafka.clients import KafkaSettings
from hub.registry.leader import ForwardWrites, Leadership
from hub.registry.store import (
    RegistryError,
    SchemaStore,
    SchemaVersion,
    invalid_schema,
    parse_version,
    schema_not_found,
)
from hub.web.guard import GuardSpec, install_guard
from hub.web.settings import TlsSettings
from schemas.errors import CrmhubError, FatalError

MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"


class RegistryJSONResponse(JSONResponse):
    media_type = MEDIA_TYPE


def _error(status: int, code: int, message: str) -> RegistryJSONResponse:
    return RegistryJSONResponse({"error_code": code, "message": message}, status_code=status)


async def _body(request: Request) -> dict[str, Any]:
    """The JSON object body, whatever JSON-ish content type the client declared."""
    raw = await request.body()
    try:
        data = json.loads(raw) if raw else {}
    except ValueError as exc:
        raise RegistryError(400, 400, f"Malformed JSON body: {exc}") from exc
    if not isinstance(data, dict):
        raise RegistryError(400, 400, "The request body must be a JSON object")
    return data


def _schema_text(body: dict[str, Any]) -> str:
    schema_type = body.get("schemaType") or "AVRO"
    if schema_type != "AVRO":
        raise invalid_schema(f"Invalid schema: schemaType {schema_type} is not supported (crmhub serves AVRO)")
    if body.get("references"):
        raise invalid_schema("Invalid schema: schema references are not supported by crmhub's registry")
    schema = body.get("schema")
    if not isinstance(schema, str):
        raise invalid_schema("Invalid schema: the body needs a \"schema\" string")
    return schema


def _schema_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise schema_not_found(text) from None


def _version_json(rec: SchemaVersion) -> dict[str, Any]:
    return {"subject": rec.subject, "version": rec.version, "id": rec.schema_id, "schema": rec.schema}


def _raw_schema(text: str) -> Response:
    return Response(content=text, media_type=MEDIA_TYPE)


def _compat_json(messages: list[str], verbose: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"is_compatible": not messages}
    if verbose:
        out["messages"] = messages
    return out


def _subject_routes(store: SchemaStore) -> APIRouter:
    r = APIRouter()

    @r.get("/subjects")
    def subjects(deleted: bool = False) -> list[str]:
        return store.subjects(deleted=deleted)

    @r.get("/subjects/{subject}/versions")
    def versions(subject: str, deleted: bool = False) -> list[int]:
        return store.versions(subject, deleted=deleted)

    @r.get("/subjects/{subject}/versions/{version}")
    def version(subject: str, version: str, deleted: bool = False) -> dict[str, Any]:
        return _version_json(store.get_version(subject, parse_version(version), deleted=deleted))

    @r.get("/subjects/{subject}/versions/{version}/schema")
    def version_schema(subject: str, version: str, deleted: bool = False) -> Response:
        return _raw_schema(store.get_version(subject, parse_version(version), deleted=deleted).schema)

    @r.post("/subjects/{subject}/versions")
    def register(subject: str, body: dict[str, Any] = Depends(_body)) -> dict[str, Any]:
        return {"id": store.register(subject, _schema_text(body)).schema_id}

    @r.post("/subjects/{subject}")
    def lookup(subject: str, body: dict[str, Any] = Depends(_body), deleted: bool = False) -> dict[str, Any]:
        return _version_json(store.lookup(subject, _schema_text(body), deleted=deleted))

    @r.delete("/subjects/{subject}")
    def delete_subject(subject: str, permanent: bool = False) -> list[int]:
        return store.delete_subject(subject, permanent=permanent)

    @r.delete("/subjects/{subject}/versions/{version}")
    def delete_version(subject: str, version: str, permanent: bool = False) -> int:
        return store.delete_version(subject, parse_version(version), permanent=permanent)

    return r


def _schema_routes(store: SchemaStore) -> APIRouter:
    r = APIRouter()

    @r.get("/schemas/types")
    def types() -> list[str]:
        return ["AVRO"]

    @r.get("/schemas/ids/{schema_id}")
    def by_id(schema_id: str) -> dict[str, Any]:
        return {"schema": store.get_schema(_schema_id(schema_id))}

    @r.get("/schemas/ids/{schema_id}/schema")
    def raw_by_id(schema_id: str) -> Response:
        return _raw_schema(store.get_schema(_schema_id(schema_id)))

    @r.get("/schemas/ids/{schema_id}/versions")
    def id_versions(schema_id: str, deleted: bool = False) -> list[dict[str, Any]]:
        return [{"subject": s, "version": v} for s, v in store.usages(_schema_id(schema_id), deleted=deleted)]

    @r.get("/schemas/ids/{schema_id}/subjects")
    def id_subjects(schema_id: str, deleted: bool = False) -> list[str]:
        return sorted({s for s, _ in store.usages(_schema_id(schema_id), deleted=deleted)})

    @r.post("/compatibility/subjects/{subject}/versions/{version}")
    def compatible_with(subject: str, version: str, body: dict[str, Any] = Depends(_body),
                        verbose: bool = False) -> dict[str, Any]:
        number = parse_version(version)
        return _compat_json(store.check(subject, _schema_text(body), number), verbose)

    @r.post("/compatibility/subjects/{subject}/versions")
    def compatible_with_all(subject: str, body: dict[str, Any] = Depends(_body),
                            verbose: bool = False) -> dict[str, Any]:
        return _compat_json(store.check(subject, _schema_text(body), None, against_all=True), verbose)

    return r


def _level(body: dict[str, Any]) -> str:
    level = body.get("compatibility", body.get("compatibilityLevel"))
    return level if isinstance(level, str) else ""


def _config_routes(store: SchemaStore) -> APIRouter:
    r = APIRouter()

    @r.get("/config")
    def get_global() -> dict[str, Any]:
        return {"compatibilityLevel": store.get_config()}

    @r.put("/config")
    def put_global(body: dict[str, Any] = Depends(_body)) -> dict[str, Any]:
        return {"compatibility": store.set_config(_level(body))}

    @r.delete("/config")
    def delete_global() -> dict[str, Any]:
        return {"compatibilityLevel": store.delete_config()}

    @r.get("/config/{subject}")
    def get_subject(subject: str, default_to_global: bool = Query(False, alias="defaultToGlobal")
                    ) -> dict[str, Any]:
        return {"compatibilityLevel": store.get_config(subject, default_to_global=default_to_global)}

    @r.put("/config/{subject}")
    def put_subject(subject: str, body: dict[str, Any] = Depends(_body)) -> dict[str, Any]:
        return {"compatibility": store.set_config(_level(body), subject)}

    @r.delete("/config/{subject}")
    def delete_subject(subject: str) -> dict[str, Any]:
        return {"compatibilityLevel": store.delete_config(subject)}

    return r


def _install_error_handlers(app: FastAPI) -> None:
    async def registry_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RegistryError)
        return _error(exc.http_status, exc.error_code, exc.message)

    async def http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return _error(exc.status_code, exc.status_code, f"HTTP {exc.status_code} {exc.detail}")

    async def validation_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return _error(422, 422, f"Unprocessable request: {problems}")

    async def backend_error(_: Request, exc: Exception) -> Response:
        return _error(500, 50001, f"Error in the backend data store: {exc}")

    app.add_exception_handler(RegistryError, registry_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(CrmhubError, backend_error)


def create_app(store: SchemaStore, guard: GuardSpec | None = None, leadership: Leadership | None = None) -> FastAPI:
    """The REST app over a started ``store`` behind ``guard`` (``hub/gateway/guards.py`` builds the hub's from
    its config: tokens, roles, audit; None: the request checks of ``hub/web/guard.py`` without tokens)."""
    app = FastAPIOffline(title="crmhub schema registry", version="1", default_response_class=RegistryJSONResponse)

    @app.get("/")
    def root() -> dict[str, Any]:
        return {}

    for router in (_subject_routes(store), _schema_routes(store), _config_routes(store)):
        app.include_router(router)
    _install_error_handlers(app)
    if leadership is not None:  # one of several registries: changes go to the elected leader
        app.add_middleware(ForwardWrites, leadership=leadership)
    install_guard(app, guard)
    return app


@dataclass
class ServerHandle:
    """A uvicorn server running in a daemon thread; ``stop`` also runs the app's ``state.on_stop`` callables
    (what its guard opened: the audit writer and its store)."""

    server: uvicorn.Server
    thread: threading.Thread
    host: str
    port: int
    app: Any = None
    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        for close in getattr(getattr(self.app, "state", None), "on_stop", ()):
            close()


UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def route_uvicorn_logs() -> None:
    """uvicorn's loggers keep no handler of their own and pass their records to the root logger, whose handler
    (``hub/logsetup.py``) masks secrets, tracebacks included."""
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0, *, timeout: float = 15.0,
                    tls: TlsSettings | None = None) -> ServerHandle:
    """Start ``app`` with uvicorn in a thread; return once it accepts connections (port 0 = pick one). With
    ``tls`` it serves HTTPS only (and asks for client certificates when ``tls.client_ca_file`` is set)."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off",
                            log_config=None, **_tls_options(tls))
    route_uvicorn_logs()
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise FatalError(f"the HTTP server on {host}:{port} did not start (port in use?)")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise FatalError(f"the HTTP server on {host}:{port} did not start within {timeout:.0f} s")
        time.sleep(0.02)
    bound = port or int(server.servers[0].sockets[0].getsockname()[1])
    return ServerHandle(server, thread, host, bound, app, "https" if tls is not None else "http")


def _tls_options(tls: TlsSettings | None) -> dict[str, Any]:
    if tls is None:
        return {}
    options: dict[str, Any] = {"ssl_certfile": str(tls.cert_file), "ssl_keyfile": str(tls.key_file)}
    if tls.key_password is not None:
        options["ssl_keyfile_password"] = tls.key_password.get_secret_value()
    if tls.client_ca_file is not None:
        options.update(ssl_ca_certs=str(tls.client_ca_file), ssl_cert_reqs=ssl.CERT_REQUIRED)
    return options


@dataclass
class RegistryService:
    """A started store served over HTTP; ``stop`` ends both."""

    store: SchemaStore
    http: ServerHandle
    leadership: Leadership | None = None

    @property
    def url(self) -> str:
        return self.http.url

    def stop(self) -> None:
        if self.leadership is not None:
            self.leadership.stop()
        self.http.stop()
        self.store.close()


def run_registry(settings: KafkaSettings, topic: str = "_schemas", host: str = "127.0.0.1",
                 port: int = 8081, guard: GuardSpec | None = None) -> RegistryService:
    """Load the registry from ``topic`` and serve it behind ``guard`` (the leader process does this; see
    store.py)."""
    store = SchemaStore.on_kafka(settings, topic)
    store.start()
    try:
        return RegistryService(store, serve_in_thread(create_app(store, guard), host, port))
    except Exception:
        store.close()
        raise
