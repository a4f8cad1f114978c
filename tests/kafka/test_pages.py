"""The agent console and the operations dashboard in headless Chromium (Debian's, driven by Playwright) against
a whole hub on the real broker: search, the 360° view with each field's source, fields hidden by role, the
live banner when the IBM i side freezes the customer's credit, connectors and the data-quality view.
Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import contextlib
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from hub.config import validate_config_text
from hub.demo.sources import freeze_credit, seed_legacy_db
from hub.gateway.tokens import create_token
from hub.kafka.local import LocalKafka, free_port
from hub.runtime.hub import Hub
from tests.kafka.helpers import wait_for
from tests.kafka.test_pipelines import _config, _mappings

pytestmark = pytest.mark.kafka
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "Debian's chromium is missing: `make test` installs it (SYSTEM_PACKAGES)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass(frozen=True)
class PageHub:
    """A whole hub on the demo's legacy database, its gateway at ``base``, with an admin and an agent token."""

    hub: Hub
    base: str
    source: str
    tag: str
    admin: str
    agent: str


@contextlib.contextmanager
def page_hub(broker: LocalKafka, tmp_path: Path, prefix: str, agent_name: str) -> Iterator[PageHub]:
    """Starts the hub (connector ``<prefix><tag>`` on the seeded legacy database) and stops it afterwards."""
    tag = uuid.uuid4().hex[:6]
    source = f"{prefix}{tag}"
    seed_legacy_db(tmp_path / "legacy.db")
    _mappings(tmp_path / "mappings", source)
    port = free_port()
    cfg = validate_config_text(_config(broker, tmp_path, source, f"g{prefix}{tag}", free_port(), tag, port))
    known = set(cfg.gateway.effective_roles())
    agent = create_token(cfg.gateway.tokens_file, agent_name, "agent", known)
    admin = create_token(cfg.gateway.tokens_file, "ops-dashboard", "admin", known)
    ARTIFACTS.mkdir(exist_ok=True)
    hub = Hub(cfg)
    hub.start()
    try:
        yield PageHub(hub, f"http://127.0.0.1:{port}", source, tag, admin, agent)
    finally:
        hub.stop()


def test_agent_console_and_ops_dashboard(hub_broker: LocalKafka, tmp_path: Path, browser: Browser) -> None:
    with page_hub(hub_broker, tmp_path, "ibmi", "agent-console") as ph:
        base, source, admin, agent = ph.base, ph.source, ph.admin, ph.agent
        auth = {"Authorization": f"Bearer {admin}"}

        def loaded() -> bool:  # the customer and its open order are in the store
            r = httpx.get(f"{base}/customers/by-source/{source}/104711", headers=auth)
            return r.status_code == 200 and bool(
                httpx.get(f"{base}/customers/{r.json()['golden_id']}/orders", headers=auth).json()["orders"])
        wait_for(loaded, 60)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        _agent_console(page, base, agent, tmp_path, source)
        _ops_dashboard(browser.new_page(viewport={"width": 1300, "height": 1000}), base, admin, tmp_path, source)


def _agent_console(page: Page, base: str, token: str, tmp: Path, source: str) -> None:
    page.goto(f"{base}/ui/agent.html#token={token}")
    page.fill("#q", "Mueller GmbH")
    page.click("#search-btn")
    page.locator("#results li.hit").first.click()
    name = page.locator('#fields tr[data-field="org_name"]')
    expect(name.locator(".value")).to_have_text("Mueller GmbH", timeout=15_000)
    expect(name.locator(".src")).to_have_text(f"{source}/104711")
    expect(page.locator('#fields tr[data-field="credit_status"] .value')).to_have_text("OK")
    expect(page.locator('#fields tr[data-field="credit_limit"]')).to_have_count(0)  # hidden from agents
    expect(page.locator("#orders tr.order")).to_have_count(1)
    expect(page.locator("#orders tr.order td").first).to_have_text("500001")
    expect(page.locator("#banner")).to_be_hidden()
    expect(page.locator("body[data-live]")).to_have_count(1, timeout=15_000)  # the page's stream is open
    frozen_at = time.monotonic()
    freeze_credit(tmp / "legacy.db", 104711)
    expect(page.locator("#banner")).to_be_visible(timeout=60_000)
    seen_after = time.monotonic() - frozen_at
    expect(page.locator("#banner")).to_contain_text("FROZEN")
    expect(page.locator('#fields tr[data-field="credit_status"] .value')).to_have_text("FROZEN")
    expect(page.locator("#alerts li.alert")).to_have_count(1)
    expect(page.locator("#alerts li.alert").first).to_contain_text("critical")
    expect(page.locator("#orders tr.order")).to_have_count(1)  # live refreshes replace, never duplicate
    page.screenshot(path=str(ARTIFACTS / "agent-console.png"), full_page=True)
    print(f"source commit -> agent's screen: {seen_after:.2f} s")


def _ops_dashboard(page: Page, base: str, token: str, tmp: Path, source: str) -> None:
    with sqlite3.connect(tmp / "legacy.db") as db:  # a row the mapping rejects: the data-quality view shows it
        db.execute("INSERT INTO CUSTMAST VALUES (104799, 'BAD STATUS AG', 'X', '10.00', 'DE', 'AGT01', "
                   "strftime('%Y-%m-%d %H:%M:%f', 'now'))")  # the precision of the other changes
    page.goto(f"{base}/ui/ops.html#token={token}")
    row = page.locator(f'#connectors tr[data-name="{source}"]')
    expect(row.locator("td").nth(1)).to_have_text("RUNNING", timeout=15_000)
    expect(page.locator("#pipelines tbody tr")).to_have_count(2)
    dq = page.locator(".dq-row").filter(has_text=source)
    expect(dq.first).to_contain_text("code", timeout=30_000)
    expect(dq.first.locator(".sample").first).to_contain_text("104799")
    expect(page.locator("#freshness tbody tr").filter(has_text=source)).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "ops-dashboard.png"), full_page=True)
