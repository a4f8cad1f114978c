"""The LogMiner connector end to end over a fake DBAPI database answering with V$LOGMNR_CONTENTS-shaped rows
written by the encoders (never canned outputs): interleaved transactions, rollbacks, a transaction spanning
windows, crash and resume at one commit SCN, continuation rows, typed values, snapshot AS OF SCN."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.base import Batch
from connectors.oracle_logminer import OracleLogminerConfig, OracleLogminerConnector
from connectors.oracle_logminer.session import pick_log_files
from connectors.oracle_logminer.state import make_state
from connectors.oracle_logminer.txbuffer import TxBuffer, is_emitted, make_position
from hub.runtime.source_lag import SourceLag
from hub.runtime.source_lag_monitor import measure
from schemas.columns import ColumnType
from schemas.envelope import ChangeEvent, Op
from schemas.errors import ConfigError, FatalError
from tests.unit.test_oracle_logminer_encoders import FakeOracle, Redo, delete_sql, insert_sql, update_sql

T = ("CRM", "CUST")
CATALOG: dict[tuple[str, str], list[dict[str, Any]]] = {T: [
    {"COLUMN_NAME": "ID", "DATA_TYPE": "NUMBER", "DATA_PRECISION": 9, "DATA_SCALE": 0, "NULLABLE": "N"},
    {"COLUMN_NAME": "NAME", "DATA_TYPE": "VARCHAR2", "NULLABLE": "Y", "DATA_LENGTH": 400, "CHAR_LENGTH": 100},
    {"COLUMN_NAME": "CODE", "DATA_TYPE": "CHAR", "NULLABLE": "Y", "DATA_LENGTH": 3, "CHAR_LENGTH": 3},
    {"COLUMN_NAME": "CREDIT", "DATA_TYPE": "NUMBER", "DATA_PRECISION": 11, "DATA_SCALE": 2, "NULLABLE": "Y"},
    {"COLUMN_NAME": "RATIO", "DATA_TYPE": "BINARY_DOUBLE", "NULLABLE": "Y"},
    {"COLUMN_NAME": "BORN", "DATA_TYPE": "DATE", "NULLABLE": "Y"},
    {"COLUMN_NAME": "SEEN", "DATA_TYPE": "TIMESTAMP(6)", "NULLABLE": "Y"},
    {"COLUMN_NAME": "PHOTO", "DATA_TYPE": "RAW", "NULLABLE": "Y", "DATA_LENGTH": 16},
    {"COLUMN_NAME": "NOTES", "DATA_TYPE": "CLOB", "NULLABLE": "Y"},
]}
KEYS = {T: ["ID"]}


def row(i: int, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"ID": i, "NAME": f"name {i}", "CODE": "AB ", "CREDIT": Decimal("10.50"), "RATIO": 0.25,
                            "BORN": datetime(1980, 1, 2, 3, 4, 5), "SEEN": datetime(2026, 1, 1, 0, 0, 0, 5),
                            "PHOTO": b"\x01\x02", "NOTES": None}
    return {**base, **kw}


def config(**kw: Any) -> OracleLogminerConfig:
    data = {"kind": "oracle-logminer", "name": "ar", "dsn": "db:1521/ORCLPDB1", "user": "cdc", "password": "pw",
            "tables": [{"name": "CRM.CUST"}], "poll_interval_ms": 1, "heartbeat_interval_ms": 10**9, **kw}
    return OracleLogminerConfig.model_validate(data)


def connector(db: FakeOracle, **kw: Any) -> OracleLogminerConnector:
    return OracleLogminerConnector(config(**kw), factory=db.connect, sleep=_stop_when_idle)


class _Idle(Exception):
    pass


def _stop_when_idle(_: float) -> None:
    raise _Idle


def drain(batches: Iterator[Batch]) -> list[Batch]:
    out: list[Batch] = []
    try:
        for b in batches:
            json.dumps(b.state)  # JSON-safe at every step
            out.append(b)
    except _Idle:
        pass
    return out


def events(batches: list[Batch]) -> list[ChangeEvent]:
    return [e for b in batches for e in b.events]


def stream_state(scn: int) -> dict[str, Any]:
    return make_state(snapshot_done=True, stream=make_position(scn, scn - 1, []))


def test_interleaved_transactions_leave_in_commit_order_typed() -> None:
    r = Redo()
    first = r.scn + 1
    r.start("A")
    r.dml("A", insert_sql(*T, row(1)))
    r.start("B")
    r.dml("B", insert_sql(*T, row(2, NAME="Zoë ''x'' O'Neil", NOTES="EMPTY")))
    r.dml("A", update_sql(*T, row(1), row(1, CREDIT=Decimal("-3.25"), NAME=None)))
    b_commit = r.commit("B")
    r.dml("A", delete_sql(*T, row(1, CREDIT=Decimal("-3.25"), NAME=None)))
    a_commit = r.commit("A")
    db = FakeOracle(r, CATALOG, KEYS)
    out = events(drain(connector(db).changes(stream_state(first))))
    assert [(e.op, e.key["ID"], e.source.tx_id) for e in out] == [
        (Op.CREATE, Decimal(2), "4.17.4001"), (Op.CREATE, Decimal(1), "3.17.4000"),
        (Op.UPDATE, Decimal(1), "3.17.4000"), (Op.DELETE, Decimal(1), "3.17.4000")]
    c2 = out[0].after
    assert c2 is not None
    assert c2["NAME"] == "Zoë ''x'' O'Neil" and c2["CODE"] == "AB " and c2["CREDIT"] == Decimal("10.50")
    assert c2["RATIO"] == 0.25 and c2["BORN"] == datetime(1980, 1, 2, 3, 4, 5) and c2["PHOTO"] == b"\x01\x02"
    assert c2["SEEN"] == datetime(2026, 1, 1, 0, 0, 0, 5)
    upd = out[2]
    assert upd.before is not None and upd.after is not None
    assert upd.before["NAME"] == "name 1" and upd.after["NAME"] is None and upd.after["CREDIT"] == Decimal("-3.25")
    assert out[3].before is not None and out[3].before["NAME"] is None and out[3].after is None
    assert [e.source.position["commit_scn"] for e in out] == [str(b_commit)] + [str(a_commit)] * 3
    assert out[0].source.position["table"] == "CRM.CUST" and out[0].source.schema == "CRM"


def test_rollbacks_are_dropped() -> None:
    r = Redo()
    first = r.scn + 1
    r.start("A")
    r.dml("A", insert_sql(*T, row(1)))
    r.rollback("A")
    r.start("B")
    r.dml("B", insert_sql(*T, row(2)), row_id="ROW2")
    r.dml("B", insert_sql(*T, row(3)), row_id="ROW3")
    r.dml("B", delete_sql(*T, row(3)), row_id="ROW3", rollback=1)  # statement rolled back: undo of row 3
    r.commit("B")
    db = FakeOracle(r, CATALOG, KEYS)
    out = events(drain(connector(db).changes(stream_state(first))))
    assert [(e.op, e.key["ID"]) for e in out] == [(Op.CREATE, Decimal(2))]


def test_continuation_rows_are_joined() -> None:
    r = Redo()
    first = r.scn + 1
    long_text = ("x" * 3000 + "'" + "é" * 1500)[:4000]
    r.start("A")
    r.dml("A", insert_sql(*T, row(1, NOTES=long_text * 3)))
    assert sum(1 for x in r.dicts() if x["CSF"] == 1) >= 3
    r.commit("A")
    out = events(drain(connector(FakeOracle(r, CATALOG, KEYS)).changes(stream_state(first))))
    assert out[0].after is not None and out[0].after["NOTES"] == long_text * 3


def test_long_transaction_spanning_windows_and_restart_position() -> None:
    r = Redo()
    first = r.scn + 1
    r.start("LONG")
    r.dml("LONG", insert_sql(*T, row(1)))
    long_start = first
    for i in range(2, 12):  # short transactions committing while LONG stays open, across windows
        r.start(f"S{i}")
        r.dml(f"S{i}", insert_sql(*T, row(i)))
        r.commit(f"S{i}")
    r.dml("LONG", insert_sql(*T, row(99)))
    r.commit("LONG")
    db = FakeOracle(r, CATALOG, KEYS)
    batches = drain(connector(db, window_scns=5).changes(stream_state(first)))
    assert len(db.windows) > 5 and all(b - a == 4 for a, b in db.windows[:-1])
    ids = [int(e.key["ID"]) for e in events(batches)]
    assert ids == [*range(2, 12), 1, 99]
    mid = next(b for b in batches if b.events and int(b.events[-1].key["ID"]) == 5)
    assert mid.state["stream"]["scn"] == long_start  # LONG still open: a restart mines it from its start
    again = events(drain(connector(db, window_scns=5).changes(mid.state)))
    assert [int(e.key["ID"]) for e in again] == [*range(6, 12), 1, 99]


def test_crash_and_resume_inside_one_commit_scn() -> None:
    r = Redo()
    first = r.scn + 1
    for tx in ("A", "B", "C"):
        r.start(tx)
        r.dml(tx, insert_sql(*T, row(ord(tx))))
        r.dml(tx, insert_sql(*T, row(ord(tx) + 100)))
    r.commit("A")
    r.commit("B", same_scn=True)
    r.commit("C", same_scn=True)
    db = FakeOracle(r, CATALOG, KEYS)
    full = [int(e.key["ID"]) for e in events(drain(connector(db).changes(stream_state(first))))]
    assert full == [65, 165, 66, 166, 67, 167]
    batches = drain(connector(db, batch_size=1).changes(stream_state(first)))
    for cut in range(len(batches)):  # crash after any acknowledged batch: the rest, exactly once
        done = [int(e.key["ID"]) for b in batches[:cut + 1] for e in b.events]
        rest = [int(e.key["ID"]) for e in events(drain(connector(db, batch_size=2).changes(batches[cut].state)))]
        assert done + rest == full, (cut, batches[cut].state)


def test_dead_rows_for_unparsable_or_unfitting_redo() -> None:
    r = Redo()
    first = r.scn + 1
    r.start("A")
    r.dml("A", insert_sql(*T, row(1, CREDIT=Decimal("123456789012.5"))))  # does not fit NUMBER(11,2)
    r.dml("A", 'insert into "CRM"."CUST"("ID") values (SDO_GEOMETRY(2001));')
    r.dml("A", 'delete from "CRM"."CUST" where "NAME" = \'x\';')  # no key in the where clause
    r.dml("A", insert_sql(*T, row(2)))
    r.commit("A")
    batches = drain(connector(FakeOracle(r, CATALOG, KEYS)).changes(stream_state(first)))
    dead = [d for b in batches for d in b.dead]
    assert [int(e.key["ID"]) for e in events(batches)] == [2]
    assert len(dead) == 3 and "does not fit" in dead[0].reason and "unsupported function" in dead[1].reason
    assert "key column" in dead[2].reason and dead[2].raw["SQL_REDO"].startswith("delete")


def test_snapshot_as_of_scn_then_stream_without_duplicates() -> None:
    r = Redo(scn=5000)
    data = {T: [row(i) for i in range(1, 6)]}
    db = FakeOracle(r, CATALOG, KEYS, data)
    db.current_scn = 5000
    db.oldest_open = 4990  # a transaction open during the snapshot: mined from its start
    r.scn = 4989
    r.start("OPEN")
    r.dml("OPEN", insert_sql(*T, row(50)))
    r.scn = 4995
    r.start("DONE")
    r.dml("DONE", insert_sql(*T, row(3)))
    r.scn = 4999
    assert r.commit("DONE") == 5000  # committed at the snapshot's SCN: the flashback query has it
    r.scn = 5000
    r.commit("OPEN")  # at 5001: after the snapshot, so streamed
    conn = connector(db, batch_size=2)
    snap = list(conn.snapshot({}))
    ids = [int(e.key["ID"]) for e in events(snap)]
    assert ids == [1, 2, 3, 4, 5] and all(e.op is Op.READ for e in events(snap))
    assert events(snap)[-1].source.snapshot == "last" and snap[-1].state["snapshot_done"]
    assert snap[-1].state["stream"] == {"scn": 4990, "commit_scn": 5000, "done": None, "partial": None}
    resumed = list(connector(db, batch_size=2).snapshot(snap[0].state))  # crash after the first page
    assert [int(e.key["ID"]) for e in events(resumed)] == [3, 4, 5]
    db.current_scn = None
    streamed = events(drain(connector(db).changes(snap[-1].state)))
    assert [(e.op, int(e.key["ID"])) for e in streamed] == [(Op.CREATE, 50)]


def test_describe_types_and_key() -> None:
    db = FakeOracle(Redo(), CATALOG, KEYS)
    (meta,) = connector(db).describe()
    assert meta.key == ("ID",) and meta.schema == "CRM" and meta.db == "ORCLPDB1"
    types = {c.name: (c.type, c.precision, c.scale, c.length) for c in meta.columns}
    assert types["ID"] == (ColumnType.DECIMAL, 9, 0, None)
    assert types["CREDIT"] == (ColumnType.DECIMAL, 11, 2, None)
    assert types["CODE"] == (ColumnType.CHAR, None, None, 3)
    assert types["BORN"][0] is ColumnType.TIMESTAMP and types["RATIO"][0] is ColumnType.FLOAT64
    assert types["PHOTO"] == (ColumnType.BYTES, None, None, 16) and types["NOTES"][0] is ColumnType.STRING
    assert not meta.column("CREDIT").primary_key or meta.column("ID").primary_key


def test_describe_reports_every_problem() -> None:
    db = FakeOracle(Redo(), CATALOG, {})
    cfg = {"tables": [{"name": "CRM.CUST"}, {"name": "CRM.NOPE"}]}
    with pytest.raises(ConfigError) as err:
        connector(db, **cfg).describe()
    assert err.value.problems == ["ar.tables[0].key_columns: CRM.CUST has no primary key; list its key",
                                  "ar.tables[1].name: table CRM.NOPE not found (or no privilege to see it)"]


def test_config_errors_carry_their_paths() -> None:
    with pytest.raises(ValidationError) as err:
        OracleLogminerConfig.model_validate({
            "kind": "oracle-logminer", "name": "ar", "dsn": "scott/tiger@db/x", "user": "", "mode": "redo",
            "tables": [{"name": "CUST"}, {"name": "A.B", "key_columns": []}, {"name": "a.b"}],
            "window_scns": 0, "db_timezone": "Mars/Base", "windows": 3})
    locs = {".".join(map(str, e["loc"])) for e in err.value.errors()}
    assert {"dsn", "user", "mode", "tables.0.name", "tables.1.key_columns", "tables.2.name", "window_scns",
            "db_timezone", "windows"} <= locs
    assert "tiger" not in str(err.value)


def test_log_file_choice() -> None:
    rows = [{"FILE_NAME": "/a/1_7.arc", "THREAD": 1, "SEQ": 7, "FIRST_CHANGE": 10, "KIND": "ARCHIVED"},
            {"FILE_NAME": "/r/redo01.log", "THREAD": 1, "SEQ": 7, "FIRST_CHANGE": 10, "KIND": "ONLINE"},
            {"FILE_NAME": "/r/redo02.log", "THREAD": 1, "SEQ": 8, "FIRST_CHANGE": 90, "KIND": "ONLINE"}]
    assert pick_log_files(rows, 50) == ["/a/1_7.arc", "/r/redo02.log"]
    with pytest.raises(FatalError, match="purged"):
        pick_log_files(rows[2:], 50)


def test_session_sql_sequence() -> None:
    r = Redo()
    first = r.scn + 1
    r.start("A")
    r.commit("A")
    db = FakeOracle(r, CATALOG, KEYS)
    drain(connector(db).changes(stream_state(first)))
    mined = [s for s in db.log if "LOGMNR" in s]
    assert mined == ["BEGIN SYS.DBMS_LOGMNR.ADD_LOGFILE", "BEGIN SYS.DBMS_LOGMNR.ADD_LOGFILE",
                     "BEGIN SYS.DBMS_LOGMNR.START_LOGMNR", "BEGIN SYS.DBMS_LOGMNR.END_LOGMNR; END;"]
    assert db.windows == [(first, r.scn)]


def test_buffer_and_position_rules() -> None:
    r = Redo()
    r.start("A")
    r.dml("A", insert_sql(*T, row(1)))
    buf = TxBuffer()
    fed = [buf.feed(x) for x in r.dicts()]
    assert fed == [None, None] and buf.oldest_start() == r.scn - 1
    pos = make_position(10, 20, ["1.2.3"], {"xid": "4.5.6", "events": 2})
    assert is_emitted(pos, 19, "x") is None and is_emitted(pos, 21, "x") == 0
    assert is_emitted(pos, 20, "1.2.3") is None and is_emitted(pos, 20, "4.5.6") == 2
    assert is_emitted(pos, 20, "7.8.9") == 0
    assert is_emitted(make_position(10, 20, None), 20, "7.8.9") is None
    assert next(iter(itertools.islice(iter(r.dicts()), 1)))["OPERATION_CODE"] == 6


def test_source_lag_from_the_current_scn_and_the_saved_scn_with_their_times() -> None:
    db = FakeOracle(Redo(), CATALOG, KEYS)
    db.current_scn = 5000
    db.scn_times = {4000: datetime(2026, 12, 1, 10, 0, 0), 4500: datetime(2026, 12, 1, 10, 0, 42, 500000),
                    5000: datetime(2026, 12, 1, 10, 1, 30)}
    conn = connector(db)
    heads = conn.source_heads()
    assert heads == [{"table": "CRM.CUST", "scn": "5000", "ts": "2026-12-01T10:01:30"}]
    idle = make_state(snapshot_done=True, stream=make_position(4601, 4550, None))  # windows read up to 4600
    saved = conn.saved_positions(idle)
    assert saved == {"CRM.CUST": {"table": "CRM.CUST", "scn": "4600", "ts": "2026-12-01T10:00:42.500000"}}
    assert measure(heads, saved) == [SourceLag("CRM.CUST", 47.5, None)]
    # a transaction open since 4100 and one at 4500 emitted in part: captured in full up to 4499 only
    open_tx = make_state(snapshot_done=True, stream=make_position(4100, 4500, [], {"xid": "1.2.3", "events": 2}))
    assert measure(heads, conn.saved_positions(open_tx)) == [SourceLag("CRM.CUST", 90.0, None)]


def test_a_saved_scn_older_than_the_time_mapping_has_no_time() -> None:
    db = FakeOracle(Redo(), CATALOG, KEYS)
    db.current_scn = 5000
    db.scn_times = {4000: datetime(2026, 12, 1, 10, 0, 0)}
    conn = connector(db)
    saved = conn.saved_positions(make_state(snapshot_done=True, stream=make_position(3001, 3000, None)))
    assert saved == {"CRM.CUST": {"table": "CRM.CUST", "scn": "3000"}}
    assert measure(conn.source_heads(), saved) == [SourceLag("CRM.CUST", None, None)]
    assert conn.saved_positions(make_state()) == {}
