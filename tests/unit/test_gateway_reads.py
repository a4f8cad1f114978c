"""The gateway's read connections (``hub/gateway/reads.py``): read-only, reused, a snapshot per request, and
point look-ups on the event loop that move to a worker thread when the file is locked."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from fastapi import HTTPException

from hub.gateway.audit import read_audit
from hub.gateway.audit_writer import AuditEntry, insert_entries
from hub.gateway.reads import StoreReads
from pipelines.store import views
from pipelines.store.engine import Store
from pipelines.store.raw import raw
from pipelines.unify.engine import Unifier
from tests.unify_helpers import event, golden_of, person


@pytest.fixture
def john(store: Store) -> str:
    unifier = Unifier(store)
    unifier.apply([event("ibmi", "1", person("John", "Smith", "1980-01-02", "john@example.com"), 100)])
    unifier.flush(lambda records: None)
    return golden_of(store, "ibmi", "1") or ""


def test_reads_are_read_only_reused_and_see_new_commits(store: Store, john: str) -> None:
    reads = StoreReads(store)
    with reads.read() as conn:
        assert raw(conn).one("SELECT golden_id FROM golden WHERE golden_id = :g", {"g": john}) == (john,)
        first = conn
    with pytest.raises(HTTPException), reads.read() as conn:  # not a database error: the connection is kept
        assert conn is first
        raise HTTPException(404)
    with pytest.raises(sqlite3.OperationalError, match=r"readonly|attempt to write"), reads.read() as conn:
        assert conn is first  # the idle connection is reused
        raw(conn).run("DELETE FROM golden")
    insert_entries(store, [AuditEntry("crm", "agent", "GET", "/customers/G1", None, 200, ["G1"])])
    with reads.read() as conn:  # another connection committed; this request sees it (a fresh connection: the
        assert conn is not first and read_audit(conn)[0]["path"] == "/customers/G1"  # failed one was closed)
    with reads.read() as conn:
        assert raw(conn).one("SELECT count(*) FROM golden") == (1,)
    reads.close()


def test_lookup_runs_inline_and_moves_to_a_thread_when_the_file_is_locked(store: Store, john: str) -> None:
    reads = StoreReads(store, inline_busy_s=0.05)
    threads: list[str] = []

    def find(conn: object) -> str:
        threads.append(threading.current_thread().name)
        row = views.resolve_golden_id(conn, john)  # type: ignore[arg-type]
        assert row is not None
        return row.golden_id

    async def main() -> tuple[str, float]:
        assert await reads.lookup(find) == john
        assert threads == [threading.current_thread().name]  # on the event loop's thread
        reads.close()
        store.dispose()  # nobody else has the file open: the locker below can take it whole
        locker = sqlite3.connect(str(Path(store.engine.url.database or "")), isolation_level=None,
                                 check_same_thread=False)
        locker.execute("PRAGMA locking_mode = EXCLUSIVE")
        locker.execute("BEGIN EXCLUSIVE")
        locker.execute("DELETE FROM audit_log")
        def unlock() -> None:
            locker.execute("COMMIT")
            locker.close()

        threading.Timer(0.5, unlock).start()
        again = StoreReads(store, inline_busy_s=0.05)
        longest_stall = 0.0

        async def ticker() -> None:
            nonlocal longest_stall
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.01)
                now = time.monotonic()
                longest_stall, last = max(longest_stall, now - last), now

        tick = asyncio.create_task(ticker())
        try:
            found = await again.lookup(find)
        finally:
            tick.cancel()
            again.close()
        return found, longest_stall

    found, stall = asyncio.run(main())
    assert found == john and threads[-1] != threads[0]  # answered from a worker thread once the lock was gone
    assert stall < 0.3  # the event loop waited at most ~inline_busy_s, not for the lock
