"""The audit log's background writer: requests queue their rows, one thread inserts them in batches.

Writing the row inside the request (one SQLite write transaction each) cost more than everything else a
look-up does, and made every read wait for the store's single writer. Instead, the request puts an
:class:`AuditEntry` on a bounded in-memory queue (a few microseconds) and one daemon thread inserts what has
queued up, in one transaction per batch: at most ``batch_rows`` rows, written ``interval_s`` after the first of
them arrived (sooner when the batch is full, or when :meth:`AuditWriter.flush` / :meth:`AuditWriter.close`
ask). Under load that is ~10 transactions per second whatever the request rate.

When the queue is full (the store is down or slower than the request rate), :meth:`AuditWriter.submit` waits
up to ``block_s`` for room, and then refuses: the gateway answers 503 instead of disclosing a record without
its audit row (fail closed; see ``audit.py``). Every refusal is counted
(``crmhub_gateway_audit_rejected_total``) and logged (at most one line per 10 s, with the count since the
last line). A failing insert is retried with backoff (``crmhub_gateway_audit_write_errors_total``) and its rows
stay queued meanwhile; only :meth:`AuditWriter.close` gives up on them, after its timeout, counting them in
``crmhub_gateway_audit_lost_total`` with an error line. A clean stop (:meth:`close`) writes everything queued.
What a hard crash (power loss, ``kill -9``) loses: the rows of the last ``interval_s`` at most.
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from prometheus_client import Counter, Gauge

from pipelines.store.engine import Store
from pipelines.store.raw import jdump, raw

log = structlog.get_logger(__name__)

WRITTEN = Counter("crmhub_gateway_audit_written_total", "Gateway audit rows committed to the store")
REJECTED = Counter("crmhub_gateway_audit_rejected_total",
                   "Gateway requests refused (503) because the audit queue stayed full")
WRITE_ERRORS = Counter("crmhub_gateway_audit_write_errors_total", "Failed audit batch inserts (retried)")
LOST = Counter("crmhub_gateway_audit_lost_total", "Queued audit rows not written when the writer was closed")
QUEUED = Gauge("crmhub_gateway_audit_queue_rows", "Audit rows waiting for the writer")

_INSERT = ("INSERT INTO audit_log (ts_ms, token_name, role, method, path, query, status, golden_ids) "
           "VALUES (:ts_ms, :token_name, :role, :method, :path, :query, :status, :golden_ids)")
_LOG_EVERY_S = 10.0


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit row: who (token name, role), what (method, path, query without secrets, golden ids), when, how."""

    token_name: str
    role: str
    method: str
    path: str
    query: str | None
    status: int
    golden_ids: list[str] = field(default_factory=list)
    ts_ms: int = field(default_factory=lambda: int(time.time() * 1000))

    def row(self) -> dict[str, object]:
        return {"ts_ms": self.ts_ms, "token_name": self.token_name[:100], "role": self.role[:40],
                "method": self.method[:10], "path": self.path[:500], "query": self.query or None,
                "status": self.status, "golden_ids": jdump(self.golden_ids)}


def insert_entries(store: Store, entries: list[AuditEntry]) -> None:
    """Insert ``entries`` in one transaction."""
    with store.tx() as conn:
        raw(conn).many(_INSERT, [e.row() for e in entries])


_OPEN: weakref.WeakSet[AuditWriter] = weakref.WeakSet()


@atexit.register
def _close_open_writers() -> None:  # a process that never called close() still writes what it queued
    for writer in list(_OPEN):
        writer.close(timeout=5.0)


