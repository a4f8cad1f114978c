"""Encoders for Oracle LogMiner test data: SQL_REDO written as Oracle writes it, and V$LOGMNR_CONTENTS rows
(tuples in the view's column order, continuation rows split at 4000 characters), plus a fake DBAPI database."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.oracle_logminer.sql import CONTENTS_COLUMNS

REDO_CHUNK = 4000


def lit(value: Any) -> str:
    """A value as LogMiner renders it in SQL_REDO (NUMBER as quoted text, non-ASCII text as UNISTR)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return f"'{int(value)}'"
    if isinstance(value, int | Decimal | float):
        return f"'{value}'"
    if isinstance(value, bytes):
        return f"HEXTORAW('{value.hex()}')"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            off = value.utcoffset()
            assert off is not None
            mins = int(off.total_seconds() // 60)
            sign = "-" if mins < 0 else "+"
            zone = f"{sign}{abs(mins) // 60:02d}:{abs(mins) % 60:02d}"
            return f"TO_TIMESTAMP_TZ('{value:%Y-%m-%d %H:%M:%S}.{value.microsecond:06d}000 {zone}')"
        if value.microsecond:
            return f"TO_TIMESTAMP('{value:%Y-%m-%d %H:%M:%S}.{value.microsecond:06d}')"
        return f"TO_DATE('{value:%Y-%m-%d %H:%M:%S}', 'YYYY-MM-DD HH24:MI:SS')"
    text = str(value)
    if all(ord(c) < 128 for c in text):
        return "'" + text.replace("'", "''") + "'"
    units = text.encode("utf-16-be")
    out = []
    for i in range(0, len(units), 2):
        code = int.from_bytes(units[i:i + 2], "big")
        ch = chr(code)
        out.append(ch if code < 128 and ch not in "\\'" else ("''" if ch == "'" else f"\\{code:04X}"))
    return "UNISTR('" + "".join(out) + "')"


def q(name: str) -> str:
    return f'"{name}"'


def insert_sql(owner: str, table: str, row: Mapping[str, Any]) -> str:
    cols = ",".join(q(c) for c in row)
    vals = ",".join(lit(v) for v in row.values())
    return f"insert into {q(owner)}.{q(table)}({cols}) values ({vals});"


def _where(row: Mapping[str, Any], rowid: str | None) -> str:
    terms = [f"{q(c)} IS NULL" if v is None else f"{q(c)} = {lit(v)}" for c, v in row.items()]
    if rowid:
        terms.append(f"ROWID = '{rowid}'")
    return " and ".join(terms)


def update_sql(owner: str, table: str, old: Mapping[str, Any], new: Mapping[str, Any], rowid: str | None = None) -> str:
    changed = {c: v for c, v in new.items() if old.get(c) != v} or dict(new)
    sets = ", ".join(f"{q(c)} = {lit(v)}" for c, v in changed.items())
    return f"update {q(owner)}.{q(table)} set {sets} where {_where(old, rowid)};"


def delete_sql(owner: str, table: str, old: Mapping[str, Any], rowid: str | None = None) -> str:
    return f"delete from {q(owner)}.{q(table)} where {_where(old, rowid)};"


class Redo:
    """Builds V$LOGMNR_CONTENTS rows with increasing SCNs."""

    def __init__(self, scn: int = 1000) -> None:
        self.scn = scn
        self.rows: list[tuple[Any, ...]] = []
        self.xids: dict[str, tuple[int, int, int]] = {}

    def _xid(self, tx: str) -> tuple[int, int, int]:
        if tx not in self.xids:
            self.xids[tx] = (len(self.xids) + 3, 17, 4000 + len(self.xids))
        return self.xids[tx]

    def _row(self, tx: str, code: int, *, owner: str | None = None, table: str | None = None, sql: str = "",
             row_id: str | None = None, csf: int = 0, rollback: int = 0, commit_scn: int | None = None,
             advance: bool = True) -> None:
        if advance:
            self.scn += 1
        usn, slt, sqn = self._xid(tx)
        raw = usn.to_bytes(2, "little") + slt.to_bytes(2, "little") + sqn.to_bytes(4, "little")
        ts = datetime(2026, 1, 2, 3, 4, 5)
        values = {"SCN": self.scn, "COMMIT_SCN": commit_scn, "TIMESTAMP": ts,
                  "COMMIT_TIMESTAMP": ts if code == 7 else None, "XID": raw, "XIDUSN": usn, "XIDSLT": slt,
                  "XIDSQN": sqn, "OPERATION_CODE": code, "SEG_OWNER": owner, "TABLE_NAME": table,
                  "ROW_ID": row_id or "AAAAAAAAAAAAAAAAAA", "CSF": csf, "SQL_REDO": sql,
                  "RS_ID": f" 0x00000a.{self.scn:08x}.0010 ", "SSN": 0, "ROLLBACK": rollback}
        self.rows.append(tuple(values[c] for c in CONTENTS_COLUMNS))

    def start(self, tx: str) -> None:
        self._row(tx, 6, sql="set transaction read write;")

    def dml(self, tx: str, sql: str, *, rollback: int = 0, row_id: str | None = None) -> None:
        m = re.match(r'(?:insert into|update|delete from) "([^"]+)"\."([^"]+)"', sql)
        assert m
        code = 1 if sql.startswith("insert") else 3 if sql.startswith("update") else 2
        pieces = [sql[i:i + REDO_CHUNK] for i in range(0, len(sql), REDO_CHUNK)] or [""]
        for i, piece in enumerate(pieces):
            self._row(tx, code, owner=m[1], table=m[2], sql=piece, csf=int(i < len(pieces) - 1), row_id=row_id,
                      rollback=rollback, advance=i == 0)

    def commit(self, tx: str, *, same_scn: bool = False) -> int:
        self._row(tx, 7, sql="commit;", advance=not same_scn)
        self.rows[-1] = (*self.rows[-1][:1], self.scn, *self.rows[-1][2:])
        return self.scn

    def rollback(self, tx: str) -> None:
        self._row(tx, 36, sql="rollback;")

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(CONTENTS_COLUMNS, r, strict=True)) for r in self.rows]


