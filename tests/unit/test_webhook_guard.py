"""Webhooks may not reach the hub itself nor private addresses unless allow-listed, each subscription belongs to
the token that made it, deliveries are audited; the gateway refuses before it parses and sends page headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.config import HubConfig, WebhookConfig, validate_config_text
from hub.gateway.app import close_gateway_app, create_gateway_app
from hub.gateway.audit_writer import AuditEntry
from hub.gateway.auth import require
from hub.gateway.guards import webhook_targets
from hub.gateway.stream import StreamEvent
from hub.gateway.subscriptions import SubscriptionIn, WebhookStore, webhooks_router
from hub.gateway.tokens import create_token
from hub.gateway.webhook_targets import TargetPolicy, TargetRefused
from hub.gateway.webhooks import DeadLetter, Dispatcher
from pipelines.store.engine import Store
from tests.http_receiver import Receiver, serve_receiver


def resolver(table: dict[str, list[str]]) -> Any:
    return lambda host, port: table[host]


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.7", "172.16.5.5", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fd00::5", "::ffff:127.0.0.1",
                                     "224.0.0.1"])
def test_non_public_addresses_are_refused(address: str) -> None:
    policy = TargetPolicy(local=frozenset(), resolve=resolver({"hooks.example": [address]}))
    with pytest.raises(TargetRefused, match="allow_targets"):
        policy.check("http://hooks.example/in")


def test_allow_list_own_ports_and_pinning() -> None:
    table = {"crm.internal": ["10.0.0.8"], "public.example": ["93.184.215.14"], "mixed.example": ["93.184.215.14",
                                                                                                  "127.0.0.1"],
             "127.0.0.1": ["127.0.0.1"]}
    policy = TargetPolicy(("10.0.0.0/8", "127.0.0.1"), frozenset({8083}), frozenset({"10.0.0.8"}), resolver(table))
    pinned = policy.check("https://crm.internal:8443/hook?x=1")
    assert pinned.url == "https://10.0.0.8:8443/hook?x=1"
    assert pinned.request_kwargs() == {"headers": {"Host": "crm.internal:8443"},
                                       "extensions": {"sni_hostname": "crm.internal"}}
    assert policy.check("http://public.example/h").url == "http://93.184.215.14/h"
    with pytest.raises(TargetRefused, match="own servers"):  # allow-listed, but the admin API's port
        policy.check("http://127.0.0.1:8083/connectors/ar/restart")
    with pytest.raises(TargetRefused, match="own servers"):
        policy.check("http://crm.internal:8083/connectors/ar/restart")
    strict = TargetPolicy(local=frozenset(), resolve=resolver(table))
    with pytest.raises(TargetRefused):  # one address of several is private: refused
        strict.check("http://mixed.example/h")


def event() -> StreamEvent:
    return StreamEvent("change", "customer.changes", 0, 7, 1, "G1", {"golden_id": "G1", "fields": []})


def dispatch(tmp: Path, receiver: Receiver, allow: list[str]) -> tuple[list[DeadLetter], list[AuditEntry]]:
    store = WebhookStore(tmp / "hooks.json")
    store.add(SubscriptionIn(url=receiver.url), role="integration", owner="crm-sync")
    letters: list[DeadLetter] = []
    entries: list[AuditEntry] = []
    config = WebhookConfig(max_attempts=1, allow_targets=allow)
    cfg = validate_config_text(f"gateway: {{webhooks: {{allow_targets: {allow}}}}}")
    dispatcher = Dispatcher(store, config, letters.append, targets=webhook_targets(cfg), audit=entries.append)
    try:
        dispatcher.dispatch([event()])
    finally:
        dispatcher.close()
    return letters, entries


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve_receiver() as rec:
        yield rec


def test_a_loopback_receiver_needs_the_allow_list_and_deliveries_are_audited(tmp_path: Path,
                                                                              receiver: Receiver) -> None:
    letters, entries = dispatch(tmp_path, receiver, [])
    assert receiver.requests == [] and "target refused" in letters[0].reason
    assert [(e.token_name, e.status) for e in entries] == [("crm-sync", 0)]
    letters, entries = dispatch(tmp_path / "allowed", receiver, ["127.0.0.1"])
    assert letters == [] and len(receiver.requests) == 1
    headers, _ = receiver.requests[0]
    assert headers["host"] == receiver.url.split("/")[2]
    [entry] = entries
    assert (entry.token_name, entry.role, entry.method, entry.status, entry.golden_ids) == (
        "crm-sync", "integration", "POST", 200, ["G1"])
    assert entry.path == receiver.url


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[tuple[TestClient, HubConfig, dict[str, str]]]:
    cfg = validate_config_text(f"gateway: {{tokens_file: {tmp_path / 'tokens.yaml'}}}\n"
                               f"pipelines: {{store: {{url: 'sqlite:///{tmp_path / 'store.db'}'}}}}\n")
    known = set(cfg.gateway.effective_roles())
    tokens = {name: create_token(cfg.gateway.tokens_file, name, role, known)
              for name, role in (("sync-a", "integration"), ("sync-b", "integration"), ("ops", "admin"))}
    store = Store(cfg.pipelines.store.url)  # type: ignore[union-attr]
    router = webhooks_router(WebhookStore(tmp_path / "hooks.json"), require("webhooks"), targets=webhook_targets(cfg))
    app = create_gateway_app(cfg, store, [router])
    yield TestClient(app, base_url="http://localhost"), cfg, tokens
    close_gateway_app(app)
    store.dispose()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_subscription_is_seen_and_deleted_by_its_owner_and_admins_only(
        gateway: tuple[TestClient, HubConfig, dict[str, str]]) -> None:
    client, _, tokens = gateway
    made = client.post("/webhooks", json={"url": "https://93.184.215.14/in"}, headers=auth(tokens["sync-a"]))
    assert made.status_code == 201 and made.json()["owner"] == "sync-a"
    sub_id = made.json()["id"]
    assert client.get("/webhooks", headers=auth(tokens["sync-b"])).json() == []
    assert client.get(f"/webhooks/{sub_id}", headers=auth(tokens["sync-b"])).status_code == 404
    assert client.delete(f"/webhooks/{sub_id}", headers=auth(tokens["sync-b"])).status_code == 404
    assert [s["id"] for s in client.get("/webhooks", headers=auth(tokens["ops"])).json()] == [sub_id]
    assert client.delete(f"/webhooks/{sub_id}", headers=auth(tokens["sync-a"])).status_code == 204


def test_the_admin_api_is_no_webhook_target(gateway: tuple[TestClient, HubConfig, dict[str, str]]) -> None:
    client, cfg, tokens = gateway
    url = f"http://127.0.0.1:{cfg.admin.port}/connectors/ar/restart"
    refused = client.post("/webhooks", json={"url": url}, headers=auth(tokens["sync-a"]))
    assert refused.status_code == 422 and "127.0.0.1" in refused.json()["message"]


def test_no_token_is_refused_before_the_body_is_parsed(gateway: tuple[TestClient, HubConfig, dict[str, str]]) -> None:
    client, _, _ = gateway
    answer = client.post("/webhooks", content=b"{not json", headers={"Content-Type": "application/json"})
    assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Bearer")


def test_pages_get_a_content_security_policy_and_no_framing(
        gateway: tuple[TestClient, HubConfig, dict[str, str]]) -> None:
    client, _, _ = gateway
    page = client.get("/ui/agent.html")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
