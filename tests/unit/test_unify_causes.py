"""Every golden-record change names the source event that caused it, also when one batch touches several
golden records and some of them are new or re-clustered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.store.engine import Store
from pipelines.unify.engine import Unifier
from schemas.unified import CHANGES_TOPIC
from tests.unify_helpers import drain, event, golden_of, person

JOHN = person("John", "Smith", "1980-01-02", "john.smith@example.com")
MARY = person("Mary", "Jones", "1975-06-30", "mary@example.org")
PAUL = person("Paul", "Brown", "1969-03-04", "paul@example.net")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.dispose()


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
