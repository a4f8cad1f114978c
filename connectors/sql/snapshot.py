"""The SQL connector's snapshot of one table: in one key-ordered pass, or in key ranges (chunks) read by
several worker threads.

**One pass** (``snapshot.workers`` = 1, a composite key, an in-memory SQLite database, or a table whose
snapshot began that way): keyset
pages of ``batch_size`` rows in key order; the state records the last key yielded.

**Chunks** (``snapshot.workers`` > 1 and a single-column key). The table's key range is split once, when the
table's snapshot begins, and the split is kept in the state:

- an integer key (or a DECIMAL without decimals): ``MIN``, ``MAX`` and ``COUNT`` in one query, then equal
  key intervals, as many as ``COUNT / chunk_rows`` (at least one per worker, at most one per key value);
- any other key: the boundaries are found by stepping through the key index ``chunk_rows`` keys at a time
  (``WHERE key > :prev ORDER BY key OFFSET chunk_rows - 1 LIMIT 1``), one index pass before the workers start.

The first chunk has no lower bound and the last no upper bound, so rows inserted outside the range while the
snapshot runs are read too, as one pass reads them. Each worker holds one connection of the engine's pool,
takes the next chunk not done, reads it in keyset pages (``WHERE key > :last AND key <= :upto``, ending each
page's transaction) and puts each page in a bounded queue. The generator (on the runner's thread) takes pages
from the queue, turns them into events and yields a batch whose state records, per chunk, the last key of the
pages yielded so far and whether the chunk is complete. Whether the table's columns changed is checked once
for all the pages waiting in the queue (each read before the check), so a busy snapshot checks less often; a
change makes it describe the table again and read on from the last state yielded with the new columns. A
chunk is read by one worker in key order and the queue keeps the order of its pages, so the state never claims
a row not yet yielded: after a crash the snapshot resumes each chunk after its last yielded key and skips the
chunks complete.

Closing the generator (the runner stops or restarts, the connector closes) stops the workers, which give
their connections back to the pool; a page being read when it closes is read to its end first.
"""

from __future__ import annotations

import copy
import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import pairwise
from typing import Any

import sqlalchemy as sa

from connectors.base import Batch, DeadRow, SnapshotProgress, State
from connectors.sql.catalog import SourceTable
from connectors.sql.config import SnapshotSettings
from connectors.sql.queries import decode_all, encode_value, key_range_query, key_step_query, keyset_query
from schemas.columns import Column, ColumnType
from schemas.envelope import ChangeEvent
from schemas.sqlstate import classify

__all__ = ["ChunkReader", "SnapshotContext", "integer_ends", "new_chunks", "snapshot_table"]

Rows = list[dict[str, Any]]
_INTEGER = frozenset({ColumnType.INT16, ColumnType.INT32, ColumnType.INT64})


@dataclass(frozen=True, slots=True)
class SnapshotContext:
    """What reading one table's snapshot takes from its connector."""

    name: str  # the connector's, for error messages
    engine: sa.Engine
    batch_size: int
    settings: SnapshotSettings
    fetch: Callable[[sa.Select[Any], str], Rows]
    # the connector's read with the table's current columns (describes the table again when they changed)
    fetch_current: Callable[[SourceTable, Callable[[SourceTable], sa.Select[Any]], str], tuple[SourceTable, Rows]]
    altered: Callable[[SourceTable], bool]  # did the columns change since the table was described?
    table: Callable[[str], SourceTable]  # the table as described now
    events: Callable[[SourceTable, Rows], tuple[list[ChangeEvent], list[DeadRow]]]
    head: Callable[[SourceTable], dict[str, str]]
    readers: set[ChunkReader] = field(default_factory=set)  # running, for the connector to stop on close


def snapshot_table(t: SourceTable, st: State, ctx: SnapshotContext) -> Iterator[Batch]:
    """The batches of ``t``'s snapshot from ``st`` on, each with the state after it."""
    progress = st["snapshot"].get(t.label) or {}
    if progress.get("done"):
        return
    chunked = progress.get("chunks") is not None or (ctx.settings.workers > 1 and progress.get("last_key") is None)
    # an in-memory SQLite database is one per connection (or one connection shared): workers cannot share it
    shared = not isinstance(ctx.engine.pool, sa.pool.SingletonThreadPool | sa.pool.StaticPool)
    if chunked and shared and len(t.meta.key) == 1:
        yield from _in_chunks(t, st, ctx)
    else:
        yield from _in_one_pass(t, st, ctx)


