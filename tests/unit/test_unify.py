"""The unify step against a real SQLite store: linking, stable golden ids, merges, splits, idempotence."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from pipelines.store import views
from pipelines.store.engine import Store
from pipelines.survivorship import SurvivorshipConfig
from pipelines.unify.config import UnifyConfig
from pipelines.unify.engine import Unifier
from schemas.unified import CHANGES_TOPIC, UNIFIED_TOPIC
from tests.unify_helpers import drain, event, golden_of, golden_row, person


@pytest.fixture
def unifier(store: Store) -> Unifier:
    return Unifier(store, now_ms=lambda: 5_000)


JOHN_IBMI = person("John", "Smith", "1980-01-02", "john.smith@example.com",
                   phones=[{"number": "+441234567890"}])
JOHN_ORACLE = person("Jon", "Smith", "1980-01-02", "JOHN.SMITH@example.com")
MARY = person("Mary", "Jones", "1975-06-30", "mary@example.org")


def test_same_person_in_two_sources_gets_one_golden_record_with_lineage(unifier: Unifier, store: Store) -> None:
    stats = unifier.apply([event("ibmi", "1", JOHN_IBMI, 100), event("oracle", "A7", JOHN_ORACLE, 200),
                           event("ibmi", "2", MARY, 150)])
    assert stats.applied == 3
    gid = golden_of(store, "ibmi", "1")
    assert gid is not None and gid == golden_of(store, "oracle", "A7")
    assert golden_of(store, "ibmi", "2") not in (None, gid)
    row = golden_row(store, gid)
    assert {(m["source"], m["source_key"]) for m in row.members} == {("ibmi", "1"), ("oracle", "A7")}
    assert row.data is not None and row.data["given_name"] == "Jon"  # most recent by default
    assert row.lineage["given_name"]["source"] == "oracle"
    assert row.lineage["phones[0]"]["source"] == "ibmi"
    out = drain(unifier)
    topics = [t for t, _k, _v in out]
    # one version per golden record per batch: john (both sources) and mary are created, nothing in between
    assert topics.count(UNIFIED_TOPIC) == topics.count(CHANGES_TOPIC) == 2
    john = next(v for t, k, v in out if t == CHANGES_TOPIC and k == gid)
    assert (john["kind"], john["version"]) == ("create", 1)
    assert (john["cause"]["source"], john["cause"]["source_key"]) == ("oracle", "A7")  # the batch's last event


def test_freshness_is_measured_for_changes_not_for_snapshot_reads(unifier: Unifier) -> None:
    read = dataclasses.replace(event("ibmi", "1", JOHN_IBMI, 100), snapshot=True)
    stats = unifier.apply([read, event("ibmi", "2", MARY, 150)])
    assert stats.applied == 2 and stats.source_times == [("ibmi", 150)]


def test_events_in_separate_batches_each_make_a_version(unifier: Unifier, store: Store) -> None:
    unifier.apply([event("ibmi", "1", JOHN_IBMI, 100)])
    unifier.apply([event("oracle", "A7", JOHN_ORACLE, 200)])
    gid = golden_of(store, "ibmi", "1")
    changes = [v for t, k, v in drain(unifier) if t == CHANGES_TOPIC and k == gid]
    assert [(c["kind"], c["version"]) for c in changes] == [("create", 1), ("update", 2)]


def test_a_customer_and_its_credit_in_one_batch_make_one_version(unifier: Unifier, store: Store) -> None:
    credit = {"customer_key": "1", "status": "FROZEN", "limit": "0"}
    unifier.apply([event("ibmi", "1", JOHN_IBMI, 100), event("ibmi", "C1", credit, 110, entity="credit"),
                   event("ibmi", "1", {**JOHN_IBMI, "given_name": "Johnny"}, 120)])
    row = golden_row(store, golden_of(store, "ibmi", "1") or "")
    assert row.data is not None and (row.data["given_name"], row.data["credit_status"]) == ("Johnny", "FROZEN")
    changes = [v for t, _k, v in drain(unifier) if t == CHANGES_TOPIC]
    assert len(changes) == 1
    assert changes[0]["cause"]["source_key"] == "1"  # the last event touching it (the credit's key is C1)
    assert {f["field"] for f in changes[0]["fields"]} >= {"given_name", "credit_status"}


def test_replaying_the_same_events_changes_nothing(unifier: Unifier, store: Store) -> None:
    events = [event("ibmi", "1", JOHN_IBMI, 100), event("oracle", "A7", JOHN_ORACLE, 200)]
    unifier.apply(events)
    first = drain(unifier)
    before = golden_row(store, golden_of(store, "ibmi", "1") or "")
    stats = unifier.apply(events)
    assert (stats.applied, stats.skipped) == (0, 2)
    assert drain(unifier) == []
    assert golden_row(store, before.golden_id) == before
    assert first


def test_an_older_version_is_ignored(unifier: Unifier, store: Store) -> None:
    unifier.apply([event("ibmi", "1", JOHN_IBMI, 200)])
    stats = unifier.apply([event("ibmi", "1", {**JOHN_IBMI, "given_name": "Johnny"}, 100)])
    assert stats.skipped == 1
    row = golden_row(store, golden_of(store, "ibmi", "1") or "")
    assert row.data is not None and row.data["given_name"] == "John"


def test_changes_record_field_by_field_with_cause(unifier: Unifier, store: Store) -> None:
    unifier.apply([event("ibmi", "1", JOHN_IBMI, 100)])
    drain(unifier)
    unifier.apply([event("ibmi", "1", {**JOHN_IBMI, "credit_status": "FROZEN"}, 300, table="CUSTMAST")])
    out = drain(unifier)
    change = next(v for t, _k, v in out if t == CHANGES_TOPIC)
    assert change["kind"] == "update"
    assert change["fields"] == [{"field": "credit_status", "old": None, "new": json.dumps("FROZEN")}]
    assert change["cause"]["table"] == "CUSTMAST" and change["cause"]["source_key"] == "1"
    unified = next(v for t, _k, v in out if t == UNIFIED_TOPIC)
    assert unified["version"] == 2 and unified["customer"]["credit_status"] == "FROZEN"


def test_new_evidence_merges_and_withdrawn_evidence_splits(unifier: Unifier, store: Store) -> None:
    # two records that do not match each other on their own
    a = person("Anna", "Berg", "1990-03-04", "anna@a.example")
    b = person("Anne", "Bergmann", "1990-04-03", "ab@b.example", phones=[{"number": "+43660111222"}])
    unifier.apply([event("ibmi", "10", a, 100), event("oracle", "B1", b, 110)])
    ga, gb = golden_of(store, "ibmi", "10"), golden_of(store, "oracle", "B1")
    assert ga and gb and ga != gb
    drain(unifier)
    # a helpdesk record cross-referencing both links them
    bridge = {**person("Anna", "Berg", "1990-03-04"),
              "xrefs": [{"source": "ibmi", "key": "10"}, {"source": "oracle", "key": "B1"}]}
    stats = unifier.apply([event("helpdesk", "H9", bridge, 120)])
    assert stats.merges == 1
    survivor = min(ga, gb)
    loser = max(ga, gb)
    assert {golden_of(store, s, k) for s, k in (("ibmi", "10"), ("oracle", "B1"), ("helpdesk", "H9"))} == {survivor}
    lost = golden_row(store, loser)
    assert (lost.status, lost.merged_into, lost.data) == ("merged", survivor, None)
    with store.tx() as conn:
        assert views.resolve_golden_id(conn, loser).golden_id == survivor  # type: ignore[union-attr]
    out = drain(unifier)
    kinds = {(k, v["kind"]) for t, k, v in out if t == CHANGES_TOPIC}
    assert (survivor, "merge") in kinds and (loser, "merge") in kinds
    # the bridge record is deleted: the evidence is withdrawn, the records split again
    stats = unifier.apply([event("helpdesk", "H9", None, 130)])
    assert stats.splits == 1
    g1, g2 = golden_of(store, "ibmi", "10"), golden_of(store, "oracle", "B1")
    assert g1 != g2 and survivor in (g1, g2)
    new_id = g2 if g1 == survivor else g1
    assert new_id not in (ga, gb)  # a split gets a new id; the old loser id stays merged
    assert {v["kind"] for t, _k, v in drain(unifier) if t == CHANGES_TOPIC} == {"split"}


def test_deleting_the_only_member_retires_the_golden_record(unifier: Unifier, store: Store) -> None:
    unifier.apply([event("ibmi", "2", MARY, 100)])
    gid = golden_of(store, "ibmi", "2") or ""
    unifier.apply([event("ibmi", "2", None, 200)])
    row = golden_row(store, gid)
    assert (row.status, row.members) == ("retired", [])


def test_credit_events_update_the_golden_record(unifier: Unifier, store: Store) -> None:
    unifier.apply([event("ibmi", "1", {**JOHN_IBMI, "credit_status": "OK"}, 100)])
    drain(unifier)
    credit = {"customer_key": "1", "status": "FROZEN", "limit": "0", "reason": "overdue"}
    unifier.apply([event("ibmi", "C1", credit, 200, entity="credit", table="CREDIT")])
    row = golden_row(store, golden_of(store, "ibmi", "1") or "")
    assert row.data is not None
    assert (row.data["credit_status"], row.data["credit_limit"], row.data["credit_reason"]) == \
        ("FROZEN", "0.00", "overdue")
    assert row.lineage["credit_status"]["ts_ms"] == 200
    fields = {f["field"] for t, _k, v in drain(unifier) if t == CHANGES_TOPIC for f in v["fields"]}
    assert fields == {"credit_status", "credit_limit", "credit_reason"}


def test_credit_arriving_before_its_customer_is_kept(unifier: Unifier, store: Store) -> None:
    unifier.apply([event("ibmi", "C1", {"customer_key": "1", "status": "HOLD"}, 50, entity="credit")])
    unifier.apply([event("ibmi", "1", JOHN_IBMI, 100)])
    row = golden_row(store, golden_of(store, "ibmi", "1") or "")
    assert row.data is not None and row.data["credit_status"] == "HOLD"


def test_credit_events_of_one_customer_in_one_batch_apply_in_version_order(unifier: Unifier, store: Store) -> None:
    """The batch reads the stored credit versions once: later events of the same customer in the batch still
    see what the earlier ones wrote (an older event is skipped, a delete and a re-insert both apply)."""
    unifier.apply([event("ibmi", "1", JOHN_IBMI, 100),
                   event("ibmi", "C1", {"customer_key": "1", "status": "HOLD"}, 150, entity="credit")])
    frozen = event("ibmi", "C1", {"customer_key": "1", "status": "FROZEN"}, 300, entity="credit")
    older = event("ibmi", "C1", {"customer_key": "1", "status": "OK"}, 200, entity="credit", offset=0)
    stats = unifier.apply([frozen, older])
    assert (stats.applied, stats.skipped) == (1, 1)
    row = golden_row(store, golden_of(store, "ibmi", "1") or "")
    assert row.data is not None and row.data["credit_status"] == "FROZEN"
    gone = dataclasses.replace(event("ibmi", "C1", None, 400, entity="credit"), source_key="1")
    back = event("ibmi", "C1", {"customer_key": "1", "status": "OK"}, 500, entity="credit")
    stats = unifier.apply([gone, back])
    assert (stats.applied, stats.skipped) == (2, 0)
    with store.tx() as conn:
        stored = views.credit_for(conn, [("ibmi", "1")])
    assert stored[("ibmi", "1")]["data"]["status"] == "OK" and stored[("ibmi", "1")]["version"] == back.version


def test_source_priority_survivorship(store: Store) -> None:
    cfg = UnifyConfig(survivorship=SurvivorshipConfig(fields={"given_name": {"rule": "source_priority",
                                                                               "sources": ["ibmi"]}}))
    unifier = Unifier(store, cfg, now_ms=lambda: 1)
    unifier.apply([event("ibmi", "1", JOHN_IBMI, 100), event("oracle", "A7", JOHN_ORACLE, 200)])
    row = golden_row(store, golden_of(store, "ibmi", "1") or "")
    assert row.data is not None and row.data["given_name"] == "John"
    assert row.lineage["given_name"]["source"] == "ibmi"


def test_orders_and_inventory_are_versioned(unifier: Unifier, store: Store) -> None:
    order = {"order_number": "500001", "customer_key": "1", "status": "OPEN", "total_amount": "12.50",
             "lines": [{"line": 1, "item": "BOLT", "warehouse": "W1", "quantity": "3"}]}
    stock = {"item": "BOLT", "warehouse": "W1", "on_hand": "10", "allocated": "3", "available": "7"}
    unifier.apply([event("ibmi", "1", JOHN_IBMI, 100), event("ibmi", "500001", order, 110, entity="order"),
                   event("ibmi", "BOLT|W1", stock, 120, entity="inventory")])
    unifier.apply([event("ibmi", "500001", {**order, "status": "OPEN", "total_amount": "1"}, 90, entity="order")])
    with store.tx() as conn:
        open_orders = views.orders_for(conn, [("ibmi", "1")])
        stock_rows = views.inventory_for(conn, ["BOLT"])
    assert [o["data"]["total_amount"] for o in open_orders] == ["12.50"]  # the older version was ignored
    assert stock_rows[0]["data"]["available"] == "7.000"
    unifier.apply([event("ibmi", "500001", {**order, "status": "SHIPPED"}, 130, entity="order")])
    with store.tx() as conn:
        assert views.orders_for(conn, [("ibmi", "1")]) == []
        assert len(views.orders_for(conn, [("ibmi", "1")], only_open=False)) == 1


def test_history_and_alerts_are_kept_for_the_gateway(store: Store) -> None:
    from pipelines.alert_rules import load_alert_rules
    from pipelines.alerts import AlertEngine
    from pipelines.store.timers import SqlTimerStore

    rules = Path(__file__).resolve().parents[2] / "config" / "rules" / "alerts.yaml"
    unifier = Unifier(store, alerts=AlertEngine(load_alert_rules(rules)), timers=SqlTimerStore, now_ms=lambda: 5_000)
    unifier.apply([event("ibmi", "1", {**JOHN_IBMI, "credit_status": "OK", "owning_agent": "AGT07"}, 100)])
    unifier.apply([event("ibmi", "1", {**JOHN_IBMI, "credit_status": "FROZEN", "owning_agent": "AGT07"}, 200)])
    unifier.apply([event("ibmi", "2", MARY, 300)])
    gid = golden_of(store, "ibmi", "1") or ""
    with store.tx() as conn:
        history = views.history(conn, gid)
        by_golden = views.alerts_for(conn, golden_ids=[gid])
        by_agent = views.alerts_for(conn, agent="AGT07")
        nobody = views.alerts_for(conn, agent="AGT99")
    assert [(h["version"], h["kind"]) for h in history] == [(2, "update"), (1, "create")]
    assert {f["field"]: f["new"] for f in history[0]["fields"]}["credit_status"] == '"FROZEN"'
    published = [v for t, _k, v in drain(unifier) if t == CHANGES_TOPIC and v["golden_id"] == gid]
    assert sorted(published, key=lambda c: -c["version"]) == history  # the log holds what the topic carried
    assert [a["rule"] for a in by_golden] == ["credit-frozen"] and by_agent == by_golden and nobody == []


def _block_rowids(store: Store, source: str, key: str) -> list[int]:
    with store.tx() as conn:
        return [r[0] for r in conn.exec_driver_sql(
            "SELECT b.rowid FROM block_key b JOIN source_record s ON s.id = b.record_id "
            "WHERE s.source = ? AND s.source_key = ? ORDER BY b.rowid", (source, key))]


def test_a_change_outside_the_identity_features_keeps_keys_and_links(unifier: Unifier, store: Store) -> None:
    unifier.apply([event("ibmi", "1", JOHN_IBMI, 100), event("oracle", "A7", JOHN_ORACLE, 200)])
    gid = golden_of(store, "ibmi", "1")
    keys = _block_rowids(store, "ibmi", "1")
    unifier.apply([event("ibmi", "1", {**JOHN_IBMI, "credit_status": "FROZEN"}, 300)])
    assert _block_rowids(store, "ibmi", "1") == keys  # not re-indexed, not re-linked
    row = golden_row(store, gid or "")
    assert row.data is not None and row.data["credit_status"] == "FROZEN" and row.version == 2
    assert golden_of(store, "oracle", "A7") == gid  # the link to the Oracle record still holds
    unifier.apply([event("ibmi", "1", {**JOHN_IBMI, "emails": [{"address": "js@other.example"}]}, 400)])
    assert _block_rowids(store, "ibmi", "1") != keys  # an identity feature changed: linked again
    assert golden_of(store, "ibmi", "1") == golden_of(store, "oracle", "A7") == gid


def test_a_store_made_with_the_old_blocking_index_gets_the_covering_one(tmp_path: Path) -> None:
    import sqlite3
    url = f"sqlite:///{tmp_path / 'old.db'}"
    Store(url).dispose()
    db = sqlite3.connect(tmp_path / "old.db")  # as an earlier release left it: the index on key alone
    db.executescript("DROP INDEX ix_block_key_key_record; CREATE INDEX ix_block_key_key ON block_key (key);")
    db.close()
    Store(url).dispose()
    db = sqlite3.connect(tmp_path / "old.db")
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'block_key'")}
    plan = " ".join(str(r) for r in db.execute("EXPLAIN QUERY PLAN SELECT record_id FROM block_key WHERE key = 'x'"))
    db.close()
    assert "ix_block_key_key" not in names and "ix_block_key_key_record" in names
    assert "COVERING INDEX ix_block_key_key_record" in plan


def _story() -> list[list[Any]]:
    """Batches that create, update, merge (a cross-referencing record), split (it is deleted) and raise alerts."""
    a = person("Anna", "Berg", "1990-03-04", "anna@a.example")
    b = person("Anne", "Bergmann", "1990-04-03", "ab@b.example", phones=[{"number": "+43660111222"}])
    bridge = {**person("Anna", "Berg", "1990-03-04"),
              "xrefs": [{"source": "ibmi", "key": "10"}, {"source": "oracle", "key": "B1"}]}
    return [[event("ibmi", "10", {**a, "credit_status": "OK", "owning_agent": "AGT07"}, 100),
             event("oracle", "B1", b, 110)],
            [event("helpdesk", "H9", bridge, 120), event("ibmi", "10", {**a, "credit_status": "FROZEN",
                                                                          "owning_agent": "AGT07"}, 125)],
            [event("helpdesk", "H9", None, 130), event("ibmi", "7", MARY, 140)],
            [event("ibmi", "7", {**MARY, "family_name": "Jones-Smith"}, 150)]]


def _alerting_unifier(store: Store) -> Unifier:
    from pipelines.alert_rules import load_alert_rules
    from pipelines.alerts import AlertEngine
    from pipelines.store.timers import SqlTimerStore

    rules = Path(__file__).resolve().parents[2] / "config" / "rules" / "alerts.yaml"
    return Unifier(store, alerts=AlertEngine(load_alert_rules(rules)), timers=SqlTimerStore, now_ms=lambda: 5_000)


def test_process_publishes_what_the_outbox_holds_and_empties_it(tmp_path: Path) -> None:
    from_memory, from_outbox = Store(f"sqlite:///{tmp_path / 'a.db'}"), Store(f"sqlite:///{tmp_path / 'b.db'}")
    direct, replayed = _alerting_unifier(from_memory), _alerting_unifier(from_outbox)
    published: list[Any] = []
    read_back: list[Any] = []
    for batch in _story():
        direct.process(batch, published.extend)
        replayed.apply(batch)
        read_back.extend(drain(replayed))  # the outbox, as a restarted worker would publish it
    kinds = {v["kind"] for t, _k, v in published if t == CHANGES_TOPIC}
    assert {"create", "update", "merge", "split"} <= kinds
    assert any(t == "customer.alerts" for t, _k, _v in published)
    assert published == read_back
    assert drain(direct) == []  # nothing left behind to be published twice
    from_memory.dispose()
    from_outbox.dispose()


def test_outputs_stay_in_the_outbox_when_publishing_fails(store: Store) -> None:
    unifier = _alerting_unifier(store)

    def broker_down(records: Any) -> None:
        raise RuntimeError("broker down")

    batch = _story()[0]
    with pytest.raises(RuntimeError):
        unifier.process(batch, broker_down)
    kept = drain(unifier)
    assert {t for t, _k, _v in kept} == {UNIFIED_TOPIC, CHANGES_TOPIC}
    assert sorted(k for t, k, _v in kept if t == UNIFIED_TOPIC) == sorted(
        {golden_of(store, "ibmi", "10"), golden_of(store, "oracle", "B1")})
