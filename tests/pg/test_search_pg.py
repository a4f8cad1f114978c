"""Customer search on a PostgreSQL store: the demo loaded as ``crmhub load`` loads it, searched over HTTP by
phone, e-mail and a contact person's name, and the contact-name index following a renamed contact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.gateway.app import close_gateway_app, create_gateway_app
from hub.gateway.tokens import create_token
from tests.demo_store import contact_row, demo_config, load_demo, send_contact
from tests.unify_helpers import golden_of

pytestmark = pytest.mark.pg


def test_search_by_phone_email_and_contact_on_postgresql(tmp_path: Path, pg_store_url: str) -> None:
    cfg = demo_config(tmp_path, store_url=pg_store_url)
    unifier = load_demo(cfg)
    try:
        store = unifier.store
        assert not store.is_sqlite
        token = create_token(cfg.gateway.tokens_file, "crm-web", "agent", set(cfg.gateway.effective_roles()))
        app = create_gateway_app(cfg, store)
        client = TestClient(app, base_url="http://localhost")

        def found(**params: Any) -> list[str]:
            response = client.get("/customers", params=params, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.text
            return [r["golden_id"] for r in response.json()["results"]]

        mueller, dupont = golden_of(store, "helpdesk", "7001"), golden_of(store, "ar", "3002")
        assert found(phone="0033 1 44-55-66-77") == [dupont]
        assert found(email=" Amministrazione@RossiSpa.IT") == [golden_of(store, "ar", "3003")]
        assert found(name="berger, ANNA") == [mueller]
        assert found(name="Anna Bergmann") == []
        send_contact(cfg, unifier, contact_row(7001, FirstName="Annette"), 7001)
        assert found(name="Anna Berger") == []
        assert found(name="Annette Berger") == [mueller]
        close_gateway_app(app)
    finally:
        unifier.store.dispose()
