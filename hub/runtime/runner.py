"""Runs one connector: read a batch, produce, flush, check every ack, and only then save the position.

This is the one place where transient failures are retried (exponential backoff with tenacity): a
``RetriableError`` from the source or the broker puts the connector in RETRYING, and after the backoff it
resumes from the last *saved* position, so nothing is skipped (at-least-once; duplicates only for the
batch that was in flight). Malformed rows go to ``dlq.<connector>`` with the reason.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_never, wait_exponential

from connectors.base import Batch, Connector, DeadRow, State
from hub.kafka.clients import Admin, KafkaSettings, Producer, Record
from hub.registry.serde import AvroSerde
from hub.runtime.offsets import OffsetStore
from schemas.avro_gen import field_renames, key_schema, value_schema
from schemas.columns import TableMeta
from schemas.envelope import ChangeEvent, to_avro, topic_for
from schemas.errors import CrmhubError, RetriableError, SkippableError
from schemas.secrets import mask_text

log = structlog.get_logger(__name__)


class ConnectorState(StrEnum):
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    RETRYING = "RETRYING"
    FAILED = "FAILED"
    STOPPED = "STOPPED"


@dataclass
class TableRoute:
    """Where one table's events go, with its schemas parsed once."""

    table: TableMeta
    topic: str
    key_schema: dict[str, Any]
    value_schema: dict[str, Any]
    renames: dict[str, str]


@dataclass
class RunnerStatus:
    state: ConnectorState = ConnectorState.STARTING
    last_error: str | None = None
    events: int = 0
    dead: int = 0
    batches: int = 0
    retries: int = 0
    last_saved_at: float | None = None
    source_head: dict[str, str] = field(default_factory=dict)


class Restart(Exception):
    """Raised inside the loop to start again from the saved position (restart / snapshot / reset)."""


def dlq_record(connector: str, dead: DeadRow) -> Record:
    """A dead-letter message: the original record, the reason and where it came from (JSON)."""
    body = {"connector": connector, "table": dead.table, "reason": dead.reason,
            "position": dict(dead.position), "record": dead.raw, "ts_ms": int(time.time() * 1000)}
    value = json.dumps(body, default=str, sort_keys=True).encode()
    return Record(f"dlq.{connector}", None, value, (("crmhub.reason", dead.reason.encode()[:500]),))


