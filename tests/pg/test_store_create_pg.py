"""Workers that start together open the same new PostgreSQL store at once: none of them fails on the tables
the others are creating."""

from __future__ import annotations

import threading

import pytest

from pipelines.store.engine import Store

pytestmark = pytest.mark.pg


def test_stores_opened_together_on_a_new_schema_all_start(pg_store_url: str) -> None:
    errors: list[BaseException] = []
    stores: list[Store] = []
    start = threading.Barrier(4)

    def open_store() -> None:
        start.wait()
        try:
            stores.append(Store(pg_store_url))
        except BaseException as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for store in stores:
        store.dispose()
    assert errors == [], errors
    assert len(stores) == 4
