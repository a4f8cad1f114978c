"""Customer search on a PostgreSQL store: the demo loaded as ``crmhub load`` loads it, searched over HTTP by
phone, e-mail and a contact person's name, and the contact-name index following a renamed contact."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from hub.gateway.app import close_gateway_app, create_gateway_app
from hub.gateway.tokens import create_token
from tests.demo_store import contact_row, demo_config, load_demo, send_contact
from tests.unify_helpers import golden_of

pytestmark = pytest.mark.pg


@pytest.fixture
def schema_url(pg_url: str) -> Iterator[str]:
    """A fresh schema of the test server, as a store URL (``search_path`` set to it)."""
    name = f"crmhub_search_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    url = sa.engine.make_url(pg_url).update_query_dict({"options": f"-csearch_path={name}"})
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    admin.dispose()


def test_search_by_phone_email_and_contact_on_postgresql(tmp_path: Path, schema_url: str) -> None:
    cfg = demo_config(tmp_path, store_url=schema_url)
    unifier = load_demo(cfg)
    try:
        store = unifier.store
        assert not store.is_sqlite
        token = create_token(cfg.gateway.tokens_file, "crm-web", "agent", set(cfg.gateway.effective_roles()))
        app = create_gateway_app(cfg, store)
        client = TestClient(app)

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