class ConnectorRunner:
    def __init__(self, connector: Connector, settings: KafkaSettings, producer: Producer, serde: AvroSerde,
                 offsets: OffsetStore, *, topic_prefix: str = "src", max_backoff_s: float = 60.0,
                 on_batch: Callable[[Batch], None] | None = None) -> None:
        self.connector = connector
        self.name = connector.name
        self.settings = settings
        self.producer = producer
        self.serde = serde
        self.offsets = offsets
        self.topic_prefix = topic_prefix
        self.max_backoff_s = max_backoff_s
        self.on_batch = on_batch
        self.status = RunnerStatus()
        self.routes: dict[tuple[str | None, str], TableRoute] = {}
        self._stop = threading.Event()
        self._resume = threading.Event()
        self._resume.set()
        self._pending: str | None = None  # "restart" | "reset" | "snapshot"
        self._thread: threading.Thread | None = None

    # -- control (called from other threads) ------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=f"connector-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._resume.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def pause(self) -> None:
        self._resume.clear()
        self.status.state = ConnectorState.PAUSED

    def resume(self) -> None:
        self._resume.set()
        if self.status.state is ConnectorState.PAUSED:
            self.status.state = ConnectorState.RUNNING

    def request(self, action: str) -> None:
        """``restart``, ``reset`` (forget the position) or ``snapshot`` (snapshot again, then stream)."""
        if action not in {"restart", "reset", "snapshot"}:
            raise ValueError(f"unknown action {action!r}")
        self._pending = action
        self._resume.set()

    # -- the loop ---------------------------------------------------------------------------------
    def run(self) -> None:
        """Run until stopped; retriable failures back off and resume from the saved position."""
        retrying = Retrying(retry=retry_if_exception_type(RetriableError), stop=stop_never, reraise=True,
                            wait=wait_exponential(multiplier=0.5, min=0.5, max=self.max_backoff_s),
                            before_sleep=self._before_sleep)
        try:
            retrying(self._run_until_stopped)
            self.status.state = ConnectorState.STOPPED
        except CrmhubError as exc:
            self._fail(exc)
        except Exception as exc:
            self._fail(exc)
        finally:
            self.connector.close()

    def _fail(self, exc: BaseException) -> None:
        self.status.state = ConnectorState.FAILED
        self.status.last_error = mask_text(f"{type(exc).__name__}: {exc}")
        log.error("connector.failed", connector=self.name, error=self.status.last_error)

    def _before_sleep(self, rs: RetryCallState) -> None:
        exc = rs.outcome.exception() if rs.outcome else None
        self.status.state = ConnectorState.RETRYING
        self.status.retries += 1
        self.status.last_error = mask_text(str(exc))
        delay = rs.next_action.sleep if rs.next_action else 0
        log.warning("connector.retrying", connector=self.name, error=self.status.last_error, in_s=delay)

    def _run_until_stopped(self) -> None:
        while not self._stop.is_set():
            try:
                self._run_once()
                return
            except Restart:
                continue

    def _run_once(self) -> None:
        self._apply_pending()
        self._prepare_routes()
        state = self.offsets.load(self.name) or {}
        self.status.state = ConnectorState.RUNNING
        self.status.last_error = None
        state = self._drain(self.connector.snapshot(state), state)
        self._drain(self.connector.changes(state), state)

    def _apply_pending(self) -> None:
        action, self._pending = self._pending, None
        if action in {"reset", "snapshot"}:
            # Both forget the saved position; a connector snapshots when it has no state.
            self.offsets.reset(self.name)
            log.info("connector.position_reset", connector=self.name, action=action)

    def _drain(self, batches: Iterator[Batch], state: State) -> State:
        for batch in batches:
            if self._stop.is_set():
                break
            self._wait_if_paused()
            if self._pending:
                raise Restart()
            self._deliver(batch)
            state = batch.state
        return state

    def _wait_if_paused(self) -> None:
        while not self._resume.wait(0.5):
            if self._stop.is_set():
                return
        if self.status.state is ConnectorState.PAUSED:
            self.status.state = ConnectorState.RUNNING

    def _deliver(self, batch: Batch) -> None:
        """Produce the batch and its dead rows, wait for every ack, then save the position."""
        good: list[Record] = []
        dead: list[DeadRow] = list(batch.dead)
        for event in batch.events:
            rec = self._record(event)
            if isinstance(rec, DeadRow):
                dead.append(rec)
            else:
                good.append(rec)
        produced = len(good)
        good.extend(dlq_record(self.name, d) for d in dead)
        if good:
            self.producer.send_batch(good)  # raises unless every record is acknowledged
        self.offsets.save(self.name, batch.state)
        self.status.events += produced
        self.status.dead += len(dead)
        self.status.batches += 1
        self.status.last_saved_at = time.time()
        if batch.source_head:
            self.status.source_head = dict(batch.source_head)
        if self.on_batch is not None:
            self.on_batch(batch)

    def _record(self, event: ChangeEvent) -> Record | DeadRow:
        route = self.routes.get((event.source.schema, event.source.table))
        if route is None:
            return DeadRow(event.source.table, "event for a table that was not described", {"key": event.key})
        try:
            key, value = to_avro(event, route.renames)
            kbytes = self.serde.serialize(route.topic, route.key_schema, key, is_key=True) if key else None
            vbytes = self.serde.serialize(route.topic, route.value_schema, value)
        except SkippableError as exc:
            return DeadRow(event.source.table, exc.reason, {"key": event.key, "after": event.after},
                           dict(event.source.position))
        except (ValueError, TypeError) as exc:
            return DeadRow(event.source.table, f"does not fit the table's schema: {exc}",
                           {"key": event.key, "after": event.after}, dict(event.source.position))
        return Record(route.topic, kbytes, vbytes)

    def _prepare_routes(self) -> None:
        admin = Admin(self.settings)
        try:
            admin.ensure_topic(f"dlq.{self.name}")
            for table in self.connector.describe():
                topic = topic_for(table, self.topic_prefix)
                admin.ensure_topic(topic)
                self.routes[(table.schema, table.name)] = TableRoute(
                    table, topic, key_schema(table), value_schema(table), field_renames(table))
        finally:
            admin.close()
