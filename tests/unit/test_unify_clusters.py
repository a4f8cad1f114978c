"""Cannot-link pairs hold through third records: a steward's "these are two people", and housemates or ids that
scoring finds to be two persons, never end in one golden record."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from pipelines.store import records as rec
from pipelines.store.engine import Store
from pipelines.unify import resolver, steward
from pipelines.unify.clusters import Edge, birth_conflicts, constrained, split_component, split_components
from pipelines.unify.config import UnifyConfig
from pipelines.unify.engine import Unifier
from schemas.canonical import CanonicalEvent
from tests.unify_helpers import drain, event, golden_of, person

PETER = person("Peter", "Novak", "1970-01-01")
PETER_PHONE = {**person("Peter", "Novak", ""), "birth_date": None, "phones": [{"number": "+44 20 7946 0001"}]}
PETER_BOTH = {**PETER, "phones": [{"number": "+44 20 7946 0001"}]}  # links to both: birth date and phone
HOME = {"addresses": [{"line1": "Hauptstraße 12", "postal_code": "80331", "city": "München", "country": "DE"}],
        "phones": [{"number": "089 1234567"}]}


def _housemate(given: str) -> dict[str, Any]:
    return {"given_name": given, "family_name": "Müller", **HOME}


@pytest.fixture
def unifier(store: Store) -> Unifier:
    return Unifier(store, now_ms=lambda: 7_000)


def _apply_then(unifier: Unifier, first: list[CanonicalEvent], then: list[CanonicalEvent], batches: int) -> None:
    """``first`` and then ``then`` in two batches, or all in one."""
    if batches == 1:
        unifier.apply(first + then)
    else:
        unifier.apply(first)
        unifier.apply(then)


def _review_id(unifier: Unifier) -> int:
    with unifier.store.tx() as conn:
        reviews = rec.list_reviews(conn)
    assert len(reviews) == 1
    return int(reviews[0]["id"])


# --- the clustering itself ------------------------------------------------------------------------------------------

def test_a_component_without_a_cannot_pair_inside_is_left_whole() -> None:
    links: list[Edge] = [(1, 2, "probabilistic", 12.0), (2, 3, "probabilistic", 10.0)]
    assert split_component({1, 2, 3}, links, []) == [{1, 2, 3}]
    assert split_component({1, 2, 3}, links, [(1, 9)]) == [{1, 2, 3}]  # the other record is elsewhere
    comps = [{1, 2, 3}, {4, 5}]
    assert split_components(comps, links, [(3, 4)]) is comps
    assert constrained(comps, [(3, 4)]) == set()


def test_the_third_record_joins_the_side_it_scores_higher_with() -> None:
    links: list[Edge] = [(1, 3, "probabilistic", 13.0), (2, 3, "probabilistic", 16.0)]
    assert split_component({1, 2, 3}, links, [(1, 2)]) == [{1}, {2, 3}]
    assert split_components([{7}, {1, 2, 3}], links, [(2, 1)]) == [{7}, {1}, {2, 3}]
    assert constrained([{7}, {1, 2, 3}], [(2, 1)]) == {1, 2, 3}


def test_stronger_kinds_come_first_then_the_score_then_the_record_ids() -> None:
    cannot = [(1, 2)]
    manual: list[Edge] = [(1, 3, "manual", 1e9), (2, 3, "probabilistic", 30.0)]
    assert split_component({1, 2, 3}, manual, cannot) == [{1, 3}, {2}]
    xref: list[Edge] = [(1, 3, "deterministic", 2.0), (2, 3, "probabilistic", 30.0)]
    assert split_component({1, 2, 3}, xref, cannot) == [{1, 3}, {2}]
    tie: list[Edge] = [(2, 3, "probabilistic", 14.5), (1, 3, "probabilistic", 14.5)]
    assert split_component({1, 2, 3}, tie, cannot) == [{1, 3}, {2}]


def test_a_chain_of_links_never_joins_a_cannot_pair_and_the_result_does_not_depend_on_the_input_order() -> None:
    # 1 - 2 - 3 - 4 - 5 with 1 and 5 apart: the weakest link on the path gives way
    links: list[Edge] = [(1, 2, "probabilistic", 20.0), (2, 3, "probabilistic", 11.0), (3, 4, "probabilistic", 19.0),
                         (4, 5, "probabilistic", 18.0), (1, 6, "probabilistic", 9.5)]
    expected = [{1, 2, 6}, {3, 4, 5}]
    for seed in range(5):
        shuffled = links[:]
        random.Random(seed).shuffle(shuffled)
        assert split_component({1, 2, 3, 4, 5, 6}, shuffled, [(5, 1)]) == expected
    # two pairs: each cluster is still joined by links
    assert split_component({1, 2, 3, 4, 5, 6}, links, [(1, 5), (2, 3)]) == expected
    assert split_component({1, 2, 3, 4, 5, 6}, links, [(1, 5), (1, 2)]) == [{1, 6}, {2, 3, 4, 5}]


# --- birth dates that a third record bridges ------------------------------------------------------------------------

_DATES = {1: "1988-04-12", 2: "1991-09-30", 3: "", 4: "1991-09-30"}


def _disagree(a: int, b: int) -> bool:
    return _DATES[a] != _DATES[b]


def _no_match(_a: int, _b: int) -> bool:
    return True


def test_two_dated_records_joined_only_through_an_undated_one_are_kept_apart() -> None:
    bridge = {1: {3}, 2: {3}, 3: {1, 2}}
    assert birth_conflicts({1, 2, 3}, bridge, [1, 2], _disagree, _no_match) == {(1, 2)}
    assert birth_conflicts({1, 2, 3}, bridge, [1, 2], _disagree, lambda a, b: False) == set()  # they match
    assert birth_conflicts({1, 2}, {1: {2}, 2: {1}}, [1, 2], _disagree, _no_match) == set()  # linked themselves
    # 2 and 4 share a date: no conflict between them, each against 1
    chain = {1: {3}, 3: {1, 2, 4}, 2: {3}, 4: {3}}
    assert birth_conflicts({1, 2, 3, 4}, chain, [1, 2, 4], _disagree, _no_match) == {(1, 2), (1, 4)}


def test_a_record_linked_despite_a_disagreeing_date_casts_doubt_on_its_own_date() -> None:
    # 1 is linked to 4 although their dates disagree (an equal id, say): 1's date may be the wrong one
    links = {1: {4, 3}, 4: {1}, 3: {1, 2}, 2: {3}}
    assert birth_conflicts({1, 2, 3, 4}, links, [1, 2, 4], _disagree, _no_match) == set()
    # a link to a record outside the component says nothing
    assert birth_conflicts({1, 2, 3}, links, [1, 2, 4], _disagree, _no_match) == {(1, 2)}


# --- a steward's cannot-link ----------------------------------------------------------------------------------------

def test_a_steward_cannot_link_holds_against_a_record_that_links_to_both(unifier: Unifier, store: Store) -> None:
    unifier.apply([event("ibmi", "1", PETER, 100), event("oracle", "9", PETER_PHONE, 110)])
    steward.decide(unifier, _review_id(unifier), accept=False, by="steward1")  # names alone: two people
    gid = golden_of(store, "ibmi", "1")
    unifier.apply([event("crm", "5", PETER_BOTH, 200)])  # birth date as ibmi/1 (+16), phone as oracle/9 (+13)
    assert golden_of(store, "ibmi", "1") != golden_of(store, "oracle", "9")
    assert golden_of(store, "crm", "5") == golden_of(store, "ibmi", "1") == gid  # the stronger link
    # and a later change of the third record keeps it so
    unifier.apply([event("crm", "5", {**PETER_BOTH, "title": "Dr"}, 300)])
    assert golden_of(store, "crm", "5") == golden_of(store, "ibmi", "1") != golden_of(store, "oracle", "9")


def test_rejecting_a_review_splits_a_pair_already_joined_through_a_third_record(unifier: Unifier,
                                                                                store: Store) -> None:
    unifier.apply([event("ibmi", "1", PETER, 100), event("oracle", "9", PETER_PHONE, 110),
                   event("crm", "5", PETER_BOTH, 120)])
    gid = golden_of(store, "ibmi", "1")
    assert gid == golden_of(store, "oracle", "9") == golden_of(store, "crm", "5")
    drain(unifier)
    stats = steward.decide(unifier, _review_id(unifier), accept=False, by="steward1")
    assert stats.splits == 1
    assert golden_of(store, "ibmi", "1") == golden_of(store, "crm", "5") == gid  # most members keep the id
    assert golden_of(store, "oracle", "9") not in (None, gid)


def test_a_must_link_that_would_join_a_cannot_pair_is_not_applied(unifier: Unifier, store: Store) -> None:
    unifier.apply([event("ibmi", "1", PETER, 100), event("oracle", "9", PETER_PHONE, 110),
                   event("crm", "5", person("Mary", "Jones", "1975-06-30"), 120)])
    steward.decide(unifier, _review_id(unifier), accept=False, by="steward1")
    steward.link(unifier, "ibmi/1", "crm/5", by="steward1")
    steward.link(unifier, "oracle/9", "crm/5", by="steward1")  # later, but against the cannot-link: the cannot wins
    assert golden_of(store, "ibmi", "1") != golden_of(store, "oracle", "9")
    assert golden_of(store, "crm", "5") == golden_of(store, "ibmi", "1")  # equal must-links: the lower record ids
    # the steward's decision on the pair itself is the latest: a must-link replaces the cannot-link
    steward.link(unifier, "ibmi/1", "oracle/9", by="steward1")
    assert golden_of(store, "ibmi", "1") == golden_of(store, "oracle", "9") == golden_of(store, "crm", "5")


# --- pairs scoring finds to be two persons -------------------------------------------------------------------------

@pytest.mark.parametrize("batches", [2, 1], ids=["third-later", "one-batch"])
def test_housemates_stay_apart_when_a_third_record_links_to_both(unifier: Unifier, store: Store,
                                                                  batches: int) -> None:
    housemates = [event("ibmi", "1", _housemate("Jan"), 100), event("ibmi", "2", _housemate("Julia"), 110)]
    third = [event("crm", "7", _housemate("J."), 200)]  # the initial agrees with either given name
    _apply_then(unifier, housemates, third, batches)
    jan, julia = golden_of(store, "ibmi", "1"), golden_of(store, "ibmi", "2")
    assert None not in (jan, julia) and jan != julia
    assert golden_of(store, "crm", "7") == jan  # equal scores (+14.5): the lower record ids
    with store.tx() as conn:
        ids = [r.id for r in rec.records_by_refs(conn, [("ibmi", "1"), ("ibmi", "2")])]
        conflicts = [link for link in rec.links_of(conn, ids) if link["kind"] == rec.CONFLICT]
    assert [(c["a"], c["b"], c["detail"]["apart"]) for c in conflicts] == [(*ids, "household")]


def test_a_changed_record_gets_its_conflicts_recomputed(unifier: Unifier, store: Store) -> None:
    unifier.apply([event("ibmi", "1", _housemate("Jan"), 100), event("ibmi", "2", _housemate("Julia"), 110),
                   event("crm", "7", _housemate("J."), 120)])
    assert golden_of(store, "ibmi", "1") != golden_of(store, "ibmi", "2")
    unifier.apply([event("ibmi", "2", _housemate("Jan"), 200)])  # a typo corrected: one person after all
    assert golden_of(store, "ibmi", "1") == golden_of(store, "ibmi", "2") == golden_of(store, "crm", "7")
    with store.tx() as conn:
        assert [k for k in rec.links_of(conn, [1, 2, 3]) if k["kind"] == rec.CONFLICT] == []


def test_a_steward_link_of_housemates_replaces_their_automatic_conflict(unifier: Unifier, store: Store) -> None:
    unifier.apply([event("ibmi", "1", _housemate("Jan"), 100), event("ibmi", "2", _housemate("Julia"), 110)])
    steward.link(unifier, "ibmi/1", "ibmi/2", by="steward1")
    unifier.apply([event("crm", "7", _housemate("J."), 200)])
    assert golden_of(store, "ibmi", "1") == golden_of(store, "ibmi", "2") == golden_of(store, "crm", "7")


def test_an_authoritative_id_conflict_keeps_two_records_apart(store: Store) -> None:
    unifier = Unifier(store, UnifyConfig.model_validate({"match": {"authoritative": ["national_id"]}}),
                      now_ms=lambda: 7_000)
    a = {**PETER, "national_id": "AB123456"}
    b = {**PETER_PHONE, "national_id": "XY987654"}
    unifier.apply([event("ibmi", "1", a, 100), event("oracle", "9", b, 110), event("crm", "5", PETER_BOTH, 120)])
    assert golden_of(store, "ibmi", "1") == golden_of(store, "crm", "5") != golden_of(store, "oracle", "9")
    with store.tx() as conn:
        details = [k["detail"]["apart"] for k in rec.links_of(conn, [1]) if k["kind"] == rec.CONFLICT]
    assert details == ["national_id conflict"]


def _weber(given: str, dob: str | None, **more: Any) -> dict[str, Any]:
    return {"given_name": given, "family_name": "Weber", "birth_date": dob, **more}


def _lives_at(line1: str) -> dict[str, Any]:
    return {"addresses": [{"line1": line1, "postal_code": "80331", "city": "München", "country": "DE"}]}


_WEBER_HOME = _lives_at("Hauptstraße 12")


@pytest.mark.parametrize("batches", [2, 1], ids=["third-later", "one-batch"])
def test_mother_and_daughter_stay_apart_when_a_record_without_a_birth_date_links_to_both(
        unifier: Unifier, store: Store, batches: int) -> None:
    family = [event("census", "1", _weber("Mary", "1962-01-18", middle_name="M", **_WEBER_HOME), 100),
              event("census", "2", _weber("Maria", "1992-01-21", middle_name="M", **_lives_at("Lindwurmstraße 80")),
                    110)]  # +5 together: names alike, birth dates thirty years apart
    # +10 with Mary (the names, one postal area), +15.5 with Maria (and her address)
    tax_return = [event("tax", "7", _weber("Maria", None, middle_name="M", **_lives_at("Lindwurmstraße 80")), 200)]
    _apply_then(unifier, family, tax_return, batches)
    mary, maria = golden_of(store, "census", "1"), golden_of(store, "census", "2")
    assert None not in (mary, maria) and mary != maria
    assert golden_of(store, "tax", "7") == maria


def test_a_date_a_link_has_already_overruled_keeps_no_one_apart(unifier: Unifier, store: Store) -> None:
    phone = {"phones": [{"number": "089 1234567"}]}
    unifier.apply([event("crm", "1", _weber("Laura", "1988-04-12", national_id="AB123456", **_WEBER_HOME), 100),
                   event("erp", "4", _weber("Laura", "1961-01-30", national_id="AB123456", **phone), 110),
                   event("shop", "9", _weber("Laura", "1961-01-30", **phone), 120)])
    # crm/1 and shop/9 disagree on the date and do not match, but crm/1 is erp/4 by its id despite the dates
    assert golden_of(store, "crm", "1") == golden_of(store, "erp", "4") == golden_of(store, "shop", "9")


# --- everything else as before ---------------------------------------------------------------------------------------

def test_components_without_a_cannot_pair_inside_get_the_golden_ids_of_plain_components(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same events give the same golden ids and outputs with and without the constraints, as long as no
    component holds a cannot-link pair; and the links are not read again for it."""
    events = [event("ibmi", "1", person("John", "Smith", "1980-01-02", "john.smith@example.com"), 100),
              event("oracle", "A7", person("Jon", "Smith", "1980-01-02", "JOHN.SMITH@example.com"), 110),
              event("ibmi", "2", person("Mary", "Jones", "1975-06-30", "mary@example.org"), 120),
              event("ibmi", "3", _housemate("Jan"), 130), event("ibmi", "4", _housemate("Julia"), 140),
              event("crm", "8", person("Mary", "Jones", "1975-06-30", "mary@example.org"), 150),
              event("oracle", "A7", person("Jon", "Smyth", "1981-03-04", "jon@example.net"), 160)]  # a split

    def run(name: str) -> tuple[dict[str, str | None], list[tuple[str, str | None, Any]]]:
        store = Store(f"sqlite:///{tmp_path / name}")
        unifier = Unifier(store, now_ms=lambda: 7_000)
        for e in events:
            unifier.apply([e])
        out = [(t, k, v) for t, k, v in drain(unifier)]
        ids = {f"{s}/{k}": golden_of(store, s, k) for s, k in (("ibmi", "1"), ("oracle", "A7"), ("ibmi", "2"),
                                                                  ("ibmi", "3"), ("ibmi", "4"), ("crm", "8"))}
        store.dispose()
        return ids, out

    def never(*_args: Any) -> Any:
        raise AssertionError("the links of a component without a cannot-link pair were read")

    monkeypatch.setattr(rec, "links_among", never)
    constrained_run = run("constrained.db")
    monkeypatch.setattr(resolver, "_kept_apart", lambda _conn, comps, _rows, _conflicts: comps)
    plain_run = run("plain.db")
    assert constrained_run == plain_run
    ids = constrained_run[0]
    assert ids["ibmi/1"] != ids["oracle/A7"] and ids["ibmi/2"] == ids["crm/8"] and ids["ibmi/3"] != ids["ibmi/4"]
