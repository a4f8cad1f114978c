"""DBAPI plumbing: the default connection factory (pyodbc or ibm_db_dbi) and row helpers.

The connector takes any ``connect() -> DBAPI connection``; tests pass a fake that returns rows in the shape
the server does. Only ``cursor()``, ``execute(sql, params)``, ``description``, ``fetchall``/``fetchmany``,
``close`` and ``rollback`` are used.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from connectors.dbapi import ConnectionFactory, fetch_dicts
from connectors.dbapi import DbConnection as Connection
from connectors.dbapi import DbCursor as Cursor
from connectors.ibmi_journal.config import IbmiJournalConfig
from schemas.errors import ConfigError


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
    return fetch_dicts(cursor, size)


__all__ = ["Connection", "ConnectionFactory", "Cursor", "default_factory", "rows"]