class AuditWriter:
    """A bounded queue of audit entries drained by one background thread (see the module doc).

    ``write`` inserts one batch (default: :func:`insert_entries` into ``store``); tests pass a failing one.
    """

    def __init__(self, store: Store, *, max_rows: int = 10_000, batch_rows: int = 500, interval_s: float = 0.1,
                 block_s: float = 0.5, write: Callable[[list[AuditEntry]], None] | None = None) -> None:
        if max_rows < 1 or batch_rows < 1:
            raise ValueError("max_rows and batch_rows must be at least 1")
        self.max_rows, self.batch_rows, self.interval_s, self.block_s = max_rows, batch_rows, interval_s, block_s
        self._write = write or (lambda entries: insert_entries(store, entries))
        self._cv = threading.Condition(threading.Lock())
        self._items: deque[AuditEntry] = deque()
        self._accepted = 0  # entries ever queued
        self._finished = 0  # entries written or given up on
        self._urgent = False  # flush()/close() asked: write without waiting for the interval
        self._closing = False
        self._give_up_at = float("inf")
        self._thread: threading.Thread | None = None
        self.written = 0
        self.rejected = 0
        self.lost = 0
        self._rejected_logged = 0
        self._last_reject_log = float("-inf")

    # --- request side ------------------------------------------------------------------------------------------

    def offer(self, entry: AuditEntry) -> bool:
        """Queue ``entry`` if there is room now (never blocks); False when full or closed (not counted)."""
        with self._cv:
            if self._closing or len(self._items) >= self.max_rows:
                return False
            self._enqueue(entry)
            return True

    def submit(self, entry: AuditEntry) -> bool:
        """Queue ``entry``, waiting up to ``block_s`` for room; False (counted and logged) when refused."""
        with self._cv:
            if not self._closing and len(self._items) >= self.max_rows:
                self._cv.wait_for(lambda: self._closing or len(self._items) < self.max_rows, self.block_s)
            if not self._closing and len(self._items) < self.max_rows:
                self._enqueue(entry)
                return True
            self.rejected += 1
        REJECTED.inc()
        self._log_rejections()
        return False

    def _enqueue(self, entry: AuditEntry) -> None:  # holding the lock
        self._items.append(entry)
        self._accepted += 1
        QUEUED.inc()
        if self._thread is None:
            self._start()
        elif len(self._items) == 1 or len(self._items) >= self.batch_rows:
            self._cv.notify_all()

    def _start(self) -> None:  # holding the lock; lazily, so an app that is never called starts no thread
        self._thread = threading.Thread(target=self._run, name="gateway-audit-writer", daemon=True)
        self._thread.start()
        _OPEN.add(self)

    def _log_rejections(self) -> None:
        now = time.monotonic()
        with self._cv:
            if now - self._last_reject_log < _LOG_EVERY_S:
                return
            count, self._rejected_logged, self._last_reject_log = (self.rejected - self._rejected_logged,
                                                                    self.rejected, now)
        log.warning("gateway.audit_queue_full", refused=count, queued=len(self._items), max_rows=self.max_rows,
                    hint="requests are answered 503 until the audit log catches up (is the store reachable?)")

    # --- control -----------------------------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Entries queued and not yet written (or given up on)."""
        with self._cv:
            return self._accepted - self._finished

    def flush(self, timeout: float = 10.0) -> bool:
        """Write everything queued so far now; True once it is committed (False after ``timeout``)."""
        with self._cv:
            target = self._accepted
            if self._finished >= target:
                return True
            self._urgent = True
            self._cv.notify_all()
            return self._cv.wait_for(lambda: self._finished >= target, timeout)

    def close(self, timeout: float = 10.0) -> bool:
        """Stop accepting entries, write what is queued and stop the thread; True if nothing was lost. After
        ``timeout`` of failing inserts the remaining rows are given up (counted in ``..._lost_total``)."""
        with self._cv:
            self._closing = True
            self._give_up_at = min(self._give_up_at, time.monotonic() + timeout)
            self._cv.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout + 1.0)
        _OPEN.discard(self)
        return self.lost == 0 and self.pending == 0

    # --- writer thread -----------------------------------------------------------------------------------------

    def _next_batch(self) -> list[AuditEntry] | None:
        """Wait for a batch (None: closed and drained)."""
        with self._cv:
            while not self._items:
                if self._closing:
                    return None
                self._cv.wait()
            deadline = time.monotonic() + self.interval_s
            while len(self._items) < self.batch_rows and not (self._urgent or self._closing):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cv.wait(remaining)
            n = min(self.batch_rows, len(self._items))
            batch = [self._items.popleft() for _ in range(n)]
            if not self._items:
                self._urgent = False
            self._cv.notify_all()  # room for submitters waiting in submit()
            return batch

    def _write_with_retries(self, batch: list[AuditEntry]) -> bool:
        delay = 0.1
        while True:
            try:
                self._write(batch)
                return True
            except Exception as exc:  # any store failure: keep the rows and retry, never drop them silently
                WRITE_ERRORS.inc()
                log.warning("gateway.audit_write_failed", rows=len(batch), error=type(exc).__name__,
                            retry_in_s=delay)
            with self._cv:
                if time.monotonic() >= self._give_up_at:
                    return False
                self._cv.wait(min(delay, max(0.0, self._give_up_at - time.monotonic())))
            delay = min(delay * 2, 5.0)

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            if self._write_with_retries(batch):
                with self._cv:
                    self._finished += len(batch)
                    self.written += len(batch)
                    self._cv.notify_all()
                QUEUED.dec(len(batch))
                WRITTEN.inc(len(batch))
                continue
            with self._cv:  # closing, and the store kept failing: give up on this batch and the rest
                lost = len(batch) + len(self._items)
                self._items.clear()
                self._finished += lost
                self.lost += lost
                self._cv.notify_all()
            QUEUED.dec(lost)
            LOST.inc(lost)
            log.error("gateway.audit_rows_lost", rows=lost, reason="the store kept failing until the gateway stopped")
            return
