"""The HTTP gateway over a real SQLite store filled by the real unify engine: endpoints, search, tokens, roles,
field policies and the audit log."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hub.cli import app as cli_app
from hub.cli import commands as cli_commands  # noqa: F401  (registers the commands, as `crmhub` does)
from hub.config import HubConfig, validate_config_text
from hub.gateway.app import create_gateway_app, serve_gateway
from hub.gateway.auth import Principal, require
from hub.gateway.policy import mask_scalar
from hub.gateway.tokens import create_token, hash_token, read_tokens
from pipelines.alert_rules import load_alert_rules
from pipelines.alerts import AlertEngine
from pipelines.store.engine import Store
from pipelines.store.timers import SqlTimerStore
from pipelines.unify.engine import Unifier
from tests.unify_helpers import event, golden_of, person

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("agent", "finance", "admin", "integration")

JOHN_IBMI = person("John", "Smith", "1980-01-02", "john.smith@example.com", phones=[{"number": "+441234567890"}],
                   national_id="AB123456C", owning_agent="AGT07", credit_status="OK")
JOHN_ORACLE = person("Jon", "Smith", "1980-01-02", "JOHN.SMITH@example.com")
MARY = person("Mary", "Jones", "1975-06-30", "mary@example.org", phones=[{"number": "+43 660 1112223"}])
ORDER = {"order_number": "500001", "customer_key": "1", "status": "OPEN", "total_amount": "12.50",
         "lines": [{"line": 1, "item": "BOLT", "warehouse": "W1", "quantity": "3"}]}
SHIPPED = {**ORDER, "order_number": "500002", "status": "SHIPPED"}
STOCK_W1 = {"item": "BOLT", "warehouse": "W1", "on_hand": "10", "allocated": "3", "available": "7"}
STOCK_W2 = {"item": "BOLT", "warehouse": "W2", "on_hand": "4", "allocated": "0", "available": "4"}


def config_text(tmp: Path) -> str:
    return f"""
gateway:
  tokens_file: {tmp / "tokens.yaml"}
  roles:
    viewer: {{allow: [customers], hide: [national_id]}}
pipelines:
  store: {{url: "sqlite:///{tmp / 'store.db'}"}}
