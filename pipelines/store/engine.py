"""Opening the store and running one writer at a time.

``Store(url)`` creates the tables if needed. ``store.exclusive()`` is the critical section of a unify worker:
on PostgreSQL a session-level advisory lock, so several workers (processes, machines) in one consumer group
take turns applying a batch and publishing its outbox, and the outputs of one golden record reach Kafka in
version order; on SQLite a process-wide lock plus ``BEGIN IMMEDIATE`` transactions (SQLite serialises writers
across processes itself). ``store.tx()`` is one transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import Engine

from pipelines.store.checkpoint import WalCheckpointer
from pipelines.store.raw import forget_all
from pipelines.store.tables import metadata

_ADVISORY_KEY = 0x63726D68  # "crmh"
_SQLITE_LOCKS: dict[str, threading.RLock] = {}
_SQLITE_LOCKS_GUARD = threading.Lock()


def _sqlite_lock(url: str) -> threading.RLock:
    with _SQLITE_LOCKS_GUARD:
        return _SQLITE_LOCKS.setdefault(url, threading.RLock())


def _make_engine(url: str, *, writer: bool = True) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: the blocking index of 100k records stays hot
            # the WalCheckpointer thread checkpoints beside the writer; this is only the backstop (~400 MB)
            cur.execute("PRAGMA wal_autocheckpoint=100000")
            cur.close()

        begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # on the driver's connection: through exec_driver_sql this cost more than the rest of a small batch's
            # transaction handling
            conn.connection.driver_connection.execute(begin)  # type: ignore[union-attr]

        return engine
    return create_engine(url, pool_pre_ping=True)


#: Index changes for stores made by an earlier release (``create_all`` only adds what a new table needs).
_UPGRADES = (
    # the blocking index became covering (key, record_id): blocking reads no table rows (about twice as fast)
    "CREATE INDEX IF NOT EXISTS ix_block_key_key_record ON block_key (key, record_id)",
    "DROP INDEX IF EXISTS ix_block_key_key",
)


def _create(engine: Engine, is_sqlite: bool) -> None:
    """The tables and their upgrades, in one transaction; on PostgreSQL under a transaction-level advisory lock,
    so workers starting together do not race on the same CREATE TABLE (one failed with a duplicate type)."""
    with engine.begin() as conn:
        if not is_sqlite:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY})
        metadata.create_all(conn)
        for sql in _UPGRADES:
            conn.exec_driver_sql(sql)


class Store:
    """The golden-record store at ``url`` (an SQLAlchemy URL)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _make_engine(url)
        self.is_sqlite = url.startswith("sqlite")
        self._reader = _make_engine(url, writer=False) if self.is_sqlite else self.engine
        self._local = threading.local()
        self._checkpointer: WalCheckpointer | None = None
        self._checkpointer_guard = threading.Lock()
        _create(self.engine, self.is_sqlite)

    def _start_checkpointer(self) -> None:
        """On an SQLite file, the first write transaction starts the WAL checkpointer (readers never do)."""
        path = self.engine.url.database
        if not path or path == ":memory:":
            return
        with self._checkpointer_guard:
            if self._checkpointer is None:
                self._checkpointer = WalCheckpointer(path, self).start()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the store's writer lock (re-entrant within a thread)."""
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        if self.is_sqlite:
            lock = _sqlite_lock(self.url)
            with lock:
                self._local.depth = 1
                try:
                    yield
                finally:
                    self._local.depth = 0
            return
        with self.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _ADVISORY_KEY})
            conn.commit()
            self._local.depth = 1
            try:
                yield
            finally:
                self._local.depth = 0
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _ADVISORY_KEY})
                conn.commit()

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        if self.is_sqlite and self._checkpointer is None:
            self._start_checkpointer()
        with self.engine.begin() as conn:
            forget_all(conn)
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction: on SQLite a deferred one on its own connections, so readers (the gateway)
        never wait for the writer's lock (WAL gives them the last committed state)."""
        with self._reader.begin() as conn:
            forget_all(conn)
            yield conn

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()
        if self._reader is not self.engine:
            self._reader.dispose()
