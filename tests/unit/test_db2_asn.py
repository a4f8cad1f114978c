"""Db2 ASN capture connector against a fake DB-API connection answering its SQL the way Db2 LUW does:
COMMITSEQ/INTENTSEQ as CHAR(10) FOR BIT DATA bytes, IBMSNAP_OPERATION 'I'/'U'/'D', before-image columns
prefixed 'X', SYSCAT.COLUMNS rows, CURRENT TIMEZONE as a signed hhmmss DECIMAL. Rows come from encoders."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from connectors.base import Batch
from connectors.changetables.position import Position, make_state
from connectors.db2_asn.config import Db2AsnConfig
from connectors.db2_asn.connector import Db2AsnConnector
from hub.runtime.source_lag import SourceLag
from hub.runtime.source_lag_monitor import measure
from schemas.columns import ColumnType
from schemas.envelope import Op
from schemas.errors import FatalError


def seq(n: int) -> bytes:
    """A CHAR(10) FOR BIT DATA log sequence value (big-endian, as Db2 compares it)."""
    return n.to_bytes(10, "big")


def col(name: str, no: int, typename: str, length: int, scale: int = 0, nulls: str = "Y", keyseq: int | None = None,
        codepage: int = 1208) -> dict[str, Any]:
    """A SYSCAT.COLUMNS row."""
    return {"COLNAME": name, "COLNO": no, "TYPENAME": typename, "LENGTH": length, "SCALE": scale, "NULLS": nulls,
            "KEYSEQ": keyseq, "CODEPAGE": codepage}


SOURCE = [col("CUSTNO", 0, "DECIMAL", 7, 0, "N", 1), col("NAME", 1, "CHARACTER", 20),
          col("LIMIT", 2, "DECIMAL", 11, 2), col("TOKEN", 3, "CHARACTER", 4, codepage=0)]
CD = [col("IBMSNAP_COMMITSEQ", 0, "CHARACTER", 10, nulls="N", codepage=0),
      col("IBMSNAP_INTENTSEQ", 1, "CHARACTER", 10, nulls="N", codepage=0),
      col("IBMSNAP_OPERATION", 2, "CHARACTER", 1, nulls="N"),
      col("CUSTNO", 3, "DECIMAL", 7, 0), col("NAME", 4, "CHARACTER", 20), col("LIMIT", 5, "DECIMAL", 11, 2),
      col("TOKEN", 6, "CHARACTER", 4, codepage=0),
      col("XCUSTNO", 7, "DECIMAL", 7, 0), col("XNAME", 8, "CHARACTER", 20), col("XLIMIT", 9, "DECIMAL", 11, 2),
      col("XTOKEN", 10, "CHARACTER", 4, codepage=0)]


def cd_row(commit: int, intent: int, op: str, custno: int, name: str, limit: str | None,
           before: tuple[int, str, str | None] | None = None) -> dict[str, Any]:
    """A CD-table row: blank-padded CHAR(20), Decimal values, bytes sequences; X columns NULL unless given."""
    bc, bn, bl = before if before else (None, None, None)
    return {"IBMSNAP_COMMITSEQ": seq(commit), "IBMSNAP_INTENTSEQ": seq(intent), "IBMSNAP_OPERATION": op,
            "CUSTNO": Decimal(custno), "NAME": name.ljust(20), "LIMIT": None if limit is None else Decimal(limit),
            "TOKEN": b"\x00\x01\x02\x03",
            "XCUSTNO": None if bc is None else Decimal(bc), "XNAME": None if bn is None else bn.ljust(20),
            "XLIMIT": None if bl is None else Decimal(bl), "XTOKEN": None if before is None else b"\x00\x01\x02\x03"}


@dataclass
class FakeDb2:
    rows: list[dict[str, Any]] = field(default_factory=list)
    synchpoint: bytes = seq(0)
    old_synchpoint: bytes | None = seq(1)
    state: str = "A"
    uow: dict[bytes, datetime] = field(default_factory=dict)
    timezone: Decimal = Decimal(-50000)  # UTC-5, hhmmss
    log: list[str] = field(default_factory=list)

    def answer(self, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        self.log.append(sql)
        if "MAX(t.SYNCHPOINT)" in sql:
            news = [r["IBMSNAP_COMMITSEQ"] for r in self.rows]
            return [{"SYNCHPOINT": max([self.synchpoint, *news])}]
        if "FROM ASN.IBMSNAP_REGISTER" in sql:
            return [{"SOURCE_OWNER": "CRM", "SOURCE_TABLE": "CUSTMAST", "CD_OWNER": "ASN", "CD_TABLE": "CDCUSTMAST",
                     "CD_OLD_SYNCHPOINT": self.old_synchpoint, "CD_NEW_SYNCHPOINT": self.synchpoint,
                     "BEFORE_IMG_PREFIX": "X", "CHG_UPD_TO_DEL_INS": "Y", "STATE": self.state}]
        if "SYSCAT.COLUMNS" in sql:
            return list(CD if params[1] == "CDCUSTMAST" else SOURCE)
        if "IBMSNAP_UOW" in sql and "IBMSNAP_COMMITSEQ <=" in sql:  # the newest commit at or before a position
            bound = bytes.fromhex(re.findall(r"X'([0-9A-F]+)'", sql)[0])
            found = sorted((c for c in self.uow if c <= bound), reverse=True)[:1]
            return [{"IBMSNAP_COMMITSEQ": c, "IBMSNAP_LOGMARKER": self.uow[c], "TZ": self.timezone} for c in found]
        if "IBMSNAP_UOW" in sql:
            wanted = {bytes.fromhex(h) for h in re.findall(r"X'([0-9A-F]+)'", sql)}
            return [{"IBMSNAP_COMMITSEQ": c, "IBMSNAP_LOGMARKER": t, "TZ": self.timezone}
                    for c, t in self.uow.items() if c in wanted]
        if '"ASN"."CDCUSTMAST"' in sql:
            return self._changes(sql)
        raise AssertionError(sql)

    def _changes(self, sql: str) -> list[dict[str, Any]]:
        lits = [bytes.fromhex(h) for h in re.findall(r"X'([0-9A-F]+)'", sql)]
        upper, commit = lits[0], lits[1]
        after_seq = lits[3] if len(lits) > 3 else None
        limit = int(re.search(r"FETCH FIRST (\d+) ROWS", sql).group(1))  # type: ignore[union-attr]

        def after(r: dict[str, Any]) -> bool:
            c, i = r["IBMSNAP_COMMITSEQ"], r["IBMSNAP_INTENTSEQ"]
            return c > commit or (after_seq is not None and c == commit and i > after_seq)
        found = [r for r in self.rows if r["IBMSNAP_COMMITSEQ"] <= upper and after(r)]
        found.sort(key=lambda r: (r["IBMSNAP_COMMITSEQ"], r["IBMSNAP_INTENTSEQ"]))
        return [dict(r) for r in found[:limit]]

    def connect(self) -> Any:
        server = self

        class Cursor:
            description: list[tuple[str]] | None = None

            def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
                rows = server.answer(sql, params)
                names = list(rows[0]) if rows else ["X"]
                self.description = [(n,) for n in names]
                self._rows = [tuple(r[n] for n in names) for r in rows]

            def fetchall(self) -> list[tuple[Any, ...]]:
                return self._rows

            def close(self) -> None:
                pass

        class Conn:
            def cursor(self) -> Cursor:
                return Cursor()

            def close(self) -> None:
                pass

        return Conn()


class Idle(Exception):
    pass


def _idle(_: float) -> None:
    raise Idle


def make(db: FakeDb2, **over: Any) -> Db2AsnConnector:
    cfg = Db2AsnConfig.model_validate({"name": "ibmi", "kind": "db2-asn",
                                       "dsn": "DATABASE=CRM;HOSTNAME=db2;PORT=50000;PROTOCOL=TCPIP;UID=crmhub",
                                       "tables": [{"name": "CRM.CUSTMAST", "trim_char": True}], **over})
    return Db2AsnConnector(cfg, connect=db.connect, clock=lambda: 1_700_000_000.0, sleep=_idle)


def run(conn: Db2AsnConnector, state: dict[str, Any]) -> list[Batch]:
    out: list[Batch] = []
    try:
        for b in conn.changes(state):
            out.append(b)
    except Idle:
        pass
    return out


def at(n: int) -> dict[str, Any]:
    return make_state(snapshot_done=True, snapshot={"CRM.CUSTMAST": {"done": True}},
                      stream={"CRM.CUSTMAST": {**Position(seq(n)).to_json(), "source": "ASN.CDCUSTMAST"}})


def evs(batches: list[Batch]) -> list[Any]:
    return [e for b in batches for e in b.events]


def test_describe_types_from_the_cd_table_and_key_from_the_source() -> None:
    meta = make(FakeDb2()).describe()[0]
    assert (meta.schema, meta.name, meta.key) == ("CRM", "CUSTMAST", ("CUSTNO",))
    assert [c.name for c in meta.columns] == ["CUSTNO", "NAME", "LIMIT", "TOKEN"]  # X columns are not columns
    assert meta.column("CUSTNO").type is ColumnType.DECIMAL and meta.column("CUSTNO").precision == 7
    assert meta.column("TOKEN").type is ColumnType.BYTES  # CHAR FOR BIT DATA
    assert meta.column("NAME").type is ColumnType.CHAR and meta.column("NAME").length == 20


def test_delete_insert_of_the_same_key_in_one_commit_is_one_update() -> None:
    db = FakeDb2()
    db.rows = [cd_row(5, 1, "D", 100, "ANN", "10.00"), cd_row(5, 2, "I", 100, "ANN", "99.00"),
               cd_row(6, 1, "D", 200, "BO", "1.00"), cd_row(6, 2, "I", 201, "BO", "1.00")]  # key change: d + c
    out = evs(run(make(db), at(2)))
    assert [(e.op, e.key["CUSTNO"]) for e in out] == [(Op.UPDATE, 100), (Op.DELETE, 200), (Op.CREATE, 201)]
    assert out[0].before["LIMIT"] == Decimal("10.00") and out[0].after["LIMIT"] == Decimal("99.00")
    assert out[0].after["NAME"] == "ANN"  # trim_char
    assert out[0].source.position["seq"] == seq(2).hex() and out[0].source.tx_id == seq(5).hex()


def test_update_row_with_before_image_columns() -> None:
    db = FakeDb2()
    db.rows = [cd_row(7, 1, "U", 100, "ANN B", "20.00", before=(100, "ANN", "10.00")),
               cd_row(8, 1, "I", 300, "CY", None)]
    out = evs(run(make(db), at(2)))
    assert out[0].op is Op.UPDATE
    assert out[0].before == {"CUSTNO": Decimal(100), "NAME": "ANN", "LIMIT": Decimal("10.00"),
                             "TOKEN": b"\x00\x01\x02\x03"}
    assert out[1].op is Op.CREATE and out[1].after["LIMIT"] is None


def test_commit_time_from_the_uow_table_in_the_server_zone() -> None:
    db = FakeDb2()
    db.rows = [cd_row(5, 1, "I", 1, "A", None)]
    db.uow = {seq(5): datetime(2024, 5, 6, 7, 0, 0)}
    out = evs(run(make(db), at(2)))
    assert out[0].source.ts_ms == int(datetime(2024, 5, 6, 12, 0, tzinfo=UTC).timestamp() * 1000)


def test_resume_in_intentseq_order_without_duplicates_or_split_pairs() -> None:
    db = FakeDb2()
    db.rows = [cd_row(5, 3, "I", 3, "C", None), cd_row(5, 1, "I", 1, "A", None),
               cd_row(5, 2, "D", 2, "B", None), cd_row(5, 4, "I", 2, "B2", None)]
    first = next(make(db, batch_size=2).changes(at(2)))
    # the D of key 2 is not directly followed by an I of key 2 (key 3 comes between): a delete
    assert [(e.op, e.key["CUSTNO"]) for e in first.events] == [(Op.CREATE, 1), (Op.DELETE, 2)]
    assert first.state["stream"]["CRM.CUSTMAST"]["seq"] == seq(2).hex()
    rest = evs(run(make(db, batch_size=2), first.state))
    assert [(e.op, e.key["CUSTNO"]) for e in rest] == [(Op.CREATE, 3), (Op.CREATE, 2)]


def test_a_delete_insert_pair_is_not_split_by_the_batch_size() -> None:
    db = FakeDb2()
    db.rows = [cd_row(5, 1, "I", 1, "A", None), cd_row(5, 2, "D", 2, "B", None), cd_row(5, 3, "I", 2, "B2", None),
               cd_row(6, 1, "I", 4, "D", None)]
    first = next(make(db, batch_size=2).changes(at(2)))
    assert [(e.op, e.key["CUSTNO"]) for e in first.events] == [(Op.CREATE, 1), (Op.UPDATE, 2)]
    rest = evs(run(make(db, batch_size=2), first.state))
    assert [(e.op, e.key["CUSTNO"]) for e in rest] == [(Op.CREATE, 4)]


def test_reinitialised_registration_is_a_gap() -> None:
    db = FakeDb2(old_synchpoint=seq(50))
    with pytest.raises(FatalError, match="CD_OLD_SYNCHPOINT"):
        run(make(db), at(2))
    with pytest.raises(FatalError, match="not active"):
        run(make(FakeDb2(state="I")), at(2))


def test_config_paths() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as err:
        Db2AsnConfig.model_validate({"name": "x", "kind": "db2-asn", "dsn": "HOSTNAME=h;PWD=x", "password": "y",
                                     "asn_schema": "bad schema", "tables": [{"name": "NOOWNER"}], "platform": "i"})
    locs = {".".join(map(str, e["loc"])) for e in err.value.errors()}
    assert {"dsn", "asn_schema", "tables.0.name", "platform"} <= locs


def test_source_lag_from_the_synchpoint_and_the_saved_commit_mapped_through_the_uow_table() -> None:
    db = FakeDb2()
    db.synchpoint = seq(20)  # capture's newest synchpoint: no commit of its own
    db.rows = [cd_row(9, 1, "I", 1, "A", None), cd_row(12, 1, "I", 2, "B", None)]
    db.uow = {seq(5): datetime(2024, 5, 6, 7, 0, 0), seq(9): datetime(2024, 5, 6, 7, 0, 30),
              seq(12): datetime(2024, 5, 6, 7, 1, 15, 500000)}
    conn = make(db)
    heads = conn.source_heads()
    assert heads == [{"table": "CRM.CUSTMAST", "commit": seq(20).hex(), "ts": "2024-05-06T12:01:15.500000+00:00"}]
    saved = conn.saved_positions(at(6))  # between two commits: the time of the one before it
    assert saved == {"CRM.CUSTMAST": {"table": "CRM.CUSTMAST", "commit": seq(6).hex(),
                                      "ts": "2024-05-06T12:00:00+00:00"}}
    assert measure(heads, saved) == [SourceLag("CRM.CUSTMAST", 75.5, None)]
    caught_up = conn.saved_positions(at(20))
    assert measure(heads, caught_up) == [SourceLag("CRM.CUSTMAST", 0.0, None)]


def test_no_source_head_without_commit_times() -> None:
    db = FakeDb2()
    db.uow = {seq(1): datetime(2024, 5, 6, 7, 0, 0)}
    assert make(db, commit_time="poll").source_heads() == []
    assert make(db).saved_positions(at(0)) == {"CRM.CUSTMAST": {"table": "CRM.CUSTMAST", "commit": seq(0).hex()}}
