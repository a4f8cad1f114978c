"""The emitted-key store: the keys a SQL connector emitted, per table, in a small SQLite file in ``state_dir``
(too big for the state).

It tells mode ``timestamp`` an insert (key never emitted: ``c``) from an update (``u``), and feeds delete
reconciliation: the live keys missing from a scan of the source table are the rows deleted there. Deletes are
marked with the reconciliation generation that emitted them, so those the runner did not acknowledge can be
made live again (:meth:`KeyStore.restore`) and emitted once more.

The file is in WAL mode with ``synchronous=NORMAL``: a commit does not wait for the disk (it was most of a
busy connector's time), and a power cut can lose only the last few marks. Such a key then looks never emitted,
so its next change is emitted as ``c`` instead of ``u``, the guess mode ``timestamp`` makes anyway for a key it
does not know; no change is lost or emitted twice because of it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["KeyStore"]


class KeyStore:
    """The keys a connector emitted, per table, in a small SQLite file (``deleted_gen``: the reconciliation
    generation that emitted the key's delete; 0 for a soft delete; NULL while the key is live)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        with self._conn:
            self._conn.execute("CREATE TABLE IF NOT EXISTS keys (tbl TEXT NOT NULL, k TEXT NOT NULL, "
                               "deleted_gen INTEGER, PRIMARY KEY (tbl, k)) WITHOUT ROWID")

    def live(self, table: str, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT k FROM keys WHERE tbl = ? AND deleted_gen IS NULL AND k IN ({marks})"
            found.update(r[0] for r in self._conn.execute(sql, (table, *chunk)))
        return found

    def mark_seen(self, table: str, keys: Iterable[str]) -> None:
        with self._conn:
            self._conn.executemany("INSERT INTO keys VALUES (?, ?, NULL) ON CONFLICT (tbl, k) DO UPDATE "
                                   "SET deleted_gen = NULL", ((table, k) for k in keys))

    def mark_deleted(self, table: str, keys: Iterable[str], generation: int) -> None:
        with self._conn:
            self._conn.executemany("UPDATE keys SET deleted_gen = ? WHERE tbl = ? AND k = ?",
                                   ((generation, table, k) for k in keys))

    def restore(self, acked_generation: int) -> None:
        """Deletes of generations after the acknowledged one are pending again (re-emitted)."""
        with self._conn:
            self._conn.execute("UPDATE keys SET deleted_gen = NULL WHERE deleted_gen > ?", (acked_generation,))

    def vanished(self, table: str, source_keys: Iterable[str]) -> list[str]:
        """Live keys of ``table`` that are not among ``source_keys`` (the source's keys now)."""
        with self._conn:
            self._conn.execute("CREATE TEMP TABLE IF NOT EXISTS scan (k TEXT PRIMARY KEY) WITHOUT ROWID")
            self._conn.execute("DELETE FROM scan")
            self._conn.executemany("INSERT OR IGNORE INTO scan VALUES (?)", ((k,) for k in source_keys))
            rows = self._conn.execute("SELECT k FROM keys WHERE tbl = ? AND deleted_gen IS NULL AND k NOT IN "
                                      "(SELECT k FROM scan) ORDER BY k", (table,)).fetchall()
            self._conn.execute("DELETE FROM scan")
        return [r[0] for r in rows]

    def close(self) -> None:
        self._conn.close()
