"""The operations dashboard in headless Chromium (fixtures and settings of ``test_pages.py``) against a whole hub
on the real broker: history charts with points, per-partition lag, a connector paused, resumed and restarted
from the page (and in the audit log), a paused connector's source lag growing, a message decoded by offset and
by key, a schema diff, and a dead letter re-sent to its source topic. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from hub.demo.sources import _ts, freeze_credit
from hub.gateway.ops_browse import json_safe
from hub.kafka.clients import Consumer, KafkaSettings, Message
from hub.kafka.local import LocalKafka
from hub.registry.decode import ChangeDecoder
from hub.runtime.hub import Hub
from hub.runtime.runner import ConnectorState
from hub.wiring import avro_serde
from tests.kafka.helpers import wait_for
from tests.kafka.test_pages import ARTIFACTS, browser, page_hub  # noqa: F401  (the module's Chromium fixture)

pytestmark = pytest.mark.kafka


def _message(settings: KafkaSettings, topic: str, partition: int, offset: int) -> Message:
    consumer = Consumer(settings, None)
    try:
        consumer.assign(topic, [partition], from_beginning=False)
        consumer.seek(topic, partition, offset)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for m in consumer.poll(timeout_ms=200, max_records=1):
                return m
    finally:
        consumer.close()
    raise AssertionError(f"{topic}/{partition}/{offset} not read")


def _shown(pre: str) -> Any:
    """The JSON after the page's ``[avro, schema N] `` prefix."""
    return json.loads(pre.split("] ", 1)[1])


def test_ops_dashboard(hub_broker: LocalKafka, tmp_path: Path, browser: Browser) -> None:  # noqa: F811
    with page_hub(hub_broker, tmp_path, "ops", "agent-desk") as ph:
        hub, base, source, tag, admin, agent = ph.hub, ph.base, ph.source, ph.tag, ph.admin, ph.agent
        auth = {"Authorization": f"Bearer {admin}"}
        wait_for(lambda: httpx.get(f"{base}/customers/by-source/{source}/104711", headers=auth).status_code == 200, 60)
        with sqlite3.connect(tmp_path / "legacy.db") as db:  # a row the mapping rejects: a dead letter
            db.execute("INSERT INTO CUSTMAST VALUES (104799, 'BAD STATUS AG', 'X', '10.00', 'DE', 'AGT01', ?)",
                       (_ts(),))
        freeze_credit(tmp_path / "legacy.db", 104711)
        refused = httpx.put(f"{base}/ops/connectors/{source}/pause", headers={"Authorization": f"Bearer {agent}"})
        assert refused.status_code == 403 and hub.runners[source].status.state is ConnectorState.RUNNING
        assert httpx.get(f"{base}/ops/topics", headers={"Authorization": f"Bearer {agent}"}).status_code == 403
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        page.on("dialog", lambda d: d.accept())  # the page confirms every action
        page.goto(f"{base}/ui/ops.html#token={admin}")
        _charts_and_lag(page)
        _pause_and_resume(page, hub, base, auth, source, tmp_path)
        _messages(page, hub, source)
        _schema_diff(page, hub, tag)
        _resend(page, hub, base, auth, source)
        page.screenshot(path=str(ARTIFACTS / "ops-dashboard-full.png"), full_page=True)


def _charts_and_lag(page: Page) -> None:
    started = time.monotonic()
    expect(page.locator("#chart-events")).not_to_have_attribute("data-points", "0", timeout=15_000)
    expect(page.locator("#chart-events[data-points]")).to_have_count(1)
    expect(page.locator("#chart-lag")).not_to_have_attribute("data-points", "0", timeout=20_000)
    expect(page.locator("#chart-freshness")).not_to_have_attribute("data-points", "0", timeout=20_000)
    print(f"every chart with points after {time.monotonic() - started:.1f} s")
    assert int(page.locator("#chart-events").get_attribute("data-points") or 0) > 0
    expect(page.locator("#partitions tr.partition").first).to_be_visible(timeout=20_000)
    page.click("button.window[data-window='1h']")
    expect(page.locator("button.window.on")).to_have_attribute("data-window", "1h")
    expect(page.locator("#chart-events")).not_to_have_attribute("data-points", "0", timeout=10_000)


