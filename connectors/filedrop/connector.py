"""The file-drop connector: export files dropped on a share (CSV, fixed-width text, EBCDIC records) -> events.

- **Taking files**: every poll lists ``path`` (regular files matching ``pattern``, case-insensitively as on
  Windows shares; marker files excluded). A file is complete when its size and modification time have not
  changed for ``stable_seconds`` across polls (``complete_when: size_stable``), or when ``<file><marker_suffix>``
  exists (``marker``). Its feed is the first whose ``pattern`` matches its name.
- **One table per feed** (``describe``): columns from ``csv.columns``, the fixed-width layout or the copybook;
  key = ``key_columns``; ``schema`` None; ``db`` = the drop folder's name.
- **Events**: ``source.connector`` = ``filedrop``, ``source.ts_ms`` = the file's modification time (the
  export's best commit time), ``position`` = ``{file, sha256, record}`` (``record`` empty for a delete).
  Delta files emit ``c`` (or their op column's ``c``/``u``/``d``); snapshot files emit their diff against the
  previous snapshot (``c``/``u``/``d``, ``snapshot`` = ``false``), except the first snapshot a feed delivers,
  which has nothing to diff against and emits ``r`` (``snapshot`` = ``true``, ``last`` on its final row).
  ``snapshot()`` yields nothing: the files are the snapshots.
- **Batches** of ``batch_size`` items (events and dead rows); the state names the file, its checksum, how many
  items were delivered and whether it is done (:func:`make_state`), so a crash mid-file resumes after the last
  acknowledged batch. See :mod:`connectors.filedrop.diff` for the snapshot store's commit protocol.
- **After delivery** the file is archived as ``<stem>.<sha256>.<ext>`` in ``archive_dir``; a file whose
  checksum was delivered before (a re-drop) is archived without emitting anything.
- **Bad files** (unreadable, wrong encoding throughout, no feed matches, record length not a multiple,
  layout/copybook errors) go to ``quarantine_dir`` with ``<name>.reason.txt`` next to them. Malformed records
  become ``DeadRow``s naming file, record number and reason; the rest of the file flows.
- An unreachable drop folder is a ``RetriableError`` (the runner backs off).
- **Source lag**: the age of each feed's oldest file still waiting in the folder (:mod:`.state`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import structlog

from connectors.base import Batch, Connector, DeadRow, State
from connectors.codecs import FixedLayout, parse_copybook
from connectors.filedrop.config import Feed, FileDropConnector
from connectors.filedrop.diff import Change, Output, SnapshotStore, delta_changes
from connectors.filedrop.ebcdic import EbcdicReader
from connectors.filedrop.formats import BadFile, BadRecord, CsvReader, FeedReader, FixedTextReader
from connectors.filedrop.state import Cursor, folder_heads, load_cursor, make_state, oldest_waiting, waiting_by_feed
from schemas.columns import TableMeta
from schemas.envelope import ChangeEvent, Op, SourceInfo
from schemas.errors import ConfigError, RetriableError, SkippableError

log = structlog.get_logger(__name__)

__all__ = ["Cursor", "FileDropSource", "archived_name", "build_reader", "load_cursor", "make_state", "stable_files"]


Seen = tuple[int, int, float]  # size, mtime_ns, since when (clock) the file has looked like this


def stable_files(
    seen: Mapping[str, Seen], listing: Mapping[str, tuple[int, int]], now: float, seconds: float
) -> tuple[dict[str, Seen], set[str]]:
    """Which listed files kept their size and mtime for ``seconds`` (and the observations to keep)."""
    observed: dict[str, Seen] = {}
    for name, (size, mtime_ns) in listing.items():
        before = seen.get(name)
        since = before[2] if before is not None and before[:2] == (size, mtime_ns) else now
        observed[name] = (size, mtime_ns, since)
    return observed, {name for name, (_, _, since) in observed.items() if now - since >= seconds}


def archived_name(name: str, sha256: str) -> str:
    """``credit_0101.csv`` -> ``credit_0101.<sha256>.csv``."""
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{sha256}.{suffix}" if dot and stem else f"{name}.{sha256}"


def build_reader(feed: Feed) -> FeedReader:
    """The feed's reader; its layout or copybook is read now. Problems raise ``ConfigError``."""
    try:
        if feed.format == "csv":
            return CsvReader(feed)
        if feed.copybook is None:
            assert feed.layout is not None  # the settings model requires one of them
            return FixedTextReader(feed, FixedLayout.from_yaml(_read_text(feed.layout)))
        text, comma = _read_text(feed.copybook), feed.decimal_point_is_comma
        return EbcdicReader(feed, parse_copybook(text, record=feed.copybook_record, decimal_comma=comma))
    except ConfigError as exc:
        raise ConfigError([f"feeds.{feed.name}: {p}" for p in exc.problems]) from None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None


