"""The snapshot-then-stream loop shared by the change-table connectors (the subclass knows the SQL).

- **snapshot**: the newest commit position is read first (``_head``) and becomes every table's streaming
  start, so changes made while the tables are read are streamed afterwards (duplicates possible, loss not).
  Each table is then read in key order, ``batch_size`` rows per batch, ``op`` = ``r``, resumable from the
  last key in the state; the very last event is ``snapshot`` = ``last``.
- **changes**: each poll reads the newest position once (``upper``), then per table the rows strictly after
  the table's position up to ``upper`` in commit order (``_read``), ``batch_size`` rows at a time (a two-row
  update is never split). Rows become events (:mod:`.pairing`); the position moves to the last row read, and
  to ``upper`` itself once a window is read to its end, so a quiet table's position keeps up with the log
  (otherwise the cleanup of old changes would look like a gap). Such position-only moves are yielded as
  empty batches (the runner saves them like heartbeats).
- **gone**: when the changes after a table's position are no longer there (``_gone``: cleanup, pruning,
  re-initialisation), ``on_changes_gone`` = ``fail`` raises ``FatalError`` naming the table and positions;
  ``resnapshot`` snapshots that table again (its stream restarting at ``upper``) while the others go on.
  A table added to the configuration later is snapshotted the same way.
"""

from __future__ import annotations

import copy
import time
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

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
from connectors.changetables.dbapi import ConnectionFactory, Session
from connectors.changetables.pairing import Change, PairRule, RawChange, complete_prefix, pair_changes
from connectors.changetables.position import Position, from_hex, lag_position, load_state, stream_entry, to_hex
from connectors.sql.queries import encode_value
from connectors.sql.values import ValueProblem, normalise_row
from schemas.columns import TableMeta
from schemas.envelope import ChangeEvent, Op, SourceInfo
from schemas.errors import FatalError, SkippableError

log = structlog.get_logger(__name__)

__all__ = ["Captured", "ChangeTableConnector", "LoopSettings", "Window"]

OnGone = Literal["fail", "resnapshot"]


@dataclass(frozen=True, slots=True)
class Captured:
    """A configured table resolved against the catalog: ``label`` is its configured name."""

    label: str
    meta: TableMeta
    trim_char: bool = False


@dataclass(frozen=True, slots=True)
class Window:
    """One read of a table's change rows: up to ``limit + 1`` rows after the position, in commit order.

    ``done_upto``: the commit position every row up to which has now been seen when the read was not cut by
    the limit (None: do not advance further than the rows). ``switch_to``: once the rows are processed, read
    from this change table next (a newer SQL Server capture instance), from this position."""

    rows: list[RawChange]
    done_upto: bytes | None = None
    switch_to: tuple[str, Position] | None = None


@dataclass(frozen=True, slots=True)
class LoopSettings:
    batch_size: int = 1000
    poll_interval_ms: int = 1000
    heartbeat_interval_ms: int = 10000
    on_changes_gone: OnGone = "fail"
    snapshot: Literal["initial", "never"] = "initial"

    @classmethod
    def of(cls, config: Any) -> LoopSettings:
        """The loop settings of a change-table connector's config (it has every one of them)."""
        return cls(config.batch_size, config.poll_interval_ms, config.heartbeat_interval_ms, config.on_changes_gone,
                   config.snapshot)


def _json_safe(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: bytes(v).hex() if isinstance(v, bytes | bytearray | memoryview) else v for k, v in row.items()}