"""


@pytest.fixture
def cfg(tmp_path: Path) -> HubConfig:
    (tmp_path / "gw.yaml").write_text(config_text(tmp_path))
    return validate_config_text(config_text(tmp_path))


@pytest.fixture
def ids(store: Store) -> dict[str, str]:
    """John (two sources, credit, orders, a credit-frozen alert), Mary, stock, and a merged pair."""
    unifier = Unifier(store, alerts=AlertEngine(load_alert_rules(ROOT / "config" / "rules" / "alerts.yaml")),
                      timers=SqlTimerStore, now_ms=lambda: 5_000)
    unifier.apply([event("ibmi", "1", JOHN_IBMI, 100), event("ibmi", "2", MARY, 150)])
    unifier.apply([event("oracle", "A7", JOHN_ORACLE, 200)])  # its own batch: a version of its own
    unifier.apply([event("ibmi", "C1", {"customer_key": "1", "status": "FROZEN", "limit": "5000", "reason": "overdue"},
                         300, entity="credit", table="CREDIT")])
    unifier.apply([event("ibmi", "500001", ORDER, 310, entity="order"),
                   event("ibmi", "500002", SHIPPED, 320, entity="order"),
                   event("ibmi", "BOLT|W1", STOCK_W1, 330, entity="inventory"),
                   event("ibmi", "BOLT|W2", STOCK_W2, 340, entity="inventory")])
    a = person("Anna", "Berg", "1990-03-04", "anna@a.example")
    b = person("Anne", "Bergmann", "1990-04-03", "ab@b.example")
    unifier.apply([event("ibmi", "10", a, 400), event("oracle", "B1", b, 410)])
    ga, gb = golden_of(store, "ibmi", "10") or "", golden_of(store, "oracle", "B1") or ""
    bridge = {**person("Anna", "Berg", "1990-03-04"),
              "xrefs": [{"source": "ibmi", "key": "10"}, {"source": "oracle", "key": "B1"}]}
    unifier.apply([event("helpdesk", "H9", bridge, 420)])
    unifier.flush(lambda records: None)
    return {"john": golden_of(store, "ibmi", "1") or "", "mary": golden_of(store, "ibmi", "2") or "",
            "survivor": min(ga, gb), "loser": max(ga, gb)}


@pytest.fixture
def tokens(cfg: HubConfig) -> dict[str, str]:
    known = set(cfg.gateway.effective_roles())
    return {role: create_token(cfg.gateway.tokens_file, f"{role}-app", role, known) for role in (*ROLES, "viewer")}


@pytest.fixture
def client(cfg: HubConfig, store: Store, ids: dict[str, str], tokens: dict[str, str]) -> TestClient:
    return TestClient(create_gateway_app(cfg, store), base_url="http://localhost")


def get(client: TestClient, bearer: str | None, url: str, **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    return client.get(url, headers=headers, params=params)


def ok(client: TestClient, bearer: str, url: str, **params: Any) -> Any:
    response = get(client, bearer, url, **params)
    assert response.status_code == 200, response.text
    return response.json()


# --- endpoints -------------------------------------------------------------------------------------------------


def test_health_needs_no_token(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_customer_by_id_with_lineage_members_and_version(client: TestClient, ids: dict[str, str],
                                                         tokens: dict[str, str]) -> None:
    body = ok(client, tokens["admin"], f"/customers/{ids['john']}")
    assert (body["golden_id"], body["merged_from"], body["status"]) == (ids["john"], None, "active")
    assert body["data"]["given_name"] == "Jon" and body["data"]["credit_status"] == "FROZEN"
    assert body["data"]["credit_limit"] == "5000.00" and body["data"]["national_id"] == "AB123456C"
    assert body["lineage"]["given_name"]["source"] == "oracle"
    assert body["lineage"]["credit_limit"]["ts_ms"] == 300  # the credit event
    assert {(m["source"], m["source_key"]) for m in body["members"]} == {("ibmi", "1"), ("oracle", "A7")}
    assert body["version"] == 3  # created, oracle joined, credit


def test_unknown_id_is_404_and_bad_id_422(client: TestClient, tokens: dict[str, str]) -> None:
    response = get(client, tokens["admin"], "/customers/G999999999")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "no golden record 'G999999999'"}
    assert get(client, tokens["admin"], "/customers/bad%20id").status_code == 422
    assert get(client, tokens["admin"], "/customers/G999999999/history").status_code == 404


def test_merged_id_answers_with_its_survivor(client: TestClient, ids: dict[str, str], tokens: dict[str, str]) -> None:
    response = get(client, tokens["admin"], f"/customers/{ids['loser']}")
    assert response.status_code == 200
    body = response.json()
    assert (body["golden_id"], body["merged_from"]) == (ids["survivor"], ids["loser"])
    assert response.headers["content-location"] == f"/customers/{ids['survivor']}"
    assert {m["source"] for m in body["members"]} == {"ibmi", "oracle", "helpdesk"}
    history = ok(client, tokens["admin"], f"/customers/{ids['loser']}/history")
    assert history["golden_id"] == ids["survivor"] and history["merged_from"] == ids["loser"]


def test_by_source(client: TestClient, ids: dict[str, str], tokens: dict[str, str]) -> None:
    assert ok(client, tokens["agent"], "/customers/by-source/oracle/A7")["golden_id"] == ids["john"]
    response = get(client, tokens["agent"], "/customers/by-source/oracle/NOPE")
    assert response.status_code == 404 and "oracle/NOPE" in response.json()["message"]


def test_history_newest_first(client: TestClient, ids: dict[str, str], tokens: dict[str, str]) -> None:
    body = ok(client, tokens["admin"], f"/customers/{ids['john']}/history")
    assert [(c["version"], c["kind"]) for c in body["changes"]] == [(3, "update"), (2, "update"), (1, "create")]
    assert {f["field"] for f in body["changes"][0]["fields"]} == {"credit_status", "credit_limit", "credit_reason"}
    assert len(ok(client, tokens["admin"], f"/customers/{ids['john']}/history", limit=1)["changes"]) == 1
    assert get(client, tokens["admin"], f"/customers/{ids['john']}/history", limit=0).status_code == 422


def test_orders_open_and_all(client: TestClient, ids: dict[str, str], tokens: dict[str, str]) -> None:
    open_orders = ok(client, tokens["agent"], f"/customers/{ids['john']}/orders")["orders"]
    assert [(o["order_number"], o["status"], o["data"]["total_amount"]) for o in open_orders] == \
        [("500001", "OPEN", "12.50")]
    every = ok(client, tokens["agent"], f"/customers/{ids['john']}/orders", open="false")["orders"]
    assert sorted(o["order_number"] for o in every) == ["500001", "500002"]
    assert ok(client, tokens["agent"], f"/customers/{ids['mary']}/orders")["orders"] == []


def test_inventory(client: TestClient, tokens: dict[str, str]) -> None:
    body = ok(client, tokens["agent"], "/inventory/BOLT")
    assert [(w["warehouse"], w["data"]["available"]) for w in body["warehouses"]] == [("W1", "7.000"), ("W2", "4.000")]
    assert [w["warehouse"] for w in ok(client, tokens["agent"], "/inventory/BOLT", warehouse="W2")["warehouses"]] \
        == ["W2"]
    assert get(client, tokens["agent"], "/inventory/NUT").status_code == 404
    assert get(client, tokens["agent"], "/inventory/BOLT", warehouse="W9").status_code == 404


def test_alerts_by_golden_id_agent_and_convenience(client: TestClient, ids: dict[str, str],
                                                   tokens: dict[str, str]) -> None:
    by_agent = ok(client, tokens["agent"], "/alerts", agent="AGT07")["alerts"]
    assert sorted((a["rule"], a["golden_id"]) for a in by_agent) == [
        ("credit-frozen", ids["john"]), ("order-on-blocked-credit", ids["john"])]
    frozen = next(a for a in by_agent if a["rule"] == "credit-frozen")
    assert (frozen["data"]["field"], frozen["data"]["new"]) == ("credit_status", "FROZEN")
    assert ok(client, tokens["agent"], "/alerts", golden_id=ids["john"])["alerts"] == by_agent
    assert ok(client, tokens["agent"], f"/customers/{ids['john']}/alerts")["alerts"] == by_agent
    assert ok(client, tokens["agent"], "/alerts", agent="AGT99")["alerts"] == []


def test_openapi_describes_the_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/customers/{golden_id}", "/customers", "/inventory/{item}", "/alerts", "/audit"} <= set(paths)


# --- search ---------------------------------------------------------------------------------------------------


def search(client: TestClient, token: str, **params: Any) -> list[str]:
    return [h["golden_id"] for h in ok(client, token, "/customers", **params)["results"]]


def test_search_by_full_name_either_order_and_case(client: TestClient, ids: dict[str, str],
                                                   tokens: dict[str, str]) -> None:
    assert search(client, tokens["agent"], name="John Smith") == [ids["john"]]
    assert search(client, tokens["agent"], name="smith, JOHN") == [ids["john"]]
    assert search(client, tokens["agent"], name="Mary Jones") == [ids["mary"]]
    hit = ok(client, tokens["agent"], "/customers", name="Mary Jones")["results"][0]
    assert {"given.exact", "family.exact"} <= set(hit["matched"]) and hit["score"] > 0


def test_search_by_phone_in_another_format(client: TestClient, ids: dict[str, str], tokens: dict[str, str]) -> None:
    assert search(client, tokens["agent"], phone="01234 567-890") == [ids["john"]]
    assert search(client, tokens["agent"], phone="+436601112223") == [ids["mary"]]


def test_search_by_email_in_another_case(client: TestClient, ids: dict[str, str], tokens: dict[str, str]) -> None:
    assert search(client, tokens["agent"], email="Mary@EXAMPLE.org") == [ids["mary"]]


def test_search_by_organisation_name(client: TestClient, store: Store, tokens: dict[str, str]) -> None:
    mueller = {"kind": "organisation", "org_name": "Mueller GmbH",
               "addresses": [{"line1": "Hauptstr 1", "city": "Muenchen", "postal_code": "80331", "country": "DE"}]}
    muller_uk = {"kind": "organisation", "org_name": "Muller Ltd",
                 "addresses": [{"line1": "1 High St", "city": "Leeds", "postal_code": "LS1 1AA", "country": "GB"}]}
    Unifier(store).apply([event("ibmi", "104711", mueller, 500), event("oracle", "O9", muller_uk, 510)])
    de, gb = golden_of(store, "ibmi", "104711"), golden_of(store, "oracle", "O9")
    assert search(client, tokens["agent"], name="Mueller GmbH")[0] == de
    assert set(search(client, tokens["agent"], name="mueller")) <= {de, gb} and de in search(
        client, tokens["agent"], name="mueller")
    assert set(search(client, tokens["agent"], name="Muller Ltd")) == {de, gb}  # legal forms are not names
    assert search(client, tokens["agent"], name="Schmidt AG") == []


def test_search_without_match_or_with_a_vague_query(client: TestClient, tokens: dict[str, str]) -> None:
    assert search(client, tokens["agent"], name="Nobody Known") == []
    assert search(client, tokens["agent"], email="mary@example.org", name="Peter Miller") == []  # disagreeing name
    assert search(client, tokens["agent"], name="Smith") == []  # one word: read as an organisation, none such
    assert get(client, tokens["agent"], "/customers", name="&&").status_code == 422
    assert get(client, tokens["agent"], "/customers").status_code == 422
    assert get(client, tokens["agent"], "/customers", name="John Smith", limit=0).status_code == 422


# --- authentication, roles, field policies ---------------------------------------------------------------------


def test_no_token_or_unknown_token_is_401(client: TestClient, ids: dict[str, str]) -> None:
    for token in (None, "crmhub_not-a-token"):
        response = get(client, token, f"/customers/{ids['john']}")
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_role_without_the_group_is_403(client: TestClient, ids: dict[str, str], tokens: dict[str, str]) -> None:
    assert get(client, tokens["finance"], "/inventory/BOLT").status_code == 403
    assert get(client, tokens["agent"], "/audit").status_code == 403
    response = get(client, tokens["viewer"], f"/customers/{ids['john']}/history")
    assert response.status_code == 403 and "viewer" in response.json()["message"]
    assert get(client, tokens["viewer"], f"/customers/{ids['john']}").status_code == 200


def test_national_id_masked_for_agent_visible_for_admin(client: TestClient, ids: dict[str, str],
                                                       tokens: dict[str, str]) -> None:
    url = f"/customers/{ids['john']}"
    assert ok(client, tokens["agent"], url)["data"]["national_id"] == "****456C"
    assert ok(client, tokens["admin"], url)["data"]["national_id"] == "AB123456C"
    assert "national_id" not in ok(client, tokens["viewer"], url)["data"]  # a configured role hiding it
    history = ok(client, tokens["agent"], f"{url}/history")["changes"]
    created = {f["field"]: f["new"] for f in history[-1]["fields"]}
    assert json.loads(created["national_id"]) == "****456C"
    assert mask_scalar("1234") == "****" and mask_scalar(None) is None


def test_credit_limit_hidden_from_agent_in_data_lineage_history(client: TestClient, ids: dict[str, str],
                                                                tokens: dict[str, str]) -> None:
    url = f"/customers/{ids['john']}"
    for role in ("agent", "integration"):
        record = ok(client, tokens[role], url)
        assert "credit_limit" not in record["data"] and "credit_limit" not in record["lineage"]
        assert record["data"]["credit_status"] == "FROZEN"  # the rest of the credit overlay stays
        history = ok(client, tokens[role], f"{url}/history")
        dumped = json.dumps(history)
        assert "credit_limit" not in dumped and "5000.00" not in dumped, dumped
        hits = ok(client, tokens[role], "/customers", name="John Smith")["results"]
        assert "credit_limit" not in hits[0]["data"]
    for role in ("finance", "admin"):
        assert ok(client, tokens[role], url)["data"]["credit_limit"] == "5000.00"
        fields = {f["field"] for c in ok(client, tokens[role], f"{url}/history")["changes"] for f in c["fields"]}
        assert "credit_limit" in fields


# --- audit --------------------------------------------------------------------------------------------------------


def test_audit_rows_record_who_what_and_status(client: TestClient, ids: dict[str, str],
                                               tokens: dict[str, str]) -> None:
    ok(client, tokens["agent"], f"/customers/{ids['john']}")
    ok(client, tokens["agent"], "/customers", name="Mary Jones")
    get(client, tokens["finance"], "/inventory/BOLT")
    get(client, None, f"/customers/{ids['john']}")  # no known token: a row without a name
    client.get("/health")
    rows = ok(client, tokens["admin"], "/audit")["entries"]
    summary = [(r["token_name"], r["role"], r["method"], r["path"], r["status"], r["golden_ids"]) for r in rows]
    assert summary == [
        ("-", "-", "GET", f"/customers/{ids['john']}", 401, []),
        ("finance-app", "finance", "GET", "/inventory/BOLT", 403, []),
        ("agent-app", "agent", "GET", "/customers", 200, [ids["mary"]]),
        ("agent-app", "agent", "GET", f"/customers/{ids['john']}", 200, [ids["john"]]),
    ]
    assert rows[2]["query"] == "name=Mary+Jones" and rows[0]["ts_ms"] > 0
    again = ok(client, tokens["admin"], "/audit", token="admin-app")["entries"]
    assert [(r["path"], r["status"]) for r in again] == [("/audit", 200)]  # the first /audit call itself
    assert all(tokens["agent"] not in json.dumps(r) for r in rows)


def test_extra_routers_share_auth_and_audit(cfg: HubConfig, store: Store, tokens: dict[str, str]) -> None:
    router = APIRouter()

    @router.get("/stream-probe")
    def probe(principal: Principal = Depends(require("stream"))) -> dict[str, str]:
        return {"who": principal.name}

    client = TestClient(create_gateway_app(cfg, store, [router]), base_url="http://localhost")
    assert ok(client, tokens["agent"], "/stream-probe") == {"who": "agent-app"}
    assert get(client, None, "/stream-probe").status_code == 401
    assert get(client, tokens["viewer"], "/stream-probe").status_code == 403
    paths = [r["path"] for r in ok(client, tokens["admin"], "/audit")["entries"]]
    assert paths == ["/stream-probe", "/stream-probe", "/stream-probe"]  # the 403, the 401, the 200
    with pytest.raises(ValueError, match="unknown endpoint group"):
        require("nonsense")


# --- tokens and the CLI -----------------------------------------------------------------------------------------


def test_token_cli_create_use_list_revoke(tmp_path: Path, cfg: HubConfig, store: Store, ids: dict[str, str]) -> None:
    conf = str(tmp_path / "gw.yaml")
    runner = CliRunner()
    created = runner.invoke(cli_app, ["token", "create", "--name", "crm-web", "--role", "agent", "-c", conf])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[0]
    assert token.startswith("crmhub_") and len(token) > 40
    text = (tmp_path / "tokens.yaml").read_text()
    assert token not in text and hash_token(token) in text
    assert yaml.safe_load(text)["tokens"][0] == {"name": "crm-web", "role": "agent", "sha256": hash_token(token),
                                                 "created_ms": read_tokens(tmp_path / "tokens.yaml")[0].created_ms}
    assert (tmp_path / "tokens.yaml").stat().st_mode & 0o077 == 0
    client = TestClient(create_gateway_app(cfg, store), base_url="http://localhost")
    assert ok(client, token, f"/customers/{ids['john']}")["data"]["national_id"] == "****456C"
    listed = runner.invoke(cli_app, ["token", "list", "-c", conf])
    assert listed.exit_code == 0 and "crm-web" in listed.stdout and "agent" in listed.stdout
    assert hash_token(token)[:8] in listed.stdout and hash_token(token) not in listed.stdout
    duplicate = runner.invoke(cli_app, ["token", "create", "--name", "crm-web", "--role", "agent", "-c", conf])
    assert duplicate.exit_code != 0
    bad_role = runner.invoke(cli_app, ["token", "create", "--name", "x", "--role", "boss", "-c", conf])
    assert bad_role.exit_code != 0
    revoked = runner.invoke(cli_app, ["token", "revoke", "--name", "crm-web", "-c", conf])
    assert revoked.exit_code == 0
    deadline = time.monotonic() + 3.0  # the file is re-checked at most once a second
    while get(client, token, f"/customers/{ids['john']}").status_code != 401:
        assert time.monotonic() < deadline, "the revoked token still works after 3 s"
        time.sleep(0.1)


def test_serve_gateway_over_http(cfg: HubConfig, ids: dict[str, str], tokens: dict[str, str]) -> None:
    import httpx

    service = serve_gateway(cfg, port=0)
    try:
        assert httpx.get(f"{service.url}/health").json() == {"status": "ok"}
        response = httpx.get(f"{service.url}/customers/{ids['mary']}",
                             headers={"Authorization": f"Bearer {tokens['agent']}"})
        assert response.status_code == 200 and response.json()["data"]["family_name"] == "Jones"
    finally:
        service.stop()


def test_policy_on_alert_data_and_list_lineage() -> None:
    from hub.gateway.policy import FieldPolicy
    from hub.gateway.settings import GatewayRole

    policy = FieldPolicy.of(GatewayRole(allow=["alerts"], mask=["national_id"], hide=["credit_limit", "phones"]))
    hidden = policy.alert({"rule": "r", "data": {"field": "credit_limit", "old": "10.00", "new": "0.00", "x": "1"}})
    assert hidden["data"] == {"x": "1"}
    masked = policy.alert({"rule": "r", "data": {"field": "national_id", "old": None, "new": "AB123456C"}})
    assert masked["data"] == {"field": "national_id", "old": None, "new": "****456C"}
    assert policy.lineage({"phones[0]": {}, "phones[1]": {}, "emails[0]": {}}) == {"emails[0]": {}}
    assert policy.data({"phones": [{"number": "1"}], "national_id": 12345678}) == {"national_id": "****5678"}