class FakeCursor:
    def __init__(self, db: FakeOracle) -> None:
        self.db = db
        self.description: list[tuple[str, ...]] = []
        self.arraysize = 100
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self.db.log.append(sql.split("(")[0][:40])
        names, rows = self.db.answer(sql, dict(params or {}))
        self.description = [(n,) for n in names]
        self._rows = list(rows)

    def fetchmany(self, size: int = 100) -> list[tuple[Any, ...]]:
        out, self._rows = self._rows[:size], self._rows[size:]
        return out

    def fetchall(self) -> list[tuple[Any, ...]]:
        out, self._rows = self._rows, []
        return out

    def close(self) -> None:
        pass


class FakeOracle:
    """Answers the connector's SQL from in-memory catalog, table rows and V$LOGMNR_CONTENTS rows."""

    def __init__(self, redo: Redo, catalog: Mapping[tuple[str, str], Sequence[Mapping[str, Any]]],
                 keys: Mapping[tuple[str, str], Sequence[str]], data: Mapping[tuple[str, str], list[dict[str, Any]]]
                 | None = None) -> None:
        self.redo = redo
        self.catalog = catalog
        self.keys = keys
        self.data = data or {}
        self.current_scn: int | None = None
        self.oldest_open: int | None = None
        self.scn_times: dict[int, datetime] = {}  # SCN -> the database time SCN_TO_TIMESTAMP maps it to
        self.log: list[str] = []
        self.windows: list[tuple[int, int]] = []
        # NLS_DATABASE_PARAMETERS as Oracle has it: (PARAMETER, VALUE) rows, VARCHAR2 both
        self.nls = {"NLS_CHARACTERSET": "AL32UTF8", "NLS_NCHAR_CHARACTERSET": "AL16UTF16", "NLS_LANGUAGE": "AMERICAN"}

    def connect(self) -> FakeOracle:
        return self

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)

    def close(self) -> None:
        pass

    def answer(self, sql: str, p: dict[str, Any]) -> tuple[Sequence[str], Sequence[tuple[Any, ...]]]:
        if "SCN_TO_TIMESTAMP" in sql:
            scn = int(self.current_scn if self.current_scn is not None else self.redo.scn) if "V$DATABASE" in sql \
                else int(p["scn"])
            mapped = [s for s in self.scn_times if s <= scn]
            if not mapped:
                raise RuntimeError("ORA-08181: specified number is not a valid system change number")
            time = self.scn_times[max(mapped)]  # SMON_SCN_TIME: the newest mapping at or below the SCN
            return (["CURRENT_SCN", "SCN_TIME"], [(scn, time)]) if "V$DATABASE" in sql else (["SCN_TIME"], [(time,)])
        if "FROM V$DATABASE" in sql:
            return ["CURRENT_SCN"], [(self.current_scn if self.current_scn is not None else self.redo.scn,)]
        if "FROM NLS_DATABASE_PARAMETERS" in sql:
            wanted = re.findall(r"'(NLS_[A-Z_]+)'", sql)
            return ["PARAMETER", "VALUE"], [(k, v) for k, v in self.nls.items() if k in wanted]
        if "FROM V$TRANSACTION" in sql:
            return ["MIN(START_SCN)"], [(self.oldest_open,)]
        if "V$ARCHIVED_LOG" in sql:
            return (["FILE_NAME", "THREAD", "SEQ", "FIRST_CHANGE", "NEXT_CHANGE", "KIND"],
                    [("/arch/1_7.arc", 1, 7, 1, 2000, "ARCHIVED"), ("/redo/redo01.log", 1, 7, 1, 2000, "ONLINE"),
                     ("/redo/redo02.log", 1, 8, 2000, 2**60, "ONLINE")])
        if "START_LOGMNR" in sql:
            self.windows.append((p["start_scn"], p["end_scn"]))
            return [], []
        if "FROM V$LOGMNR_CONTENTS" in sql:
            rows = [r for r in self.redo.rows if p["start_scn"] <= r[0] <= p["end_scn"]]
            return CONTENTS_COLUMNS, rows
        if "FROM ALL_TAB_COLUMNS" in sql:
            cat_rows = self.catalog.get((p["owner"], p["name"]), [])
            names = ["COLUMN_NAME", "DATA_TYPE", "DATA_PRECISION", "DATA_SCALE", "NULLABLE", "DATA_LENGTH",
                     "CHAR_LENGTH", "COLUMN_ID"]
            return names, [tuple(r.get(n) for n in names) for r in cat_rows]
        if "FROM ALL_CONSTRAINTS" in sql:
            key = self.keys.get((p["owner"], p["name"]), [])
            return ["COLUMN_NAME", "POSITION"], [(k, i + 1) for i, k in enumerate(key)]
        if " AS OF SCN " in sql:
            m = re.search(r'FROM "([^"]+)"\."([^"]+)" AS OF SCN', sql)
            assert m
            key = self.keys[(m[1], m[2])]
            data_rows = sorted(self.data.get((m[1], m[2]), []), key=lambda r: [r[k] for k in key])
            if "k0" in p:
                data_rows = [r for r in data_rows if [r[k] for k in key] > [p[f"k{i}"] for i in range(len(key))]]
            limit = int(re.search(r"FETCH FIRST (\d+)", sql)[1])  # type: ignore[index]
            names = list(self.catalog_names(m[1], m[2]))
            return names, [tuple(r.get(n) for n in names) for r in data_rows[:limit]]
        return [], []  # ADD_LOGFILE, END_LOGMNR, NLS settings

    def catalog_names(self, owner: str, table: str) -> list[str]:
        return [str(r["COLUMN_NAME"]) for r in self.catalog[(owner, table)]]
