"""The demo's stand-ins read by the real SQL connector and unified in process (``crmhub load``, no broker) with
config/demo.yaml's connectors, mappings and survivorship: customers merge across the IBM i, Oracle AR and the
SQL Server helpdesk, orders carry their lines, stock is kept per item and warehouse, and so it stays after the
change generator has been at work."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hub.config import HubConfig, validate_config_text
from hub.demo.generator import ChangeGenerator, DemoSources, run
from hub.demo.hub import DemoPaths, demo_paths, demo_topics, seed_stand_ins
from hub.pipeline_setup import load_parts
from hub.runtime.loader import LoadSummary, load
from pipelines.store import views
from pipelines.unify.engine import Unifier

ROOT = Path(__file__).resolve().parents[2]


def demo_config(tmp: Path) -> HubConfig:
    return validate_config_text((ROOT / "config" / "demo.yaml").read_text().replace(".crmhub/", f"{tmp}/"),
                                base_dir=ROOT)


@dataclass
class Loaded:
    summary: LoadSummary
    unifier: Unifier
    golden: list[views.GoldenRow]

    def by_member(self, source: str, key: str) -> views.GoldenRow:
        return next(g for g in self.golden if {"source": source, "source_key": key} in
                    [{"source": m["source"], "source_key": m["source_key"]} for m in g.members])


def load_all(cfg: HubConfig) -> Loaded:
    parts = load_parts(cfg)
    unifier = parts.unifier()
    summary = load(cfg, parts, unifier)
    with unifier.store.tx() as conn:
        golden = list(views.iter_golden(conn))
    return Loaded(summary, unifier, golden)


@pytest.fixture()
def stands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[HubConfig, DemoPaths]]:
    monkeypatch.chdir(ROOT)  # the config's mapping and copybook paths are relative to the repository
    cfg = demo_config(tmp_path)
    paths = demo_paths(cfg)
    seed_stand_ins(paths)
    yield cfg, paths


def count(db: Path | None, sql: str) -> int:
    assert db is not None
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def sources_of(g: views.GoldenRow) -> set[str]:
    return {m["source"] for m in g.members}


def lineage_sources(g: views.GoldenRow) -> set[str]:
    return {v["source"] for v in g.lineage.values() if isinstance(v, dict) and "source" in v}


def test_demo_config_names_every_stand_in_and_topic(stands: tuple[HubConfig, DemoPaths]) -> None:
    cfg, paths = stands
    assert paths.ar is not None and paths.ar.exists() and paths.helpdesk is not None and paths.helpdesk.exists()
    assert set(demo_topics(cfg)) == {
        "src.ibmi.custmast", "src.ibmi.ordhdrv", "src.ibmi.itmbal", "src.ar.ar_customers", "src.helpdesk.contacts",
        "src.helpdesk.tickets", "src.exports.custexp"}


def test_seeded_customers_merge_across_ibmi_ar_and_helpdesk(stands: tuple[HubConfig, DemoPaths]) -> None:
    cfg, _ = stands
    loaded = load_all(cfg)
    assert loaded.summary.dlq == 0
    assert set(loaded.summary.per_connector) == {"ibmi", "ar", "helpdesk"}
    for cusno in ("104711", "104713", "104714", "104715"):
        g = loaded.by_member("ibmi", cusno)
        assert sources_of(g) == {"ibmi", "ar", "helpdesk"}, g.members
        assert {"ibmi", "ar"} <= lineage_sources(g)  # fields from more than one source
    mueller = loaded.by_member("ibmi", "104711")
    assert mueller.data is not None
    assert mueller.data["org_name"] == "Mueller GmbH"  # the IBM i's name, not the helpdesk's "Mueler GmbH"
    assert mueller.lineage["org_name"]["source"] == "ibmi" and mueller.lineage["tax_id"]["source"] == "ar"
    assert mueller.data["tax_id"] == "DE811234567" and mueller.data["owning_agent"] == "AGT07"
    assert {p["number"] for p in mueller.data["phones"]} == {"+49891234567"}
    # Dupont's AR account was keyed by hand (no IBM i reference): its name alone only makes a possible match;
    # the EBCDIC export's phone number (not in a load) joins it when the hub runs
    dupont = loaded.by_member("ar", "3002")
    assert sources_of(dupont) == {"ar", "helpdesk"}
    assert sources_of(loaded.by_member("ibmi", "104712")) == {"ibmi"}
    with loaded.unifier.store.tx() as conn:
        orders = views.orders_for(conn, [("ibmi", "104711")])
        stock = views.inventory_for(conn, ["VLV-DN50-PN16"])
    [order] = orders
    assert [(line["item"], line["warehouse"], line["quantity"]) for line in order["data"]["lines"]] == [
        ("VLV-DN50-PN16", "MUC", "4.000"), ("GSK-DN50-EPDM", "MUC", "20.000")]
    assert [(s["warehouse"], s["data"]["available"]) for s in stock] == [("LYS", "12.000"), ("MUC", "36.000")]


def test_generated_customers_merge_and_orders_keep_their_lines(stands: tuple[HubConfig, DemoPaths]) -> None:
    cfg, paths = stands
    gen = ChangeGenerator(DemoSources(paths.legacy, paths.ar, paths.helpdesk), seed=5)
    try:
        made = run(gen, 2000.0, threading.Event(), seconds=0.4)
        new = [gen.make("new_customer") for _ in range(10)]
    finally:
        gen.close()
    assert len(made) >= 6 and sum(made.values()) > 100
    loaded = load_all(cfg)
    assert loaded.summary.dlq == count(paths.helpdesk, "SELECT COUNT(*) FROM Contacts WHERE Phone LIKE 'ext.%'")
    with_ref = [c for c in new if "with IBM i reference" in c.what]
    merged = [c for c in with_ref if sources_of(loaded.by_member("ibmi", c.key)) == {"ibmi", "ar", "helpdesk"}]
    expected = [c for c in with_ref if "phone 'ext." not in c.what]  # a rejected contact cannot be merged
    assert expected and len(merged) >= len(expected) - 1, [c.what for c in expected if c not in merged]
    with loaded.unifier.store.tx() as conn:
        orders: list[dict[str, Any]] = [o for g in loaded.golden for o in views.orders_for(
            conn, [(m["source"], m["source_key"]) for m in g.members], only_open=False)]
    assert len(orders) > 2 and all(o["data"]["lines"] for o in orders)
