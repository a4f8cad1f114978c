"""The admin API and the registry behind the gateway's tokens and roles, and the request checks every crmhub
server runs first (Host, Origin, content type, body size, JSON depth, security headers), through the apps the hub
builds from its config."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.cli import commands as cli_commands  # noqa: F401  (registers the commands, as `crmhub` does)
from hub.config import HubConfig, validate_config_text
from hub.docs.http_ref import _MemorySchemaLog
from hub.gateway.audit import read_audit
from hub.gateway.guards import (
    admin_guard,
    exposure_warnings,
    registry_credentials,
    registry_group,
    registry_guard,
    service_token,
)
from hub.gateway.tokens import create_token
from hub.logsetup import configure_logging
from hub.registry.server import create_app, serve_in_thread
from hub.registry.store import SchemaStore
from hub.serving.admin import create_admin_app
from hub.web.access import Access, credentials_of
from hub.web.guard import GuardSpec, host_name, json_depth
from pipelines.store.engine import Store

SCHEMA = json.dumps({"type": "record", "name": "T", "fields": [{"name": "a", "type": "string"}]})
JSON = {"Content-Type": "application/json"}


def config(tmp: Path, extra: str = "") -> HubConfig:
    return validate_config_text(f"gateway: {{tokens_file: {tmp / 'tokens.yaml'}}}\n"
                                f"pipelines: {{store: {{url: 'sqlite:///{tmp / 'store.db'}'}}}}\n{extra}")


@pytest.fixture
def cfg(tmp_path: Path) -> HubConfig:
    return config(tmp_path)


@pytest.fixture
def tokens(cfg: HubConfig) -> dict[str, str]:
    known = set(cfg.gateway.effective_roles())
    return {role: create_token(cfg.gateway.tokens_file, f"{role}-app", role, known) for role in ("agent", "admin")}


class FakeRunner:
    def __init__(self) -> None:
        self.requests: list[str] = []

    def request(self, action: str) -> None:
        self.requests.append(action)


def audit_rows(cfg: HubConfig, spec: GuardSpec) -> list[tuple[str, str, str, str, int]]:
    assert spec.access is not None
    assert spec.access.audit.writer.flush()  # type: ignore[union-attr]
    store = Store(cfg.pipelines.store.url)  # type: ignore[union-attr]
    try:
        with store.read() as conn:
            rows = read_audit(conn, limit=50)
    finally:
        store.dispose()
    return [(r["token_name"], r["role"], r["method"], r["path"], r["status"]) for r in reversed(rows)]


@pytest.fixture
def admin(cfg: HubConfig) -> Iterator[tuple[TestClient, FakeRunner, GuardSpec]]:
    runner = FakeRunner()
    hub: Any = SimpleNamespace(runners={"ar": runner}, roles=frozenset({"admin"}), lag=None,
                               runner=lambda name: runner)
    spec = admin_guard(cfg)
    yield TestClient(create_admin_app(hub, spec), base_url="http://127.0.0.1:8083"), runner, spec
    for close in spec.on_stop:
        close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_admin_api_needs_a_token_reads_need_ops_changes_need_manage(
        admin: tuple[TestClient, FakeRunner, GuardSpec], tokens: dict[str, str], cfg: HubConfig) -> None:
    client, runner, spec = admin
    assert client.post("/connectors/ar/restart", headers=JSON).status_code == 401
    refused = client.post("/connectors/ar/snapshot", headers={**JSON, **bearer(tokens["agent"])})
    assert refused.status_code == 403 and "manage" in refused.json()["message"]
    assert client.get("/connectors", headers=bearer(tokens["agent"])).status_code == 403  # ops: admin only
    assert client.delete("/connectors/ar/offsets", headers={**JSON, **bearer(tokens["admin"])}).status_code == 202
    assert client.get("/openapi.json").status_code == 200  # the description needs no token
    assert runner.requests == ["reset"]
    assert audit_rows(cfg, spec) == [
        ("-", "-", "POST", "/connectors/ar/restart", 401),
        ("agent-app", "agent", "POST", "/connectors/ar/snapshot", 403),
        ("agent-app", "agent", "GET", "/connectors", 403),
        ("admin-app", "admin", "DELETE", "/connectors/ar/offsets", 202),
    ]


def test_a_cross_site_text_plain_post_and_a_foreign_host_are_refused(
        admin: tuple[TestClient, FakeRunner, GuardSpec], tokens: dict[str, str]) -> None:
    client, runner, _ = admin
    auth = bearer(tokens["admin"])
    plain = client.post("/connectors/ar/snapshot", content=b"{}", headers={**auth, "Content-Type": "text/plain"})
    assert plain.status_code == 415
    evil = client.post("/connectors/ar/snapshot", headers={**auth, **JSON, "Origin": "http://evil.example"})
    assert evil.status_code == 403
    rebound = client.get("/connectors", headers={**auth, "Host": "attacker.example:8083"})
    assert rebound.status_code == 400
    assert runner.requests == []
    same_site = client.post("/connectors/ar/snapshot", headers={**auth, "Origin": "http://localhost:8080",
                                                                "X-Requested-With": "crmhub"})
    assert same_site.status_code == 202 and runner.requests == ["snapshot"]


def test_admin_auth_none_only_when_asked_and_check_warns_beyond_loopback(tmp_path: Path) -> None:
    open_cfg = config(tmp_path, "admin: {host: 0.0.0.0, auth: none}\n")
    hub: Any = SimpleNamespace(runners={}, roles=frozenset(), lag=None, runner=lambda name: FakeRunner())
    client = TestClient(create_admin_app(hub, admin_guard(open_cfg)), base_url="http://localhost")
    assert client.get("/connectors").json() == []
    [warning] = [w for w in exposure_warnings(open_cfg) if w.startswith("admin")]
    assert "admin.auth: none" in warning
    assert exposure_warnings(config(tmp_path)) == []  # loopback everywhere: nothing to say
    tls = exposure_warnings(config(tmp_path, "admin: {host: 0.0.0.0}\n"))
    assert tls and "plain HTTP" in tls[0]


@pytest.fixture
def registry(cfg: HubConfig) -> Iterator[tuple[TestClient, GuardSpec]]:
    spec = registry_guard(cfg)
    store = SchemaStore(_MemorySchemaLog())
    store.start()
    yield TestClient(create_app(store, spec), base_url="http://127.0.0.1:8081"), spec
    for close in spec.on_stop:
        close()


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_registry_takes_basic_auth_as_confluent_clients_send_it(
        registry: tuple[TestClient, GuardSpec], tokens: dict[str, str], cfg: HubConfig) -> None:
    client, spec = registry
    body = {"schema": SCHEMA}
    assert client.post("/subjects/t-value/versions", json=body).status_code == 401
    assert client.post("/subjects/t-value/versions", json=body,
                       headers=basic("agent-app", tokens["admin"])).status_code == 401  # not that token's name
    assert client.post("/subjects/t-value/versions", json=body,
                       headers=basic("agent-app", tokens["agent"])).status_code == 403
    made = client.post("/subjects/t-value/versions", json=body, headers=basic("admin-app", tokens["admin"]))
    assert made.status_code == 200
    reader = basic("agent-app", tokens["agent"])
    assert client.get(f"/schemas/ids/{made.json()['id']}", headers=reader).status_code == 200
    assert client.post("/subjects/t-value", json=body, headers=reader).status_code == 200  # a look-up reads
    assert client.put("/config", json={"compatibility": "NONE"}, headers=reader).status_code == 403
    assert client.delete("/subjects/t-value?permanent=true", headers=reader).status_code == 403
    assert client.get("/").status_code == 200
    assert [(r[0], r[2], r[4]) for r in audit_rows(cfg, spec)] == [
        ("-", "POST", 401), ("-", "POST", 401), ("agent-app", "POST", 403), ("admin-app", "POST", 200),
        ("agent-app", "GET", 200), ("agent-app", "POST", 200), ("agent-app", "PUT", 403),
        ("agent-app", "DELETE", 403)]


def test_the_hub_reaches_its_own_registry_with_its_service_token(
        registry: tuple[TestClient, GuardSpec], cfg: HubConfig) -> None:
    client, _ = registry
    auth, token = registry_credentials(cfg)
    assert auth is None and token == service_token(cfg)
    assert (cfg.gateway.tokens_file.parent / "service-token").stat().st_mode & 0o077 == 0
    made = client.post("/subjects/s-value/versions", json={"schema": SCHEMA}, headers=bearer(token))
    assert made.status_code == 200
    configured = config(cfg.gateway.tokens_file.parent, "registry: {basic_auth: {user: u, password: p}}\n")
    assert registry_credentials(configured) == (("u", "p"), None)


def test_bodies_are_bounded_before_auth_and_deep_json_is_a_400(registry: tuple[TestClient, GuardSpec],
                                                               tokens: dict[str, str]) -> None:
    client, _ = registry
    big = client.post("/subjects/t-value/versions", content=b"x", headers={**JSON, "Content-Length": str(50 << 20)})
    assert big.status_code == 413  # refused by its length, without a token
    admin = basic("admin-app", tokens["admin"])

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
        for _ in range(40):
            yield b" " * 65536

    assert client.post("/subjects/t-value/versions", content=chunks(), headers={**JSON, **admin}).status_code == 413
    deep = "[" * 200_000 + "]" * 200_000
    answer = client.post("/subjects/t-value/versions", content=deep.encode(), headers={**JSON, **admin})
    assert answer.status_code == 400 and "deeper" in answer.json()["message"]


def test_every_answer_carries_the_security_headers(registry: tuple[TestClient, GuardSpec]) -> None:
    client, _ = registry
    for response in (client.get("/"), client.get("/subjects")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_pure_parts() -> None:
    assert json_depth('{"a": [1, {"b": "[[[["}]}') == 3 and json_depth("12") == 0
    assert [host_name(h) for h in ("LocalHost:8080", "[::1]:80", "http://evil.example", "::1")] == [
        "localhost", "::1", "evil.example", "::1"]
    assert registry_group("POST", "/subjects/a/versions") == "manage"
    assert registry_group("POST", "/compatibility/subjects/a/versions/latest") == "schemas"
    access = Access(tokens=SimpleNamespace(lookup=lambda t: None), grants={}, basic=False)
    assert credentials_of("Basic " + base64.b64encode(b"u:t").decode(), b"", "/", access) is None
    assert credentials_of(None, b"access_token=abc", "/stream", access) is None  # only where allowed
    stream = Access(tokens=access.tokens, grants={}, query_token_paths=frozenset({"/stream"}))
    assert credentials_of(None, b"x=1&access_token=abc", "/stream", stream) == ("abc", None)


def test_uvicorn_tracebacks_go_through_the_masking_log_handler(capfd: pytest.CaptureFixture[str]) -> None:
    configure_logging("WARNING")
    app = FastAPI()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("cannot connect: DRIVER=x;UID=sa;PWD=hunter2;")

    handle = serve_in_thread(app, "127.0.0.1", 0)
    try:
        assert httpx.get(f"{handle.url}/boom", timeout=10).status_code == 500
    finally:
        handle.stop()
    err = capfd.readouterr().err
    assert "RuntimeError" in err and "PWD=***" in err and "hunter2" not in err


def test_crmhub_check_warns_about_servers_beyond_loopback_without_tokens(tmp_path: Path) -> None:
    conf = tmp_path / "open.yaml"
    conf.write_text("admin: {host: 0.0.0.0, auth: none}\nregistry: {serve: {host: 10.0.0.5}}\n")
    result = CliRunner().invoke(cli, ["check", "-c", str(conf)])
    assert result.exit_code == 0, result.output
    assert "warning: admin.host: 0.0.0.0 with admin.auth: none" in result.output
    assert "warning: registry.serve.host: 10.0.0.5: tokens cross the network in clear" in result.output
    quiet = tmp_path / "quiet.yaml"
    quiet.write_text("admin: {port: 8083}\n")
    assert "warning" not in CliRunner().invoke(cli, ["check", "-c", str(quiet)]).output


def test_allowed_hosts_add_names_and_a_wildcard_host_answers_any(tmp_path: Path) -> None:
    hub: Any = SimpleNamespace(runners={}, roles=frozenset(), lag=None, runner=lambda name: FakeRunner())

    def status(extra: str, host: str) -> int:
        spec = admin_guard(config(tmp_path, extra))
        client = TestClient(create_admin_app(hub, spec), base_url="http://localhost")
        try:
            return int(client.get("/openapi.json", headers={"Host": host}).status_code)
        finally:
            for close in spec.on_stop:
                close()

    named = "admin: {host: 0.0.0.0, http: {allowed_hosts: ['hub01.example:8083']}}\n"
    assert status(named, "hub01.example:8083") == 200
    assert status(named, "0.0.0.0:8083") == 400  # the wildcard address names no host
    assert status(named, "other.example") == 400
    assert status("admin: {http: {allowed_hosts: ['*']}}\n", "other.example") == 200