def _in_one_pass(t: SourceTable, st: State, ctx: SnapshotContext) -> Iterator[Batch]:
    size, dialect = ctx.batch_size, ctx.engine.dialect.name
    progress = dict(st["snapshot"].get(t.label) or {"last_key": None, "done": False, "rows": 0})
    head = ctx.head(t)
    while not progress["done"]:
        after_key = decode_all(progress["last_key"], t.meta.key_columns, dialect)

        def page(tt: SourceTable, after_key: list[Any] | None = after_key) -> sa.Select[Any]:
            return keyset_query(tt.ref, tt.meta.key, after_key, size + 1, dialect)

        t, rows = ctx.fetch_current(t, page, f"snapshot of {t.label}")
        more = len(rows) > size
        rows = rows[:size]
        last_key = [encode_value(rows[-1][k]) for k in t.meta.key] if rows else progress["last_key"]
        progress = {"last_key": last_key, "done": not more, "rows": int(progress.get("rows") or 0) + len(rows)}
        st = copy.deepcopy(st)
        st["snapshot"][t.label] = progress
        events, dead = ctx.events(t, rows)
        yield Batch(events, st, dead, head, SnapshotProgress(t.meta.name, progress["rows"]))


def _in_chunks(t: SourceTable, st: State, ctx: SnapshotContext) -> Iterator[Batch]:
    progress = copy.deepcopy(st["snapshot"].get(t.label) or {})
    if progress.get("chunks") is None:
        total, chunks = _plan(t, ctx)
        progress = {"last_key": None, "done": False, "rows": 0, "total": total, "chunks": chunks}
    head = ctx.head(t)
    what = f"snapshot of {t.label}"
    while True:  # once more after the columns changed, from the last state yielded
        reader = ChunkReader(ctx.engine, partial(_chunk_page, t, ctx.batch_size + 1, ctx.engine.dialect.name),
                             t.meta.key, _pending(t, progress["chunks"], ctx.engine.dialect.name), ctx.settings.workers,
                             ctx.batch_size)
        ctx.readers.add(reader)
        try:
            for pages in reader.waiting():
                # one look at the columns for the pages waiting, all of them read before it
                if any(rows for _, rows, _ in pages) and ctx.altered(t):
                    t = ctx.table(t.label)
                    break
                for index, rows, more in pages:
                    chunk = progress["chunks"][index]
                    if rows:
                        chunk["last_key"] = [encode_value(rows[-1][k]) for k in t.meta.key]
                    chunk["done"] = not more
                    progress["rows"] = int(progress["rows"]) + len(rows)
                    progress["done"] = all(c["done"] for c in progress["chunks"])
                    st = copy.deepcopy(st)
                    st["snapshot"][t.label] = copy.deepcopy(progress)
                    events, dead = ctx.events(t, rows)
                    yield Batch(events, st, dead, head,
                                SnapshotProgress(t.meta.name, progress["rows"], progress["total"]))
            else:
                return
        except sa.exc.DBAPIError as exc:
            raise classify(exc, f"connector {ctx.name}: {what}") from exc
        finally:
            reader.close()
            ctx.readers.discard(reader)


def _chunk_page(t: SourceTable, limit: int, dialect: str, after_key: Sequence[Any] | None,
                upto: Sequence[Any] | None) -> sa.Select[Any]:
    return keyset_query(t.ref, t.meta.key, after_key, limit, dialect, upto=upto)


def _pending(t: SourceTable, chunks: Sequence[Mapping[str, Any]], dialect: str
             ) -> list[tuple[int, list[Any] | None, list[Any] | None]]:
    """(index, key to read after, last key) of each chunk not done, as the driver binds them."""
    cols = t.meta.key_columns
    return [(i, decode_all(c["last_key"] if c["last_key"] is not None else c["after"], cols, dialect),
             decode_all(c["upto"], cols, dialect)) for i, c in enumerate(chunks) if not c["done"]]


