"""Database access through a DBAPI connection (python-oracledb thin in production, a fake in tests).

:class:`ConnectionFactory` is any callable returning a DBAPI connection; :func:`oracledb_factory` is the real
one (NUMBER fetched as ``Decimal``, LOBs as ``str``/``bytes``, the session's NLS formats set so SQL_REDO
dates are ISO-like). :class:`LogMiner` runs one session per SCN window (see :mod:`.sql`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from decimal import Decimal
from typing import Any

from connectors.dbapi import ConnectionFactory, fetch_dicts
from connectors.dbapi import DbConnection as Connection
from connectors.dbapi import DbCursor as Cursor
from connectors.oracle_logminer import sql as q
from schemas.errors import ConfigError, FatalError
from schemas.sqlstate import classify

__all__ = ["ConnectionFactory", "LogMiner", "Row", "pick_log_files", "rows_of"]

Row = dict[str, Any]




def oracledb_factory(dsn: str, user: str, password: str | None) -> ConnectionFactory:
    """Connections from python-oracledb (thin mode); a missing driver names the extra to install."""
    def connect() -> Connection:
        try:
            import oracledb
        except ImportError:
            raise ConfigError("python-oracledb is not installed; install crmhub[oracle]") from None

        def handler(cursor: Any, metadata: Any) -> Any:
            if metadata.type_code is oracledb.DB_TYPE_NUMBER:
                return cursor.var(Decimal, arraysize=cursor.arraysize)
            if metadata.type_code in (oracledb.DB_TYPE_CLOB, oracledb.DB_TYPE_NCLOB):
                return cursor.var(oracledb.DB_TYPE_LONG, arraysize=cursor.arraysize)
            if metadata.type_code is oracledb.DB_TYPE_BLOB:
                return cursor.var(oracledb.DB_TYPE_LONG_RAW, arraysize=cursor.arraysize)
            return None

        conn = oracledb.connect(user=user, password=password, dsn=dsn)
        conn.outputtypehandler = handler
        cur = conn.cursor()
        for statement in q.NLS_SETTINGS:
            cur.execute(statement)
        cur.close()
        return conn  # type: ignore[return-value]  # structurally a DBAPI connection
    return connect


def rows_of(cursor: Cursor, size: int) -> Iterator[Row]:
    """The cursor's rows as dicts keyed by the column names it describes, fetched ``size`` at a time."""
    return fetch_dicts(cursor, size)


def pick_log_files(rows: Sequence[Mapping[str, Any]], start_scn: int) -> list[str]:
    """The files to add for a window starting at ``start_scn``: one per (thread, sequence), the archived
    copy preferred over the online one; ``FatalError`` when the oldest file starts after ``start_scn``
    (the redo needed was purged: a new snapshot is the only way back)."""
    chosen: dict[tuple[int, int], Mapping[str, Any]] = {}
    for row in rows:
        ident = (int(row["THREAD"]), int(row["SEQ"]))
        if ident not in chosen or row["KIND"] == "ARCHIVED":
            chosen[ident] = row
    if not chosen:
        raise FatalError(f"no redo log reaches SCN {start_scn}")
    firsts: dict[int, int] = {}
    for (thread, _), row in chosen.items():
        firsts[thread] = min(firsts.get(thread, int(row["FIRST_CHANGE"])), int(row["FIRST_CHANGE"]))
    if any(first > start_scn for first in firsts.values()):
        raise FatalError(f"the redo logs start at SCN {min(firsts.values())}, after the position {start_scn}: "
                         "archived logs were purged before they were mined; re-snapshot the connector")
    return [str(chosen[k]["FILE_NAME"]) for k in sorted(chosen)]


class LogMiner:
    """LogMiner sessions over SCN windows on one connection."""

    def __init__(self, factory: ConnectionFactory, tables: Sequence[tuple[str, str]], fetch_size: int,
                 name: str) -> None:
        self._factory = factory
        self._tables = list(tables)
        self._fetch_size = fetch_size
        self._name = name
        self._conn: Connection | None = None
        self._contents = q.contents_query(self._tables)

    @contextmanager
    def _cursor(self, what: str) -> Iterator[Cursor]:
        try:
            if self._conn is None:
                self._conn = self._factory()
            cur = self._conn.cursor()
            try:
                yield cur
            finally:
                cur.close()
        except Exception as exc:
            if isinstance(exc, ConfigError | FatalError):
                raise
            self.close()
            raise classify(exc, f"connector {self._name}: {what}") from exc

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None, what: str = "query") -> Any:
        with self._cursor(what) as cur:
            cur.execute(sql, params or {})
            rows = cur.fetchall()
            return rows[0][0] if rows else None

    def query(self, sql: str, params: Mapping[str, Any] | None = None, what: str = "query") -> list[Row]:
        with self._cursor(what) as cur:
            cur.execute(sql, params or {})
            return list(rows_of(cur, self._fetch_size))

    def current_scn(self) -> int:
        return int(self.scalar(q.CURRENT_SCN, what="reading V$DATABASE.CURRENT_SCN"))

    def oldest_open_scn(self) -> int | None:
        value = self.scalar(q.OLDEST_OPEN_TX, what="reading V$TRANSACTION")
        return None if value is None else int(value)

    def mine(self, start_scn: int, end_scn: int) -> Iterator[Row]:
        """The window's V$LOGMNR_CONTENTS rows (SCN order); the session always ends (END_LOGMNR)."""
        files = pick_log_files(self.query(q.LOG_FILES, {"start_scn": start_scn}, "listing redo logs"), start_scn)
        with self._cursor(f"mining SCN {start_scn}-{end_scn}") as cur:
            for i, name in enumerate(files):
                cur.execute(q.add_logfile(i == 0), {"file_name": name})
            cur.execute(q.START_LOGMNR, {"start_scn": start_scn, "end_scn": end_scn})
            try:
                cur.arraysize = self._fetch_size
                cur.execute(self._contents, {"start_scn": start_scn, "end_scn": end_scn})
                yield from rows_of(cur, self._fetch_size)
            finally:
                cur.execute(q.END_LOGMNR)

    def close(self) -> None:
        if self._conn is not None:
            with suppress(Exception):
                self._conn.close()
            self._conn = None
