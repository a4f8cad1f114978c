"""Files -> changes: a full snapshot is diffed against the feed's previous snapshot; a delta file is taken as is.

**Delta files** (:func:`delta_changes`, pure): every good record is a ``c``, or, with ``op_column``, the op its
value maps to through ``op_values`` (``d`` carries the row as ``before``; ``u`` has no ``before``: the file
does not know it). An unknown op value makes the record bad.

**Snapshot files** are diffed by key against the previous snapshot of the same feed, kept in
:class:`SnapshotStore`, a small SQLite file per feed (key -> row hash + row JSON). New key -> ``c``, changed
hash -> ``u`` (before = previous row), key gone -> ``d`` (before = previous row), unchanged -> nothing. The
first snapshot a feed ever delivers has nothing to diff against: every row is an ``r`` (snapshot read).
A malformed record never deletes its row: when its key can still be read, the key counts as present (the
previous row is kept); when it cannot, the file emits no deletes at all and keeps every previous row, so the
next clean file deletes what is really gone. Two records with one key: the later is a bad record.

**Delivery (at-least-once, never loses).** The runner saves a batch's state only after Kafka acknowledged
it, and asks for the next batch only after saving; the store follows that order:

1. ``stage(sha, items)``: the new file's rows go into the ``staged`` table in one transaction, tagged with
   the file's SHA-256. The committed ``snapshot`` is untouched, so the diff (:meth:`~SnapshotStore.changes`,
   in a fixed order: file order, then deletes in key order) can be computed again, identically, any time.
2. The connector emits the diff in batches; each state records the file, its checksum and how many items
   were delivered; the last batch's state says ``done``.
3. Only when the runner comes back for more after that last batch (it has saved the ``done`` state) does the
   connector ``commit(sha)``: staged rows replace the snapshot, and the checksum joins ``files`` (delivered
   files, so an identical re-drop is not emitted again), all in one transaction. Then the file is archived.

A crash before the ``done`` state is saved leaves the file in the drop folder and the snapshot unchanged: on
restart the same file is diffed again against the same previous snapshot and delivery resumes after the
items the saved state counts (those of the batch in flight are emitted again). A crash after the ``done`` state
was saved but before the commit: the state names the checksum as delivered, so the connector commits (staging
again from the file if needed) without emitting. A crash after the commit but before archiving: the checksum
is in ``files``, so the file is archived as a duplicate. Events are never lost; a batch may repeat.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.filedrop.formats import BadRecord, Item, Row
from schemas.envelope import Op


@dataclass(frozen=True, slots=True)
class Change:
    op: Op
    key: Row
    before: Row | None
    after: Row | None
    record: int | None  # the record in the file (None for a delete: the key is absent from the file)


Output = Change | BadRecord

# ------------------------------------------------------------------------------------------------ pure helpers

_DECODERS: dict[str, Any] = {
    "$dec": Decimal,
    "$date": date.fromisoformat,
    "$ts": datetime.fromisoformat,
    "$time": time.fromisoformat,
    "$hex": bytes.fromhex,
}


def _tag(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, datetime):
        return {"$ts": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$hex": bytes(value).hex()}
    raise TypeError(f"cannot store a {type(value).__name__}")


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        tag, value = next(iter(obj.items()))
        if tag in _DECODERS and isinstance(value, str):
            return _DECODERS[tag](value)
    return obj


def to_json(value: Any) -> str:
    """Canonical JSON keeping ``Decimal``, dates, times and bytes (tagged), so rows come back as they were."""
    return json.dumps(value, default=_tag, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def from_json(text: str) -> Any:
    return json.loads(text, object_hook=_untag)


def row_hash(row_json: str) -> str:
    return hashlib.sha256(row_json.encode()).hexdigest()[:32]


def key_json(row: Mapping[str, Any], key_columns: Sequence[str]) -> str:
    return to_json([row.get(k) for k in key_columns])


def delta_changes(
    items: Iterable[Item], key_columns: Sequence[str], op_column: str | None, op_values: Mapping[str, str]
) -> Iterator[Output]:
    """A delta file's changes, one per record (see the module notes)."""
    for item in items:
        if isinstance(item, BadRecord):
            yield item
            continue
        row = dict(item.row)
        op = Op.CREATE
        if op_column is not None:
            code = row.pop(op_column, None)
            mapped = op_values.get("" if code is None else str(code).strip())
            if mapped is None:
                known = ", ".join(sorted(op_values))
                reason = f"op column {op_column}: unknown value {code!r} (expected one of {known})"
                yield BadRecord(item.number, reason, {"row": row}, {k: row.get(k) for k in key_columns})
                continue
            op = Op(mapped)
        key = {k: row[k] for k in key_columns}
        deleted = op is Op.DELETE
        yield Change(op, key, row if deleted else None, None if deleted else row, item.number)


