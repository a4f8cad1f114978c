"""The small DB-API 2.0 surface the change-table readers use, behind a pluggable connection factory.

The real factories open pyodbc (SQL Server) or ibm_db_dbi (Db2) connections; tests pass a factory returning
a fake connection whose cursor answers the readers' SQL with rows in the server's own shape. Driver errors
are classified by SQLSTATE (:func:`schemas.sqlstate.classify`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from connectors.dbapi import ConnectionFactory, DbConnection, DbCursor
from schemas.errors import CrmhubError
from schemas.sqlstate import classify

__all__ = ["ConnectionFactory", "DbConnection", "DbCursor", "Session"]




class Session:
    """One lazily opened connection; ``query`` returns rows as dicts keyed by the column names the driver
    reports (SQL Server keeps their case; Db2 returns upper case for unquoted names)."""

    def __init__(self, factory: ConnectionFactory, where: str) -> None:
        self._factory = factory
        self._where = where
        self._conn: DbConnection | None = None

    @contextmanager
    def _classified(self, what: str) -> Iterator[None]:
        try:
            yield
        except CrmhubError:
            raise
        except Exception as exc:  # driver errors: the driver is an optional extra, so no class to name here
            if self._conn is not None:
                self.close()  # a broken link: open a fresh connection next time
            raise classify(exc, f"{self._where}: {what}") from exc

    def query(self, sql: str, params: Sequence[Any] = (), what: str = "query") -> list[dict[str, Any]]:
        with self._classified(what):
            if self._conn is None:
                self._conn = self._factory()
            cur = self._conn.cursor()
            try:
                cur.execute(sql, tuple(params))
                if cur.description is None:
                    return []
                names = [str(d[0]) for d in cur.description]
                return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
            finally:
                cur.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Exception):  # closing a broken connection may fail; nothing to do about it
                conn.close()
