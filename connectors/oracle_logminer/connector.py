"""The Oracle connector the hub runs: LogMiner streaming after a flashback snapshot, or ORA_ROWSCN polling.

**Snapshot** (``mode: logminer``): reads ``S`` = V$DATABASE.CURRENT_SCN and the oldest open transaction's
start (V$TRANSACTION), then every table ``AS OF SCN S`` in key order (keyset pages of ``batch_size``,
resumable: the state keeps S and the last key per table), ``op`` = ``r``. Streaming then starts at
``min(S, oldest open start)`` with ``commit_scn`` = S and every transaction at S done, so a transaction open
during the snapshot is mined from its first row and emitted at its commit, and nothing the flashback query
read is emitted again.

**Changes**: windows of ``window_scns`` SCNs up to the current SCN, each one LogMiner session
(:class:`.session.LogMiner`); rows are buffered per transaction (:class:`.txbuffer.TxBuffer`, kept across
windows) and emitted at commit, in commit SCN order; the position model is in :mod:`.txbuffer`. A redo
statement that cannot be parsed or typed becomes a dead row with its SQL_REDO, never dropped.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import structlog

from connectors.base import Batch, Connector, DeadRow, SnapshotProgress, State, mark_snapshot_done, snapshot_batches
from connectors.oracle_logminer import sql as q
from connectors.oracle_logminer.catalog import table_from_catalog
from connectors.oracle_logminer.charset import Charsets, charsets_from_nls, python_codec
from connectors.oracle_logminer.config import OracleLogminerConfig
from connectors.oracle_logminer.events import epoch_ms, event_from_redo, typed_row
from connectors.oracle_logminer.redo import RedoParseError, parse_redo
from connectors.oracle_logminer.session import ConnectionFactory, LogMiner, oracledb_factory
from connectors.oracle_logminer.state import lag_position, load_state, saved_scn
from connectors.oracle_logminer.txbuffer import Committed, TxBuffer, is_emitted, make_position
from connectors.sql.queries import decode_all, encode_value
from connectors.sql.values import ValueProblem
from schemas.columns import TableMeta
from schemas.envelope import ChangeEvent, Op, SourceInfo
from schemas.errors import ConfigError, CrmhubError, SkippableError

log = structlog.get_logger(__name__)

__all__ = ["OracleLogminerConnector"]


class OracleLogminerConnector(Connector):
    """See the module docstring; ``factory`` replaces the python-oracledb connection (tests)."""

    kind = "oracle"

    def __init__(self, config: OracleLogminerConfig, *, factory: ConnectionFactory | None = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(config.name)
        self.config = config
        self._clock = clock
        self._sleep = sleep
        password = config.password.get_secret_value() if config.password else None
        self._factory = factory or oracledb_factory(config.dsn, config.user, password)
        self._miner = LogMiner(self._factory, [(t.owner, t.table) for t in config.tables], config.fetch_size,
                               config.name)
        self._metas: dict[tuple[str, str], TableMeta] = {}
        self._charsets = Charsets()
        self._rowscn: Connector | None = None
        if config.mode == "rowscn":
            from connectors.oracle_logminer.rowscn import RowscnConnector, sql_config

            self._rowscn = RowscnConnector(sql_config(config))

    # -- describe ----------------------------------------------------------------------------------------
    def describe(self) -> list[TableMeta]:
        if self._rowscn is not None:
            return self._rowscn.describe()
        problems: list[str] = []
        metas: dict[tuple[str, str], TableMeta] = {}
        db = self.config.dsn.rsplit("/", 1)[-1]
        for i, t in enumerate(self.config.tables):
            params = {"owner": t.owner, "name": t.table}
            rows = self._miner.query(q.TABLE_COLUMNS, params, f"reading ALL_TAB_COLUMNS of {t.name}")
            if not rows:
                problems.append(f"{self.name}.tables[{i}].name: table {t.name} not found (or no privilege to see it)")
                continue
            key = t.key_columns or [str(r["COLUMN_NAME"]) for r in
                                    self._miner.query(q.TABLE_KEY, params, f"reading the key of {t.name}")]
            names = {str(r["COLUMN_NAME"]) for r in rows}
            bad = [k for k in key if k not in names]
            if bad or not key:
                problems.append(f"{self.name}.tables[{i}].key_columns: " + (
                    f"column(s) {', '.join(bad)} not found" if bad else f"{t.name} has no primary key; list its key"))
                continue
            meta, warnings = table_from_catalog(self.name, db, t.owner, t.table, rows, key)
            for w in warnings:
                log.warning("oracle.unknown_type", connector=self.name, detail=w)
            metas[(t.owner, t.table)] = meta
        if problems:
            raise ConfigError(problems)
        self._charsets = charsets_from_nls(self._miner.query(q.NLS_CHARSETS, None, "reading NLS_DATABASE_PARAMETERS"))
        for name in (self._charsets.database, self._charsets.national):
            if python_codec(name) is None:
                log.warning("oracle.unknown_charset", connector=self.name, charset=name,
                            detail="HEXTORAW text in this character set goes to the DLQ")
        self._metas = metas
        return list(metas.values())

    def _meta(self, owner: str, table: str) -> TableMeta | None:
        if not self._metas:
            self.describe()
        return self._metas.get((owner, table))

    def disable_table(self, table: str, reason: str) -> None:
        """``mode: rowscn`` stops one table (the SQL connector keeps a position per table); LogMiner mode has
        one SCN position for every table, so skipping one table would lose its changes: the connector stops."""
        if self._rowscn is not None:
            self._rowscn.disable_table(table, reason)
            return
        super().disable_table(table, reason)

    def close(self) -> None:
        self._miner.close()
        if self._rowscn is not None:
            self._rowscn.close()

    # -- source lag --------------------------------------------------------------------------------------
    def source_heads(self) -> list[dict[str, str]]:
        """Every table's head is the current SCN with its time (LogMiner mode: one position for every table)."""
        if self._rowscn is not None:
            return self._rowscn.source_heads()
        rows = self._miner.query(q.HEAD_SCN, None, "reading the current SCN and its time")
        scn, ts = int(rows[0]["CURRENT_SCN"]), rows[0]["SCN_TIME"]
        return [lag_position(t.name, scn, ts if isinstance(ts, datetime) else None) for t in self.config.tables]

    def saved_positions(self, state: State) -> dict[str, dict[str, str]]:
        """Every table stands at :func:`.state.saved_scn`, with its time (none once the SCN is older than the
        database's SCN-to-time mapping keeps)."""
        if self._rowscn is not None:
            return self._rowscn.saved_positions(state)
        scn = saved_scn(state)
        if scn is None:
            return {}
        try:
            ts = self._miner.scalar(q.SCN_TIME, {"scn": scn}, "mapping the saved SCN to its time")
        except CrmhubError as exc:
            if "ORA-08181" not in str(exc):
                raise
            ts = None
        return {t.name: lag_position(t.name, scn, ts if isinstance(ts, datetime) else None) for t in self.config.tables}

    # -- snapshot ----------------------------------------------------------------------------------------
    def snapshot(self, state: State) -> Iterator[Batch]:
        if self._rowscn is not None:
            yield from self._rowscn.snapshot(state)
            return
        st = load_state(state)
        if st["snapshot_done"]:
            return
        if st["snapshot_scn"] is None:
            scn = self._miner.current_scn()
            oldest = self._miner.oldest_open_scn()
            st["snapshot_scn"] = scn
            st["stream"] = make_position(min(scn, oldest) if oldest is not None else scn, scn, None)

        def tables_in_turn(st: State) -> Iterator[Batch]:
            for t in self.config.tables:
                meta = self._meta(t.owner, t.table)
                assert meta is not None
                for batch in self._snapshot_table(meta, st):
                    st = batch.state
                    yield batch

        yield from snapshot_batches(tables_in_turn(st), st, mark_snapshot_done)

    def _snapshot_table(self, meta: TableMeta, st: State) -> Iterator[Batch]:
        label = f"{meta.schema}.{meta.name}"
        progress = dict(st["snapshot"].get(label) or {"last_key": None, "done": False, "rows": 0})
        scn = int(st["snapshot_scn"])
        size = self.config.batch_size
        while not progress["done"]:
            after = decode_all(progress["last_key"], meta.key_columns, "oracle")
            sql = q.snapshot_query(str(meta.schema), meta.name, [c.name for c in meta.columns], meta.key,
                                   after=after is not None, limit=size + 1)
            params: dict[str, Any] = {"scn": scn, **{f"k{i}": v for i, v in enumerate(after or [])}}
            rows = self._miner.query(sql, params, f"snapshot of {label}")
            more = len(rows) > size
            rows = rows[:size]
            last_key = [encode_value(rows[-1][k]) for k in meta.key] if rows else progress["last_key"]
            progress = {"last_key": last_key, "done": not more, "rows": int(progress["rows"]) + len(rows)}
            st = copy.deepcopy(st)
            st["snapshot"][label] = progress
            now_ms = int(self._clock() * 1000)
            events, dead = [], []
            for raw in rows:
                source = self._source(meta, now_ms, {"scn": str(scn), "table": label}, None, snapshot=True)
                try:
                    row = typed_row(raw, meta)
                    events.append(ChangeEvent.create(key={k: row[k] for k in meta.key}, before=None, after=row,
                                                     op=Op.READ, source=source, ts_ms=now_ms))
                except (ValueProblem, SkippableError) as exc:
                    dead.append(DeadRow(label, str(exc), {k: str(v) for k, v in raw.items()}, source.position))
            yield Batch(events, st, dead, {"scn": str(scn)}, SnapshotProgress(meta.name, progress["rows"]))

    # -- changes -----------------------------------------------------------------------------------------
    def changes(self, state: State) -> Iterator[Batch]:
        if self._rowscn is not None:
            yield from self._rowscn.changes(state)
            return
        st = load_state(state)
        if st["stream"] is None:  # streaming without a snapshot: from now on
            scn = self._miner.current_scn()
            st["stream"] = make_position(scn, scn, None)
        buffer = TxBuffer()
        lo = int(st["stream"]["scn"])
        last_yield = self._clock()
        while self.running():  # the runner stopped it: end instead of waiting
            head = self._miner.current_scn()
            if lo > head:
                if self._clock() - last_yield >= self.config.heartbeat_interval_ms / 1000:
                    yield Batch([], copy.deepcopy(st), source_head={"scn": str(head)})
                    last_yield = self._clock()
                self._sleep(self.config.poll_interval_ms / 1000)
                continue
            hi = min(lo + self.config.window_scns - 1, head)
            out = _Pending(st)
            for row in self._miner.mine(lo, hi):
                committed = buffer.feed(row)
                if committed is not None:
                    yield from self._emit(committed, buffer, out, head)
            st = out.state
            st["stream"]["scn"] = min(buffer.oldest_start() or hi + 1, hi + 1)
            if out.events or out.dead:
                yield out.flush(head)
                last_yield = self._clock()
            elif self._clock() - last_yield >= self.config.heartbeat_interval_ms / 1000:
                yield Batch([], copy.deepcopy(st), source_head={"scn": str(head)})
                last_yield = self._clock()
            lo = hi + 1
            if hi >= head:
                self._sleep(self.config.poll_interval_ms / 1000)

    def _emit(self, tx: Committed, buffer: TxBuffer, out: _Pending, head: int) -> Iterator[Batch]:
        pos = out.state["stream"]
        skip = is_emitted(pos, tx.commit_scn, tx.xid)
        if skip is None:
            return
        commit_ms = epoch_ms(tx.commit_time, self.config.db_timezone, int(self._clock() * 1000))
        total = len(tx.changes)
        for index in range(skip, total):
            self._event(tx, index, commit_ms, out)
            if len(out.events) + len(out.dead) >= self.config.batch_size and index + 1 < total:
                out.advance(tx, buffer, index + 1, total)
                yield out.flush(head)
        out.advance(tx, buffer, total, total)
        if len(out.events) + len(out.dead) >= self.config.batch_size:
            yield out.flush(head)

    def _event(self, tx: Committed, index: int, commit_ms: int, out: _Pending) -> None:
        change = tx.changes[index]
        label = f"{change.owner}.{change.table}"
        position = {"scn": str(change.scn), "commit_scn": str(tx.commit_scn), "txid": tx.xid, "table": label}
        meta = self._meta(change.owner, change.table)
        if meta is None:  # a table not configured (the contents query filters them out already)
            return
        try:
            redo = parse_redo(change.sql, relaxed_quotes=self.config.relaxed_quotes)
            source = self._source(meta, commit_ms, position, tx.xid)
            out.events.append(event_from_redo(redo, meta, source, int(self._clock() * 1000), self._charsets))
        except (RedoParseError, ValueProblem, SkippableError) as exc:
            raw = {"SQL_REDO": change.sql, "ROW_ID": change.row_id, "XID": tx.xid}
            out.dead.append(DeadRow(label, str(exc), raw, position))

    def _source(self, meta: TableMeta, ts_ms: int, position: dict[str, str], txid: str | None, *,
                snapshot: bool = False) -> SourceInfo:
        return SourceInfo(connector=self.kind, name=self.name, db=meta.db, schema=meta.schema, table=meta.name,
                          ts_ms=max(0, ts_ms), snapshot="true" if snapshot else "false", position=position,
                          tx_id=txid)


class _Pending:
    """Events collected for the next batch and the state that covers them."""

    def __init__(self, state: State) -> None:
        self.state = copy.deepcopy(state)
        self.events: list[ChangeEvent] = []
        self.dead: list[DeadRow] = []

    def advance(self, tx: Committed, buffer: TxBuffer, emitted: int, total: int) -> None:
        """The position once ``emitted`` of the transaction's ``total`` changes are in this batch."""
        pos = self.state["stream"]
        same = pos["commit_scn"] == tx.commit_scn and pos["done"] is not None
        done = [x for x in pos["done"]] if same else []
        partial = None
        if emitted >= total:
            done.append(tx.xid)
        else:
            partial = {"xid": tx.xid, "events": emitted}
        oldest = buffer.oldest_start()
        own = tx.commit_scn if partial is None else tx.start_scn  # half emitted: mine it again from its start
        restart = own if oldest is None else min(oldest, own)
        self.state["stream"] = make_position(restart, tx.commit_scn, done, partial)

    def flush(self, head: int) -> Batch:
        batch = Batch(self.events, copy.deepcopy(self.state), self.dead, {"scn": str(head)})
        self.events, self.dead = [], []
        return batch

