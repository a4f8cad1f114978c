"""SqlConnector errors against real servers: each named by what the caller must do."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.sql import SqlConnector, SqlConnectorConfig
from schemas.errors import ConfigError, RetriableError
from tests.sqlservers import SqlDb, create, customers_table, make_config, server_url

SERVERS = [pytest.param("postgresql", marks=pytest.mark.pg), pytest.param("mariadb", marks=pytest.mark.mariadb)]


def _config(url: str, password: str | None) -> SqlConnectorConfig:
    return SqlConnectorConfig.model_validate({
        "kind": "sql", "name": "crm", "url": url, "password": password,
        "tables": [{"name": "whatever", "mode": "incrementing", "incrementing_column": "id"}],
    })


@pytest.mark.parametrize("kind", SERVERS)
def test_bad_password_is_a_config_error_without_the_password(kind: str) -> None:
    url = sa.make_url(server_url(kind)).set(password=None).render_as_string(hide_password=False)
    conn = SqlConnector(_config(url, "not-the-password-42"))
    with pytest.raises(ConfigError) as info:
        conn.describe()
    text = str(info.value)
    assert "SQLSTATE 28" in text and "crm" in text
    assert "not-the-password-42" not in text


@pytest.mark.parametrize("kind", SERVERS)
def test_server_not_reachable_is_retriable(kind: str) -> None:
    url = sa.make_url(server_url(kind))
    dead = url.set(port=1).render_as_string(hide_password=False)  # nothing listens on port 1
    conn = SqlConnector(_config(dead, None))
    with pytest.raises(RetriableError, match="SQLSTATE 08"):
        conn.describe()


def test_missing_table_and_columns_are_config_errors_with_paths(sql_db: SqlDb) -> None:
    name = sql_db.table_name("cust")
    create(sql_db, customers_table(name))
    cfg = make_config(sql_db, name, timestamp_column="nope", incrementing_column="name")
    with pytest.raises(ConfigError) as info:
        SqlConnector(cfg).describe()
    problems = info.value.problems
    assert any(p.startswith("crm.tables[0].timestamp_column: column nope not found") for p in problems)
    assert any(p.startswith("crm.tables[0].incrementing_column: column name is") for p in problems)
    missing = make_config(sql_db, "no_such_table")
    with pytest.raises(ConfigError, match=r"crm\.tables\[0\]\.name: table no_such_table not found"):
        SqlConnector(missing).describe()


def test_missing_driver_names_the_extra_to_install() -> None:
    cfg = _config("mssql+pyodbc://user@dsn", "pw")
    try:
        import pyodbc  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("pyodbc is installed here")
    with pytest.raises(ConfigError, match=r"crm\.url: .*install crmhub\[odbc\]"):
        SqlConnector(cfg).describe()


def test_a_sqlite_source_locked_by_another_process_is_retriable_then_read(tmp_path: Path) -> None:
    db = tmp_path / "legacy.db"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("CREATE TABLE whatever (id INTEGER PRIMARY KEY, name TEXT)")
    holder.execute("INSERT INTO whatever VALUES (1, 'a')")
    conn = SqlConnector(_config(f"sqlite:///{db}", None))
    try:
        holder.execute("BEGIN EXCLUSIVE")  # as when the source is down: no connection can read it
        with pytest.raises(RetriableError, match="SQLITE_BUSY"):
            conn.describe()
        holder.execute("ROLLBACK")
        assert [t.name for t in conn.describe()] == ["whatever"]
    finally:
        conn.close()
        holder.close()
