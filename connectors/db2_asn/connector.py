"""Db2 ASN capture (``kind: db2-asn``): reads the CD tables registered in ``<asn>.IBMSNAP_REGISTER`` in
``IBMSNAP_COMMITSEQ, IBMSNAP_INTENTSEQ`` order, up to the register's newest synchpoint (see
:mod:`connectors.changetables.stream` for the snapshot-then-stream loop, :mod:`.reader` for the SQL).

- ``I`` -> ``c``, ``D`` -> ``d``, ``U`` -> ``u`` (``before`` from the before-image columns when the
  registration has them); a ``D`` directly followed by an ``I`` of the same key in the same commit (updates
  captured as delete/insert pairs) -> one ``u``; with different keys (a key change) a ``d`` and a ``c``.
- Position per table: the last row's COMMITSEQ and INTENTSEQ, hex in the state; a window read to its end
  moves it to the window's upper synchpoint.
- Gone changes: a registration that is not active (``STATE`` other than 'A'), or whose ``CD_OLD_SYNCHPOINT``
  (where capture last (re)started for it) is past the position: rows between were never captured.
  Pruning by Capture's retention limit cannot be seen from the CD table and is not detected.
- ``source.ts_ms``: ``IBMSNAP_LOGMARKER`` of the commit in ``IBMSNAP_UOW`` (``commit_time: uow``), else poll
  time; ``source.position``: ``commit``, ``seq``, ``operation``, ``cd_table``; ``tx_id`` = the COMMITSEQ.
- Source lag (``commit_time: uow`` only): the head is the register's newest synchpoint, a saved position the
  table's COMMITSEQ; each stands for the time of the newest ``IBMSNAP_UOW`` commit at or before it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from connectors.changetables.dbapi import ConnectionFactory
from connectors.changetables.pairing import PairRule, same_key_pair
from connectors.changetables.position import Position, to_hex
from connectors.changetables.sql import keyset_select, snapshot_params
from connectors.changetables.stream import Captured, ChangeTableConnector, LoopSettings, Window
from connectors.db2_asn import catalog as cat
from connectors.db2_asn.config import Db2AsnConfig, Db2TableConfig, database_of
from connectors.db2_asn.reader import changes_sql, commit_ms, decode_change, quote, uow_time_at_sql, uow_times_sql
from schemas.columns import TableMeta
from schemas.errors import ConfigError

log = structlog.get_logger(__name__)

__all__ = ["Db2AsnConnector"]

ZERO = b"\x00" * 10
_MAX_IN = 500


@dataclass(frozen=True, slots=True)
class _Cd:
    reg: cat.Registration
    captured: tuple[str, ...]
    before: dict[str, str]


class Db2AsnConnector(ChangeTableConnector):
    """See the module docstring."""

    kind = "db2-asn"

    def __init__(self, config: Db2AsnConfig, *, connect: ConnectionFactory | None = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> None:
        if connect is None:
            from connectors.db2_asn.driver import ibm_db_factory

            connect = ibm_db_factory(config)
        super().__init__(config.name, LoopSettings.of(config), connect, clock=clock, sleep=sleep)
        self.config = config
        self._cds: dict[str, _Cd] = {}
        self._registrations: list[dict[str, Any]] = []

    # -- catalog -----------------------------------------------------------------------------------------
    def _register(self) -> list[dict[str, Any]]:
        self._registrations = self._db.query(cat.register_sql(self.config.asn_schema),
                                             what=f"reading {self.config.asn_schema}.IBMSNAP_REGISTER")
        return self._registrations

    def _resolve(self) -> list[Captured]:
        rows = self._register()
        problems: list[str] = []
        tables: list[Captured] = []
        for i, tc in enumerate(self.config.tables):
            where = f"{self.name}.tables[{i}]"
            reg = cat.registration_of(rows, tc.owner, tc.table_name)
            if reg is None:
                problems.append(f"{where}.name: {tc.name} is not registered in {self.config.asn_schema}."
                                "IBMSNAP_REGISTER (or no SELECT on it)")
                continue
            table = self._describe_table(tc, reg, where, problems)
            if table is not None:
                tables.append(table)
        if problems:
            raise ConfigError(problems)
        return tables

    def _describe_table(self, tc: Db2TableConfig, reg: cat.Registration, where: str,
                        problems: list[str]) -> Captured | None:
        sql = cat.columns_sql(self.config.platform)
        cd = self._db.query(sql, [reg.cd_owner, reg.cd_table], f"reading the columns of {reg.cd_owner}.{reg.cd_table}")
        source = self._db.query(sql, [reg.source_owner, reg.source_table], f"reading the columns of {tc.name}")
        if not cd:
            problems.append(f"{where}.name: CD table {reg.cd_owner}.{reg.cd_table} of {tc.name} not found")
            return None
        key = list(tc.key_columns or cat.source_key(source))
        if not key:
            problems.append(f"{where}.key_columns: {tc.name} has no primary key; list its key columns")
            return None
        columns, warnings = cat.describe_columns(cd, source, key)
        for w in warnings:
            log.warning("db2_asn.unknown_type", connector=self.name, table=tc.name, detail=w)
        missing = [k for k in key if k not in {c.name for c in columns}]
        if missing:
            problems.append(f"{where}.key_columns: {', '.join(missing)} not captured in {reg.cd_table}")
            return None
        prefix = self.config.before_image_prefix or reg.prefix
        self._cds[tc.name] = _Cd(reg, tuple(c.name for c in columns), cat.before_columns(cd, columns, prefix))
        meta = TableMeta(connector=self.name, db=database_of(self.config.dsn), schema=reg.source_owner,
                         name=reg.source_table, columns=tuple(columns), key=tuple(key))
        return Captured(tc.name, meta, tc.trim_char)

    def _cd(self, t: Captured) -> _Cd:
        if t.label not in self._cds:
            self._resolve()
        return self._cds[t.label]

    # -- positions ---------------------------------------------------------------------------------------
    def _head(self) -> bytes:
        self._register()  # fresh registration rows (state, CD_OLD_SYNCHPOINT) for this round's gone checks
        rows = self._db.query(cat.head_sql(self.config.asn_schema), what="reading the capture synchpoint")
        value = rows[0]["SYNCHPOINT"] if rows else None
        return bytes(value) if value else ZERO

    def _initial_source(self, t: Captured, head: bytes) -> str | None:
        reg = self._cd(t).reg
        return f"{reg.cd_owner}.{reg.cd_table}"

    def _gone(self, t: Captured, pos: Position, source: str | None) -> str | None:
        rows = self._registrations or self._register()
        reg = cat.registration_of(rows, self._cd(t).reg.source_owner, self._cd(t).reg.source_table)
        if reg is None:
            return "the table is no longer registered in IBMSNAP_REGISTER"
        if reg.state != "A":
            return f"its registration is not active (STATE = '{reg.state}'): changes are not being captured"
        if reg.old_synchpoint is not None and pos.commit != ZERO and reg.old_synchpoint > pos.commit:
            return (f"capture (re)started for it at CD_OLD_SYNCHPOINT {to_hex(reg.old_synchpoint)}, after the "
                    "position: changes in between were not captured")
        return None

    # -- reading -----------------------------------------------------------------------------------------
    def _read(self, t: Captured, pos: Position, source: str | None, upper: bytes, limit: int) -> Window:
        cd = self._cd(t)
        if pos.commit > upper or (pos.commit == upper and pos.seq is None):
            return Window([], upper)
        rows = self._db.query(changes_sql(cd.reg.cd_owner, cd.reg.cd_table, pos, upper, limit), (),
                              f"reading the changes of {cd.reg.cd_table}")
        changes = [decode_change(r, cd.captured, cd.before, cd.reg.cd_table, t.meta.key) for r in rows]
        return Window(changes, upper)

    def _snapshot_rows(self, t: Captured, after_key: Sequence[Any] | None, limit: int) -> list[dict[str, Any]]:
        table = f"{quote(t.meta.schema or '')}.{quote(t.meta.name)}"
        names = [c.name for c in t.meta.columns]
        sql = keyset_select(quote, table, names, t.meta.key, after=after_key is not None, limit=limit, style="fetch")
        return self._db.query(sql, snapshot_params(after_key, t.meta.key_columns, "db2"), f"snapshot of {t.label}")

    def _commit_times(self, commits: set[bytes]) -> dict[bytes, int]:
        if self.config.commit_time != "uow":
            return {}
        found: dict[bytes, int] = {}
        ordered = sorted(commits)
        for start in range(0, len(ordered), _MAX_IN):
            sql = uow_times_sql(self.config.asn_schema, ordered[start:start + _MAX_IN])
            for r in self._db.query(sql, (), "reading commit times from IBMSNAP_UOW"):
                if r["IBMSNAP_LOGMARKER"] is not None:
                    found[bytes(r["IBMSNAP_COMMITSEQ"])] = commit_ms(r["IBMSNAP_LOGMARKER"], r["TZ"] or 0)
        return found

    def _position_times(self, commits: set[bytes]) -> dict[bytes, int]:
        """A position's time is that of the newest ``IBMSNAP_UOW`` commit at or before it (a window's upper
        synchpoint is no commit of its own); none with ``commit_time: poll``."""
        if self.config.commit_time != "uow":
            return {}
        found: dict[bytes, int] = {}
        for commit in sorted(commits):
            rows = self._db.query(uow_time_at_sql(self.config.asn_schema, commit), (),
                                  "reading the time of a position from IBMSNAP_UOW")
            if rows and rows[0]["IBMSNAP_LOGMARKER"] is not None:
                found[commit] = commit_ms(rows[0]["IBMSNAP_LOGMARKER"], rows[0]["TZ"] or 0)
        return found

    def _pair_rule(self, t: Captured) -> PairRule:
        return same_key_pair(t.meta.key)
