"""IBM i (Db2 for i) change capture from a journal with ``QSYS2.DISPLAY_JOURNAL``.

- **describe**: each file's columns from ``QSYS2.SYSCOLUMNS`` compiled once into a record decoder
  (:mod:`connectors.ibmi_journal.layout`), its key from the primary key (``QSYS2.SYSKEYCST``) or
  ``key_columns``.
- **snapshot** (Debezium's order): the journal's newest position is taken first (``JOURNAL_RECEIVER_INFO``),
  then every file is read in key order, ``batch_size`` rows per batch (``op`` = ``r``, resumable by last key);
  streaming starts at that position, so changes made during the snapshot follow it (at least once).
- **changes**: reads R and C entries from the saved position over the receiver chain, assembles them in
  commit order (:mod:`connectors.ibmi_journal.txn`) and emits committed changes only, with the commit cycle
  id as ``source.tx_id`` and the commit time as ``source.ts_ms``. A whole committed cycle goes into one batch.
- **lost position**: when the saved receiver is gone (deleted or freed before it was read, checked against
  ``JOURNAL_RECEIVER_INFO`` at start and after any read error), ``on_lost_position: fail`` stops with an error
  naming the receiver; ``resnapshot`` snapshots again from the current position and streams on from there.
- Sequence numbers must not be reset inside the chain being read (``CHGJRN ... SEQOPT(*RESET)``): a reset is
  detected and stops the connector.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from connectors.base import (
    Batch,
    Connector,
    DeadRow,
    SnapshotProgress,
    State,
    mark_snapshot_done,
    snapshot_batches,
    tables_in_turn,
)
from connectors.ibmi_journal import db
from connectors.ibmi_journal.config import IbmiJournalConfig, IbmiTableConfig
from connectors.ibmi_journal.entries import (
    Entry,
    LostPosition,
    Position,
    Receiver,
    entry_from_row,
    head_of,
    resolve_start,
)
from connectors.ibmi_journal.lag import entry_time, first_change_time, lag_position
from connectors.ibmi_journal.layout import CatalogColumn, TableDecoder
from connectors.ibmi_journal.queries import (
    PRIMARY_KEY_SQL,
    RECEIVERS_SQL,
    SYSCOLUMNS_SQL,
    journal_query,
    object_key,
    snapshot_params,
    snapshot_query,
)
from connectors.ibmi_journal.state import bind_key, json_key, load_state, make_state
from connectors.ibmi_journal.txn import Assembler, Change, Unit
from schemas.columns import ColumnType, TableMeta
from schemas.envelope import ChangeEvent, Op, SourceInfo
from schemas.errors import ConfigError, CrmhubError, FatalError, RetriableError, SkippableError
from schemas.sqlstate import classify

log = structlog.get_logger(__name__)
KIND = "ibmi-journal"


@dataclass(frozen=True, slots=True)
class JournaledTable:
    cfg: IbmiTableConfig
    schema: str  # SQL schema and table name (for SELECT)
    table: str
    library: str  # system names (as DISPLAY_JOURNAL's OBJECT has them)
    file: str
    decoder: TableDecoder
    meta: TableMeta

    @property
    def label(self) -> str:
        return self.cfg.name


class IbmiJournalConnector(Connector):
    """See the module docstring."""

    kind = KIND

    def __init__(self, config: IbmiJournalConfig, *, connect: db.ConnectionFactory | None = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(config.name)
        self.config = config
        self._connect = connect
        self._clock = clock
        self._sleep = sleep
        self._conn: db.Connection | None = None
        self._tables: list[JournaledTable] | None = None
        self._zone = ZoneInfo(config.server_timezone)
        self._journal = (config.journal_library, config.journal_name)

    # -- plumbing ----------------------------------------------------------------------------------------
    def _connection(self) -> db.Connection:
        if self._conn is None:
            factory = self._connect or db.default_factory(self.config)
            with self._db("connecting"):
                self._conn = factory()
        return self._conn

    @contextmanager
    def _db(self, what: str) -> Iterator[None]:
        try:
            yield
        except CrmhubError:
            raise
        except Exception as exc:  # driver errors (pyodbc.Error, ibm_db_dbi.Error, ...): classified by SQLSTATE
            error = classify(exc, f"connector {self.name}: {what}")
            if isinstance(error, RetriableError):
                self.close()
            raise error from exc

    def _query(self, sql: str, params: Sequence[Any], what: str) -> list[dict[str, Any]]:
        with self._db(what):
            cursor = self._connection().cursor()
            try:
                return list(db.rows(cursor, sql, params, size=self.config.batch_size))
            finally:
                cursor.close()

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                log.debug("ibmi.close_failed", connector=self.name)
            self._conn = None

    # -- describe ----------------------------------------------------------------------------------------
    def describe(self) -> list[TableMeta]:
        self._tables = [self._describe_table(i, t) for i, t in enumerate(self.config.tables)]
        return [t.meta for t in self._tables]

    def _describe_table(self, index: int, cfg: IbmiTableConfig) -> JournaledTable:
        where = f"{self.name}.tables[{index}]"
        rows = self._query(SYSCOLUMNS_SQL, [cfg.library, cfg.library, cfg.file, cfg.file], f"columns of {cfg.name}")
        if not rows:
            raise ConfigError(f"{where}.name: table {cfg.name} not found in QSYS2.SYSCOLUMNS (or no privilege)")
        first = rows[0]
        schema, table = str(first["TABLE_SCHEMA"]).strip(), str(first["TABLE_NAME"]).strip()
        decoder = TableDecoder([CatalogColumn.from_row(r) for r in rows], ccsid_overrides=cfg.ccsid,
                               binary_ccsid=self.config.binary_ccsid, trim_char=self.config.trim_char,
                               where=f"{where}.", date_formats=cfg.date_format)
        names = [c.name for c in decoder.columns]
        if cfg.key_columns:
            missing = [k for k in cfg.key_columns if k.upper() not in names]
            if missing:
                raise ConfigError([f"{where}.key_columns: column {k} not found" for k in missing])
            key = tuple(k.upper() for k in cfg.key_columns)
        else:
            pk = self._query(PRIMARY_KEY_SQL, [schema, table], f"primary key of {cfg.name}")
            key = tuple(str(r["COLUMN_NAME"]).strip() for r in pk)
            if not key:
                log.warning("ibmi.no_key", connector=self.name, table=cfg.name)
        meta = TableMeta(connector=self.name, db=self.config.database, schema=schema, name=table,
                         columns=decoder.columns, key=key)
        return JournaledTable(cfg, schema, table, str(first["SYSTEM_TABLE_SCHEMA"]).strip().upper(),
                              str(first["SYSTEM_TABLE_NAME"]).strip().upper(), decoder, meta)

    def topic_of(self, table: TableMeta) -> str | None:
        found = (t.cfg.topic for t in self._resolved() if (t.meta.schema, t.meta.name) == (table.schema, table.name))
        return next(found, None)

    def _resolved(self) -> list[JournaledTable]:
        if self._tables is None:
            self.describe()
        assert self._tables is not None
        return self._tables

    # -- positions ---------------------------------------------------------------------------------------
    def _receivers(self) -> list[Receiver]:
        rows = self._query(RECEIVERS_SQL, [self.config.journal_library, self.config.journal_name],
                           "reading the journal's receivers")
        return [Receiver.from_row(r) for r in rows]

    def _head(self) -> Position:
        head = head_of(self._receivers())
        if head is None:
            raise FatalError(f"{self.name}: journal {self.config.journal_library}/{self.config.journal_name} has no "
                             "attached receiver (or it is not found, or no privilege to see it)")
        return head

    # -- source lag (connectors.ibmi_journal.lag) --------------------------------------------------------
    def source_heads(self) -> list[dict[str, str]]:
        head = entry_time(self._query, self._journal, self._head())
        return [] if head is None else [lag_position(t.label, *head, self._zone) for t in self._resolved()]

    def saved_positions(self, state: State) -> dict[str, dict[str, str]]:
        saved = load_state(state)["position"]
        if saved is None:
            return {}
        objects = [object_key(t.library, t.file) for t in self._resolved()]
        at = first_change_time(self._query, self._journal, Position.from_dict(saved), objects) \
            or entry_time(self._query, self._journal, self._head())
        return {} if at is None else {t.label: lag_position(t.label, *at, self._zone) for t in self._resolved()}

    # -- snapshot ----------------------------------------------------------------------------------------
    def snapshot(self, state: State) -> Iterator[Batch]:
        tables = self._resolved()
        st = load_state(state)
        if st["snapshot_done"]:
            return
        if st["position"] is None:
            head = self._head()
            st["position"], st["emitted"] = head.as_dict(), head.sequence
            log.info("ibmi.snapshot_position", connector=self.name, position=head.label())
        if self.config.snapshot_mode == "never":
            st["snapshot_done"] = True
            yield Batch([], st)
            return

        yield from snapshot_batches(tables_in_turn(tables, self._snapshot_table, st), st, mark_snapshot_done)

    def _snapshot_table(self, t: JournaledTable, st: State) -> Iterator[Batch]:
        size = self.config.batch_size
        progress = dict(st["snapshot"].get(t.label) or {"last_key": None, "done": False, "rows": 0})
        names = [c.name for c in t.meta.columns]
        position = {k: str(v) for k, v in st["position"].items()}
        while not progress["done"]:
            after = progress["last_key"] is not None and bool(t.meta.key)
            sql = snapshot_query(t.schema, t.table, names, t.meta.key, after=after, limit=size + 1)
            params = snapshot_params(bind_key(progress["last_key"], t.meta)) if after else []
            rows = self._query(sql, params, f"snapshot of {t.label}")
            more = bool(t.meta.key) and len(rows) > size
            rows = rows[:size] if t.meta.key else rows
            last_key = [json_key(rows[-1][k]) for k in t.meta.key] if rows and t.meta.key else progress["last_key"]
            progress = {"last_key": last_key, "done": not more, "rows": int(progress["rows"]) + len(rows)}
            st = copy.deepcopy(st)
            st["snapshot"][t.label] = progress
            events, dead = [], []
            now = int(self._clock() * 1000)
            for row in rows:
                values = self._normalise(t, row)
                try:
                    source = self._source(t, now, position, None, snapshot="true")
                    events.append(ChangeEvent.create(key={k: values[k] for k in t.meta.key}, before=None,
                                                     after=values, op=Op.READ, source=source, ts_ms=now))
                except SkippableError as exc:
                    dead.append(DeadRow(t.label, exc.reason, {k: str(v) for k, v in row.items()}))
            yield Batch(events, st, dead, None, SnapshotProgress(t.meta.name, progress["rows"]))

    def _normalise(self, t: JournaledTable, row: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for col in t.meta.columns:
            value = row.get(col.name.upper(), row.get(col.name))
            if isinstance(value, bytearray | memoryview):
                value = bytes(value)
            if isinstance(value, str) and col.type is ColumnType.CHAR and self.config.trim_char:
                value = value.rstrip(" ")
            out[col.name] = value
        return out

    # -- changes -----------------------------------------------------------------------------------------
    def changes(self, state: State) -> Iterator[Batch]:
        st = load_state(state)
        if st["position"] is None:
            head = self._head()
            st["position"], st["emitted"] = head.as_dict(), head.sequence
        try:
            start = self._resolve(Position.from_dict(st["position"]))
        except LostPosition as lost:
            yield from self._recover(lost)
            return
        yield from self._stream(st, start)

    def _resolve(self, position: Position) -> Position:
        moved = resolve_start(position, self._receivers())
        if moved != position:
            log.info("ibmi.position_moved", connector=self.name, saved=position.label(), now=moved.label())
        return moved

    def _recover(self, lost: LostPosition) -> Iterator[Batch]:
        if self.config.on_lost_position == "fail":
            raise FatalError(f"{self.name}: {lost}. Restore the receiver, or set on_lost_position: resnapshot")
        log.warning("ibmi.lost_position_resnapshot", connector=self.name, detail=str(lost))
        st: State = make_state()
        for batch in self.snapshot(st):
            st = batch.state
            yield batch
        yield from self.changes(st)

    def _stream(self, st: State, cursor: Position) -> Iterator[Batch]:
        tables = self._resolved()
        by_object = {(t.library, t.file): t for t in tables}
        objects = [object_key(t.library, t.file) for t in tables]
        assembler = Assembler(set(by_object))
        emitted: int | None = st["emitted"]
        last_seq = cursor.sequence - 1
        last_yield = self._clock()
        while self.running():  # the runner stopped it: end instead of waiting
            try:
                rows = self._read(cursor, objects)
            except CrmhubError:
                try:
                    moved = self._resolve(cursor)
                except LostPosition as lost:
                    yield from self._recover(lost)
                    return
                if moved == cursor:
                    raise
                cursor, last_seq = moved, min(last_seq, moved.sequence - 1)
                continue
            events: list[ChangeEvent] = []
            dead: list[DeadRow] = []
            for row in rows:
                entry = entry_from_row(row)
                if entry.sequence <= last_seq:
                    if entry.sequence < cursor.sequence:
                        raise FatalError(f"{self.name}: journal sequence numbers went back from {last_seq} to "
                                         f"{entry.sequence} at {entry.position.label()} (reset with SEQOPT(*RESET)?)")
                    continue
                last_seq, cursor = entry.sequence, entry.position
                for unit in assembler.feed(entry):
                    if emitted is not None and unit.mark <= emitted:
                        continue
                    self._convert(unit, by_object, events, dead)
                    emitted = unit.mark
            restart = assembler.restart() or cursor
            new_state = make_state(snapshot_done=st["snapshot_done"], snapshot=st["snapshot"],
                                   position=restart.as_dict(), emitted=emitted)
            if events or dead or self._clock() - last_yield >= self.config.heartbeat_interval_ms / 1000:
                last_yield = self._clock()
                yield Batch(events, new_state, dead)
            if len(rows) < self.config.batch_size:
                self._sleep(self.config.poll_interval_ms / 1000)

    def _read(self, cursor: Position, objects: list[str]) -> list[dict[str, Any]]:
        sql = journal_query(len(objects), self.config.batch_size)
        params = [self.config.journal_library, self.config.journal_name, cursor.receiver_library,
                  cursor.receiver, cursor.sequence, *objects]
        return self._query(sql, params, f"reading the journal from {cursor.label()}")

    def _convert(self, unit: Unit, by_object: Mapping[tuple[str, str], JournaledTable],
                 events: list[ChangeEvent], dead: list[DeadRow]) -> None:
        ts_ms = self._ts_ms(unit.commit.timestamp)
        for change in unit.changes:
            t = by_object[change.table]
            entry = change.entry
            position = {**{k: str(v) for k, v in entry.position.as_dict().items()}, "commit_sequence": str(unit.mark)}
            try:
                before = _image(t, change.before)
                after = _image(t, change.after)
                row = after if after is not None else before
                key = {k: row[k] for k in t.meta.key} if row is not None else {}
                source = self._source(t, ts_ms, position, unit.tx_id, snapshot="false")
                events.append(ChangeEvent.create(key=key, before=before, after=after, op=change.op, source=source,
                                                 ts_ms=int(self._clock() * 1000)))
            except SkippableError as exc:
                dead.append(DeadRow(t.label, exc.reason, _raw(change), position))

    def _source(self, t: JournaledTable, ts_ms: int, position: Mapping[str, str], tx_id: str | None, *,
                snapshot: str) -> SourceInfo:
        return SourceInfo(connector=KIND, name=self.name, db=self.config.database, schema=t.schema, table=t.table,
                          ts_ms=ts_ms, snapshot=snapshot, position=position, tx_id=tx_id)

    def _ts_ms(self, stamp: datetime | None) -> int:
        if stamp is None:
            return int(self._clock() * 1000)
        aware = stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=self._zone)
        return max(int(aware.timestamp() * 1000), 0)


def _image(t: JournaledTable, entry: Entry | None) -> dict[str, Any] | None:
    if entry is None or not entry.data:
        return None
    return t.decoder.decode(entry.data, entry.nulls)


def _raw(change: Change) -> dict[str, Any]:
    out: dict[str, Any] = {"op": change.op}
    for side, entry in (("before", change.before), ("after", change.after)):
        if entry is not None:
            data = entry.data
            out[side] = {"entry_type": entry.type, "sequence": entry.sequence, "rrn": entry.rrn,
                         "entry_data_hex": data.hex() if isinstance(data, bytes) else data,
                         "null_value_indicators": str(entry.nulls) if entry.nulls is not None else None}
    return out


__all__ = ["IbmiJournalConnector", "JournaledTable"]
