"""Checkpointing an SQLite store's write-ahead log beside the writer instead of inside its commits.

With ``wal_autocheckpoint`` SQLite copies the WAL back into the database file during the commit that crosses
the threshold, so every few unify batches one commit also copies (and fsyncs) tens of megabytes: measured
with ``bench/bench_unify.py`` against 100,000 golden records, commits took about a quarter of the time, three
quarters of that in checkpoints. A :class:`WalCheckpointer` thread runs ``PRAGMA wal_checkpoint(PASSIVE)`` on
its own connection every ``interval_s`` instead: a passive checkpoint never blocks the writer or readers, and
``sqlite3`` releases the GIL while it runs, so it uses the other core. The writer keeps a large automatic
threshold as a backstop (see :mod:`pipelines.store.engine`), should this thread ever stop.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class WalCheckpointer:
    """A daemon thread checkpointing the WAL of the SQLite file at ``path`` while ``owner`` is alive."""

    def __init__(self, path: str, owner: Any, interval_s: float = 0.5) -> None:
        self.path = path
        self.interval_s = interval_s
        self.checkpoints = 0
        self.frames = 0  # WAL frames copied into the database file so far
        self._owner = weakref.ref(owner)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crmhub-wal-checkpoint", daemon=True)

    def start(self) -> WalCheckpointer:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def checkpoint(self, conn: sqlite3.Connection) -> tuple[int, int, int]:
        """One passive checkpoint: (busy, frames in the WAL, frames checkpointed)."""
        busy, in_log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.checkpoints += 1
        self.frames = max(self.frames, done)
        return int(busy), int(in_log), int(done)

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, timeout=1, check_same_thread=False)
        except sqlite3.Error as exc:
            log.warning("store.checkpointer_not_started", path=self.path, error=str(exc))
            return
        try:
            while not self._stop.wait(self.interval_s) and self._owner() is not None:
                try:
                    self.checkpoint(conn)
                except sqlite3.Error as exc:  # locked or busy: the next round tries again
                    log.debug("store.checkpoint_skipped", path=self.path, error=str(exc))
        finally:
            conn.close()
