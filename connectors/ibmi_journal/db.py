"""DBAPI plumbing: the default connection factory (pyodbc or ibm_db_dbi) and row helpers.

The connector takes any ``connect() -> DBAPI connection``; tests pass a fake that returns rows in the shape
the server does. Only ``cursor()``, ``execute(sql, params)``, ``description``, ``fetchall``/``fetchmany``,
``close`` and ``rollback`` are used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from connectors.ibmi_journal.config import IbmiJournalConfig
from schemas.errors import ConfigError


class Cursor(Protocol):
    description: Any

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...
    def fetchmany(self, size: int = ..., /) -> Sequence[Sequence[Any]]: ...
    def fetchall(self) -> Sequence[Sequence[Any]]: ...
    def close(self) -> None: ...


class Connection(Protocol):
    def cursor(self) -> Any: ...
    def close(self) -> None: ...


ConnectionFactory = Callable[[], Connection]


def _with_password(dsn: str, config: IbmiJournalConfig) -> str:
    if config.password is None:
        return dsn
    return dsn.rstrip(";") + ";PWD=" + config.password.get_secret_value() + ";"


def default_factory(config: IbmiJournalConfig) -> ConnectionFactory:
    """A factory for ``config.driver``; a missing driver is a ``ConfigError`` naming the extra to install."""
    dsn = config.dsn
    if config.driver == "odbc":
        try:
            import pyodbc
        except ImportError:
            raise ConfigError(f"{config.name}.driver: pyodbc is not installed; install crmhub[odbc] and the IBM i "
                              "Access ODBC Driver") from None
        return lambda: pyodbc.connect(_with_password(dsn, config), autocommit=True)
    try:
        import ibm_db_dbi
    except ImportError:
        raise ConfigError(f"{config.name}.driver: ibm_db is not installed; install crmhub[db2]") from None
    return lambda: ibm_db_dbi.connect(_with_password(dsn, config), "", "")


def rows(cursor: Cursor, sql: str, params: Sequence[Any], *, size: int = 1000) -> Iterator[dict[str, Any]]:
    """Run ``sql`` and yield each row as {COLUMN: value} (names upper-cased)."""
    cursor.execute(sql, list(params))
    names = [str(d[0]).upper() for d in cursor.description or ()]
    while True:
        chunk = cursor.fetchmany(size)
        if not chunk:
            return
        for row in chunk:
            yield dict(zip(names, row, strict=False))


__all__ = ["Connection", "ConnectionFactory", "Cursor", "default_factory", "rows"]
