"""The demo's golden-record store, built as ``crmhub load -c config/demo.yaml`` builds it: the demo's own
stand-ins (IBM i, Oracle AR, SQL Server helpdesk) seeded in a temp dir, snapshotted through the demo's mappings
and the real unify engine. Helpers to send one more helpdesk contact change through the same mapping."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from hub.config import HubConfig, validate_config_text
from hub.demo.hub import demo_paths, seed_stand_ins
from hub.demo.stands import CONTACTS
from hub.pipeline_setup import load_parts
from hub.runtime.loader import load
from pipelines.canonicalize import canonicalize
from pipelines.unify.engine import Unifier
from schemas.envelope import ChangeEvent, SourceInfo

ROOT = Path(__file__).resolve().parents[1]
CONTACT_COLUMNS = ("ContactId", "CompanyName", "FirstName", "LastName", "Email", "Phone", "City", "CountryCode")


def demo_config(tmp: Path, store_url: str | None = None) -> HubConfig:
    """config/demo.yaml with its state under ``tmp`` (and the store at ``store_url`` when given)."""
    text = (ROOT / "config" / "demo.yaml").read_text(encoding="utf-8")
    text = text.replace(".crmhub/", f"{tmp}/").replace("config/", f"{ROOT}/config/")
    if store_url is not None:
        text = text.replace(f'"sqlite:///{tmp}/demo/store.db"', f'"{store_url}"')
        assert store_url in text
    return validate_config_text(text)


def load_demo(cfg: HubConfig) -> Unifier:
    """Seed the demo's stand-ins and load them into the store of ``cfg`` (the caller disposes its store)."""
    seed_stand_ins(demo_paths(cfg))
    unifier = load_parts(cfg).unifier()
    load(cfg, load_parts(cfg), unifier)
    return unifier


def contact_row(contact_id: int, **changes: Any) -> dict[str, Any]:
    """A row of the helpdesk's ``Contacts`` as seeded, with ``changes``."""
    seeded = next(c for c in CONTACTS if c[0] == contact_id)
    return {**dict(zip(CONTACT_COLUMNS, seeded, strict=True)), "IsActive": True, **changes}


def send_contact(cfg: HubConfig, unifier: Unifier, row: dict[str, Any] | None, contact_id: int) -> None:
    """One later change of a helpdesk contact (``row`` None: its delete) through the demo's mapping."""
    source = SourceInfo(connector="sql", name="helpdesk", db="demo", schema=None, table="Contacts",
                        ts_ms=int(time.time() * 1000) + 60_000, position={"ts": "x"})
    before = contact_row(contact_id) if row is None else None
    ev = ChangeEvent.create(key={"ContactId": contact_id}, before=before, after=row, op="u" if row else "d",
                            source=source, ts_ms=source.ts_ms)
    result = canonicalize(load_parts(cfg).mappings, ev, topic="src.helpdesk.contacts", partition=0, offset=1,
                          now_ms=source.ts_ms)
    assert result.rejected == [], [r.to_json() for r in result.rejected]
    unifier.apply(result.events)
