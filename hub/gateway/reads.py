"""Read transactions for the gateway's look-ups, on connections kept open between requests.

``Store.read()`` checks a connection out of SQLAlchemy's pool, runs the engine's begin hooks and returns it
reset: about 0.15 ms of Python per request, more than the look-up itself (~0.05 ms). On SQLite the gateway
keeps its own connections to the store's file instead, opened with ``PRAGMA query_only`` (the gateway cannot
write through them), and reused as they are: a look-up is ``BEGIN``, the queries, ``COMMIT`` on the driver's
connection. The transaction gives each request one consistent snapshot, as ``Store.read()`` did; in WAL mode
it never waits for the unify writer. Idle connections are kept up to ``max_idle`` (one per thread serving
requests at once is enough); a connection that raised a database error is closed, not reused.

Point look-ups (a golden record by id or by source key: one or two primary-key reads, ~0.05 ms) go through
:meth:`StoreReads.lookup`, which on SQLite runs them on the event loop itself rather than handing each to a
worker thread and back (two thread switches, more than the read costs). Its connections wait at most
``inline_busy_s`` for a lock (a WAL reader normally never waits); a busy file sends the look-up to a worker
thread with the ordinary connections, so the event loop is never held up for long.

Other databases (PostgreSQL) keep using ``Store.read()`` in worker threads: their pool already reuses
connections, and a network round trip must not run on the event loop.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TypeVar

import anyio
from sqlalchemy import Connection, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from pipelines.store.engine import Store
from pipelines.store.raw import forget_all

T = TypeVar("T")


def _sqlite_file(url: str) -> str | None:
    """The database file of a SQLite ``url`` (None: not SQLite, or in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return str(parsed.database)


class StoreReads:
    """``read()``: a read-only transaction on ``store`` for one request (see the module doc)."""

    def __init__(self, store: Store, *, max_idle: int = 8, inline_busy_s: float = 0.05) -> None:
        self.store = store
        self.max_idle = max_idle
        self._file = _sqlite_file(store.url)
        self._idle: dict[bool, list[Connection]] = {False: [], True: []}  # by "inline"
        self._lock = threading.Lock()
        self._closed = False
        self._engines = {} if self._file is None else {
            inline: create_engine("sqlite://", creator=lambda busy=busy_s: self._connect(busy), poolclass=NullPool)
            for inline, busy_s in ((False, 60.0), (True, inline_busy_s))}

    def _connect(self, busy_s: float) -> sqlite3.Connection:
        assert self._file is not None
        db = sqlite3.connect(self._file, timeout=busy_s, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA query_only = ON")
        db.execute("PRAGMA cache_size = -16384")  # 16 MiB per connection
        return db

    def _take(self, inline: bool) -> Connection:
        with self._lock:
            if self._idle[inline]:
                return self._idle[inline].pop()
        return self._engines[inline].connect()

    def _give(self, conn: Connection, inline: bool) -> None:
        with self._lock:
            if not self._closed and len(self._idle[inline]) < self.max_idle:
                self._idle[inline].append(conn)
                return
        conn.close()

    async def lookup(self, fn: Callable[[Connection], T]) -> T:
        """``fn(conn)`` in a read transaction: on SQLite on the event loop (see the module doc), else (or when
        the file is busy) in a worker thread."""
        if self._engines:
            try:
                with self._transaction(inline=True) as conn:
                    return fn(conn)
            except (sqlite3.OperationalError, OperationalError) as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
        return await anyio.to_thread.run_sync(self._call, fn)

    def _call(self, fn: Callable[[Connection], T]) -> T:
        with self.read() as conn:
            return fn(conn)

    def read(self) -> AbstractContextManager[Connection]:
        """A read transaction for a worker thread."""
        return self._transaction(inline=False) if self._engines else self.store.read()

    @contextmanager
    def _transaction(self, *, inline: bool) -> Iterator[Connection]:
        conn = self._take(inline)
        db: sqlite3.Connection = conn.connection.driver_connection  # type: ignore[assignment]
        broken = False
        try:
            db.execute("BEGIN")
            forget_all(conn)
            yield conn
        except (sqlite3.Error, DBAPIError):
            broken = True
            raise
        finally:  # a 404 raised inside keeps the connection; a database error closes it
            if broken or not _end(conn, db):
                conn.close()
            else:
                self._give(conn, inline)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle = self._idle[False] + self._idle[True]
            self._idle = {False: [], True: []}
        for conn in idle:
            conn.close()
        for engine in self._engines.values():
            engine.dispose()


def _end(conn: Connection, db: sqlite3.Connection) -> bool:
    """End the read transaction (nothing was written: a rollback ends it like a commit); False if that failed."""
    try:
        if db.in_transaction:
            db.execute("ROLLBACK")
        if conn.in_transaction():  # a Core statement auto-began SQLAlchemy's (empty) transaction
            conn.rollback()
    except (sqlite3.Error, DBAPIError):
        return False
    return True
