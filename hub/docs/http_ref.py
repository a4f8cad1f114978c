"""The HTTP reference, from the OpenAPI documents of crmhub's three HTTP APIs, each app built as the hub builds
it but over stand-ins (a temporary SQLite store, an empty hub, an empty schema log): no network, no Kafka.

Per API every path and method, sorted, with its summary and description, parameters, request body and
response codes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hub.config import HubConfig
from hub.docs.markdown import code, doc_text, escape, heading, page, table

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True, slots=True)
class Api:
    title: str
    served: str  # where and by what it is served
    auth: str
    openapi: dict[str, Any]


def gateway_openapi() -> dict[str, Any]:
    """The gateway with the routers the running hub mounts (live stream, webhooks, operations, dead letters)."""
    from hub.gateway.app import close_gateway_app, create_gateway_app
    from hub.gateway.wiring import gateway_extras
    from hub.runtime.ops_dlq import dead_letter_router
    from hub.wiring import kafka_settings
    from pipelines.store.engine import Store

    with tempfile.TemporaryDirectory() as tmp:
        cfg = HubConfig.model_validate({
            "gateway": {"tokens_file": f"{tmp}/tokens.yaml",
                        "webhooks": {"enabled": False, "subscriptions_file": f"{tmp}/webhooks.json"}},
            "pipelines": {"store": {"url": f"sqlite:///{tmp}/store.db"}}})
        hub = SimpleNamespace(cfg=cfg, registry=None, settings=kafka_settings(cfg), producer=lambda: None,
                              runners={}, workers=[])
        store = Store(f"sqlite:///{Path(tmp) / 'store.db'}")
        try:
            app = create_gateway_app(cfg, store, [*gateway_extras(hub).routers, dead_letter_router(hub)])
            try:
                return app.openapi()
            finally:
                close_gateway_app(app)
        finally:
            store.dispose()


class _NoHub:
    """The admin API's target with nothing running: enough to describe its routes."""

    runners: Mapping[str, Any] = {}
    roles: tuple[str, ...] = ()
    lag = None

    def runner(self, name: str) -> Any:
        raise KeyError(name)

    def cluster_status(self) -> dict[str, object] | None:
        return None


class _MemorySchemaLog:
    """The registry's schema log kept in memory: the registry app is built only to read its OpenAPI."""

    def __init__(self) -> None:
        self.records: list[tuple[bytes | None, bytes | None]] = []

    def load(self) -> list[tuple[bytes | None, bytes | None]]:
        return list(self.records)

    def append(self, key: bytes, value: bytes | None) -> None:
        self.records.append((key, value))

    def close(self) -> None:
        return None


def admin_openapi() -> dict[str, Any]:
    from hub.serving.admin import create_admin_app

    return create_admin_app(_NoHub()).openapi()


def registry_openapi() -> dict[str, Any]:
    from hub.registry.server import create_app
    from hub.registry.store import SchemaStore

    return create_app(SchemaStore(_MemorySchemaLog())).openapi()


def apis() -> list[Api]:
    builders: list[tuple[str, str, str, Callable[[], dict[str, Any]]]] = [
        ("Gateway", "`crmhub run` (role gateway, with pipelines) on `gateway.host`:`gateway.port` (default "
         "127.0.0.1:8080); interactive documentation at `/docs`, OpenAPI at `/openapi.json`.",
         "`Authorization: Bearer <token>` (`crmhub token create`); each endpoint belongs to a group that the "
         "token's role must allow (its tag; `gateway.roles`). `/health`, `/asyncapi.json`, `/openapi.json`, "
         "`/docs` and the pages under `/ui` need no token.", gateway_openapi),
        ("Admin API", "`crmhub run` (role admin) on `admin.host`:`admin.port` (default 127.0.0.1:8083); "
         "`crmhub connectors` talks to it.", "The gateway's tokens (`Authorization: Bearer <token>`): reads need "
         "a role with the `ops` group, every change the `manage` group (admin); `admin.auth: none` turns this off. "
         "`/docs` and `/openapi.json` need no token.", admin_openapi),
        ("Schema registry", "`crmhub run` (role registry) or `crmhub registry serve`, on `registry.serve.host`:"
         "`registry.serve.port` (default 127.0.0.1:8081), unless `registry.url` names an external registry. "
         "Confluent-compatible: Confluent's serializers and tools work against it.", "The gateway's tokens, as "
         "`Authorization: Bearer <token>` or HTTP basic (user: the token's name, password: the token; Confluent's "
         "`basic.auth.user.info`): reads (with look-ups and compatibility tests) need the `schemas` group, every "
         "change the `manage` group; `registry.serve.auth: none` turns this off. `/` needs no token.",
         registry_openapi),
    ]
    return [Api(title, served, auth, build()) for title, served, auth, build in builders]