class ChangeTableConnector(Connector):
    """Base of the change-table connectors; see the module docstring. Subclasses give the SQL."""

    def __init__(self, name: str, loop: LoopSettings, connect: ConnectionFactory, *,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name)
        self.loop = loop
        self._db = Session(connect, f"connector {name}")
        self._clock = clock
        self._sleep = sleep
        self._disabled: dict[str, str] = {}
        self._tables: list[Captured] | None = None

    def close(self) -> None:
        self._db.close()

    # -- what a subclass provides ----------------------------------------------------------------------
    @abstractmethod
    def _resolve(self) -> list[Captured]:
        """The configured tables as the catalog describes them now (``ConfigError`` listing every problem)."""

    @abstractmethod
    def _head(self) -> bytes:
        """The newest commit position whose change rows are all written (the upper bound of a window)."""

    @abstractmethod
    def _initial_source(self, t: Captured, head: bytes) -> str | None:
        """The change table to read first when streaming starts at ``head``."""

    @abstractmethod
    def _read(self, t: Captured, pos: Position, source: str | None, upper: bytes, limit: int) -> Window:
        """Up to ``limit`` change rows strictly after ``pos`` and at or before ``upper``, in commit order."""

    @abstractmethod
    def _gone(self, t: Captured, pos: Position, source: str | None) -> str | None:
        """Why changes after ``pos`` can no longer be read (None when they can)."""

    @abstractmethod
    def _snapshot_rows(self, t: Captured, after_key: Sequence[Any] | None, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` rows of the source table in key order after ``after_key``."""

    @abstractmethod
    def _commit_times(self, commits: set[bytes]) -> dict[bytes, int]:
        """Commit time (epoch ms) of each commit position that the server can map."""

    @abstractmethod
    def _pair_rule(self, t: Captured) -> PairRule:
        """Which two adjacent rows make one update."""

    def _position_times(self, commits: set[bytes]) -> dict[bytes, int]:
        """Time (epoch ms) of each commit position, for source lag: by default its commit time."""
        return self._commit_times(commits)

    # -- source lag --------------------------------------------------------------------------------------
    def source_heads(self) -> list[dict[str, str]]:
        """Every table's head is the newest commit position (the upper bound of a window) and its time; none
        when the server cannot map it to a time."""
        head = self._head()
        ms = self._position_times({head}).get(head)
        if ms is None:
            return []
        return [lag_position(t.label, head, ms) for t in self._active()]

    def saved_positions(self, state: State) -> dict[str, dict[str, str]]:
        commits = {t: from_hex(str(p["commit"])) for t, p in load_state(state)["stream"].items()}
        times = self._position_times(set(commits.values())) if commits else {}
        return {t: lag_position(t, c, times.get(c)) for t, c in commits.items()}

    # -- describe --------------------------------------------------------------------------------------
    def describe(self) -> list[TableMeta]:
        self._tables = self._resolve()
        return [t.meta for t in self._tables]

    def disable_table(self, table: str, reason: str) -> None:
        self._disabled[table] = reason
        log.warning("changetables.table_disabled", connector=self.name, table=table, reason=reason)

    def _active(self) -> list[Captured]:
        if self._tables is None:
            self._tables = self._resolve()
        return [t for t in self._tables if t.label not in self._disabled and t.meta.name not in self._disabled]

    # -- snapshot ----------------------------------------------------------------------------------------
    def snapshot(self, state: State) -> Iterator[Batch]:
        st = load_state(state)
        if st["snapshot_done"]:
            return
        tables = self._active()
        head = self._head()
        for t in tables:
            if t.label not in st["stream"]:
                st["stream"][t.label] = stream_entry(Position(head), self._initial_source(t, head))
                if self.loop.snapshot == "never":
                    st["snapshot"][t.label] = {"last_key": None, "done": True, "rows": 0}

        yield from snapshot_batches(tables_in_turn(tables, self._snapshot_table, st), st, mark_snapshot_done)

    def _snapshot_table(self, t: Captured, st: State) -> Iterator[Batch]:
        progress = dict(st["snapshot"].get(t.label) or {"last_key": None, "done": False, "rows": 0})
        head = st["stream"][t.label]["commit"]
        size = self.loop.batch_size
        while not progress["done"]:
            rows = self._snapshot_rows(t, progress["last_key"], size + 1)
            more = len(rows) > size
            rows = rows[:size]
            last_key = [encode_value(rows[-1][k]) for k in t.meta.key] if rows else progress["last_key"]
            progress = {"last_key": last_key, "done": not more, "rows": int(progress["rows"]) + len(rows)}
            st = copy.deepcopy(st)
            st["snapshot"][t.label] = progress
            now = int(self._clock() * 1000)
            events: list[ChangeEvent] = []
            dead: list[DeadRow] = []
            for raw in rows:
                where = {"commit": head, "snapshot": "true"}
                try:
                    row = normalise_row(raw, t.meta.columns, trim_char=t.trim_char)
                    events.append(ChangeEvent.create(key={k: row[k] for k in t.meta.key}, before=None, after=row,
                                                     op=Op.READ, source=self._source(t, now, where, None, True),
                                                     ts_ms=now))
                except (ValueProblem, SkippableError) as exc:
                    dead.append(DeadRow(t.label, str(exc), _json_safe(raw), where))
            yield Batch(events, st, dead, {"commit": head}, SnapshotProgress(t.meta.name, progress["rows"]))

    # -- changes -----------------------------------------------------------------------------------------
    def changes(self, state: State) -> Iterator[Batch]:
        st = load_state(state)
        last_yield = self._clock()
        while self.running():  # the runner stopped it: end instead of waiting
            upper = self._head()
            emitted = False
            for t in self._active():
                for batch in self._table_round(t, st, upper):
                    st = batch.state
                    emitted = emitted or bool(batch.events or batch.dead)
                    yield batch
                    last_yield = self._clock()
            if emitted:
                continue
            if self._clock() - last_yield >= self.loop.heartbeat_interval_ms / 1000:
                yield Batch([], copy.deepcopy(st), source_head={"commit": to_hex(upper)})
                last_yield = self._clock()
            self._sleep(self.loop.poll_interval_ms / 1000)

    def _table_round(self, t: Captured, st: State, upper: bytes) -> Iterator[Batch]:
        entry = st["stream"].get(t.label)
        progress = st["snapshot"].get(t.label)
        if entry is None or (progress is not None and not progress["done"]):
            if entry is None:  # a table added to the configuration: snapshot it, then stream it
                st = self._restart_table(t, st, upper, snapshot=self.loop.snapshot == "initial")
            yield from self._snapshot_table(t, st)
            return
        pos = Position.from_json(entry)
        reason = self._gone(t, pos, entry["source"])
        if reason is not None:
            if self.loop.on_changes_gone == "fail":
                raise FatalError(f"{self.name}: table {t.label}: {reason}; the changes after position "
                                 f"{to_hex(pos.commit)} can no longer be read (set on_changes_gone: resnapshot "
                                 "to snapshot the table again, or reset the connector)")
            log.warning("changetables.resnapshot", connector=self.name, table=t.label, reason=reason)
            yield from self._snapshot_table(t, self._restart_table(t, st, upper, snapshot=True))
            return
        batch = self._poll(t, st, pos, entry["source"], upper)
        if batch is not None:
            yield batch

    def _restart_table(self, t: Captured, st: State, upper: bytes, *, snapshot: bool) -> State:
        st = copy.deepcopy(st)
        st["stream"][t.label] = stream_entry(Position(upper), self._initial_source(t, upper))
        st["snapshot"][t.label] = {"last_key": None, "done": not snapshot, "rows": 0}
        return st

    def _poll(self, t: Captured, st: State, pos: Position, source: str | None, upper: bytes) -> Batch | None:
        size = self.loop.batch_size
        window = self._read(t, pos, source, upper, size + 1)
        rule = self._pair_rule(t)
        rows = complete_prefix(window.rows, size, rule)
        cut = len(window.rows) > size  # the read hit its limit: more rows may follow in this window
        new_pos = Position(rows[-1].commit, rows[-1].seq, rows[-1].op) if rows else pos
        new_source = source
        if not cut:
            if window.done_upto is not None and window.done_upto >= new_pos.commit:
                new_pos = Position(window.done_upto)
            if window.switch_to is not None:
                new_source, new_pos = window.switch_to
        if not rows and new_pos == pos and new_source == source:
            return None
        new_st = copy.deepcopy(st)
        new_st["stream"][t.label] = stream_entry(new_pos, new_source)
        events, dead = self._events(t, pair_changes(rows, rule))
        if new_source != source:
            log.info("changetables.source_switched", connector=self.name, table=t.label, old=source, new=new_source)
        return Batch(events, new_st, dead, {"commit": to_hex(upper)})

    # -- events ------------------------------------------------------------------------------------------
    def _events(self, t: Captured, changes: Sequence[Change]) -> tuple[list[ChangeEvent], list[DeadRow]]:
        times = self._commit_times({c.last.commit for c in changes}) if changes else {}
        now = int(self._clock() * 1000)
        events: list[ChangeEvent] = []
        dead: list[DeadRow] = []
        for ch in changes:
            last = ch.last
            where = {"commit": to_hex(last.commit), "seq": to_hex(last.seq), "op": str(last.op), **last.meta}
            try:
                if ch.problem:
                    raise SkippableError(ch.problem)
                before = None if ch.before is None else normalise_row(ch.before, t.meta.columns, trim_char=t.trim_char)
                after = None if ch.after is None else normalise_row(ch.after, t.meta.columns, trim_char=t.trim_char)
                image = after if after is not None else before
                key = {k: image[k] for k in t.meta.key} if image is not None else {}
                events.append(ChangeEvent.create(key=key, before=before, after=after, op=ch.op, ts_ms=now,
                                                 source=self._source(t, times.get(last.commit, now), where,
                                                                     to_hex(last.commit), False)))
            except (ValueProblem, SkippableError) as exc:
                raw = {**_json_safe(ch.first.raw), **({"after": _json_safe(last.raw)} if last is not ch.first else {})}
                dead.append(DeadRow(t.label, str(exc), raw, where))
        return events, dead

    def _source(self, t: Captured, ts_ms: int, position: Mapping[str, str], tx_id: str | None,
                snapshot: bool) -> SourceInfo:
        return SourceInfo(connector=self.kind, name=self.name, db=t.meta.db, schema=t.meta.schema, table=t.meta.name,
                          ts_ms=max(0, ts_ms), snapshot="true" if snapshot else "false", position=position,
                          tx_id=tx_id)

