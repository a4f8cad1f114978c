"""SQL Server change data capture (``kind: mssql-cdc``): reads the CDC change tables SQL Server's capture job
fills, in LSN order, between ``sys.fn_cdc_get_max_lsn()`` windows (see :mod:`connectors.changetables.stream`
for the snapshot-then-stream loop and :mod:`.reader` for the queries).

- Position per table: the last row's ``(__$start_lsn, __$seqval, __$operation)`` (hex in the state) and the
  capture instance read. A window read to its end moves the position to the window's upper LSN.
- Gone changes: ``sys.fn_cdc_get_min_lsn(instance)`` above the next LSN to read (``sys.fn_cdc_increment_lsn``
  of the position) means the cleanup job removed changes not yet read; an instance that no longer exists
  with no newer one covering the position, likewise.
- Two capture instances (a schema change): the older one is read up to the newer one's ``start_lsn``
  (exclusive); once the upper LSN has passed it, reading goes on from the newer one at its start LSN: no row
  is read twice or skipped. The table is described with the newest instance's columns.
- ``source.ts_ms`` is the commit time, ``sys.fn_cdc_map_lsn_to_time`` once per distinct LSN of a batch;
  ``source.position`` = ``commit`` (start LSN), ``seq`` (seqval), ``op``, ``capture_instance`` and
  ``update_mask`` (hex); ``tx_id`` = the start LSN.
- Source lag: the head is ``sys.fn_cdc_get_max_lsn()``, a saved position the table's LSN, each with its time
  from ``sys.fn_cdc_map_lsn_to_time``; no head while the max LSN has no time (CDC never captured anything).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import structlog

from connectors.changetables.dbapi import ConnectionFactory
from connectors.changetables.pairing import PairRule, same_seq_pair
from connectors.changetables.position import Position, to_hex
from connectors.changetables.sql import keyset_select, snapshot_params
from connectors.changetables.stream import Captured, ChangeTableConnector, LoopSettings, Window
from connectors.mssql_cdc import catalog as cat
from connectors.mssql_cdc.config import MssqlCdcConfig, MssqlTableConfig, database_of
from connectors.mssql_cdc.reader import (
    LSN_RANGE_SQL,
    MAX_LSN_SQL,
    changes_query,
    commit_ms,
    decode_change,
    lsn_times_query,
    quote,
)
from schemas.columns import TableMeta
from schemas.errors import ConfigError

log = structlog.get_logger(__name__)

__all__ = ["MssqlCdcConnector"]

ZERO_LSN = b"\x00" * 10
_MAX_PARAMS = 1000  # SQL Server takes 2,100 parameters per statement


class MssqlCdcConnector(ChangeTableConnector):
    """See the module docstring."""

    kind = "mssql-cdc"

    def __init__(self, config: MssqlCdcConfig, *, connect: ConnectionFactory | None = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> None:
        if connect is None:
            from connectors.mssql_cdc.driver import pyodbc_factory

            connect = pyodbc_factory(config)
        super().__init__(config.name, LoopSettings.of(config), connect, clock=clock, sleep=sleep)
        self.config = config
        self._instances: dict[str, list[cat.CaptureInstance]] = {}
        self._cfg: dict[str, MssqlTableConfig] = {t.name: t for t in config.tables}

    # -- catalog -----------------------------------------------------------------------------------------
    def _resolve(self) -> list[Captured]:
        by_table = cat.instances_by_table(self._db.query(cat.CAPTURE_INSTANCES_SQL, what="reading cdc.change_tables"))
        problems: list[str] = []
        tables: list[Captured] = []
        for i, tc in enumerate(self.config.tables):
            where = f"{self.name}.tables[{i}]"
            insts = by_table.get((tc.schema_name.lower(), tc.table_name.lower()), [])
            if tc.capture_instance is not None:
                insts = [x for x in insts if x.name.lower() == tc.capture_instance.lower()]
                if not insts:
                    problems.append(f"{where}.capture_instance: no capture instance {tc.capture_instance} for "
                                    f"{tc.name} (or no SELECT on the cdc schema)")
                    continue
            if not insts:
                problems.append(f"{where}.name: {tc.name} is not enabled for CDC (no row in cdc.change_tables), "
                                "or this login is not in the capture instance's gating role")
                continue
            self._instances[tc.name] = insts
            table = self._describe_table(tc, insts, where, problems)
            if table is not None:
                tables.append(table)
        if problems:
            raise ConfigError(problems)
        return tables

    def _describe_table(self, tc: MssqlTableConfig, insts: Sequence[cat.CaptureInstance], where: str,
                        problems: list[str]) -> Captured | None:
        schema, name = insts[-1].source_schema, insts[-1].source_table
        cols = [self._db.query(cat.COLUMNS_SQL, ["cdc", x.change_table], f"reading the columns of {x.change_table}")
                for x in insts]
        source = self._db.query(cat.COLUMNS_SQL, [schema, name], f"reading the columns of {tc.name}")
        key = list(tc.key_columns or [])
        if not key:
            pk = self._db.query(cat.PRIMARY_KEY_SQL, [schema, name], f"reading the primary key of {tc.name}")
            key = [str(r["COLUMN_NAME"]) for r in pk]
        if not key:
            idx = self._db.query(cat.INDEX_COLUMNS_SQL, [insts[-1].name], "reading cdc.index_columns")
            key = [str(r["column_name"]) for r in idx]
        if not key:
            problems.append(f"{where}.key_columns: {tc.name} has no primary key and its capture instance no unique "
                            "index; list its key columns")
            return None
        columns, warnings = cat.describe_columns(cols[-1], cols[:-1], source, key)
        for w in warnings:
            log.warning("mssql_cdc.unknown_type", connector=self.name, table=tc.name, detail=w)
        missing = [k for k in key if k not in {c.name for c in columns}]
        if missing:
            problems.append(f"{where}.key_columns: {', '.join(missing)} not captured by {insts[-1].name}")
            return None
        meta = TableMeta(connector=self.name, db=database_of(self.config.dsn), schema=schema, name=name,
                         columns=tuple(columns), key=tuple(key))
        return Captured(tc.name, meta, tc.trim_char)

    def _insts(self, t: Captured) -> list[cat.CaptureInstance]:
        if t.label not in self._instances:
            self._resolve()
        return self._instances[t.label]

    # -- positions ---------------------------------------------------------------------------------------
    def _head(self) -> bytes:
        rows = self._db.query(MAX_LSN_SQL, what="reading sys.fn_cdc_get_max_lsn()")
        value = rows[0]["max_lsn"] if rows else None
        return bytes(value) if value else ZERO_LSN

    def _initial_source(self, t: Captured, head: bytes) -> str | None:
        insts = self._insts(t)
        covering = [x for x in insts if x.start_lsn <= head]
        return (covering[-1] if covering else insts[0]).name

    def _current(self, t: Captured, pos: Position, source: str | None) -> cat.CaptureInstance:
        """The instance to read: the one in the state while it exists, else the newest one that started at or
        before the position (else the oldest: the gone check decides whether anything was lost)."""
        insts = self._insts(t)
        named = [x for x in insts if x.name == source]
        if named:
            return named[0]
        covering = [x for x in insts if x.start_lsn <= pos.commit]
        return covering[-1] if covering else insts[0]

    def _range(self, inst: cat.CaptureInstance, pos: Position) -> tuple[bytes, bytes]:
        """(min LSN of the instance, first LSN still to read)."""
        rows = self._db.query(LSN_RANGE_SQL, [inst.name, pos.commit], f"reading the LSN range of {inst.name}")
        min_lsn = bytes(rows[0]["min_lsn"] or ZERO_LSN)
        nxt = pos.commit if pos.seq is not None else bytes(rows[0]["next_lsn"] or pos.commit)
        return min_lsn, nxt

    def _gone(self, t: Captured, pos: Position, source: str | None) -> str | None:
        inst = self._current(t, pos, source)
        min_lsn, nxt = self._range(inst, pos)
        if min_lsn == ZERO_LSN:
            return f"capture instance {inst.name} no longer exists (sys.fn_cdc_get_min_lsn returned 0x00...)"
        if pos.commit != ZERO_LSN and min_lsn > nxt:
            return (f"the CDC cleanup job removed changes of capture instance {inst.name}: its min LSN "
                    f"{to_hex(min_lsn)} is past the next LSN to read {to_hex(nxt)}")
        return None

    # -- reading -----------------------------------------------------------------------------------------
    def _read(self, t: Captured, pos: Position, source: str | None, upper: bytes, limit: int) -> Window:
        insts = self._insts(t)
        inst = self._current(t, pos, source)
        newer = [x for x in insts if x.start_lsn > inst.start_lsn]
        below = newer[0].start_lsn if newer else None
        min_lsn, nxt = self._range(inst, pos)
        from_lsn = max(min_lsn, nxt)
        rows: list[dict[str, Any]] = []
        if from_lsn <= upper and (below is None or from_lsn < below):
            sql, params = changes_query(self.config.read_from, inst.name, pos, from_lsn, upper, below, limit)
            rows = self._db.query(sql, params, f"reading the changes of {inst.name}")
        changes = [decode_change(r, inst.name) for r in rows]
        if below is not None and upper >= below:
            # the older instance ends where the newer one starts: once it is read to there, switch
            return Window(changes, None, (newer[0].name, Position(below, b"", 0)))
        return Window(changes, upper, None)

    def _snapshot_rows(self, t: Captured, after_key: Sequence[Any] | None, limit: int) -> list[dict[str, Any]]:
        source = self._db.query(cat.COLUMNS_SQL, [t.meta.schema, t.meta.name], f"reading the columns of {t.label}")
        present = {str(r["COLUMN_NAME"]) for r in source}
        names = [c.name for c in t.meta.columns if c.name in present]
        table = f"{quote(t.meta.schema or 'dbo')}.{quote(t.meta.name)}"
        sql = keyset_select(quote, table, names, t.meta.key, after=after_key is not None, limit=limit, style="top")
        return self._db.query(sql, snapshot_params(after_key, t.meta.key_columns, "mssql"), f"snapshot of {t.label}")

    def _commit_times(self, commits: set[bytes]) -> dict[bytes, int]:
        found: dict[bytes, int] = {}
        ordered = sorted(commits)
        for start in range(0, len(ordered), _MAX_PARAMS):
            sql, params = lsn_times_query(ordered[start:start + _MAX_PARAMS])
            for r in self._db.query(sql, params, "mapping LSNs to commit times"):
                if r["commit_time"] is not None:
                    found[bytes(r["lsn"])] = commit_ms(r["commit_time"], int(r["tz_minutes"] or 0))
        return found

    def _pair_rule(self, t: Captured) -> PairRule:
        return same_seq_pair
