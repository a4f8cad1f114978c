"""The part of a DB-API 2.0 connection the log-based readers use (pyodbc, ibm_db_dbi, python-oracledb, and the
fake connections of the tests), so each reader takes a connection factory instead of importing a driver."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol


class DbCursor(Protocol):
    description: Any
    arraysize: int

    def execute(self, sql: str, params: Any = ..., /) -> Any: ...
    def fetchmany(self, size: int = ..., /) -> Sequence[Sequence[Any]]: ...
    def fetchall(self) -> Sequence[Sequence[Any]]: ...
    def close(self) -> None: ...


class DbConnection(Protocol):
    def cursor(self) -> DbCursor: ...
    def close(self) -> None: ...


ConnectionFactory = Callable[[], DbConnection]


def fetch_dicts(cursor: DbCursor, size: int) -> Iterator[dict[str, Any]]:
    """The executed cursor's rows as dicts keyed by its column names (upper-cased), fetched ``size`` at a time."""
    names = [str(d[0]).upper() for d in cursor.description or ()]
    while True:
        chunk = cursor.fetchmany(size)
        if not chunk:
            return
        for values in chunk:
            yield dict(zip(names, values, strict=False))
