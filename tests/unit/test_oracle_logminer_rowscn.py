"""``mode: rowscn`` on the SQL connector, and the SQL text the LogMiner mode sends."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import oracle

from connectors.oracle_logminer import OracleLogminerConfig, OracleLogminerConnector
from connectors.oracle_logminer import rowscn as rowscn_mod
from connectors.oracle_logminer import sql as q
from connectors.oracle_logminer.rowscn import ROWSCN, RowscnConnector, sql_config, sql_url
from connectors.sql.catalog import SourceTable
from connectors.sql.queries import incremental_query, table_ref
from connectors.sql.state import make_state
from hub.runtime.source_lag import SourceLag
from hub.runtime.source_lag_monitor import measure
from schemas.columns import Column, ColumnType, TableMeta
from schemas.envelope import Op
from schemas.errors import ConfigError


def config(**kw: Any) -> OracleLogminerConfig:
    return OracleLogminerConfig.model_validate({
        "kind": "oracle-logminer", "name": "ar", "dsn": "dbhost:1522/ORCLPDB1", "user": "cdc", "password": "s3cret",
        "mode": "rowscn", "tables": [{"name": "CRM.CUST", "key_columns": ["ID"]}], **kw})


def test_sql_config_and_url() -> None:
    cfg = sql_config(config())
    assert cfg.url == "oracle+oracledb://cdc@dbhost:1522/?service_name=ORCLPDB1"
    assert cfg.password is not None and cfg.password.get_secret_value() == "s3cret"
    (table,) = cfg.tables
    assert (table.name, table.mode, table.incrementing_column, table.key_columns) == (
        "crm.cust", "incrementing", ROWSCN, ["id"])
    assert sql_url("//h/svc", "u") == "oracle+oracledb://u@h:1521/?service_name=svc"
    with pytest.raises(ConfigError, match="Easy Connect"):
        sql_url("(DESCRIPTION=(ADDRESS=(HOST=h)))", "u")
    assert isinstance(OracleLogminerConnector(config())._rowscn, RowscnConnector)


def test_reflect_adds_ora_rowscn_and_polls_it(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = RowscnConnector(sql_config(config()))
    meta = TableMeta(connector="ar", db="ORCLPDB1", schema="crm", name="cust", key=("id",),
                     columns=(Column("id", ColumnType.DECIMAL, precision=9), Column("name", ColumnType.STRING)))
    seen: dict[str, Any] = {}

    def fake_reflect(engine: Any, cfg: Any) -> list[SourceTable]:
        seen["inc"] = [t.incrementing_column for t in cfg.tables]
        t = cfg.tables[0]
        return [SourceTable(t, meta, table_ref("crm", "cust", ["id", "name"]), None, None, meta.key_columns, None)]

    monkeypatch.setattr(rowscn_mod, "reflect_tables", fake_reflect)
    monkeypatch.setattr(RowscnConnector, "_get_engine", lambda self: None)
    (table,) = conn._reflect()
    assert seen["inc"] == [None]  # the catalog is asked without the pseudo-column
    assert table.inc is not None and table.inc.name == ROWSCN and table.ids == (table.inc,)
    assert [c.name for c in table.meta.columns] == ["id", "name"]  # not in the events
    stmt = incremental_query(table.ref, ts_column=None, id_columns=[ROWSCN], after_ids=[5], limit=10,
                             dialect="oracle")
    text = str(stmt.compile(dialect=oracle.dialect()))
    assert "crm.cust.ora_rowscn > :id_0" in text and "ORDER BY crm.cust.ora_rowscn" in text
    assert conn._op(table, {}, {}, False, None, False) is Op.UPDATE
    assert conn._op(table, {}, {}, True, None, False) is Op.READ


def test_contents_query_and_snapshot_query() -> None:
    text = q.contents_query([("CRM", "CUST"), ("CRM", "O'X"), ("AR", "CUST")])
    assert "(SEG_OWNER = 'AR' AND TABLE_NAME IN ('CUST')) OR (SEG_OWNER = 'CRM' AND TABLE_NAME IN ('CUST', 'O''X'))" \
        in text
    assert "OPERATION_CODE IN (6, 7, 36)" in text and "ORDER BY" not in text
    assert all(c in text for c in q.CONTENTS_COLUMNS)
    page = q.snapshot_query("CRM", "CUST", ["A", "B", "C"], ["A", "B"], after=True, limit=5)
    assert page == ('SELECT "A", "B", "C" FROM "CRM"."CUST" AS OF SCN :scn WHERE ("A" > :k0) OR ("A" = :k0 AND '
                    '"B" > :k1) ORDER BY "A", "B" FETCH FIRST 5 ROWS ONLY')
    assert "OPTIONS => SYS.DBMS_LOGMNR.NEW" in q.add_logfile(True)
    assert "SYS.DBMS_LOGMNR.ADDFILE" in q.add_logfile(False)
    assert "DICT_FROM_ONLINE_CATALOG" in q.START_LOGMNR and "STARTSCN => :start_scn" in q.START_LOGMNR
    assert sa.text(q.LOG_FILES).compile().params == {"start_scn": None}


def test_rowscn_mode_tells_its_source_lag_as_the_sql_connector(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = OracleLogminerConnector(config())
    meta = TableMeta(connector="ar", db="ORCLPDB1", schema="crm", name="cust", key=("id",),
                     columns=(Column("id", ColumnType.DECIMAL, precision=9),))
    cfg = sql_config(config()).tables[0]
    table = SourceTable(cfg, meta, table_ref("crm", "cust", ["id"]), None, None, meta.key_columns, None)
    monkeypatch.setattr(RowscnConnector, "_resolved", lambda self: [table])
    monkeypatch.setattr(RowscnConnector, "_newest", lambda self, t: {"head_ts": None, "head_id": 1200})
    heads = conn.source_heads()
    assert heads == [{"table": table.label, "id": "1200"}]
    saved = conn.saved_positions(make_state(stream={table.label: {"ts": None, "id": [1150], "max_id": 1150}}))
    assert measure(heads, saved) == [SourceLag(table.label, None, 50)]
