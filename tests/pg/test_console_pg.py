"""The agent console's reads and writes on a PostgreSQL store: the demo loaded as ``crmhub load`` loads it, its
helpdesk tickets as cases of their customers, the live view's parts, and acknowledging an alert."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.demo.stands import TICKETS
from hub.gateway.app import close_gateway_app, create_gateway_app
from hub.gateway.console import live_parts
from hub.gateway.tokens import create_token
from pipelines.store import views
from tests.demo_store import demo_config, load_demo
from tests.unify_helpers import golden_of

pytestmark = pytest.mark.pg


def test_cases_live_parts_and_acknowledgements_on_postgresql(tmp_path: Path, pg_store_url: str) -> None:
    cfg = demo_config(tmp_path, store_url=pg_store_url)
    unifier = load_demo(cfg)
    try:
        store = unifier.store
        assert not store.is_sqlite
        known = set(cfg.gateway.effective_roles())
        agent = create_token(cfg.gateway.tokens_file, "crm-agent", "agent", known)
        app = create_gateway_app(cfg, store)
        client = TestClient(app, base_url="http://localhost")
        headers = {"Authorization": f"Bearer {agent}"}
        mueller = golden_of(store, "helpdesk", "7001")
        assert mueller is not None
        body = client.get(f"/customers/{mueller}/cases", headers=headers).json()
        seeded = {f"HD-{t[0]:06d}" for t in TICKETS if t[1] == 7001}
        assert {c["case_number"] for c in body["cases"]} == seeded
        assert all(c["is_open"] and c["source"] == "helpdesk" for c in body["cases"])
        with store.read() as conn:
            parts = live_parts(conn, mueller, frozenset({"orders", "inventory", "cases"}), only_open=True)
        with store.tx() as conn:
            views.log_alerts(conn, [{"alert_id": "a-1", "golden_id": mueller, "agent": "AGT07", "rule": "r",
                                     "severity": "warning", "ts_ms": 1, "message": "m"}])
        assert [c["case_number"] for c in parts["cases"]["cases"]] == [c["case_number"] for c in body["cases"]]
        assert all(line["stock"] for o in parts["orders"]["orders"] for line in o["data"]["lines"])
        post = {**headers, "Content-Type": "application/json"}
        first = client.post("/alerts/a-1/ack", headers=post).json()["acknowledged"]
        assert first["by"] == "crm-agent"
        assert client.post("/alerts/a-1/ack", headers=post).json()["acknowledged"] == first
        [alert] = client.get(f"/customers/{mueller}/alerts", headers=headers).json()["alerts"]
        assert alert["acknowledged"] == first
        close_gateway_app(app)
    finally:
        unifier.store.dispose()
