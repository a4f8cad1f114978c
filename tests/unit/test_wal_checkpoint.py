"""The SQLite store's WAL is checkpointed by a thread beside the writer, not inside its commits."""

from __future__ import annotations

import time
from pathlib import Path

from pipelines.store import views
from pipelines.store.engine import Store


def _wal_pages(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())


def test_the_first_write_starts_the_checkpointer_and_it_copies_the_wal(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with store.read() as conn:
            views.count_golden(conn)
        assert store._checkpointer is None  # a reader (the gateway) never starts one
        assert _wal_pages(store) == 100_000  # the commit-time threshold is only a backstop
        with store.tx() as conn:
            views.add_outbox(conn, [("customer.changes", f"G{i}", {"n": i}) for i in range(2000)])
        checkpointer = store._checkpointer
        assert checkpointer is not None
        deadline = time.monotonic() + 10
        while checkpointer.frames == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert checkpointer.frames > 0  # the committed pages were copied into the database file
    finally:
        store.dispose()
    assert not checkpointer._thread.is_alive()


def test_an_in_memory_store_has_no_checkpointer() -> None:
    store = Store("sqlite://")
    try:
        with store.tx() as conn:
            views.add_outbox(conn, [("t", "k", {"v": 1})])
        assert store._checkpointer is None
    finally:
        store.dispose()
