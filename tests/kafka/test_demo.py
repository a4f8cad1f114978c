"""The demo's round trip on the real broker and crmhub's registry: the event read back equals the one sent."""

from __future__ import annotations

import io
import os
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from hub.config import HubConfig, load_config, validate_config_text
from hub.demo.generator import ChangeGenerator, DemoSources
from hub.demo.hub import DemoPaths
from hub.demo.live import GeneratorThread
from hub.demo.run import demo_tokens, run_capture_demo, run_demo, start_demo_hub
from hub.demo.scenario import run_scenario
from hub.gateway.ops import ops_snapshot
from hub.kafka.local import LocalKafka, free_port
from tests.kafka.helpers import wait_for

pytestmark = pytest.mark.kafka


def test_demo_round_trip_decodes_the_same_event(kafka_broker: LocalKafka) -> None:
    cfg = validate_config_text(
        f"kafka: {{bootstrap_servers: '{kafka_broker.bootstrap}'}}\n"
        f"registry: {{serve: {{port: {free_port()}, topic: _schemas_demo_test}}}}\n")
    out = io.StringIO()
    trip = run_demo(cfg, Console(file=out, width=200), start_broker=False)
    assert trip.received == trip.sent
    assert trip.received.after is not None and trip.received.after["CRSTAT"] == "F"
    assert trip.key_schema_id != trip.value_schema_id
    text = out.getvalue()
    assert f"{trip.topic}[{trip.partition}] at offset {trip.offset}" in text
    assert "identical to the one produced" in text


ROOT = Path(__file__).resolve().parents[2]


def _demo_config(kafka_broker: LocalKafka, tmp_path: Path) -> HubConfig:
    """config/demo.yaml on the test broker: free ports, files under tmp_path, consumer groups of its own."""
    return validate_config_text(_demo_config_text(kafka_broker, tmp_path), base_dir=ROOT)


def _demo_config_text(kafka_broker: LocalKafka, tmp_path: Path) -> str:
    text = (ROOT / "config" / "demo.yaml").read_text()
    text = text.replace(".crmhub/", f"{tmp_path}/")
    text = text.replace("bootstrap_servers: 127.0.0.1:9092", f"bootstrap_servers: {kafka_broker.bootstrap}")
    for port in (8080, 8081, 8083):
        assert f"port: {port}\n" in text
        text = text.replace(f"port: {port}\n", f"port: {free_port()}\n")
    assert "group_id_prefix: crmhub-demo" in text
    return text.replace("group_id_prefix: crmhub-demo", f"group_id_prefix: demo-{uuid.uuid4().hex[:8]}")


@contextmanager
def _in_repo() -> Iterator[None]:
    cwd = os.getcwd()
    os.chdir(ROOT)  # the copybook and mapping paths in demo.yaml are relative to the repo
    try:
        yield
    finally:
        os.chdir(cwd)


def test_capture_demo_shows_snapshot_and_every_change(hub_broker: LocalKafka, tmp_path: Path) -> None:
    cfg = _demo_config(hub_broker, tmp_path)
    out = io.StringIO()
    with _in_repo():
        events = run_capture_demo(cfg, Console(file=out, width=200), start_broker=False)
    by = {(d.topic, d.event.op.value, tuple(d.event.key.values())) for d in events}
    assert ("src.ibmi.custmast", "r", (Decimal("104711"),)) in by
    assert ("src.ibmi.itmbal", "r", ("VLV-DN50-PN16", "MUC")) in by
    assert ("src.ar.ar_customers", "r", (Decimal("3001"),)) in by
    assert ("src.helpdesk.contacts", "r", (7001,)) in by
    assert ("src.ibmi.ordhdrv", "c", (500003,)) in by
    assert ("src.ibmi.itmbal", "u", ("PMP-200-HP", "MUC")) in by
    assert ("src.ar.ar_customers", "u", (Decimal("3002"),)) in by
    assert ("src.helpdesk.tickets", "c", (9004,)) in by
    assert ("src.exports.custexp", "d", (104713,)) in by
    assert ("src.exports.custexp", "c", (104715,)) in by
    order = next(d.event.after for d in events if d.topic == "src.ibmi.ordhdrv" and d.event.op.value == "c")
    assert order is not None and (order["L1ITNBR"], order["L2ITNBR"], order["L3ITNBR"]) == (
        "PMP-200-HP", "FLG-DN50-S235", None)
    freeze = [d for d in events if d.topic == "src.ibmi.custmast" and d.event.op.value == "u"]
    assert freeze and freeze[0].event.after is not None and freeze[0].event.after["CRSTAT"] == "F"
    text = out.getvalue()
    assert "Credit freeze of 104711: source change -> event in Kafka in" in text
    base = f"http://127.0.0.1:{cfg.gateway.port}"
    assert f"{base}/ui/agent.html#token=crmhub_" in text and f"{base}/ui/ops.html#token=crmhub_" in text
    assert f"{base}/docs" in text


