"""Contract test against a real Oracle with LogMiner: runs only when CRMHUB_TEST_ORACLE_DSN is set.

CRMHUB_TEST_ORACLE_DSN is an Easy Connect string (``host:1521/ORCLPDB1``); CRMHUB_TEST_ORACLE_USER and
CRMHUB_TEST_ORACLE_PASSWORD a user with the grants of docs/connectors/oracle-logminer.md plus CREATE TABLE in its
own schema. The database must be in ARCHIVELOG mode with minimal supplemental logging on.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

DSN = os.environ.get("CRMHUB_TEST_ORACLE_DSN")
USER = os.environ.get("CRMHUB_TEST_ORACLE_USER", "crmhub")
PASSWORD = os.environ.get("CRMHUB_TEST_ORACLE_PASSWORD", "")
pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not DSN, reason="CRMHUB_TEST_ORACLE_DSN is not set (an Oracle in ARCHIVELOG mode "
                                                 "with LogMiner grants)")]


@pytest.fixture()
def table() -> Iterator[tuple[Any, str]]:
    oracledb = pytest.importorskip("oracledb")
    conn = oracledb.connect(user=USER, password=PASSWORD, dsn=DSN)
    conn.autocommit = True
    name = f"CRMHUB_LM_{uuid.uuid4().hex[:8].upper()}"
    cur = conn.cursor()
    cur.execute(f"CREATE TABLE {name} (ID NUMBER(9) PRIMARY KEY, NAME VARCHAR2(50), CREDIT NUMBER(9,2), "
                "BORN DATE, SEEN TIMESTAMP(6)) ROWDEPENDENCIES")
    cur.execute(f"ALTER TABLE {name} ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS")
    try:
        yield conn, name
    finally:
        cur.execute(f"DROP TABLE {name} PURGE")
        conn.close()


def _collect(batches: Iterator[Any], want: int, timeout: float = 120.0) -> tuple[list[Any], dict[str, Any]]:
    events: list[Any] = []
    state: dict[str, Any] = {}
    deadline = time.monotonic() + timeout
    for batch in batches:
        events.extend(batch.events)
        assert not batch.dead, batch.dead
        state = batch.state
        if len(events) >= want or time.monotonic() > deadline:
            break
    return events, state


@pytest.mark.parametrize("mode", ["logminer", "rowscn"])
def test_snapshot_then_insert_update_delete(table: tuple[Any, str], mode: str) -> None:
    from connectors.oracle_logminer import OracleLogminerConfig, OracleLogminerConnector
    from schemas.envelope import Op

    conn, name = table
    cur = conn.cursor()
    cur.execute(f"INSERT INTO {name} VALUES (1, 'Ann', 10, SYSDATE, SYSTIMESTAMP)")
    cfg = OracleLogminerConfig.model_validate({
        "name": "live", "kind": "oracle-logminer", "dsn": DSN, "user": USER, "password": PASSWORD, "mode": mode,
        "tables": [{"name": f"{USER.upper()}.{name}"}], "poll_interval_ms": 200, "heartbeat_interval_ms": 500})
    connector = OracleLogminerConnector(cfg)
    try:
        meta = connector.describe()[0]
        assert [k.upper() for k in meta.key] == ["ID"]
        snap = list(connector.snapshot({}))
        assert [e.op for b in snap for e in b.events] == [Op.READ]
        cur.execute(f"INSERT INTO {name} VALUES (2, 'O''Neil é', -3.5, NULL, NULL)")
        cur.execute(f"UPDATE {name} SET CREDIT = 11.25, NAME = NULL WHERE ID = 1")
        conn.autocommit = False
        cur.execute(f"INSERT INTO {name} VALUES (3, 'rolled back', 1, NULL, NULL)")
        conn.rollback()
        conn.autocommit = True
        cur.execute(f"DELETE FROM {name} WHERE ID = 2")
        want = 3 if mode == "logminer" else 1
        events, _ = _collect(connector.changes(snap[-1].state), want)
    finally:
        connector.close()
    if mode == "logminer":
        assert [(e.op, int(e.key["ID"])) for e in events] == [(Op.CREATE, 2), (Op.UPDATE, 1), (Op.DELETE, 2)]
        assert events[0].after["NAME"] == "O'Neil é" and events[0].after["CREDIT"] == Decimal("-3.50")
        assert events[1].before["CREDIT"] == Decimal("10.00") and events[1].after["NAME"] is None
        assert events[0].source.position["commit_scn"] and events[0].source.tx_id
    else:
        assert {int(e.key["id"]) for e in events} == {1}  # ID 2 was deleted before the poll saw it
