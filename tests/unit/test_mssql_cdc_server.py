"""Encoders and a fake SQL Server for the CDC connector's tests (no tests here).

The fake DB-API connection answers the connector's SQL the way SQL Server does: binary(10) LSNs as bytes,
the ``__$`` columns, Decimal/datetime values as pyodbc returns them, error 313 for an LSN range outside the
capture instance's. It computes every answer from the rows the encoders built, never from canned results."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# --- encoders: values in the server's own shapes -----------------------------------------------------------


def lsn(vlf: int, block: int = 0, slot: int = 1) -> bytes:
    """A 10-byte LSN: VLF sequence (4 bytes), log block (4), slot (2), big-endian as binary(10) compares."""
    return struct.pack(">IIH", vlf, block, slot)


def seqval(n: int) -> bytes:
    return struct.pack(">IIH", 0, n, 0)


def update_mask(*ordinals: int, columns: int = 3) -> bytes:
    """``__$update_mask``: bit (ordinal - 1) set, the rightmost byte holding columns 1-8."""
    bits = sum(1 << (o - 1) for o in ordinals)
    return bits.to_bytes((columns + 7) // 8, "big")


def ct_row(start: bytes, seq: bytes, op: int, mask: bytes | None = None, command: int = 1,
           **values: Any) -> dict[str, Any]:
    """A row of ``cdc.<instance>_CT`` in column order."""
    return {"__$start_lsn": start, "__$end_lsn": None, "__$seqval": seq, "__$operation": op,
            "__$update_mask": mask if mask is not None else update_mask(1, 2, 3), **values,
            "__$command_id": command}


def info(name: str, pos: int, dtype: str, nullable: bool = True, length: int | None = None,
         precision: int | None = None, scale: int | None = None) -> dict[str, Any]:
    """An INFORMATION_SCHEMA.COLUMNS row."""
    return {"COLUMN_NAME": name, "ORDINAL_POSITION": pos, "DATA_TYPE": dtype,
            "IS_NULLABLE": "YES" if nullable else "NO",
            "CHARACTER_MAXIMUM_LENGTH": length, "NUMERIC_PRECISION": precision, "NUMERIC_SCALE": scale,
            "DATETIME_PRECISION": None}


CT_META = [info("__$start_lsn", 1, "binary", False, 10), info("__$end_lsn", 2, "binary", True, 10),
           info("__$seqval", 3, "binary", False, 10), info("__$operation", 4, "int", False),
           info("__$update_mask", 5, "varbinary", True, 128)]
CONTACT_COLS = [info("Id", 1, "int", False), info("Name", 2, "nvarchar", True, 100),
                info("Credit", 3, "decimal", True, None, 9, 2)]


# --- the fake server ---------------------------------------------------------------------------------------


class ServerError(Exception):
    """Shaped like pyodbc.Error: args = (SQLSTATE, message)."""


@dataclass
class Instance:
    name: str
    start_lsn: bytes
    created: datetime
    columns: list[dict[str, Any]]
    rows: list[dict[str, Any]] = field(default_factory=list)
    min_lsn: bytes | None = None


@dataclass
class FakeServer:
    source_columns: list[dict[str, Any]]
    table_rows: list[dict[str, Any]] = field(default_factory=list)
    instances: list[Instance] = field(default_factory=list)
    max_lsn: bytes = b"\x00" * 10
    times: dict[bytes, datetime] = field(default_factory=dict)
    tz_minutes: int = 120
    log: list[str] = field(default_factory=list)

    def instance(self, name: str) -> Instance:
        return next(i for i in self.instances if i.name == name)

    def commit(self, start: bytes, when: datetime, inst: str, *rows: dict[str, Any]) -> None:
        self.instance(inst).rows.extend(rows)
        self.times[start] = when
        self.max_lsn = max(self.max_lsn, start)

    def connect(self) -> FakeConnection:
        return FakeConnection(self)

    # the SQL the connector sends, answered from the data above
    def answer(self, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        self.log.append(sql)
        if "FROM cdc.change_tables" in sql:
            return [{"source_schema": "dbo", "source_table": "Contacts", "capture_instance": i.name,
                     "start_lsn": i.min_lsn or i.start_lsn, "create_date": i.created, "supports_net_changes": 1,
                     "role_name": None} for i in self.instances]
        if "INFORMATION_SCHEMA.COLUMNS" in sql:
            schema, table = params
            if schema == "cdc":
                inst = next((i for i in self.instances if i.name + "_CT" == table), None)
                return [] if inst is None else CT_META + inst.columns + [info("__$command_id", 99, "int")]
            return list(self.source_columns)
        if "PRIMARY KEY" in sql:
            return [{"COLUMN_NAME": "Id", "ORDINAL_POSITION": 1}]
        if "fn_cdc_get_max_lsn" in sql:
            return [{"max_lsn": self.max_lsn}]
        if "fn_cdc_get_min_lsn" in sql:
            inst = next((i for i in self.instances if i.name == params[0]), None)
            low = b"\x00" * 10 if inst is None else (inst.min_lsn or inst.start_lsn)
            nxt = (int.from_bytes(params[1], "big") + 1).to_bytes(10, "big")
            return [{"min_lsn": low, "next_lsn": nxt}]
        if "fn_cdc_map_lsn_to_time" in sql:
            return [{"lsn": p, "commit_time": self.times.get(p), "tz_minutes": self.tz_minutes} for p in params]
        if "fn_cdc_get_all_changes_" in sql or "_CT]" in sql:
            return self._changes(sql, list(params))
        if re.match(r"SELECT TOP \(\d+\) \[", sql):
            return self._snapshot(sql, params)
        raise AssertionError(f"unexpected SQL: {sql}")

    def _changes(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        name = re.search(r"fn_cdc_get_all_changes_(\w+)\]|\[(\w+)_CT\]", sql)
        assert name is not None
        inst = self.instance(name.group(1) or name.group(2))
        low, high = params.pop(0), params.pop(0)
        if "fn_cdc_get_all_changes_" in sql and not ((inst.min_lsn or inst.start_lsn) <= low <= high <= self.max_lsn):
            raise ServerError("42000", "[42000] [Microsoft][ODBC Driver 18 for SQL Server][SQL Server]An insufficient "
                                       "number of arguments were supplied for the procedure or function "
                                       "cdc.fn_cdc_get_all_changes_ ... (313)")
        if "[__$seqval] > ?" in sql:
            c, _, s, _, o = params[:5]
            params = params[5:]

            def after(r: dict[str, Any]) -> bool:
                key = (r["__$start_lsn"], r["__$seqval"], r["__$operation"])
                return key > (c, s, o)
        else:
            c = params.pop(0)

            def after(r: dict[str, Any]) -> bool:
                return bool(r["__$start_lsn"] > c)
        below = params.pop(0) if "[__$start_lsn] < ?" in sql else None
        rows = [r for r in inst.rows if low <= r["__$start_lsn"] <= high and after(r)
                and (below is None or r["__$start_lsn"] < below)]
        rows.sort(key=lambda r: (r["__$start_lsn"], r["__$seqval"], r["__$operation"]))
        limit = int(re.search(r"TOP \((\d+)\)", sql).group(1))  # type: ignore[union-attr]
        if "fn_cdc_get_all_changes_" in sql:  # the function leaves out __$end_lsn and __$command_id
            rows = [{k: v for k, v in r.items() if k not in ("__$end_lsn", "__$command_id")} for r in rows]
        return [dict(r) for r in rows[:limit]]

    def _snapshot(self, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        limit = int(re.search(r"TOP \((\d+)\)", sql).group(1))  # type: ignore[union-attr]
        cols = re.findall(r"\[(\w+)\]", sql.split(" FROM ")[0])
        rows = sorted(self.table_rows, key=lambda r: r["Id"])
        if params:
            rows = [r for r in rows if r["Id"] > params[0]]
        return [{c: r.get(c) for c in cols} for r in rows[:limit]]


class FakeCursor:
    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.description: list[tuple[str, ...]] | None = None
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> FakeCursor:
        rows = self.server.answer(sql, params)
        names = list(rows[0]) if rows else ["x"]
        self.description = [(n,) for n in names]
        self._rows = [tuple(r[n] for n in names) for r in rows]
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def close(self) -> None:
        pass


class FakeConnection:
    def __init__(self, server: FakeServer) -> None:
        self.server = server

    def cursor(self) -> FakeCursor:
        return FakeCursor(self.server)

    def close(self) -> None:
        pass