def _pause_and_resume(page: Page, hub: Hub, base: str, auth: dict[str, str], source: str, tmp: Path) -> None:
    row = page.locator(f'#connectors tr[data-name="{source}"]')
    runner = hub.runners[source]
    row.locator("button.act-pause").click()
    expect(row.locator("td").nth(1)).to_have_text("PAUSED", timeout=10_000)
    assert runner.status.state is ConnectorState.PAUSED
    entries = httpx.get(f"{base}/audit", params={"limit": 50}, headers=auth).json()["entries"]
    paused = [e for e in entries if e["path"] == f"/ops/connectors/{source}/pause"]
    assert paused and paused[0]["method"] == "PUT" and paused[0]["token_name"] == "ops-dashboard"
    assert paused[0]["status"] == 202
    time.sleep(1.5)  # the source moves on while the connector is paused: its lag grows on the page
    with sqlite3.connect(tmp / "legacy.db") as db:
        db.execute("UPDATE CUSTMAST SET CRSTAT = 'A', CHGTS = ? WHERE CUSNO = 104712", (_ts(),))
    wait_for(lambda: (runner.status.source_lag.get("CUSTMAST", {}).get("seconds") or 0) > 1.0, 15)
    expect(row.locator(".source-lag")).not_to_contain_text("CUSTMAST: 0 ms", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "ops-dashboard-paused.png"), full_page=True)
    row.locator("button.act-resume").click()
    expect(row.locator("td").nth(1)).to_have_text("RUNNING", timeout=10_000)
    wait_for(lambda: runner.status.source_lag.get("CUSTMAST", {}).get("seconds") == 0.0, 30)
    runs = runner.status.runs
    row.locator("button.act-restart").click()  # starts again from its saved position
    wait_for(lambda: runner.status.runs == runs + 1 and runner.status.state is ConnectorState.RUNNING, 30)


def _messages(page: Page, hub: Hub, source: str) -> None:
    topic = f"src.{source}.custmast"
    serde = avro_serde(hub.cfg, hub.registry)
    produced = _message(hub.settings, topic, 0, 2)
    page.select_option("#topic", topic)
    page.fill("#partition", "0")
    page.fill("#offset", "2")
    page.click("#read")
    shown = page.locator('#messages .message[data-offset="2"]')
    expect(shown).to_have_count(1, timeout=15_000)
    assert _shown(shown.locator("pre.msg-value").inner_text()) == json_safe(serde.deserialize(produced.value or b""))
    assert _shown(shown.locator("pre.msg-key").inner_text()) == json_safe(serde.deserialize(produced.key or b""))
    page.fill("#offset", "")
    page.fill("#key", "104711")
    page.click("#read")
    expect(page.locator("#messages .message").first).to_be_visible(timeout=15_000)
    page.wait_for_timeout(500)
    keys = [_shown(t) for t in page.locator("#messages pre.msg-key").all_inner_texts()]
    assert keys and all([str(v) for v in k.values()] == ["104711"] for k in keys)


def _schema_diff(page: Page, hub: Hub, tag: str) -> None:
    client = avro_serde(hub.cfg, hub.registry).client
    subject = f"ops{tag}-value"
    v1 = {"type": "record", "name": "Contact", "fields": [{"name": "id", "type": "long"}]}
    v2 = {**v1, "fields": [*v1["fields"], {"name": "email", "type": ["null", "string"], "default": None}]}
    client.register(subject, v1)
    client.register(subject, v2)
    page.reload()
    page.locator("#subject option", has_text=subject).wait_for(state="attached", timeout=15_000)
    page.select_option("#subject", subject)
    page.select_option("#from", "1")
    page.select_option("#to", "2")
    page.click("#compare")
    changed = page.locator('#diff tr[data-path="email"]')
    expect(changed).to_have_count(1, timeout=10_000)
    expect(changed.locator("td").nth(1)).to_have_text("added")
    expect(page.locator("#diff tr.change")).to_have_count(1)
    expect(page.locator("#diff-lines")).to_contain_text('"email"')


def _resend(page: Page, hub: Hub, base: str, auth: dict[str, str], source: str) -> None:
    letter = page.locator("#dead-letters tr.letter").filter(has_text=source).filter(has_text="104799")
    expect(letter.first).to_be_visible(timeout=30_000)
    before = letter.count()  # one per mapping target that rejects it
    letter_id = letter.first.get_attribute("data-id")
    letter.first.locator("button.resend").click()
    result = page.locator("#dlq-result")
    expect(result).to_contain_text("re-sent", timeout=15_000)
    where = result.get_attribute("data-resent") or ""
    topic, partition, offset = where.rsplit("/", 2)
    assert topic == f"src.{source}.custmast"
    m = _message(hub.settings, topic, int(partition), int(offset))
    event = ChangeDecoder(avro_serde(hub.cfg, hub.registry)).decode(m.key or b"", m.value or b"")
    assert event.after is not None and event.after["CUSNO"] == 104799 and event.after["CRSTAT"] == "X"
    assert dict(m.headers)["crmhub.resent-from"] == (letter_id or "").encode()
    entries = httpx.get(f"{base}/audit", params={"limit": 50}, headers=auth).json()["entries"]
    assert any(e["path"] == "/ops/dead-letters/resend" and e["method"] == "POST" and e["status"] == 200
               for e in entries)
    # the pipeline read it again: the mapping still rejects it, so its dead letters come again
    page.reload()
    expect(letter).to_have_count(2 * before, timeout=30_000)
