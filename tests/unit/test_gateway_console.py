"""The gateway routes of the agent console (``hub/gateway/console.py``): who is calling, a record's cases, its
orders with stock and its cases as a live stream, acknowledging alerts, under the same tokens, roles and audit
as the other routes; and the alert messages people read (no separator left dangling by an empty value)."""

# ruff: noqa: F811  (the fixtures of test_gateway.py, imported, are parameters here)
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from hub.config import HubConfig
from hub.gateway.app import serve_gateway
from hub.gateway.console import live_parts
from hub.gateway.settings import DEFAULT_ROLES
from pipelines.alert_match import render_message
from pipelines.store.engine import Store
from pipelines.unify.engine import Unifier
from tests.unify_helpers import event
from tests.unit.test_gateway import STOCK_W1, cfg, client, get, ids, ok, tokens  # noqa: F401

COMPLAINT = {"case_number": "HD-9001", "customer_key": "1", "kind": "complaint", "status": "OPEN",
             "step": "Analysis", "subject": "Valve leaking", "owner": "AGT07", "opened_at_ms": 1_000}
QUOTE = {"case_number": "HD-9002", "customer_key": "1", "kind": "quote", "status": "CLOSED", "subject": "Bearings",
         "opened_at_ms": 2_000}
OTHERS = {"case_number": "HD-9003", "customer_key": "2", "kind": "inquiry", "status": "OPEN", "subject": "Delivery"}


@pytest.fixture
def cases(store: Store, ids: dict[str, str]) -> dict[str, str]:
    unifier = Unifier(store)
    unifier.apply([event("ibmi", "9001", COMPLAINT, 500, entity="case", table="Tickets"),
                   event("ibmi", "9002", QUOTE, 510, entity="case", table="Tickets"),
                   event("ibmi", "9003", OTHERS, 520, entity="case", table="Tickets")])
    unifier.flush(lambda records: None)
    return ids


def test_whoami_names_the_token_its_role_groups_and_field_policy(client: TestClient,
                                                                  tokens: dict[str, str]) -> None:
    agent = ok(client, tokens["agent"], "/whoami")
    role = DEFAULT_ROLES["agent"]
    assert (agent["name"], agent["role"]) == ("agent-app", "agent")
    assert agent["groups"] == sorted(role.allow)
    assert (agent["masked"], agent["hidden"]) == (sorted(role.mask), sorted(role.hide))
    assert ok(client, tokens["viewer"], "/whoami")["role"] == "viewer"  # any configured role may ask
    assert get(client, None, "/whoami").status_code == 401
    rows = ok(client, tokens["admin"], "/audit")["entries"]
    assert [(r["path"], r["token_name"]) for r in rows if r["path"] == "/whoami"][-1] == ("/whoami", "agent-app")


def test_cases_of_the_members_open_first_only_the_records_own(client: TestClient, cases: dict[str, str],
                                                              tokens: dict[str, str]) -> None:
    body = ok(client, tokens["agent"], f"/customers/{cases['john']}/cases")
    assert [(c["case_number"], c["status"], c["is_open"]) for c in body["cases"]] == [
        ("HD-9001", "OPEN", True), ("HD-9002", "CLOSED", False)]
    assert body["cases"][0]["data"]["subject"] == COMPLAINT["subject"]
    assert [c["case_number"] for c in ok(client, tokens["agent"], f"/customers/{cases['john']}/cases",
                                         open="true")["cases"]] == ["HD-9001"]
    assert [c["case_number"] for c in ok(client, tokens["agent"], f"/customers/{cases['mary']}/cases")["cases"]] \
        == ["HD-9003"]
    assert get(client, tokens["finance"], f"/customers/{cases['john']}/cases").status_code == 403  # no "cases"
    assert get(client, tokens["agent"], "/customers/G999999999/cases").status_code == 404
    audited = [r for r in ok(client, tokens["admin"], "/audit")["entries"] if r["path"].endswith("/cases")]
    assert cases["john"] in audited[-1]["golden_ids"]


