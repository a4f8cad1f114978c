"""Every state-changing route of every crmhub HTTP app, walked from the apps' own route tables (the gateway
with the routers the running hub mounts, the admin API, the schema registry): none answers a call without a
token, none a token whose role allows nothing, and none a cross-site form post or a request for a foreign Host,
whatever the token. A route added later is walked too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.config import HubConfig, validate_config_text
from hub.docs.http_ref import _MemorySchemaLog
from hub.gateway.app import close_gateway_app, create_gateway_app
from hub.gateway.guards import admin_guard, registry_guard
from hub.gateway.tokens import create_token
from hub.gateway.wiring import gateway_extras
from hub.registry.server import create_app
from hub.registry.store import SchemaStore
from hub.runtime.ops_dlq import dead_letter_router
from hub.serving.admin import create_admin_app
from hub.wiring import kafka_settings
from pipelines.store.engine import Store

STATE_CHANGING = ("post", "put", "patch", "delete")


class Runner:
    def __init__(self) -> None:
        self.requests: list[str] = []

    def request(self, action: str) -> None:
        self.requests.append(action)


@pytest.fixture
def cfg(tmp_path: Path) -> HubConfig:
    return validate_config_text(
        f"gateway: {{tokens_file: {tmp_path / 'tokens.yaml'}, roles: {{nobody: {{allow: []}}}},\n"
        f"          webhooks: {{enabled: false, subscriptions_file: {tmp_path / 'webhooks.json'}}}}}\n"
        f"pipelines: {{store: {{url: 'sqlite:///{tmp_path / 'store.db'}'}}}}\n")


@pytest.fixture
def tokens(cfg: HubConfig) -> dict[str, str]:
    known = set(cfg.gateway.effective_roles())
    return {role: create_token(cfg.gateway.tokens_file, f"{role}-app", role, known) for role in ("nobody", "admin")}


@pytest.fixture
def apps(cfg: HubConfig) -> Iterator[tuple[dict[str, TestClient], Runner]]:
    runner = Runner()
    hub: Any = SimpleNamespace(cfg=cfg, registry=None, settings=kafka_settings(cfg), producer=lambda: None,
                               runners={"ar": runner}, roles=frozenset({"admin"}), lag=None,
                               runner=lambda name: runner, cluster_status=lambda: None)
    store = Store(cfg.pipelines.store.url)  # type: ignore[union-attr]
    gateway = create_gateway_app(cfg, store, [*gateway_extras(hub).routers, dead_letter_router(hub)])
    admin_spec, registry_spec = admin_guard(cfg), registry_guard(cfg)
    schemas = SchemaStore(_MemorySchemaLog())
    schemas.start()
    clients = {"gateway": TestClient(gateway, base_url="http://127.0.0.1:8080"),
               "admin": TestClient(create_admin_app(hub, admin_spec), base_url="http://127.0.0.1:8083"),
               "registry": TestClient(create_app(schemas, registry_spec), base_url="http://127.0.0.1:8081")}
    try:
        yield clients, runner
    finally:
        close_gateway_app(gateway)
        for close in (*admin_spec.on_stop, *registry_spec.on_stop):
            close()
        store.dispose()


def state_changing(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path with every parameter filled) of each state-changing operation the app describes."""
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return [(method.upper(), re.sub(r"\{[^}]+\}", "x1", path))
            for path, operations in paths.items() for method in operations if method in STATE_CHANGING]


def bearer(token: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **more}


JSON = {"Content-Type": "application/json"}


def test_the_walk_finds_the_routes_that_change_state(apps: tuple[dict[str, TestClient], Runner]) -> None:
    clients, _ = apps
    found = {name: state_changing(client.app) for name, client in clients.items()}  # type: ignore[arg-type]
    assert ("PUT", "/connectors/x1/pause") in found["admin"]
    assert ("POST", "/subjects/x1/versions") in found["registry"]
    assert ("POST", "/webhooks") in found["gateway"] and ("POST", "/ops/dead-letters/resend") in found["gateway"]
    assert sum(len(routes) for routes in found.values()) >= 20


def test_no_route_changes_state_without_a_token_allowed_to(apps: tuple[dict[str, TestClient], Runner],
                                                            tokens: dict[str, str]) -> None:
    clients, runner = apps
    for name, client in clients.items():
        for method, path in state_changing(client.app):  # type: ignore[arg-type]
            where = f"{name} {method} {path}"
            anonymous = client.request(method, path, headers=JSON, content=b"{}")
            assert anonymous.status_code == 401, where
            nobody = client.request(method, path, headers=bearer(tokens["nobody"], **JSON), content=b"{}")
            assert nobody.status_code == 403, where
    assert runner.requests == []


def test_no_route_takes_a_cross_site_form_post_or_a_foreign_host(apps: tuple[dict[str, TestClient], Runner],
                                                                 tokens: dict[str, str]) -> None:
    clients, runner = apps
    admin = tokens["admin"]
    for name, client in clients.items():
        for method, path in state_changing(client.app):  # type: ignore[arg-type]
            where = f"{name} {method} {path}"
            form = client.request(method, path, content=b"{}", headers=bearer(
                admin, **{"Content-Type": "text/plain", "Origin": "http://evil.example"}))
            assert form.status_code in (403, 415), where
            foreign = client.request(method, path, content=b"{}", headers=bearer(
                admin, **JSON, Host="attacker.example"))
            assert foreign.status_code in (400, 421), where
    assert runner.requests == []