@dataclass(frozen=True, slots=True)
class _Drop:
    path: Path
    size: int
    mtime_ns: int

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True, slots=True)
class _File:
    """A file being delivered: what every event and dead row of it carries."""

    drop: _Drop
    feed: Feed
    sha256: str

    def position(self, record: int | None) -> dict[str, str]:
        return {"file": self.drop.name, "sha256": self.sha256, "record": "" if record is None else str(record)}


class FileDropSource(Connector):
    """Watches one drop folder; see the module docstring."""

    kind = "filedrop"

    def __init__(self, config: FileDropConnector, *, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:  # fmt: skip
        super().__init__(config.name)
        self.config = config
        self._clock = clock
        self._sleep = sleep
        self._db = config.path.name or str(config.path)
        self._readers: dict[str, FeedReader] = {}
        self._stores: dict[str, SnapshotStore] = {}
        self._seen: dict[str, Seen] = {}
        self._stuck: set[tuple[str, int, int]] = set()  # files that could be neither read nor moved
        self._disabled: dict[str, str] = {}

    # -- Connector ----------------------------------------------------------------------------------------
    def describe(self) -> list[TableMeta]:
        """One table per feed. Layouts and copybooks are read again each time (the runner describes the
        tables again to catch schema changes), and files are decoded with what was last described."""
        tables: list[TableMeta] = []
        readers: dict[str, FeedReader] = {}
        problems: list[str] = []
        for feed in self.config.feeds:
            try:
                readers[feed.name] = reader = build_reader(feed)
                tables.append(TableMeta(self.name, self._db, None, feed.name, reader.columns, tuple(feed.key_columns)))
            except ConfigError as exc:
                problems.extend(exc.problems)
        if problems:
            raise ConfigError(problems)
        self._readers = readers
        return tables

    def disable_table(self, table: str, reason: str) -> None:
        """Stop taking the feed's files (they stay in the drop folder until the connector is restarted)."""
        self._disabled[table] = reason
        log.warning("filedrop.feed_disabled", connector=self.name, feed=table, reason=reason)

    def snapshot(self, state: State) -> Iterator[Batch]:
        yield from ()

    def changes(self, state: State) -> Iterator[Batch]:
        cursor = load_cursor(state)
        current = make_state(cursor)
        while self.running():  # the runner stopped it: end instead of waiting
            worked = False
            for drop, expect in self._ready(cursor):
                for batch in self._handle(drop, cursor, expect):
                    yield batch
                    worked = True
                    current, cursor = batch.state, load_cursor(batch.state)
                if cursor is not None and cursor.done and cursor.name == drop.name:
                    current, cursor = make_state(), None  # committed and archived (or found delivered)
            if not worked:
                yield Batch([], current)
                self._sleep(self.config.poll_interval_ms / 1000)

    def close(self) -> None:
        for store in self._stores.values():
            store.close()
        self._stores.clear()

    def source_heads(self) -> list[dict[str, str]]:
        """Each feed's head as the folder is read now (:mod:`connectors.filedrop.state`)."""
        return folder_heads(self._waiting(), self._clock())

    def saved_positions(self, state: State) -> dict[str, dict[str, str]]:
        """Each feed at its oldest file still waiting: delivered files have left the folder."""
        return oldest_waiting(self._waiting(), load_cursor(state), self._clock())

    def _waiting(self) -> dict[str, list[tuple[int, str]]]:
        return waiting_by_feed(((d.name, d.mtime_ns) for d in self._listing()[0]), self.config.feeds)

    # -- folder ---------------------------------------------------------------------------------------------
    def _listing(self) -> tuple[list[_Drop], set[str]]:
        cfg = self.config
        pattern = cfg.pattern.lower()
        try:
            entries = [e for e in os.scandir(cfg.path) if e.is_file()]
        except OSError as exc:
            raise RetriableError(f"drop folder {cfg.path} is not reachable: {exc.strerror or exc}") from None
        names = {e.name for e in entries}
        drops = []
        for entry in entries:
            if entry.name.endswith(cfg.marker_suffix) or not fnmatch.fnmatchcase(entry.name.lower(), pattern):
                continue
            stat = entry.stat()
            if (entry.name, stat.st_size, stat.st_mtime_ns) not in self._stuck:
                drops.append(_Drop(Path(entry.path), stat.st_size, stat.st_mtime_ns))
        return drops, names

    def _ready(self, cursor: Cursor | None) -> list[tuple[_Drop, str | None]]:
        """Complete files, oldest first; the file the state was delivering goes first (checked by checksum
        rather than by waiting for it to be stable again)."""
        drops, names = self._listing()
        if self.config.complete_when == "marker":
            ready = {d.name for d in drops if d.name + self.config.marker_suffix in names}
        else:
            listing = {d.name: (d.size, d.mtime_ns) for d in drops}
            self._seen, ready = stable_files(self._seen, listing, self._clock(), self.config.stable_seconds)
        out: list[tuple[_Drop, str | None]] = []
        for drop in sorted(drops, key=lambda d: (d.mtime_ns, d.name)):
            if cursor is not None and drop.name == cursor.name:
                out.insert(0, (drop, None if drop.name in ready else cursor.sha256))
            elif drop.name in ready:
                out.append((drop, None))
        return out

    # -- one file -------------------------------------------------------------------------------------------
    def _handle(self, drop: _Drop, cursor: Cursor | None, expect: str | None) -> Iterator[Batch]:
        feed = next((f for f in self.config.feeds if fnmatch.fnmatchcase(drop.name.lower(), f.pattern.lower())), None)
        if feed is None:
            self._quarantine(drop, "no feed pattern matches the file name")
            return
        if feed.name in self._disabled:
            return
        try:
            data = drop.path.read_bytes()
        except OSError as exc:
            if expect is None:  # the file the state was delivering may just be locked by a writer: wait
                self._quarantine(drop, f"unreadable: {exc.strerror or exc}")
            return
        sha = hashlib.sha256(data).hexdigest()
        if (expect is not None and sha != expect) or (expect is None and len(data) != drop.size):
            return  # still being written: wait
        store = self._store(feed)
        file = _File(drop, feed, sha)
        if store.is_delivered(sha):
            log.info("filedrop.duplicate", connector=self.name, file=drop.name, sha256=sha)
            self._archive(drop, sha)
            return
        resume = cursor if cursor is not None and cursor.sha256 == sha and cursor.feed == feed.name else None
        try:
            reader = self._reader(feed)
            if resume is not None and resume.done:  # delivered before a crash, not yet committed
                self._commit(file, store, reader, data)
                return
            outputs = self._outputs(file, store, reader, data)
        except (ConfigError, BadFile) as exc:
            self._quarantine(drop, "; ".join(exc.problems) if isinstance(exc, ConfigError) else exc.reason)
            return
        yield from self._batches(file, outputs, resume)
        self._commit(file, store, reader, data)  # the runner came back: the last batch is acknowledged

    def _outputs(self, file: _File, store: SnapshotStore, reader: FeedReader, data: bytes) -> Iterator[Output]:
        feed = file.feed
        if feed.mode == "delta":
            return delta_changes(reader.read(data), feed.key_columns, feed.op_column, feed.op_values)
        if store.staged_sha != file.sha256:
            store.stage(file.sha256, reader.read(data))
        return store.changes(file.sha256)

    def _batches(self, file: _File, outputs: Iterator[Output], resume: Cursor | None) -> Iterator[Batch]:
        count, record = (resume.items, resume.record) if resume is not None else (0, 0)
        items = islice(outputs, count, None)
        pending = next(items, None)
        events: list[ChangeEvent] = []
        dead: list[DeadRow] = []
        while True:
            if pending is not None:
                item, pending = pending, next(items, None)
                count += 1
                record = (item.number if isinstance(item, BadRecord) else item.record) or record
                self._convert(file, item, pending is None, events, dead)
                if pending is not None and len(events) + len(dead) < self.config.batch_size:
                    continue
            done = pending is None
            state = make_state(Cursor(file.drop.name, file.sha256, file.feed.name, count, record, done))
            yield Batch(events, state, dead)
            if done:
                return
            events, dead = [], []

    def _convert(self, file: _File, item: Output, last: bool, events: list[ChangeEvent], dead: list[DeadRow]) -> None:
        if isinstance(item, BadRecord):
            dead.append(self._dead(file, item.number, item.reason, item.raw))
            return
        flag = ("last" if last else "true") if item.op is Op.READ else "false"
        try:
            source = SourceInfo("filedrop", self.name, self._db, None, file.feed.name, file.drop.mtime_ns // 1_000_000,
                                flag, file.position(item.record))  # fmt: skip
            events.append(ChangeEvent.create(key=item.key, before=item.before, after=item.after, op=item.op,
                                             source=source, ts_ms=int(self._clock() * 1000)))  # fmt: skip
        except SkippableError as exc:
            dead.append(self._dead(file, item.record, exc.reason, {"change": _plain(item)}))

    def _dead(self, file: _File, record: int | None, reason: str, raw: Mapping[str, object]) -> DeadRow:
        where = f"record {record}" if record is not None else "delete"
        body = {"file": file.drop.name, "sha256": file.sha256, "record": record, **raw}
        return DeadRow(file.feed.name, f"{file.drop.name} {where}: {reason}", body, file.position(record))

    def _commit(self, file: _File, store: SnapshotStore, reader: FeedReader, data: bytes) -> None:
        now_ms = int(self._clock() * 1000)
        if file.feed.mode == "delta":
            store.mark_delivered(file.sha256, file.drop.name, now_ms)
        elif not store.commit(file.sha256, file.drop.name, now_ms):
            store.stage(file.sha256, reader.read(data))  # the staged rows were lost: stage again, then commit
            store.commit(file.sha256, file.drop.name, now_ms)
        log.info("filedrop.delivered", connector=self.name, feed=file.feed.name, file=file.drop.name,
                 sha256=file.sha256)  # fmt: skip
        self._archive(file.drop, file.sha256)

    # -- plumbing -------------------------------------------------------------------------------------------
    def _reader(self, feed: Feed) -> FeedReader:
        if feed.name not in self._readers:
            self._readers[feed.name] = build_reader(feed)
        return self._readers[feed.name]

    def _store(self, feed: Feed) -> SnapshotStore:
        if feed.name not in self._stores:
            self._stores[feed.name] = SnapshotStore(self.config.store_path(feed), feed.key_columns)
        return self._stores[feed.name]

    def _archive(self, drop: _Drop, sha256: str) -> None:
        target = self.config.archive_path / archived_name(drop.name, sha256)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():  # the same content was archived before
                drop.path.unlink()
            else:
                shutil.move(drop.path, target)
        except OSError as exc:
            self._stuck.add((drop.name, drop.size, drop.mtime_ns))
            log.error("filedrop.archive_failed", connector=self.name, file=drop.name, error=str(exc))
            return
        self._remove_marker(drop)

    def _quarantine(self, drop: _Drop, reason: str) -> None:
        folder = self.config.quarantine_path
        target = folder / drop.name
        n = 0
        while target.exists():
            n += 1
            target = folder / f"{drop.name}.{n}"
        log.warning("filedrop.quarantined", connector=self.name, file=drop.name, reason=reason)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.move(drop.path, target)
            stamp = datetime.fromtimestamp(self._clock(), UTC).isoformat(timespec="seconds")
            note = f"{reason}\n\nfile: {drop.name}\nsize: {drop.size}\nquarantined: {stamp}\n"
            target.with_name(target.name + ".reason.txt").write_text(note, encoding="utf-8")
        except OSError as exc:
            self._stuck.add((drop.name, drop.size, drop.mtime_ns))
            log.error("filedrop.quarantine_failed", connector=self.name, file=drop.name, error=str(exc))
            return
        self._remove_marker(drop)

    def _remove_marker(self, drop: _Drop) -> None:
        if self.config.complete_when == "marker":
            drop.path.with_name(drop.name + self.config.marker_suffix).unlink(missing_ok=True)


def _plain(change: Change) -> dict[str, object]:
    return {"op": change.op.value, "key": change.key, "before": change.before, "after": change.after}