def test_a_deleted_or_replayed_case_event(store: Store, client: TestClient, cases: dict[str, str],
                                          tokens: dict[str, str]) -> None:
    unifier = Unifier(store)
    unifier.apply([event("ibmi", "9001", {**COMPLAINT, "status": "WAITING"}, 400, entity="case")])  # older
    unifier.apply([event("ibmi", "9002", None, 600, entity="case")])
    unifier.flush(lambda records: None)
    found = ok(client, tokens["agent"], f"/customers/{cases['john']}/cases")["cases"]
    assert [(c["case_number"], c["status"]) for c in found] == [("HD-9001", "OPEN")]


def _ack(client: TestClient, bearer: str, alert_id: str, **headers: str) -> Any:
    return client.post(f"/alerts/{alert_id}/ack", headers={"Authorization": f"Bearer {bearer}",
                                                           "Content-Type": "application/json", **headers})


def test_acknowledging_an_alert_keeps_the_first_acknowledgement_and_alert_reads_show_it(
        client: TestClient, ids: dict[str, str], tokens: dict[str, str]) -> None:
    alerts = ok(client, tokens["agent"], f"/customers/{ids['john']}/alerts")["alerts"]
    assert len(alerts) >= 2 and all(a["acknowledged"] is None for a in alerts)
    first, other = alerts[0], alerts[1]
    answer = _ack(client, tokens["agent"], first["alert_id"])
    assert answer.status_code == 200, answer.text
    done = answer.json()["acknowledged"]
    assert done["by"] == "agent-app" and done["ts_ms"] > 0
    assert _ack(client, tokens["admin"], first["alert_id"]).json()["acknowledged"] == done  # the first counts
    again = {a["alert_id"]: a["acknowledged"] for a in ok(client, tokens["agent"], "/alerts", agent="AGT07")["alerts"]}
    assert again[first["alert_id"]] == done and again[other["alert_id"]] is None
    assert _ack(client, tokens["agent"], "no-such-alert").status_code == 404
    assert _ack(client, tokens["viewer"], other["alert_id"]).status_code == 403  # a role without "alerts"
    plain = client.post(f"/alerts/{other['alert_id']}/ack", headers={"Authorization": f"Bearer {tokens['agent']}"})
    assert plain.status_code == 415  # a POST that is no JSON (a cross-site form could send one) is refused
    assert ok(client, tokens["agent"], f"/customers/{ids['john']}/alerts")["alerts"][1]["acknowledged"] is None
    rows = [r for r in ok(client, tokens["admin"], "/audit")["entries"] if r["method"] == "POST"]
    assert rows[-1]["path"] == f"/alerts/{first['alert_id']}/ack" and ids["john"] in rows[-1]["golden_ids"]


