"""The interactive API docs work without internet: Swagger UI and ReDoc come from the server itself, with no
token needed for them, under a Content-Security-Policy that allows nothing from elsewhere."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from fastapi.testclient import TestClient

from hub.gateway.guards import admin_guard
from hub.serving.admin import create_admin_app
from tests.unit.test_http_guard import config


def test_swagger_ui_and_redoc_are_served_by_the_admin_api_itself(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    hub: Any = SimpleNamespace(runners={}, roles=frozenset({"admin"}), lag=None, runner=lambda name: None,
                               cluster_status=lambda: None)
    spec = admin_guard(cfg)
    client = TestClient(create_admin_app(hub, spec), base_url="http://127.0.0.1:8083")
    try:
        for page in ("/docs", "/redoc"):
            answer = client.get(page)  # no token: the docs are public, the routes they call are not
            assert answer.status_code == 200, answer.text
            assert "cdn.jsdelivr.net" not in answer.text and "unpkg.com" not in answer.text
            assets = re.findall(r'(?:src|href)="(/static-offline-docs/[^"]+)"', answer.text)
            assert assets, answer.text[:500]
            for asset in assets:
                assert client.get(asset).status_code == 200, asset
            csp = answer.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "http" not in csp
        assert client.get("/connectors").status_code == 401
    finally:
        for close in spec.on_stop:
            close()