def _ref_name(schema: Mapping[str, Any]) -> str:
    ref = schema.get("$ref")
    return str(ref).rsplit("/", 1)[-1] if isinstance(ref, str) else ""


def schema_text(schema: Mapping[str, Any]) -> str:
    """A parameter's or body's schema in a few words: type, bounds, pattern, enum."""
    if "$ref" in schema:
        return _ref_name(schema)
    if "anyOf" in schema:
        return " or ".join(schema_text(s) for s in schema["anyOf"] if s.get("type") != "null")
    kind = str(schema.get("type", "any"))
    if kind == "array":
        kind = f"list of {schema_text(schema.get('items', {}))}"
    extra = [f"{sign} {schema[key]}" for key, sign in (("minimum", "≥"), ("exclusiveMinimum", ">"),
                                                        ("maximum", "≤"), ("exclusiveMaximum", "<"))
             if key in schema]
    extra += [f"max length {schema['maxLength']}"] if "maxLength" in schema else []
    extra += [f"pattern {code(schema['pattern'])}"] if "pattern" in schema else []
    if "enum" in schema:
        kind = "one of " + ", ".join(code(v) for v in schema["enum"])
    return kind + (f" ({', '.join(extra)})" if extra else "")


def _parameters(operation: Mapping[str, Any]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for param in operation.get("parameters", []):
        schema = param.get("schema", {})
        default = code(schema["default"]) if "default" in schema and schema["default"] is not None else ""
        rows.append((code(param["name"]), param["in"], schema_text(schema), "yes" if param.get("required") else "",
                     default, " ".join(str(param.get("description", "")).split())))
    return rows


def _body(operation: Mapping[str, Any]) -> str:
    content = operation.get("requestBody", {}).get("content", {})
    return "; ".join(f"{code(media)}: {schema_text(spec.get('schema', {}))}" for media, spec in sorted(content.items()))


def operation_section(path: str, method: str, operation: Mapping[str, Any], depth: int) -> Iterator[str]:
    yield heading(depth, f"{method.upper()} {path}")
    yield ""
    tags = ", ".join(code(t) for t in operation.get("tags", []))
    yield f"**{escape(str(operation.get('summary', '')))}**" + (f" (tag {tags})" if tags else "")
    yield ""
    text = doc_text(operation.get("description"))
    if text:
        yield text
        yield ""
    params = _parameters(operation)
    if params:
        yield from table(("parameter", "in", "type", "required", "default", "description"), params)
        yield ""
    body = _body(operation)
    if body:
        yield f"Request body: {body}."
        yield ""
    responses = operation.get("responses", {})
    yield from table(("status", "meaning"), [(code(status), " ".join(str(r.get("description", "")).split()))
                                             for status, r in sorted(responses.items())])
    yield ""


def api_section(api: Api) -> Iterator[str]:
    info = api.openapi.get("info", {})
    yield f"## {api.title}"
    yield ""
    if info.get("description"):
        yield escape(" ".join(str(info["description"]).split()))
        yield ""
    yield f"Served by {api.served}"
    yield ""
    yield f"Authentication: {api.auth}"
    yield ""
    paths = api.openapi.get("paths", {})
    rows = [(code(m.upper()), code(p), str(ops[m].get("summary", ""))) for p, ops in sorted(paths.items())
            for m in METHODS if m in ops]
    yield from table(("method", "path", "summary"), rows)
    yield ""
    for path, ops in sorted(paths.items()):
        for method in METHODS:
            if method in ops:
                yield from operation_section(path, method, ops[method], 3)


INTRO = [
    "crmhub serves three HTTP APIs. Each section below is generated from the API's OpenAPI document; a running "
    "server also serves that document at `/openapi.json` and an interactive page at `/docs`. The gateway's "
    "errors are `{\"error\": ..., \"message\": ...}` (422 lists every problem in `problems`); the registry's are "
    "Confluent's `{\"error_code\": ..., \"message\": ...}`.",
]


def render() -> str:
    body = [line for api in apis() for line in api_section(api)]
    return page("HTTP API reference", INTRO, body)

