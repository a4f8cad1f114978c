"""The IBM i journal connector against a fake Db2 for i that returns rows shaped as the server does.

DISPLAY_JOURNAL rows carry the documented columns (OBJECT = file(10) library(10) member(10), ENTRY_DATA the
record image built with the codecs' encoders, NULL_VALUE_INDICATORS one '0'/'1' per column); receivers come
from a fake QSYS2.JOURNAL_RECEIVER_INFO. No canned decoder output anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.base import Batch
from connectors.codecs import encode
from connectors.ibmi_journal import IbmiJournalConfig, IbmiJournalConnector
from connectors.ibmi_journal.entries import Position, Receiver, resolve_start
from connectors.ibmi_journal.queries import DISPLAY_JOURNAL_SQL
from connectors.ibmi_journal.state import make_state
from schemas.errors import ConfigError, FatalError

JOURNAL_COLUMNS = re.findall(r"J\.(\w+)", DISPLAY_JOURNAL_SQL.split("FROM")[0])
SYSCOLUMNS = [  # CUSTMAST: CUSNO DECIMAL(7,0) PK, NAME CHAR(12) CCSID 37, CITY VARCHAR(20) null, BAL NUMERIC(9,2)
    {"COLUMN_NAME": "CUSNO", "ORDINAL_POSITION": 1, "DATA_TYPE": "DECIMAL", "LENGTH": 7, "NUMERIC_SCALE": 0,
     "CCSID": None, "IS_NULLABLE": "N"},
    {"COLUMN_NAME": "NAME", "ORDINAL_POSITION": 2, "DATA_TYPE": "CHAR", "LENGTH": 12, "NUMERIC_SCALE": None,
     "CCSID": 37, "IS_NULLABLE": "N"},
    {"COLUMN_NAME": "CITY", "ORDINAL_POSITION": 3, "DATA_TYPE": "VARCHAR", "LENGTH": 20, "NUMERIC_SCALE": None,
     "CCSID": 37, "IS_NULLABLE": "Y"},
    {"COLUMN_NAME": "BAL", "ORDINAL_POSITION": 4, "DATA_TYPE": "NUMERIC", "LENGTH": 9, "NUMERIC_SCALE": 2,
     "CCSID": None, "IS_NULLABLE": "N"},
]
T0 = datetime(2024, 5, 1, 12, 0, 0)


def image(cusno: int, name: str, city: str | None, bal: str) -> bytes:
    return (encode.packed(cusno, 7) + encode.text(name, 12) + encode.varchar(city or "", 20)
            + encode.zoned(Decimal(bal), 9, 2))


class DbError(Exception):
    """Shaped like pyodbc.Error: args = (SQLSTATE, message)."""


class FakeIbmi:
    """Journal receivers with entries, a catalog and table rows; serves the connector's SQL."""

    def __init__(self) -> None:
        self.receivers: list[dict[str, Any]] = [{"lib": "JRNLIB", "name": "RCV0001", "status": "ATTACHED",
                                                  "entries": []}]
        self.seq = 100
        self.rows: list[dict[str, Any]] = []
        self.queries: list[str] = []

    # -- building the journal
    def add(self, code: str, type_: str, *, cc: int = 0, rrn: int = 0, data: bytes | None = None,
            nulls: str | None = None, job: str = "123456", file: str = "CUSTMAST") -> int:
        self.seq += 1
        cc = self.seq if type_ == "SC" else cc  # a cycle's id is the sequence number of its SC entry
        rcv = self.receivers[-1]
        obj = (file.ljust(10) + "CRMLIB".ljust(10) + file.ljust(10)) if code == "R" else ""
        rcv["entries"].append({
            "ENTRY_TIMESTAMP": T0 + timedelta(seconds=self.seq), "SEQUENCE_NUMBER": self.seq, "JOURNAL_CODE": code,
            "JOURNAL_ENTRY_TYPE": type_, "COUNT_OR_RRN": rrn, "COMMIT_CYCLE_ID": cc, "OBJECT": obj,
            "OBJECT_TYPE": "*QDDS" if code == "R" else "", "RECEIVER_LIBRARY": rcv["lib"],
            "RECEIVER_NAME": rcv["name"], "JOB_NAME": "QPADEV0001", "JOB_USER": "CLERK", "JOB_NUMBER": job,
            "PROGRAM_NAME": "ORDENT", "NULL_VALUE_INDICATORS": nulls if nulls is not None else "0000",
            "ENTRY_DATA": data})
        return self.seq

    def rotate(self, name: str) -> None:
        self.receivers[-1]["status"] = "ONLINE"
        self.receivers.append({"lib": "JRNLIB", "name": name, "status": "ATTACHED", "entries": []})

    def delete_receiver(self, name: str) -> None:
        self.receivers = [r for r in self.receivers if r["name"] != name]

    # -- serving SQL
    def connect(self) -> FakeConnection:
        return FakeConnection(self)

    def execute(self, sql: str, params: list[Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        self.queries.append(sql)
        if "DISPLAY_JOURNAL" in sql:
            return re.findall(r"J\.(\w+)", sql.split("FROM")[0]), self._journal(sql, params)
        if "JOURNAL_RECEIVER_INFO" in sql:
            cols = ["JOURNAL_RECEIVER_LIBRARY", "JOURNAL_RECEIVER_NAME", "FIRST_SEQUENCE_NUMBER",
                    "LAST_SEQUENCE_NUMBER", "STATUS", "ATTACH_TIMESTAMP"]
            out = []
            for r in self.receivers:
                seqs = [e["SEQUENCE_NUMBER"] for e in r["entries"]]
                out.append((r["lib"], r["name"], min(seqs) if seqs else self.seq + 1, max(seqs) if seqs else None,
                            r["status"], T0))
            return cols, out
        if "SYSCOLUMNS" in sql:
            cols = [*SYSCOLUMNS[0], "TABLE_SCHEMA", "TABLE_NAME", "SYSTEM_TABLE_SCHEMA", "SYSTEM_TABLE_NAME"]
            if params[2] != "CUSTMAST":
                return cols, []
            return cols, [(*c.values(), "CRMLIB", "CUSTMAST", "CRMLIB", "CUSTMAST") for c in SYSCOLUMNS]
        if "SYSKEYCST" in sql:
            return ["COLUMN_NAME", "COLUMN_POSITION"], [("CUSNO", 1)]
        limit = int(re.search(r"FETCH FIRST (\d+)", sql).group(1))  # type: ignore[union-attr]
        after = params[-1] if params else None
        rows = sorted((r for r in self.rows if after is None or r["CUSNO"] > after), key=lambda r: r["CUSNO"])
        return ["CUSNO", "NAME", "CITY", "BAL"], [tuple(r.values()) for r in rows[:limit]]

    def _journal(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        _, _, lib, name, start, *objects = params
        after = objects.pop(0) if "J.SEQUENCE_NUMBER > ?" in sql else start - 1
        codes = ("R",) if "J.JOURNAL_CODE = 'R'" in sql and " OR " not in sql else ("C", "R")
        columns = re.findall(r"J\.(\w+)", sql.split("FROM")[0])
        limit = int(re.search(r"FETCH FIRST (\d+)", sql).group(1))  # type: ignore[union-attr]
        index = next((i for i, r in enumerate(self.receivers) if (r["lib"], r["name"]) == (lib, name)), None)
        if index is None:
            raise DbError("42704", f"[42704] [IBM][System i Access ODBC Driver][DB2 for i5/OS]SQL0443 - Receiver "
                          f"{name} in {lib} not found.")
        out = []
        for r in self.receivers[index:]:
            for e in r["entries"]:
                wanted = (e["JOURNAL_CODE"] == "C" and e["JOURNAL_ENTRY_TYPE"] in ("SC", "CM", "RB")) or (
                    e["JOURNAL_CODE"] == "R" and e["OBJECT"][:20] in objects)
                if "WHERE" not in sql:  # every entry from the starting sequence on
                    wanted = True
                if e["SEQUENCE_NUMBER"] > after and e["JOURNAL_CODE"] in codes and wanted:
                    out.append(tuple(e[c] for c in columns))
        return out[:limit]


class FakeCursor:
    def __init__(self, db: FakeIbmi) -> None:
        self.db = db
        self.description: list[tuple[str]] | None = None
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, sql: str, params: list[Any] = ()) -> None:  # type: ignore[assignment]
        cols, self._rows = self.db.execute(sql, list(params))
        self.description = [(c,) for c in cols]

    def fetchmany(self, size: int = 1) -> list[tuple[Any, ...]]:
        out, self._rows = self._rows[:size], self._rows[size:]
        return out

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.fetchmany(len(self._rows))

    def close(self) -> None:
        pass


class FakeConnection:
    def __init__(self, db: FakeIbmi) -> None:
        self.db = db

    def cursor(self) -> FakeCursor:
        return FakeCursor(self.db)

    def close(self) -> None:
        pass


def config(**over: Any) -> IbmiJournalConfig:
    data = {"name": "ibmi", "kind": "ibmi-journal", "dsn": "DRIVER={IBM i Access ODBC Driver};SYSTEM=as400",
            "journal_library": "jrnlib", "journal_name": "QSQJRN", "tables": [{"name": "crmlib.custmast"}],
            "batch_size": 50, "heartbeat_interval_ms": 1}
    return IbmiJournalConfig.model_validate({**data, **over})


class Stop(Exception):
    pass


def connector(db: FakeIbmi, **over: Any) -> IbmiJournalConnector:
    def sleep(_: float) -> None:
        raise Stop  # one poll found the end of the journal: stop the test's stream there

    return IbmiJournalConnector(config(**over), connect=db.connect, sleep=sleep, clock=lambda: 1_700_000_000.0)


def drain(batches: Iterator[Batch]) -> list[Batch]:
    out: list[Batch] = []
    try:
        for batch in batches:
            out.append(batch)
    except Stop:
        pass
    return out


def events(batches: list[Batch]) -> list[tuple[str, Any, Any, Any, str | None]]:
    return [(e.op.value, e.key.get("CUSNO"), e.before and e.before["NAME"], e.after and e.after["NAME"],
             e.source.tx_id) for b in batches for e in b.events]


def stream(db: FakeIbmi, state: dict[str, Any] | None = None, **over: Any) -> tuple[list[Batch], dict[str, Any]]:
    conn = connector(db, **over)
    conn.describe()
    batches = drain(conn.changes(state or make_state(snapshot_done=True, position={
        "receiver_library": "JRNLIB", "receiver": "RCV0001", "sequence": 101}, emitted=100)))
    return batches, (batches[-1].state if batches else {})


# ------------------------------------------------------------------------------------------------ tests


def test_describe_builds_the_table_from_syscolumns_and_the_primary_key() -> None:
    meta = connector(FakeIbmi()).describe()[0]
    assert (meta.schema, meta.name, meta.key) == ("CRMLIB", "CUSTMAST", ("CUSNO",))
    assert [c.name for c in meta.columns] == ["CUSNO", "NAME", "CITY", "BAL"]


def test_snapshot_takes_the_position_first_then_reads_in_key_order() -> None:
    db = FakeIbmi()
    db.add("R", "PT", rrn=1, data=image(1, "OLD", None, "0"))
    db.rows = [{"CUSNO": Decimal(n), "NAME": f"N{n}".ljust(12), "CITY": None, "BAL": Decimal("1.50")}
               for n in (3, 1, 2)]
    conn = connector(db, batch_size=2)
    conn.describe()
    batches = list(conn.snapshot(make_state()))
    got = [(e.op.value, e.after["CUSNO"], e.after["NAME"], e.source.snapshot) for b in batches for e in b.events]
    assert got == [("r", 1, "N1", "true"), ("r", 2, "N2", "true"), ("r", 3, "N3", "last")]
    final = batches[-1].state
    assert final["snapshot_done"] and final["position"] == {"receiver_library": "JRNLIB", "receiver": "RCV0001",
                                                            "sequence": 101}
    assert final["emitted"] == 101  # the entry at the position is before the snapshot: not emitted again
    assert list(conn.snapshot(final)) == []


def test_committed_changes_in_commit_order_with_transaction_ids_and_rollback_dropped() -> None:
    db = FakeIbmi()
    a = db.add("C", "SC")
    b = db.add("C", "SC")
    db.add("R", "PT", cc=a, rrn=1, data=image(1, "ALPHA", "Oslo", "1.00"))
    db.add("R", "PT", cc=b, rrn=2, data=image(2, "BETA", None, "2.00"), nulls="0010")
    db.add("R", "PT", rrn=3, data=image(3, "NOTXN", None, "3.00"))  # outside commitment control: at once
    db.add("C", "CM", cc=b)  # b commits first
    c = db.add("C", "SC")
    db.add("R", "PT", cc=c, rrn=4, data=image(4, "GONE", None, "4.00"))
    db.add("R", "DR", cc=c, rrn=4, data=image(4, "GONE", None, "4.00"))
    db.add("C", "RB", cc=c)
    db.add("C", "CM", cc=a)
    batches, state = stream(db)
    assert events(batches) == [("c", 3, None, "NOTXN", None), ("c", 2, None, "BETA", str(b)),
                               ("c", 1, None, "ALPHA", str(a))]
    beta = next(e for bt in batches for e in bt.events if e.key["CUSNO"] == 2)
    assert beta.after == {"CUSNO": 2, "NAME": "BETA", "CITY": None, "BAL": Decimal("2.00")}
    assert beta.source.position["commit_sequence"] == str(b + 4) and beta.source.ts_ms == int(
        (T0 + timedelta(seconds=b + 4)).timestamp() * 1000)
    assert state["emitted"] == db.seq and state["position"]["sequence"] == db.seq


def test_update_pairs_before_and_after_across_interleaved_entries_and_after_only_images() -> None:
    db = FakeIbmi()
    db.add("R", "UB", rrn=7, data=image(7, "BEFORE", "X", "1.00"), job="111111")
    db.add("R", "UB", rrn=8, data=image(8, "OTHER-B", "Y", "1.00"), job="222222")
    db.add("R", "UP", rrn=8, data=image(8, "OTHER-A", "Y", "1.00"), job="222222")
    db.add("R", "UP", rrn=7, data=image(7, "AFTER", "X", "9.99"), job="111111")
    db.add("R", "UP", rrn=9, data=image(9, "AFTONLY", None, "0"))  # IMAGES(*AFTER): no UB
    db.add("R", "DL", rrn=7, data=image(7, "AFTER", "X", "9.99"))
    batches, _ = stream(db)
    assert events(batches) == [("u", 8, "OTHER-B", "OTHER-A", None), ("u", 7, "BEFORE", "AFTER", None),
                               ("u", 9, None, "AFTONLY", None), ("d", 7, "AFTER", None, None)]


def test_savepoint_rollback_inside_a_committed_cycle_cancels_the_rolled_back_changes() -> None:
    db = FakeIbmi()
    a = db.add("C", "SC")
    db.add("R", "PT", cc=a, rrn=1, data=image(1, "KEEP", None, "1"))
    db.add("R", "PT", cc=a, rrn=2, data=image(2, "UNDONE", None, "1"))
    db.add("R", "UB", cc=a, rrn=1, data=image(1, "KEEP", None, "1"))
    db.add("R", "UP", cc=a, rrn=1, data=image(1, "CHANGED", None, "1"))
    db.add("R", "BR", cc=a, rrn=1, data=image(1, "CHANGED", None, "1"))  # rollback to savepoint: update undone
    db.add("R", "UR", cc=a, rrn=1, data=image(1, "KEEP", None, "1"))
    db.add("R", "DR", cc=a, rrn=2, data=image(2, "UNDONE", None, "1"))  # ... and the second insert
    db.add("R", "DR", cc=a, rrn=5, data=image(5, "EARLIER", None, "1"))  # its insert was before our start
    db.add("C", "CM", cc=a)
    batches, _ = stream(db)
    assert events(batches) == [("c", 1, None, "KEEP", str(a)), ("d", 5, "EARLIER", None, str(a))]


def test_receiver_chain_is_followed_and_a_fully_read_deleted_receiver_is_not_a_lost_position() -> None:
    db = FakeIbmi()
    db.add("R", "PT", rrn=1, data=image(1, "ONE", None, "1"))
    db.rotate("RCV0002")
    db.add("R", "PT", rrn=2, data=image(2, "TWO", None, "1"))
    batches, state = stream(db)
    assert [e[1] for e in events(batches)] == [1, 2]
    assert state["position"]["receiver"] == "RCV0002"
    db.rotate("RCV0003")
    db.add("R", "PT", rrn=3, data=image(3, "THREE", None, "1"))
    db.delete_receiver("RCV0002")  # detached and deleted after it was read
    more, state2 = stream(db, state)
    assert [e[1] for e in events(more)] == [3] and state2["position"]["receiver"] == "RCV0003"


def test_lost_receiver_fails_naming_it_or_resnapshots() -> None:
    db = FakeIbmi()
    db.add("R", "PT", rrn=1, data=image(1, "ONE", None, "1"))
    db.rotate("RCV0002")
    db.add("R", "PT", rrn=2, data=image(2, "TWO", None, "1"))
    db.rotate("RCV0003")
    db.add("R", "PT", rrn=3, data=image(3, "THREE", None, "1"))
    db.delete_receiver("RCV0001")
    db.delete_receiver("RCV0002")
    with pytest.raises(FatalError, match=r"JRNLIB/RCV0001 holding sequence 101 is no longer available.*RCV0003"):
        stream(db)
    db.rows = [{"CUSNO": Decimal(3), "NAME": "THREE".ljust(12), "CITY": None, "BAL": Decimal(1)}]
    batches, state = stream(db, on_lost_position="resnapshot")
    assert [(e[0], e[1]) for e in events(batches)] == [("r", 3)]
    assert state["position"]["receiver"] == "RCV0003" and state["snapshot_done"]


def test_resume_mid_transaction_replays_the_open_cycle_and_skips_what_was_emitted() -> None:
    db = FakeIbmi()
    a = db.add("C", "SC")
    db.add("R", "PT", cc=a, rrn=1, data=image(1, "OPEN", None, "1"))
    db.add("R", "PT", rrn=2, data=image(2, "AUTO", None, "1"))
    first, state = stream(db)
    assert events(first) == [("c", 2, None, "AUTO", None)]
    assert state["position"]["sequence"] == a and state["emitted"] == a + 2  # restart at the open cycle
    db.add("R", "PT", cc=a, rrn=3, data=image(3, "LATER", None, "1"))
    db.add("C", "CM", cc=a)
    second, state2 = stream(db, state)  # a new connector (after a restart) from the saved state
    assert events(second) == [("c", 1, None, "OPEN", str(a)), ("c", 3, None, "LATER", str(a))]
    third, _ = stream(db, state2)
    assert events(third) == []


def test_a_bad_record_image_goes_to_the_dead_letters_with_its_position() -> None:
    db = FakeIbmi()
    db.add("R", "PT", rrn=1, data=image(1, "OK", None, "1")[:10])
    db.add("R", "PT", rrn=2, data=image(2, "FINE", None, "1"))
    batches, _ = stream(db)
    dead = [d for b in batches for d in b.dead]
    assert events(batches) == [("c", 2, None, "FINE", None)]
    assert dead[0].table == "CRMLIB.CUSTMAST" and "bytes long" in dead[0].reason
    assert dead[0].position["sequence"] == "101" and dead[0].raw["after"]["entry_type"] == "PT"


def test_resolve_start_rules() -> None:
    chain = [Receiver("L", "R2", 50, 99, "ONLINE"), Receiver("L", "R3", 100, None, "ATTACHED")]
    assert resolve_start(Position(60, "L", "R1"), chain) == Position(60, "L", "R2")  # renamed/restored elsewhere
    assert resolve_start(Position(49, "L", "R1"), chain) == Position(50, "L", "R2")  # R1 fully read, then deleted
    freed = [Receiver("L", "R2", 50, 99, "FREED"), chain[1]]
    with pytest.raises(Exception, match="R2 holding sequence 60"):
        resolve_start(Position(60, "L", "R2"), freed)


def test_config_reports_every_bad_field_with_its_path() -> None:
    with pytest.raises(ValidationError) as info:
        IbmiJournalConfig.model_validate({
            "name": "ibmi", "kind": "ibmi-journal", "dsn": "", "journal_library": "TOO_LONG_NAME",
            "journal_name": "QSQJRN", "on_lost_position": "ignore", "server_timezone": "Mars/Base",
            "binary_ccsid": 1025, "tables": [{"name": "nolib", "ccsid": {"X": 290}}, {"name": "A.B"},
                                              {"name": "a.b"}]})
    locs = {".".join(map(str, e["loc"])) for e in info.value.errors()}
    assert {"dsn", "journal_library", "on_lost_position", "server_timezone", "binary_ccsid", "tables.0.name",
            "tables.0.ccsid", "tables.2.name"} <= locs
    ok = config(password="s3cret")
    assert "s3cret" not in repr(ok) and ok.tables[0].library == "CRMLIB" and ok.journal_library == "JRNLIB"


def test_date_format_settings_are_normalised_checked_at_their_path_and_reach_the_decoder() -> None:
    assert config(tables=[{"name": "crmlib.custmast", "date_format": {"SHIPPED": "*mdy"}}]).tables[0].date_format == {
        "SHIPPED": "MDY"}
    with pytest.raises(ValidationError) as info:
        config(tables=[{"name": "crmlib.custmast", "date_format": {"SHIPPED": "YYMMDD"}}])
    assert [".".join(map(str, e["loc"])) for e in info.value.errors()] == ["tables.0.date_format.SHIPPED"]
    conn = connector(FakeIbmi(), tables=[{"name": "crmlib.custmast", "date_format": {"BAL": "JUL"}}])
    with pytest.raises(ConfigError, match=r"ibmi\.tables\[0\]\.date_format\.BAL: no such DATE column"):
        conn.describe()