def _plan(t: SourceTable, ctx: SnapshotContext) -> tuple[int, list[dict[str, Any]]]:
    """The table's row count and its chunks (see the module docstring)."""
    key = t.meta.key_columns[0]
    found = ctx.fetch(key_range_query(t.ref, key.name), f"reading the key range of {t.label}")[0]
    count, workers, chunk_rows = int(found["n"] or 0), ctx.settings.workers, ctx.settings.chunk_rows
    if count == 0 or found["lo"] is None:
        return count, new_chunks([])
    if _is_integer(key):
        return count, new_chunks(integer_ends(int(found["lo"]), int(found["hi"]), count, chunk_rows, workers))
    step = max(1, min(chunk_rows, -(-count // workers)))
    ends: list[Any] = []
    while True:
        stmt = key_step_query(t.ref, key.name, ends[-1] if ends else None, step, ctx.engine.dialect.name)
        row = ctx.fetch(stmt, f"splitting the key range of {t.label}")
        if not row or row[0]["k"] == found["hi"]:
            return count, new_chunks([encode_value(e) for e in ends])
        ends.append(row[0]["k"])


def _is_integer(column: Column) -> bool:
    return column.type in _INTEGER or (column.type is ColumnType.DECIMAL and not column.scale)


def integer_ends(lo: int, hi: int, count: int, chunk_rows: int, workers: int) -> list[int]:
    """The last key of every chunk but the last, for ``count`` keys between ``lo`` and ``hi``: equal key
    intervals, ``count / chunk_rows`` of them (at least ``workers``, at most one per key value)."""
    span = hi - lo + 1
    n = max(1, min(span, max(workers, -(-count // chunk_rows))))
    return [lo + span * i // n - 1 for i in range(1, n)]


def new_chunks(ends: Sequence[Any]) -> list[dict[str, Any]]:
    """Chunks (state form) ending at each of ``ends`` (encoded single-column keys, increasing) and one after
    the last; the first has no lower bound."""
    bounds: list[Any] = [None, *ends, None]
    return [{"after": None if lo is None else [lo], "upto": None if hi is None else [hi], "last_key": None,
             "done": False} for lo, hi in pairwise(bounds)]


_END = object()  # a worker has finished


class ChunkReader:
    """Worker threads reading chunks in keyset pages into a bounded queue; iterate for (chunk index, rows,
    more of the chunk to come), in the order each chunk's pages were read. :meth:`close` stops them."""

    def __init__(self, engine: sa.Engine, page: Callable[[Sequence[Any] | None, Sequence[Any] | None],
                 sa.Select[Any]], key: Sequence[str], chunks: Sequence[tuple[int, list[Any] | None, list[Any] | None]],
                 workers: int, page_rows: int) -> None:
        self._engine = engine
        self._page = page
        self._key = list(key)
        self._rows = page_rows
        self._todo: queue.SimpleQueue[tuple[int, list[Any] | None, list[Any] | None]] = queue.SimpleQueue()
        for chunk in chunks:
            self._todo.put(chunk)
        count = min(workers, len(chunks))
        self._out: queue.Queue[Any] = queue.Queue(maxsize=2 * max(1, count))
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._work, name=f"crmhub-snapshot-{i}", daemon=True)
                         for i in range(count)]
        for thread in self._threads:
            thread.start()

    def __iter__(self) -> Iterator[tuple[int, Rows, bool]]:
        for pages in self.waiting():
            yield from pages

    def waiting(self) -> Iterator[list[tuple[int, Rows, bool]]]:
        """The pages read, in groups: each time every page waiting in the queue (at least one)."""
        running = len(self._threads)
        while running:
            pages: list[tuple[int, Rows, bool]] = []
            item = self._out.get()
            while True:
                if item is _END:
                    running -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    pages.append(item)
                try:
                    item = self._out.get_nowait()
                except queue.Empty:
                    break
            if pages:
                yield pages

    def _work(self) -> None:
        try:
            with self._engine.connect() as conn:
                while not self._stop.is_set():
                    try:
                        index, after_key, upto = self._todo.get_nowait()
                    except queue.Empty:
                        return
                    more = True
                    while more and not self._stop.is_set():
                        rows = [dict(r) for r in conn.execute(self._page(after_key, upto)).mappings()]
                        conn.rollback()  # no transaction held between pages
                        more = len(rows) > self._rows
                        rows = rows[:self._rows]
                        if rows:
                            after_key = [rows[-1][k] for k in self._key]
                        if not self._put((index, rows, more)):
                            return
        except BaseException as exc:  # handed to the generator, which raises it
            self._put(exc)
        finally:
            self._put(_END)

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._out.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def close(self) -> None:
        """Stop the workers and wait for them (each gives its connection back to the pool)."""
        self._stop.set()  # a worker waiting to put a page gives up within 50 ms
        for thread in self._threads:
            thread.join()
