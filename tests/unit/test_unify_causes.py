"""Every golden-record change names the source event that caused it, also when one batch touches several
golden records and some of them are new or re-clustered."""

from __future__ import annotations

from pipelines.store.engine import Store
from pipelines.unify.engine import Unifier
from schemas.unified import CHANGES_TOPIC
from tests.unify_helpers import drain, event, golden_of, person

JOHN = person("John", "Smith", "1980-01-02", "john.smith@example.com")
MARY = person("Mary", "Jones", "1975-06-30", "mary@example.org")
PAUL = person("Paul", "Brown", "1969-03-04", "paul@example.net")


def test_a_new_golden_record_names_its_own_event_not_the_batchs_last(store: Store) -> None:
    unifier = Unifier(store, now_ms=lambda: 5_000)
    unifier.apply([event("ibmi", "1", JOHN, 100)])
    drain(unifier)
    # one batch: Mary and Paul are new, then John changes
    unifier.apply([event("ibmi", "2", MARY, 200), event("crm", "P9", PAUL, 210),
                   event("ibmi", "1", {**JOHN, "given_name": "Johnny"}, 220)])
    causes = {k: (v["cause"]["source"], v["cause"]["source_key"]) for t, k, v in drain(unifier)
              if t == CHANGES_TOPIC}
    assert causes[golden_of(store, "ibmi", "2")] == ("ibmi", "2")
    assert causes[golden_of(store, "crm", "P9")] == ("crm", "P9")
    assert causes[golden_of(store, "ibmi", "1")] == ("ibmi", "1")


def test_a_record_that_joins_another_golden_record_names_itself(store: Store) -> None:
    unifier = Unifier(store, now_ms=lambda: 5_000)
    unifier.apply([event("ibmi", "1", JOHN, 100), event("ibmi", "2", MARY, 110)])
    drain(unifier)
    # the CRM's copy of John joins John's golden record; Mary changes later in the same batch
    unifier.apply([event("crm", "J1", {**JOHN, "given_name": "Jon"}, 200),
                   event("ibmi", "2", {**MARY, "family_name": "Jones-Smith"}, 210)])
    causes = {k: (v["cause"]["source"], v["cause"]["source_key"]) for t, k, v in drain(unifier)
              if t == CHANGES_TOPIC}
    john = golden_of(store, "ibmi", "1")
    assert golden_of(store, "crm", "J1") == john
    assert causes[john] == ("crm", "J1")
    assert causes[golden_of(store, "ibmi", "2")] == ("ibmi", "2")


def _changes(unifier: Unifier) -> dict[str, dict[str, object]]:
    return {k: v for t, k, v in drain(unifier) if t == CHANGES_TOPIC and k is not None}


def _named(change: dict[str, object]) -> tuple[object, object]:
    cause = change["cause"]
    assert isinstance(cause, dict)
    return cause["source"], cause["source_key"]


def test_a_record_split_off_names_the_event_that_split_it(store: Store) -> None:
    unifier = Unifier(store, now_ms=lambda: 5_000)
    unifier.apply([event("ibmi", "1", JOHN, 100), event("crm", "J1", {**JOHN, "given_name": "Jon"}, 110),
                   event("ibmi", "2", MARY, 120)])
    drain(unifier)
    assert golden_of(store, "ibmi", "1") == golden_of(store, "crm", "J1")
    # John's IBM i record becomes someone else: the CRM's copy splits off; Mary changes last in the batch
    unifier.apply([event("ibmi", "1", person("Peter", "Miller", "1950-05-05", "pm@example.net"), 200),
                   event("ibmi", "2", {**MARY, "family_name": "Jones-Smith"}, 210)])
    changes = _changes(unifier)
    split_off = golden_of(store, "crm", "J1")
    assert split_off != golden_of(store, "ibmi", "1")
    assert changes[split_off]["kind"] == "split"
    assert _named(changes[split_off]) == ("ibmi", "1")
    assert _named(changes[golden_of(store, "ibmi", "2") or ""]) == ("ibmi", "2")


def test_a_golden_record_merged_away_names_the_event_that_merged_it(store: Store) -> None:
    unifier = Unifier(store, now_ms=lambda: 5_000)
    jon = person("Jonathan", "Smythe", "1979-11-30", "jon@example.org", national_id="X123456")
    unifier.apply([event("ibmi", "1", JOHN, 100), event("crm", "J1", jon, 110), event("ibmi", "2", MARY, 120)])
    before = {ref: golden_of(store, *ref) for ref in (("ibmi", "1"), ("crm", "J1"))}
    drain(unifier)
    assert before[("ibmi", "1")] != before[("crm", "J1")]
    # a helpdesk record with John's e-mail and Jon's national id joins both; Mary changes last in the batch
    bridge = person("John", "Smith", "1980-01-02", "john.smith@example.com", national_id="X123456")
    unifier.apply([event("helpdesk", "7", bridge, 200),
                   event("ibmi", "2", {**MARY, "family_name": "Jones-Smith"}, 210)])
    changes = _changes(unifier)
    survivor = golden_of(store, "helpdesk", "7")
    assert golden_of(store, "ibmi", "1") == golden_of(store, "crm", "J1") == survivor
    loser = next(g for g in before.values() if g != survivor)
    assert loser is not None and changes[loser]["kind"] == "merge"
    assert _named(changes[loser]) == _named(changes[survivor or ""]) == ("helpdesk", "7")