# ----------------------------------------------------------------------------------------------------- store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT);
CREATE TABLE IF NOT EXISTS snapshot (key TEXT PRIMARY KEY, hash TEXT NOT NULL, row TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS staged (record INTEGER PRIMARY KEY, key TEXT, hash TEXT, row TEXT, reason TEXT, raw TEXT);
CREATE INDEX IF NOT EXISTS staged_key ON staged (key);
CREATE UNIQUE INDEX IF NOT EXISTS staged_good ON staged (key) WHERE reason IS NULL;
CREATE TABLE IF NOT EXISTS files (sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, delivered_ms INTEGER NOT NULL);
"""
_PAGE = 500


class SnapshotStore:
    """One feed's previous snapshot, the file being delivered (staged) and the delivered files' checksums."""

    def __init__(self, path: Path, key_columns: Sequence[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.key_columns = tuple(key_columns)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def _meta(self, name: str) -> str | None:
        row = self._db.execute("SELECT v FROM meta WHERE k = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def _set(self, name: str, value: str | None) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)", (name, value))

    @property
    def snapshot_sha(self) -> str | None:
        """The checksum of the file the committed snapshot holds (None: no snapshot delivered yet)."""
        return self._meta("snapshot_sha")

    @property
    def staged_sha(self) -> str | None:
        return self._meta("staged_sha")

    def is_delivered(self, sha256: str) -> bool:
        return self._db.execute("SELECT 1 FROM files WHERE sha256 = ?", (sha256,)).fetchone() is not None

    def stage(self, sha256: str, items: Iterable[Item]) -> None:
        """Replace the staged rows with this file's, in one transaction."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM staged")
            defer = False
            for item in items:
                defer |= self._stage_one(item)
            self._set("staged_sha", sha256)
            self._set("defer_deletes", "1" if defer else "0")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _stage_one(self, item: Item) -> bool:
        """Stage one item; True when it is a bad record without a key (deletes are deferred then)."""
        insert = "INSERT INTO staged (record, key, hash, row, reason, raw) VALUES (?, ?, ?, ?, ?, ?)"
        if isinstance(item, BadRecord):
            key = None if item.key is None else key_json(item.key, self.key_columns)
            self._db.execute(insert, (item.number, key, None, None, item.reason, to_json(dict(item.raw))))
            return key is None
        key = key_json(item.row, self.key_columns)
        row = to_json(item.row)
        try:
            self._db.execute(insert, (item.number, key, row_hash(row), row, None, None))
        except sqlite3.IntegrityError:
            first = self._db.execute("SELECT record FROM staged WHERE key = ? AND reason IS NULL", (key,)).fetchone()
            reason = f"duplicate key {key} (first at record {first[0] if first else '?'})"
            self._db.execute(insert, (item.number, key, None, None, reason, to_json({"row": item.row})))
        return False

    def changes(self, sha256: str) -> Iterator[Output]:
        """The staged file's diff against the committed snapshot, always in the same order."""
        if self.staged_sha != sha256:
            raise RuntimeError(f"{self.path}: file {sha256} is not staged")
        first = self.snapshot_sha is None
        query = (
            "SELECT t.record, t.key, t.hash, t.row, t.reason, t.raw, s.hash, s.row FROM staged t "
            "LEFT JOIN snapshot s ON s.key = t.key AND t.reason IS NULL WHERE t.record > ? ORDER BY t.record LIMIT ?"
        )
        last = -1
        while page := self._db.execute(query, (last, _PAGE)).fetchall():
            for record, key, new_hash, new_row, reason, raw, old_hash, old_row in page:
                last = record
                if reason is not None:
                    yield BadRecord(record, reason, from_json(raw), None if key is None else self._key(key))
                elif old_hash != new_hash:
                    after: Row = from_json(new_row)
                    op = Op.READ if first else Op.CREATE if old_hash is None else Op.UPDATE
                    before = None if old_row is None else from_json(old_row)
                    yield Change(op, self._key(key), before, after, record)
        if self._meta("defer_deletes") != "1":
            yield from self._deletes()

    def _deletes(self) -> Iterator[Change]:
        query = (
            "SELECT key, row FROM snapshot s WHERE key > ? "
            "AND NOT EXISTS (SELECT 1 FROM staged t WHERE t.key = s.key) ORDER BY key LIMIT ?"
        )
        last = ""
        while page := self._db.execute(query, (last, _PAGE)).fetchall():
            for key, row in page:
                last = key
                yield Change(Op.DELETE, self._key(key), from_json(row), None, None)

    def _key(self, key: str) -> Row:
        return dict(zip(self.key_columns, from_json(key), strict=True))

    def commit(self, sha256: str, name: str, now_ms: int) -> bool:
        """Make the staged file the previous snapshot and record it delivered, in one transaction.

        False (and nothing changed) when that file is not the one staged."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            if self.staged_sha != sha256:
                db.execute("ROLLBACK")
                return False
            if self._meta("defer_deletes") != "1":
                db.execute("DELETE FROM snapshot WHERE NOT EXISTS (SELECT 1 FROM staged t WHERE t.key = snapshot.key)")
            db.execute("INSERT OR REPLACE INTO snapshot SELECT key, hash, row FROM staged WHERE reason IS NULL")
            db.execute("DELETE FROM staged")
            self._set("snapshot_sha", sha256)
            self._set("staged_sha", None)
            self._record(sha256, name, now_ms)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return True

    def mark_delivered(self, sha256: str, name: str, now_ms: int) -> None:
        """Record a delta file as delivered (its checksum is remembered, so a re-drop is not emitted again)."""
        self._record(sha256, name, now_ms)

    def _record(self, sha256: str, name: str, now_ms: int) -> None:
        self._db.execute("INSERT OR IGNORE INTO files (sha256, name, delivered_ms) VALUES (?, ?, ?)",
                         (sha256, name, now_ms))  # fmt: skip