def _frames(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    kind = ""
    for line in lines:
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield kind, json.loads(line.removeprefix("data: "))


def test_live_sends_orders_with_stock_and_cases_and_again_when_they_change(
        cfg: HubConfig, store: Store, cases: dict[str, str], tokens: dict[str, str]) -> None:
    service = serve_gateway(cfg, port=0)
    headers = {"Authorization": f"Bearer {tokens['agent']}"}
    try:
        url = f"{service.url}/live?golden_id={cases['john']}"
        with httpx.stream("GET", url, headers=headers, timeout=20) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            frames = _frames(response.iter_lines())
            first = dict([next(frames), next(frames)])
            assert first["orders"]["golden_id"] == first["cases"]["golden_id"] == cases["john"]
            [order] = first["orders"]["orders"]
            assert order["order_number"] == "500001"
            stock = {w["warehouse"]: w["available"] for w in order["data"]["lines"][0]["stock"]}
            assert stock["W1"] == "7.000"
            assert [c["case_number"] for c in first["cases"]["cases"]] == ["HD-9001", "HD-9002"]
            unifier = Unifier(store)
            unifier.apply([event("ibmi", "BOLT|W1", {**STOCK_W1, "available": "2"}, 900, entity="inventory")])
            unifier.flush(lambda records: None)
            kind, second = next(frames)  # only the part that changed
            stock = {w["warehouse"]: w["available"] for w in second["orders"][0]["data"]["lines"][0]["stock"]}
            assert kind == "orders" and stock["W1"] == "2.000"
            unifier.apply([event("ibmi", "9001", {**COMPLAINT, "status": "RESOLVED"}, 905, entity="case")])
            unifier.flush(lambda records: None)
            kind, third = next(frames)
            assert kind == "cases" and [(c["case_number"], c["is_open"]) for c in third["cases"]] == [
                ("HD-9001", False), ("HD-9002", False)]
            unifier.apply([event("ibmi", "500001", None, 910, entity="order")])
            unifier.flush(lambda records: None)
            assert next(frames) == ("orders", {"golden_id": cases["john"], "orders": []})
    finally:
        service.stop()


def test_live_parts_follow_the_roles_groups(store: Store, cases: dict[str, str]) -> None:
    with store.read() as conn:
        finance = live_parts(conn, cases["john"], frozenset(DEFAULT_ROLES["finance"].allow), only_open=True)
        agent = live_parts(conn, cases["john"], frozenset(DEFAULT_ROLES["agent"].allow), only_open=False)
        nothing = live_parts(conn, cases["john"], frozenset({"customers"}), only_open=True)
    assert set(finance) == {"orders"} and "stock" not in finance["orders"]["orders"][0]["data"]["lines"][0]
    assert set(agent) == {"orders", "cases"} and len(agent["orders"]["orders"]) == 2  # shipped ones too
    assert nothing == {}


def test_live_without_inventory_group_has_no_stock_and_takes_the_token_as_a_parameter(
        cfg: HubConfig, ids: dict[str, str], tokens: dict[str, str]) -> None:
    service = serve_gateway(cfg, port=0)
    try:
        url = f"{service.url}/live?golden_id={ids['john']}"
        with httpx.stream("GET", url, headers={"Authorization": f"Bearer {tokens['finance']}"}, timeout=20) as r:
            assert r.status_code == 200
            _, first = next(_frames(r.iter_lines()))
        assert "stock" not in first["orders"][0]["data"]["lines"][0]
        assert httpx.get(f"{service.url}/live?golden_id=G999999999",
                         headers={"Authorization": f"Bearer {tokens['agent']}"}, timeout=10).status_code == 404
        # a browser's EventSource sends the token as a parameter; the audit row keeps the query without it
        with httpx.stream("GET", f"{url}&access_token={tokens['agent']}", timeout=20) as r:
            assert r.status_code == 200
            assert next(_frames(r.iter_lines()))[0] == "orders"
        assert httpx.get(f"{service.url}/customers/{ids['john']}?access_token={tokens['agent']}",
                         timeout=10).status_code == 401  # only the streams take it
        rows = httpx.get(f"{service.url}/audit", headers={"Authorization": f"Bearer {tokens['admin']}"},
                         timeout=10).json()["entries"]
        live = [r for r in rows if r["path"] == "/live"]
        assert live and all(tokens["agent"] not in (r["query"] or "") for r in live)
        assert ids["john"] in live[0]["golden_ids"]
    finally:
        service.stop()


@pytest.mark.parametrize(("values", "expected"), [
    ({"name": "Mueller GmbH", "old": "OK", "reason": ""}, "Credit frozen for Mueller GmbH (was OK)"),
    ({"name": "Mueller GmbH", "old": "", "reason": ""}, "Credit frozen for Mueller GmbH"),
    ({"name": "Mueller GmbH", "old": "OK", "reason": "overdue"}, "Credit frozen for Mueller GmbH (was OK): overdue"),
])
def test_alert_message_leaves_no_dangling_separator(values: dict[str, str], expected: str) -> None:
    template = "Credit frozen for {name} (was {old}): {reason}"
    assert render_message(template, lambda n: values[n]) == expected