def test_credit_freeze_scenario_measures_commit_to_agent_stream(hub_broker: LocalKafka, tmp_path: Path) -> None:
    cfg = _demo_config(hub_broker, tmp_path)
    out = io.StringIO()
    with _in_repo():
        code = run_scenario("credit-freeze", cfg, Console(file=out, width=200), start_broker=False)
    text = out.getvalue()
    assert code == 0, text
    m = re.search(r"source commit -> agent's screen: change (-?\d+) ms, alert (-?\d+) ms", text)
    assert m, text
    change_ms, alert_ms = int(m.group(1)), int(m.group(2))
    assert change_ms > 0 and alert_ms > 0
    assert f"banner shown after {change_ms} ms" in text
    assert "Agent AGT07 has Mueller GmbH" in text
    # the tokens the demo created are kept and reused by the next run
    first = demo_tokens(cfg)
    assert demo_tokens(cfg) == first


def _get(base: str, token: str, path: str) -> httpx.Response:
    return httpx.get(f"{base}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10.0)


def _golden(base: str, token: str, source: str, key: str, sources: set[str]) -> dict[str, Any]:
    """The golden record of ``source/key`` once its members come from ``sources`` (at least)."""
    found: dict[str, Any] = {}

    def merged() -> bool:
        r = _get(base, token, f"/customers/by-source/{source}/{key}")
        if r.status_code != 200:
            return False
        found.update(r.json())
        return sources <= {m["source"] for m in found["members"]}

    wait_for(merged, 90)
    return found


def test_demo_golden_records_merge_sources_and_orders_show_stock_while_the_generator_runs(
        hub_broker: LocalKafka, tmp_path: Path) -> None:
    cfg = _demo_config(hub_broker, tmp_path)
    with _in_repo():
        demo = start_demo_hub(cfg, Console(file=io.StringIO(), width=200), start_broker=False)
    try:
        assert demo.base_url is not None and demo.tokens is not None
        base, admin = demo.base_url, demo.tokens.admin
        for cusno in ("104711", "104713", "104714", "104715"):  # AR accounts with the IBM i reference
            _golden(base, admin, "ibmi", cusno, {"ibmi", "ar", "helpdesk"})
        mueller = _golden(base, admin, "ibmi", "104711", {"ibmi", "ar", "helpdesk", "exports"})
        assert mueller["data"]["org_name"] == "Mueller GmbH" and mueller["data"]["tax_id"] == "DE811234567"
        assert {v["source"] for v in mueller["lineage"].values() if "source" in v} >= {"ibmi", "ar"}
        # Dupont's AR account has no IBM i reference: the phone in the EBCDIC export links it
        _golden(base, admin, "ibmi", "104712", {"ibmi", "exports", "ar", "helpdesk"})
        orders: list[Any] = []

        def has_order() -> bool:  # the order header comes through its own table and may arrive a little later
            orders[:] = _get(base, admin, f"/customers/{mueller['golden_id']}/orders").json()["orders"]
            return bool(orders)

        wait_for(has_order, 60)
        [order] = orders
        assert [line["item"] for line in order["data"]["lines"]] == ["VLV-DN50-PN16", "GSK-DN50-EPDM"]
        stock: list[Any] = []
        agent = demo.tokens.agent

        def has_stock() -> bool:  # the item balances come from ITMBAL, a connector of their own: maybe later
            r = _get(base, agent, "/inventory/VLV-DN50-PN16")
            stock[:] = r.json()["warehouses"] if r.status_code == 200 else []
            return len(stock) == 2

        wait_for(has_stock, 60)
        assert {(w["warehouse"], w["data"]["available"]) for w in stock} == {("MUC", "36.000"), ("LYS", "12.000")}

        before = sum(c["events"] for c in ops_snapshot(demo.hub)["connectors"])
        gen = GeneratorThread(DemoPaths(demo.db, demo.drop, demo.ar, demo.helpdesk), 25.0, seed=3).start()
        try:
            time.sleep(6.0)
        finally:
            gen.close()
        assert gen.errors == [] and 120 <= gen.total() <= 175  # 25/s for 6 s
        more = ChangeGenerator(DemoSources(demo.db, demo.ar, demo.helpdesk), seed=4)  # reads the keys in use
        try:
            made = [more.make("new_customer") for _ in range(8)]
            ordered = more.make("new_order")
        finally:
            more.close()
        # with the IBM i number in AR and a phone the helpdesk mapping accepts: all three sources merge (a typo
        # may be one the matcher does not read as the same name, so one of them may stay apart)
        new = [c for c in made if "with IBM i reference" in c.what and "phone 'ext." not in c.what]
        assert len(new) >= 3

        def merged_new() -> int:
            found = [_get(base, admin, f"/customers/by-source/ibmi/{c.key}") for c in new]
            return sum(r.status_code == 200 and {m["source"] for m in r.json()["members"]} >= {"ibmi", "ar", "helpdesk"}
                       for r in found)
        wait_for(lambda: merged_new() >= len(new) - 1, 90)

        customer = re.search(r"customer (\d+)", ordered.what)
        assert customer is not None

        def orders_of_customer() -> list[dict[str, Any]]:
            r = _get(base, admin, f"/customers/by-source/ibmi/{customer.group(1)}")
            if r.status_code != 200:
                return []
            found = _get(base, admin, f"/customers/{r.json()['golden_id']}/orders?open=false").json()["orders"]
            return list(found)
        wait_for(lambda: any(o["source_key"] == ordered.key for o in orders_of_customer()), 60)
        orders = orders_of_customer()
        lines = next(o for o in orders if o["source_key"] == ordered.key)["data"]["lines"]
        assert lines and all(_get(base, admin, f"/inventory/{line['item']}").status_code == 200 for line in lines)
        after = sum(c["events"] for c in ops_snapshot(demo.hub)["connectors"])
        assert after - before >= 150  # the generated changes were captured (one change may write several rows)
    finally:
        demo.hub.stop()


def test_demo_with_processes_runs_the_stages_in_child_processes_and_reads_their_metrics(
        hub_broker: LocalKafka, tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"  # the stage processes read the same file
    path.write_text(_demo_config_text(hub_broker, tmp_path).replace(" config/", f" {ROOT}/config/"))
    cfg = load_config(path)
    with _in_repo():
        demo = start_demo_hub(cfg, Console(file=io.StringIO(), width=200), start_broker=False, processes=path)
    stages = demo.hub.stages
    try:
        assert stages is not None and [s.name for s in stages.stages] == ["canonicalize", "unify"]
        assert demo.hub.workers == []  # neither stage runs in this process
        assert demo.base_url is not None and demo.tokens is not None
        # the unify process writes the store the gateway of this process reads
        _golden(demo.base_url, demo.tokens.admin, "ibmi", "104711", {"ibmi", "ar"})
        stages.start_generator(demo.db, demo.ar, demo.helpdesk, 20.0, seed=5)

        def measured() -> bool:
            snap = ops_snapshot(demo.hub)
            unify = next(p for p in snap["pipelines"] if p["name"] == "unify")
            return (stages.generated() >= 40 and unify["extra"]["golden_changed"] > 0
                    and (snap["freshness"].get("ibmi") or {}).get("count", 0) > 0)
        wait_for(measured, 90)
        snap = ops_snapshot(demo.hub)
        by = {p["name"]: p for p in snap["pipelines"]}
        assert by["canonicalize"]["state"] == by["unify"]["state"] == "RUNNING"
        assert by["canonicalize"]["messages"] > 0 and by["unify"]["messages"] > 0
        assert 0 < snap["freshness"]["ibmi"]["p50_s"] < 30
        # the admin API's /metrics serves the stages' series too
        assert demo.hub.admin is not None
        metrics = httpx.get(f"{demo.hub.admin.url}/metrics", timeout=10,
                            headers={"Authorization": f"Bearer {demo.tokens.admin}"}).text
        unify_messages = re.search(r'^crmhub_pipeline_messages_total\{pipeline="unify"\} (\S+)$', metrics, re.M)
        assert unify_messages is not None and float(unify_messages[1]) > 0
        # the data-quality view comes from the canonicalize process's summary file
        wait_for(lambda: ops_snapshot(demo.hub)["dq"], 30)
        assert {r["source"] for r in ops_snapshot(demo.hub)["dq"]} <= {"ibmi", "ar", "helpdesk", "exports"}
    finally:
        demo.hub.stop()
    assert [(s.name, s.proc.returncode) for s in stages.stages] == [
        ("canonicalize", 0), ("unify", 0), ("generator", 0)]  # each stopped by SIGTERM, cleanly
