"""Contract test against a real IBM i: runs only when CRMHUB_TEST_IBMI_DSN is set.

Environment: CRMHUB_TEST_IBMI_DSN (ODBC connection string, IBM i Access ODBC Driver), CRMHUB_TEST_IBMI_PASSWORD
(optional), CRMHUB_TEST_IBMI_LIBRARY (a scratch library created as an SQL schema, so its tables are journaled
to QSQJRN; default CRMHUBTST). The test creates a table, snapshots it, inserts/updates/deletes under commitment
control plus a rolled-back insert, and checks the events the connector streams.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

DSN = os.environ.get("CRMHUB_TEST_IBMI_DSN")
pytestmark = pytest.mark.skipif(not DSN, reason="CRMHUB_TEST_IBMI_DSN is not set (no IBM i to test against)")
LIB = os.environ.get("CRMHUB_TEST_IBMI_LIBRARY", "CRMHUBTST")


@pytest.fixture()
def db() -> Iterator[object]:
    pyodbc = pytest.importorskip("pyodbc")
    password = os.environ.get("CRMHUB_TEST_IBMI_PASSWORD")
    conn = pyodbc.connect(DSN + (f";PWD={password}" if password else ""), autocommit=False)
    cur = conn.cursor()
    cur.execute(f"CREATE OR REPLACE TABLE {LIB}.JRNTEST (ID DECIMAL(7,0) NOT NULL PRIMARY KEY, NAME CHAR(12) "
                "CCSID 37, CITY VARCHAR(20) CCSID 37, BAL NUMERIC(9,2), AT TIMESTAMP)")
    # a table created in an SQL schema is journaled to its QSQJRN with IMAGES(*BOTH) already
    cur.execute(f"INSERT INTO {LIB}.JRNTEST VALUES (1, 'SNAP', NULL, 1.00, CURRENT TIMESTAMP)")
    conn.commit()
    yield conn
    cur.execute(f"DROP TABLE {LIB}.JRNTEST")
    conn.commit()
    conn.close()


def test_snapshot_then_committed_changes_only(db: object) -> None:
    from connectors.ibmi_journal import IbmiJournalConfig, IbmiJournalConnector

    config = IbmiJournalConfig.model_validate({
        "name": "live", "kind": "ibmi-journal", "dsn": DSN, "password": os.environ.get("CRMHUB_TEST_IBMI_PASSWORD"),
        "journal_library": LIB, "journal_name": "QSQJRN", "tables": [{"name": f"{LIB}.JRNTEST"}],
        "poll_interval_ms": 200, "heartbeat_interval_ms": 200})
    connector = IbmiJournalConnector(config)
    connector.describe()
    state: dict[str, object] = {}
    snap = []
    for batch in connector.snapshot(state):
        snap.extend(batch.events)
        state = batch.state
    assert [e.after["NAME"] for e in snap if e.after] == ["SNAP"]
    cur = db.cursor()  # type: ignore[attr-defined]
    cur.execute(f"INSERT INTO {LIB}.JRNTEST VALUES (2, 'TWO', 'Oslo', 2.50, CURRENT TIMESTAMP)")
    cur.execute(f"UPDATE {LIB}.JRNTEST SET NAME = 'ONE' WHERE ID = 1")
    db.commit()  # type: ignore[attr-defined]
    cur.execute(f"INSERT INTO {LIB}.JRNTEST VALUES (3, 'ROLLED', NULL, 0, NULL)")
    db.rollback()  # type: ignore[attr-defined]
    cur.execute(f"DELETE FROM {LIB}.JRNTEST WHERE ID = 2")
    db.commit()  # type: ignore[attr-defined]
    seen = []
    for batch in connector.changes(state):
        seen.extend((e.op.value, e.key["ID"]) for e in batch.events)
        if len(seen) >= 3:
            break
    assert seen == [("c", 2), ("u", 1), ("d", 2)]
    connector.close()
