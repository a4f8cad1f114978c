"""Batches handed to the producer and not yet acknowledged, settled in the order they were sent by a thread of
their own, so that reading and encoding the next batches overlaps waiting for the broker. The connector runner
keeps its batches here (``Sent``), the unify worker its applied batches (``hub/runtime/unify_worker.py``); an
item is anything with the ``Sending`` of its records and its size in bytes.

The sending thread ``put``s a batch after sending it and blocks while the window is full (``max_batches``
batches or ``max_bytes`` of keys and values). The settling thread waits for each batch's acknowledgements in
turn and only then calls ``on_acked`` (which saves the position, or lets the consumer offsets be committed): a
position is never saved before every record sent ahead of it was acknowledged. A failed batch stops the
settling; the batches after it are dropped unsaved and the error is raised in the sending thread at its next
``put`` or ``drain``, which starts again from the last saved position (their events come again: at-least-once,
nothing skipped).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import structlog

from connectors.base import Batch
from hub.kafka.clients import Sending
from hub.runtime.encode import Encoded
from schemas.secrets import mask_text

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Sent:
    batch: Batch
    encoded: Encoded
    sending: Sending | None  # None: nothing to produce (a heartbeat, a batch of filtered rows)

    @property
    def nbytes(self) -> int:
        return self.encoded.nbytes


class Settles(Protocol):
    """What the window needs of a batch: the acknowledgements to wait for (None: none) and its size."""

    @property
    def sending(self) -> Sending | None: ...

    @property
    def nbytes(self) -> int: ...


T = TypeVar("T", bound=Settles)


class InFlight(Generic[T]):
    def __init__(self, name: str, on_acked: Callable[[T], None], *, max_batches: int = 4,
                 max_bytes: int = 32 * 1024 * 1024, ack_timeout_s: float = 120.0, role: str = "connector") -> None:
        self.name = name
        self.role = role  # for the log: ``connector.batch_not_acknowledged connector=<name>``
        self.on_acked = on_acked
        self.max_batches = max(1, max_batches)
        self.max_bytes = max_bytes
        self.ack_timeout_s = ack_timeout_s
        self._queue: deque[T] = deque()
        self._bytes = 0
        self._error: BaseException | None = None
        self._settling = False  # the settling thread is working on the queue's head
        self._closed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._settle_loop, name=f"acks-{name}", daemon=True)
        self._thread.start()

    def put(self, sent: T) -> None:
        """Queue a sent batch; waits while the window is full. Raises the error that stopped the settling."""
        with self._cond:
            while self._error is None and self._queue and self._full():
                self._cond.wait()
            self._raise_error()
            self._queue.append(sent)
            self._bytes += sent.nbytes
            self._cond.notify_all()

    def _full(self) -> bool:
        return len(self._queue) >= self.max_batches or self._bytes >= self.max_bytes

    def drain(self) -> None:
        """Wait until every queued batch is settled; raises the error that stopped the settling."""
        with self._cond:
            while self._error is None and (self._queue or self._settling):
                self._cond.wait()
            self._raise_error()

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def close(self) -> None:
        """Stop the settling thread; what is still queued is dropped unsaved (it will be read again)."""
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._bytes = 0
            self._cond.notify_all()
        self._thread.join(5.0)  # a thread still waiting for acks ends on its own and saves nothing

    @property
    def pending(self) -> int:
        return len(self._queue)

    def _settle_loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (not self._queue or self._error is not None):
                    self._cond.wait()
                if self._closed:
                    return
                sent = self._queue[0]
                self._settling = True
            try:
                if sent.sending is not None:
                    sent.sending.wait(self.ack_timeout_s)  # raises unless every record is acknowledged
                if self._closed:  # the runner started again from the saved position meanwhile
                    return
                self.on_acked(sent)
            except BaseException as exc:  # handed to the runner thread, which retries or fails the connector
                log.warning(f"{self.role}.batch_not_acknowledged", **{self.role: self.name}, error=mask_text(str(exc)))
                with self._cond:
                    self._error = exc
                    self._queue.clear()
                    self._bytes = 0
                    self._settling = False
                    self._cond.notify_all()
                continue
            with self._cond:
                if self._queue and self._queue[0] is sent:
                    self._queue.popleft()
                    self._bytes -= sent.nbytes
                self._settling = False
                self._cond.notify_all()
