"""Query-based change capture from any database SQLAlchemy reaches (Kafka Connect JDBC's approach).

- **snapshot**: first records each table's streaming start: just after the newest row (MAX(ts) and the
  greatest id at it) when that is older than db now - safety delay, else db now - delay inclusive (rows
  there may be re-read: duplicates possible, loss not); ``max_id`` = MAX(incrementing). Changes made during
  the snapshot are so streamed afterwards. Then it reads every table by key, ``batch_size`` rows per batch,
  ``op`` = ``r``, in one pass or in chunks by several workers (:mod:`connectors.sql.snapshot`). The last
  event is ``snapshot`` = ``last`` (when the last table is empty the final state arrives with the last
  non-empty batch).
- **changes**: polls each table with the incremental query (:mod:`connectors.sql.queries`). Mode
  ``incrementing`` emits ``c``; ``timestamp+incrementing`` emits ``c`` for an id above the highest id ever
  emitted, else ``u``; ``timestamp`` cannot tell an insert from an update, so it emits ``u`` (before =
  null) unless the key store (``state_dir``) says the key was never emitted, then ``c``. A row whose
  ``soft_delete`` column holds a deleted value is a ``d`` (before = that row). A timestamped row is emitted
  when a poll first sees it; the saved position waits for the safety delay (:mod:`connectors.sql.ahead`).
  A round polls every table; the next starts ``poll_interval_ms`` later (at once after a full batch). A
  quiet source yields an empty batch (heartbeat) every ``heartbeat_interval_ms``.
- **reconciliation** (``reconcile_deletes_every_s``, :mod:`connectors.sql.reconcile`): every interval the
  table's keys are compared with those emitted (:mod:`connectors.sql.keystore`, in ``state_dir``) and a
  key-only ``d`` goes out for each that vanished; a generation number in the state brings unacknowledged
  deletes back when the runner hands back an older state (a crash before the ack).
- Rows whose timestamp is NULL are read by the snapshot only; key and incrementing columns must be NOT NULL.
- ``source.ts_ms`` is the row's age at the database (db now - row ts) taken from the hub's clock at poll
  time, so it is right whatever zone the naive timestamps are in; without a timestamp column, poll time.
- Driver errors go through :func:`schemas.sqlstate.classify`: link failures -> ``RetriableError``, bad
  login / missing table -> ``ConfigError``.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog

from connectors.base import Batch, Connector, DeadRow, State, snapshot_batches
from connectors.sql.ahead import Window, read_ahead
from connectors.sql.catalog import SourceTable, reflect_tables
from connectors.sql.config import SqlConnectorConfig, create_engine
from connectors.sql.dbclock import DbClock
from connectors.sql.events import row_events, source_info
from connectors.sql.keystore import KeyStore
from connectors.sql.queries import (
    Bound,
    bind_upper,
    decode_all,
    decode_value,
    encode_value,
    head_query,
    incremental_params,
    incremental_query,
    last_at_query,
    now_query,
)
from connectors.sql.reconcile import delete_events, table_keys
from connectors.sql.snapshot import ChunkReader, SnapshotContext, snapshot_table
from connectors.sql.state import load_state, make_state, stream_positions
from connectors.sql.values import comparable, greatest
from schemas.columns import TableMeta
from schemas.envelope import ChangeEvent
from schemas.errors import CrmhubError, RetriableError
from schemas.sqlstate import classify

log = structlog.get_logger(__name__)

__all__ = ["KeyStore", "SqlConnector", "make_state"]


class SqlConnector(Connector):
    """Polls the configured tables of one database; see the module docstring."""

    kind = "sql"

    def __init__(self, config: SqlConnectorConfig, *, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep,
                 db_now: Callable[[], datetime] | None = None) -> None:
        super().__init__(config.name)
        self.config = config
        self._clock = clock
        self._sleep = sleep
        self._db_now_override = db_now  # tests: the database's "now" (else SELECT CURRENT_TIMESTAMP)
        self._db_clock = DbClock(lambda: self._fetch(now_query(self.dialect), "reading the current time")[0]["now"])
        self._engine: sa.Engine | None = None
        self._tables: list[SourceTable] | None = None
        self._store: KeyStore | None = None
        self._disabled: dict[str, str] = {}
        self._ahead: dict[str, Window] = {}  # per table: rows emitted before they were older than the delay
        self._full = False  # a poll of this round returned batch_size rows
        self._readers: set[ChunkReader] = set()  # the workers of a parallel snapshot
        self._held = threading.local()  # the connection a poll holds (snapshot workers use their own)
        # per table: its description and the poll statements built for it, by the names they bind (queries.py)
        self._polls: dict[str, tuple[sa.Table, dict[frozenset[str], sa.Select[Any]]]] = {}

    # -- plumbing ----------------------------------------------------------------------------------------
    @property
    def dialect(self) -> str:
        return self._get_engine().dialect.name

    def _get_engine(self) -> sa.Engine:
        if self._engine is None:
            self._engine = create_engine(self.config)
        return self._engine

    @contextmanager
    def _db(self, what: str) -> Iterator[None]:
        try:
            yield
        except sa.exc.DBAPIError as exc:
            raise classify(exc, f"connector {self.name}: {what}") from exc

    def _fetch(self, stmt: sa.Select[Any] | Bound, what: str) -> list[dict[str, Any]]:
        with self._db(what), self._connection() as conn:
            result = conn.execute(stmt.stmt, stmt.params) if isinstance(stmt, Bound) else conn.execute(stmt)
            names = tuple(result.keys())
            return [dict(zip(names, r, strict=True)) for r in result.all()]  # one fetch, not one per row

    @contextmanager
    def _connection(self, hold: bool = False) -> Iterator[sa.Connection]:
        """The connection this thread holds, else a pooled one (``hold``: held until the block ends, so a poll's
        query, column check and head cost one checkout and one pre-ping instead of three)."""
        held = getattr(self._held, "conn", None)
        if held is not None:
            try:
                yield held
            except BaseException:
                with suppress(Exception):  # a failed statement aborts the transaction (PostgreSQL): end it, so
                    held.rollback()  # the poll's next statement (the column check after a failed read) can run
                raise
            return
        with self._get_engine().connect() as conn:
            self._held.conn = conn if hold else None
            try:
                yield conn
            finally:
                self._held.conn = None

    def _db_time(self) -> datetime:
        if self._db_now_override is not None:
            return self._db_now_override()
        return self._db_clock.now()

    def _key_store(self) -> KeyStore | None:
        if self._store is None and self.config.state_dir is not None:
            self._store = KeyStore(Path(self.config.state_dir) / f"{self.name}.keys.sqlite")
        return self._store

    def close(self) -> None:
        for reader in list(self._readers):  # a snapshot still open: stop its workers
            reader.close()
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # -- describe ----------------------------------------------------------------------------------------
    def describe(self) -> list[TableMeta]:
        """The tables as the catalog describes them now (read again at every call, so the runner sees schema
        changes; the next poll selects the columns described last)."""
        self._tables = self._reflect()
        return [t.meta for t in self._tables]

    def topic_of(self, table: TableMeta) -> str | None:
        found = (t.cfg.topic for t in self._resolved() if (t.meta.schema, t.meta.name) == (table.schema, table.name))
        return next(found, None)

    def disable_table(self, table: str, reason: str) -> None:
        """Stop polling ``table`` (its name or configured ``schema.table``); its position stays as it is."""
        self._disabled[table] = reason
        log.warning("sql.table_disabled", connector=self.name, table=table, reason=reason)

    def _resolved(self) -> list[SourceTable]:
        if self._tables is None:
            self._tables = self._reflect()
        return [t for t in self._tables if t.label not in self._disabled and t.meta.name not in self._disabled]

    def _fetch_current(self, t: SourceTable, query: Callable[[SourceTable], sa.Select[Any] | Bound],
                       what: str) -> tuple[SourceTable, list[dict[str, Any]]]:
        """Rows read with the table's current columns: if the query failed or returned rows while the columns
        changed (a column dropped or added at the source), describe the table again and read again."""
        for _ in range(3):
            try:
                rows = self._fetch(query(t), what)
            except CrmhubError:
                if not self._altered(t):
                    raise
                t = self._table(t.label)
                continue
            if rows and self._altered(t):
                t = self._table(t.label)
                continue
            return t, rows
        raise RetriableError(f"{self.name}: the columns of {t.label} keep changing; reading again later")

    def _altered(self, t: SourceTable) -> bool:
        """Did the table's columns change since it was described? Checked after each fetch that returned rows,
        so a row is never emitted without a column added before it was read (the caller reads again). The
        names a row-less ``SELECT *`` returns answer the usual case; the catalog decides when they differ or
        when a dialect cannot run that statement."""
        with self._db(f"checking the columns of {t.label}"):
            with suppress(sa.exc.SQLAlchemyError), self._connection() as conn:
                if t.same_columns(conn):
                    return False
            names = [c["name"] for c in sa.inspect(self._get_engine()).get_columns(
                t.cfg.table_name, schema=t.cfg.schema_name)]
        if names == [c.name for c in t.meta.columns]:
            return False
        log.info("sql.columns_changed", connector=self.name, table=t.label, columns=names)
        self._tables = self._reflect()
        return True

    def _table(self, label: str) -> SourceTable:
        return next(t for t in self._resolved() if t.label == label)

    def _reflect(self) -> list[SourceTable]:
        with self._db("reading the catalog"):
            return reflect_tables(self._get_engine(), self.config)

    # -- snapshot ----------------------------------------------------------------------------------------
    def snapshot(self, state: State) -> Iterator[Batch]:
        tables = self._resolved()
        st = load_state(state)
        if st["snapshot_done"]:
            return
        now = self._db_time()
        for t in tables:
            if t.label not in st["stream"]:
                st["stream"][t.label] = self._start_position(t, now)

        def tables_in_turn(st: State) -> Iterator[Batch]:
            for t in tables:
                for batch in self._snapshot_table(t, st, now):
                    st = batch.state
                    yield batch

        def finish(final: State) -> None:
            final["snapshot_done"] = all((final["snapshot"].get(c.name) or {}).get("done") for c in self.config.tables)

        yield from snapshot_batches(tables_in_turn(st), st, finish)

    def _snapshot_table(self, t: SourceTable, st: State, now: datetime) -> Iterator[Batch]:
        ctx = SnapshotContext(self.name, self._get_engine(), self.config.batch_size, self.config.snapshot_of(t.cfg),
                              self._fetch, self._fetch_current, self._altered, self._table,
                              partial(self._events, now=now, snapshot=True, max_id=None), self._head, self._readers)
        return snapshot_table(t, st, ctx)

    def _start_position(self, t: SourceTable, now: datetime) -> dict[str, Any]:
        """Where streaming starts: after the newest row (exclusive) when it is older than the safety
        delay, else at db now - delay (inclusive: those rows may still be joined by late commits)."""
        head = self._newest(t)
        max_id = encode_value(head["head_id"])
        if t.ts is None:
            return {"ts": None, "id": None if max_id is None else [max_id], "max_id": max_id}
        if head["head_ts"] is None:
            return {"ts": None, "id": None, "max_id": max_id}
        upper = bind_upper(now - timedelta(milliseconds=t.cfg.safety_delay_ms), t.ts, self.dialect)
        if comparable(upper) <= comparable(head["head_ts"]):
            return {"ts": encode_value(upper), "id": None, "max_id": max_id}
        stmt = last_at_query(t.ref, t.ts.name, [c.name for c in t.ids], head["head_ts"], self.dialect)
        last = self._fetch(stmt, f"reading the newest position of {t.label}")
        ids = [encode_value(last[0][c.name]) for c in t.ids] if last else None
        return {"ts": encode_value(head["head_ts"]), "id": ids, "max_id": max_id}

    # -- changes -----------------------------------------------------------------------------------------
    def changes(self, state: State) -> Iterator[Batch]:
        st = load_state(state)
        self._ahead = {}  # from this state on, every row after its position is new
        store = self._key_store()
        if store is not None:
            store.restore(st["recon_gen"])
        last_yield = self._clock()
        last_recon = {t.label: self._clock() for t in self._resolved()}
        while self.running():  # the runner stopped it: end instead of waiting
            started = self._clock()
            now = self._db_time()
            self._full = False
            for t in self._resolved():  # read each round: describe() may have refreshed or disabled tables
                for batch in self._table_round(t, st, now, last_recon):
                    st = batch.state
                    yield batch
                    last_yield = self._clock()
            if self._full:
                continue  # a poll stopped at batch_size: more is waiting, poll again at once
            if self._clock() - last_yield >= self.config.heartbeat_interval_ms / 1000:
                yield Batch([], copy.deepcopy(st), source_head={"db_now": now.isoformat()})
                last_yield = self._clock()
            # one round per interval, busy or not: a busy source gets batches of an interval's changes rather
            # than a round trip to Kafka per row
            self._sleep(max(0.0, self.config.poll_interval_ms / 1000 - (self._clock() - started)))

    def _table_round(self, t: SourceTable, st: State, now: datetime, last_recon: dict[str, float]) -> Iterator[Batch]:
        """One poll of ``t`` and, when due, its reconciliation (each from the state the one before left)."""
        with self._db(f"connecting to poll {t.label}"), self._connection(hold=True):
            batch = self._poll_table(t, st, now)
        if batch is not None:
            yield batch
            st = batch.state
        deletes = self._maybe_reconcile(t, st, last_recon)
        if deletes is not None:
            yield deletes

    def _poll_table(self, t: SourceTable, st: State, now: datetime) -> Batch | None:
        pos = st["stream"].get(t.label) or {"ts": None, "id": None, "max_id": None}
        upper = None
        if t.ts is not None:
            upper = bind_upper(now - timedelta(milliseconds=t.cfg.safety_delay_ms), t.ts, self.dialect)

        def query(tt: SourceTable) -> Bound:
            where: dict[str, Any] = {
                "ts_column": tt.ts.name if tt.ts else None, "id_columns": [c.name for c in tt.ids],
                "after_ts": decode_value(pos["ts"], tt.ts, self.dialect) if tt.ts else None,
                "after_ids": decode_all(pos["id"], tt.ids, self.dialect), "safe_below": upper}
            ref, built = self._polls.get(tt.label, (None, {}))
            if ref is not tt.ref:  # described again (columns changed): its statements go with the old columns
                ref, built = tt.ref, {}
                self._polls[tt.label] = (ref, built)
            params = incremental_params(**where)
            stmt = built.get(names := frozenset(params))
            if stmt is None:
                stmt = built[names] = incremental_query(tt.ref, limit=self.config.batch_size, dialect=self.dialect,
                                                        **where)
            return Bound(stmt, params)

        t, rows = self._fetch_current(t, query, f"polling {t.label}")
        fresh, passed = rows, rows
        if t.ts is not None:  # emitted when seen; the position passes only rows older than the delay
            ahead = read_ahead(rows, self._ahead.get(t.label, {}), t.meta.key, t.ts.name,
                               complete=len(rows) < self.config.batch_size)
            self._ahead[t.label] = ahead.window
            fresh, passed = ahead.emit, rows[:ahead.safe]
        if not fresh and not passed:  # a full page of rows already emitted: more only once they are safe
            return None
        self._full = self._full or len(rows) >= self.config.batch_size
        events, dead = self._events(t, fresh, now, snapshot=False, max_id=pos["max_id"])
        new_max = pos["max_id"] if t.inc is None else greatest(pos["max_id"], (r[t.inc.name] for r in rows))
        new_st = copy.deepcopy(st)
        new_st["stream"][t.label] = {**pos, "max_id": encode_value(new_max)}
        if passed:
            last = passed[-1]
            new_st["stream"][t.label].update(ts=encode_value(last[t.ts.name]) if t.ts else None,
                                             id=[encode_value(last[c.name]) for c in t.ids])
        return Batch(events, new_st, dead, self._head(t))

    def _maybe_reconcile(self, t: SourceTable, st: State, last: dict[str, float]) -> Batch | None:
        every = t.cfg.reconcile_deletes_every_s
        store = self._key_store()
        if every is None or store is None or self._clock() - last.setdefault(t.label, self._clock()) < every:
            return None
        last[t.label] = self._clock()
        vanished = store.vanished(t.label, table_keys(t, self._fetch, self.config.batch_size, self.dialect))
        if not vanished:
            return None
        gen = int(st["recon_gen"]) + 1
        new_st = copy.deepcopy(st)
        new_st["recon_gen"] = gen
        poll_ms = int(self._clock() * 1000)
        events = delete_events(t, vanished, source_info((self.kind, self.name), t, poll_ms, {"table": t.label}),
                               poll_ms)
        store.mark_deleted(t.label, vanished, gen)
        log.info("sql.reconciled", connector=self.name, table=t.label, deleted=len(vanished), generation=gen)
        return Batch(events, new_st, [], self._head(t))

    # -- events ------------------------------------------------------------------------------------------
    def _events(self, t: SourceTable, rows: Sequence[Mapping[str, Any]], now: datetime, *, snapshot: bool,
                max_id: Any) -> tuple[list[ChangeEvent], list[DeadRow]]:
        return row_events(t, rows, now, snapshot=snapshot, max_id=max_id, store=self._key_store(),
                          origin=(self.kind, self.name), poll_ms=int(self._clock() * 1000))

    def _newest(self, t: SourceTable) -> dict[str, Any]:
        return self._fetch(head_query(t.ref, t.ts.name if t.ts else None, t.inc.name if t.inc else None,
                                      self.dialect), f"reading the newest position of {t.label}")[0]

    def source_heads(self) -> list[dict[str, str]]:
        return [self._head(t) for t in self._resolved()]

    def saved_positions(self, state: State) -> dict[str, dict[str, str]]:
        return stream_positions(state)

    def _head(self, t: SourceTable) -> dict[str, str]:
        head = self._newest(t)
        found = {"ts": encode_value(head["head_ts"]), "id": encode_value(head["head_id"])}
        return {"table": t.label, **{k: str(v) for k, v in found.items() if v is not None}}
