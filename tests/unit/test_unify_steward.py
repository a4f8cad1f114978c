"""Possible matches wait for a data steward, who accepts, rejects, links or detaches records by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.store import records as rec
from pipelines.store.engine import Store
from pipelines.unify import steward
from pipelines.unify.engine import Unifier
from schemas.errors import ConfigError
from tests.unify_helpers import drain, event, golden_of, golden_row, person

PETER = {"given_name": "Peter", "family_name": "Novak", "birth_date": "1970-01-01"}
PETER_NO_DOB = {"given_name": "Peter", "family_name": "Novak"}  # same name only: a possible match


@pytest.fixture
def unifier(tmp_path: Path) -> Unifier:
    return Unifier(Store(f"sqlite:///{tmp_path / 'store.db'}"), now_ms=lambda: 7_000)


def _open_reviews(unifier: Unifier) -> list[dict[str, object]]:
    with unifier.store.tx() as conn:
        return rec.list_reviews(conn)


def test_possible_match_waits_in_the_review_list_with_its_explanation(unifier: Unifier) -> None:
    unifier.apply([event("ibmi", "1", PETER, 100), event("oracle", "9", PETER_NO_DOB, 110)])
    store = unifier.store
    assert golden_of(store, "ibmi", "1") != golden_of(store, "oracle", "9")
    reviews = _open_reviews(unifier)
    assert len(reviews) == 1
    detail = reviews[0]["detail"]
    assert isinstance(detail, dict) and detail["contributions"]["family.exact"] > 0


def test_accepting_a_review_links_and_keeps_them_linked(unifier: Unifier) -> None:
    unifier.apply([event("ibmi", "1", PETER, 100), event("oracle", "9", PETER_NO_DOB, 110)])
    drain(unifier)
    review_id = int(_open_reviews(unifier)[0]["id"])  # type: ignore[call-overload]
    stats = steward.decide(unifier, review_id, accept=True, by="steward1")
    assert stats.merges == 1
    store = unifier.store
    gid = golden_of(store, "ibmi", "1")
    assert gid == golden_of(store, "oracle", "9")
    assert _open_reviews(unifier) == []
    # a later change of one record keeps the steward's decision
    unifier.apply([event("oracle", "9", {**PETER_NO_DOB, "title": "Dr"}, 200)])
    assert golden_of(store, "oracle", "9") == gid
    causes = {v["cause"]["source"] for t, _k, v in drain(unifier) if t == "customer.changes"}
    assert "steward" in causes
    with pytest.raises(ConfigError, match="not open"):
        steward.decide(unifier, review_id, accept=False, by="steward1")


def test_rejecting_a_review_keeps_them_apart(unifier: Unifier) -> None:
    unifier.apply([event("ibmi", "1", PETER, 100), event("oracle", "9", PETER_NO_DOB, 110)])
    review_id = int(_open_reviews(unifier)[0]["id"])  # type: ignore[call-overload]
    steward.decide(unifier, review_id, accept=False, by="steward1")
    # even strong new evidence (the same e-mail) does not link a rejected pair
    email = {"emails": [{"address": "peter.novak@example.com"}]}
    unifier.apply([event("ibmi", "1", {**PETER, **email}, 200), event("oracle", "9", {**PETER_NO_DOB, **email}, 210)])
    assert golden_of(unifier.store, "ibmi", "1") != golden_of(unifier.store, "oracle", "9")
    assert _open_reviews(unifier) == []


def test_link_and_unlink_by_hand(unifier: Unifier) -> None:
    unifier.apply([event("ibmi", "1", PETER, 100), event("crm", "X", person("Pete", "Nowak", "1971-02-02"), 110)])
    store = unifier.store
    assert golden_of(store, "ibmi", "1") != golden_of(store, "crm", "X")
    steward.link(unifier, "ibmi/1", "crm/X", by="steward1")
    gid = golden_of(store, "ibmi", "1")
    assert gid == golden_of(store, "crm", "X")
    steward.unlink(unifier, "crm/X", by="steward1")
    assert golden_of(store, "ibmi", "1") == gid  # the older record keeps the id
    other = golden_of(store, "crm", "X")
    assert other not in (None, gid)
    assert [m["source_key"] for m in golden_row(store, gid or "").members] == ["1"]
    with pytest.raises(ConfigError, match="no live source record"):
        steward.link(unifier, "ibmi/1", "crm/nope", by="steward1")


def test_open_review_reopens_with_the_new_score_but_leaves_a_decided_one_alone(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    with store.tx() as conn:
        rec.open_review(conn, 9, 4, 0.61, {"why": "first"}, 100)
        rec.open_review(conn, 4, 9, 0.72, {"why": "again"}, 200)  # same pair, other order
        rec.open_review(conn, 5, 6, 0.65, {"why": "x"}, 100)
    with store.tx() as conn:
        reviews = {(r["a"], r["b"]): r for r in rec.list_reviews(conn)}
        assert set(reviews) == {(4, 9), (5, 6)}
        assert (reviews[(4, 9)]["score"], reviews[(4, 9)]["detail"], reviews[(4, 9)]["created_ms"]) == (
            0.72, {"why": "again"}, 100)
        rec.decide_review(conn, int(reviews[(5, 6)]["id"]), "rejected", "steward", 300)
        rec.obsolete_reviews(conn, [4])
    with store.tx() as conn:
        rec.open_review(conn, 5, 6, 0.9, {"why": "later"}, 400)  # decided: stays rejected
        rec.open_review(conn, 4, 9, 0.8, {"why": "back"}, 400)  # obsolete: open again
        rejected = rec.list_reviews(conn, status="rejected")
        assert [(r["a"], r["b"], r["score"], r["decided_by"]) for r in rejected] == [(5, 6, 0.65, "steward")]
        assert [(r["a"], r["b"], r["score"]) for r in rec.list_reviews(conn)] == [(4, 9, 0.8)]
    store.dispose()
