"""Contract test against a real SQL Server with CDC: runs only when CRMHUB_TEST_MSSQL_DSN is set.

CRMHUB_TEST_MSSQL_DSN is an ODBC string with the password (``DRIVER={ODBC Driver 18 for SQL Server};
SERVER=host,1433;DATABASE=crmhub_test;UID=sa;PWD=...;TrustServerCertificate=yes``) of a login that may run
sys.sp_cdc_enable_db / sys.sp_cdc_enable_table (db_owner), with SQL Server Agent running.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

DSN = os.environ.get("CRMHUB_TEST_MSSQL_DSN")
pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not DSN, reason="CRMHUB_TEST_MSSQL_DSN is not set (a SQL Server with CDC and Agent)")]


@pytest.fixture()
def table() -> Iterator[tuple[Any, str]]:
    pyodbc = pytest.importorskip("pyodbc")
    conn = pyodbc.connect(DSN, autocommit=True)
    name = f"crmhub_cdc_{uuid.uuid4().hex[:8]}"
    cur = conn.cursor()
    cur.execute("IF (SELECT is_cdc_enabled FROM sys.databases WHERE name = DB_NAME()) = 0 EXEC sys.sp_cdc_enable_db")
    cur.execute(f"CREATE TABLE dbo.{name} (Id int NOT NULL PRIMARY KEY, Name nvarchar(50), Credit decimal(9,2))")
    cur.execute("EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = ?, @role_name = NULL, "
                "@supports_net_changes = 1", name)
    try:
        yield conn, name
    finally:
        cur.execute("EXEC sys.sp_cdc_disable_table @source_schema = N'dbo', @source_name = ?, "
                    "@capture_instance = 'all'", name)
        cur.execute(f"DROP TABLE dbo.{name}")
        conn.close()


def test_snapshot_then_insert_update_delete(table: tuple[Any, str]) -> None:
    from connectors.mssql_cdc.config import MssqlCdcConfig
    from connectors.mssql_cdc.connector import MssqlCdcConnector
    from schemas.envelope import Op

    conn, name = table
    cur = conn.cursor()
    cur.execute(f"INSERT INTO dbo.{name} VALUES (1, N'Ann', 10.00)")
    cfg = MssqlCdcConfig.model_validate({"name": "live", "kind": "mssql-cdc", "dsn": DSN,
                                         "tables": [{"name": f"dbo.{name}"}], "poll_interval_ms": 200,
                                         "heartbeat_interval_ms": 200})
    connector = MssqlCdcConnector(cfg)
    try:
        meta = connector.describe()[0]
        assert meta.key == ("Id",)
        snap = list(connector.snapshot({}))
        state = snap[-1].state
        assert [e.op for b in snap for e in b.events] == [Op.READ]
        cur.execute(f"INSERT INTO dbo.{name} VALUES (2, N'Bo', NULL)")
        cur.execute(f"UPDATE dbo.{name} SET Credit = 20.50 WHERE Id = 1")
        cur.execute(f"DELETE FROM dbo.{name} WHERE Id = 2")
        seen: list[Any] = []
        deadline = time.monotonic() + 60  # the capture job polls the log every 5 s by default
        for batch in connector.changes(state):
            seen.extend(batch.events)
            if len(seen) >= 3 or time.monotonic() > deadline:
                break
        assert [(e.op, e.key["Id"]) for e in seen] == [(Op.CREATE, 2), (Op.UPDATE, 1), (Op.DELETE, 2)]
        assert seen[1].before is not None and str(seen[1].after["Credit"]) == "20.50"
        assert all(e.source.ts_ms > 0 for e in seen)
    finally:
        connector.close()
