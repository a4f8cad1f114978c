"""Contract test against a real Db2 LUW with ASN Capture: runs only when CRMHUB_TEST_DB2_DSN is set.

CRMHUB_TEST_DB2_DSN is an ibm_db connection string with the password; CRMHUB_TEST_DB2_TABLE names a table
(``OWNER.TABLE``) already registered in ``${CRMHUB_TEST_DB2_ASN:-ASN}.IBMSNAP_REGISTER`` with Capture running
(registering needs asnclp or Debezium's ASNCDC procedures, which a test cannot assume).
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

DSN = os.environ.get("CRMHUB_TEST_DB2_DSN")
TABLE = os.environ.get("CRMHUB_TEST_DB2_TABLE", "")
pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not DSN, reason="CRMHUB_TEST_DB2_DSN is not set (a Db2 with ASN Capture running)"),
              pytest.mark.skipif(bool(DSN) and not TABLE, reason="CRMHUB_TEST_DB2_TABLE (a registered table) not set")]


def test_describe_snapshot_and_stream() -> None:
    pytest.importorskip("ibm_db_dbi")
    from connectors.db2_asn.config import Db2AsnConfig
    from connectors.db2_asn.connector import Db2AsnConnector

    cfg = Db2AsnConfig.model_validate({"name": "live", "kind": "db2-asn", "dsn": DSN,
                                       "asn_schema": os.environ.get("CRMHUB_TEST_DB2_ASN", "ASN"),
                                       "tables": [{"name": TABLE}], "batch_size": 500, "poll_interval_ms": 200,
                                       "heartbeat_interval_ms": 200})
    connector = Db2AsnConnector(cfg)
    try:
        meta = connector.describe()[0]
        assert meta.key, "the registered table needs a primary key"
        snap = list(connector.snapshot({}))
        state = snap[-1].state
        assert state["snapshot_done"]
        assert len(bytes.fromhex(state["stream"][TABLE]["commit"])) in (10, 16)
        seen: list[Any] = []
        deadline = time.monotonic() + 5
        for batch in connector.changes(state):  # whatever changes are there: they must decode
            seen.extend(batch.events)
            assert not batch.dead, batch.dead[:1]
            if time.monotonic() > deadline:
                break
    finally:
        connector.close()
