"""Runs one connector: read a batch, encode it, hand it to the producer and read the next one while the broker
acknowledges it (``InFlight``: at most ``max_in_flight`` batches or ``max_in_flight_bytes`` unacknowledged).
A batch's position is saved only once every record of it and of every batch before it was acknowledged (after
every batch, or at most every ``offsets.flush_interval_ms`` as Kafka Connect's ``offset.flush.interval.ms``, and
always at a stop, a pause or a restart).

This is the one place where transient failures are retried (exponential backoff with tenacity): a
``RetriableError`` from the source or the broker puts the connector in RETRYING, and after the backoff it
resumes from the last *saved* position, so nothing is skipped (at-least-once; duplicates only for the
batches delivered since that save). Malformed rows go to ``dlq.<connector>`` with the reason.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_never, wait_exponential

from connectors.base import Batch, Connector, State
from hub.kafka.clients import Admin, KafkaSettings, Producer
from hub.metrics import SOURCE_LAG
from hub.registry.client import SchemaIncompatibleError
from hub.registry.serde import AvroSerde
from hub.runtime.encode import Encoded, TableRoute, encode_batch
from hub.runtime.inflight import InFlight, Sent
from hub.runtime.offsets import OffsetStore
from hub.runtime.source_lag import show_source_lag, source_lag
from hub.runtime.transactional import TransactionalSender
from schemas.avro_gen import field_renames, key_schema, value_schema
from schemas.columns import TableMeta
from schemas.envelope import topic_for
from schemas.errors import CrmhubError, RetriableError
from schemas.evolution import diff_tables
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
class RunnerStatus:
    state: ConnectorState = ConnectorState.STARTING
    last_error: str | None = None
    events: int = 0
    dead: int = 0
    batches: int = 0
    retries: int = 0
    last_saved_at: float | None = None
    source_head: dict[str, str] = field(default_factory=dict)
    source_lag: dict[str, dict[str, float | int | None]] = field(default_factory=dict)  # table -> seconds, rows
    snapshot: dict[str, dict[str, int | None]] = field(default_factory=dict)
    stopped_tables: dict[str, str] = field(default_factory=dict)
    snapshot_done: bool = False  # the connector finished its snapshot (or had none) and streams
    runs: int = 0  # how often the connector was (re)started from its saved position


class Restart(Exception):
    """Raised inside the loop to start again from the saved position (restart / snapshot / reset)."""


class ConnectorRunner:
    def __init__(self, factory: Callable[[], Connector], name: str, settings: KafkaSettings, producer: Producer,
                 serde: AvroSerde, offsets: OffsetStore, *, topic_prefix: str = "src", max_backoff_s: float = 60.0,
                 on_schema_change: str = "stop", schema_check_interval_s: float = 30.0,
                 flush_interval_s: float = 0.0, max_in_flight: int = 4,
                 max_in_flight_bytes: int = 32 * 1024 * 1024, exactly_once: bool = False) -> None:
        self.factory = factory
        self.connector: Connector | None = None
        self.name = name
        self.settings = settings
        self.producer = producer
        self.serde = serde
        self.offsets = offsets
        self.topic_prefix = topic_prefix
        self.max_backoff_s = max_backoff_s
        self.on_schema_change = on_schema_change
        self.schema_check_interval_s = schema_check_interval_s
        self._schemas_checked_at = 0.0
        self.flush_interval_s = flush_interval_s  # how often the position is saved at most (0: every batch)
        self.max_in_flight = max_in_flight  # batches sent and not yet acknowledged, at most
        self.max_in_flight_bytes = max_in_flight_bytes
        self._in_flight: InFlight[Sent] | None = None
        self.exactly_once = exactly_once  # each batch and its position in one Kafka transaction
        self._txn: TransactionalSender | None = None
        self._unsaved: State | None = None
        self.saved_state: State | None = None  # the position saved last (what the source-lag monitor compares)
        self.lag_monitored = False  # the source-lag monitor keeps the current source lag, not each batch
        self._saved_at = 0.0
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
        connector = self.connector
        if connector is not None:
            connector.stopping.set()
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
            self._close_in_flight()
            self._close_connector()

    def _close_in_flight(self) -> None:
        if self._in_flight is not None:
            self._in_flight.close()
            self._in_flight = None
        if self._txn is not None:
            self._txn.close()
            self._txn = None

    def _close_connector(self) -> None:
        if self.connector is not None:
            try:
                self.connector.close()
            except Exception as exc:
                log.warning("connector.close_failed", connector=self.name, error=mask_text(str(exc)))
            self.connector = None

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
        """(Re)create the connector and run it from the saved position."""
        self._apply_pending()
        self._close_in_flight()  # batches of an earlier run still unacknowledged are read again, unsaved
        self._close_connector()
        self._in_flight = InFlight(self.name, self._acknowledged, max_batches=self.max_in_flight,
                                   max_bytes=self.max_in_flight_bytes)
        if self.exactly_once:  # fences any other process still running this connector
            self._txn = TransactionalSender(self.settings, self.name)
        connector = self.connector = self.factory()
        for table, reason in self.status.stopped_tables.items():
            connector.disable_table(table, reason)
        self._prepare_routes(connector)
        state = self.saved_state = self.offsets.load(self.name) or {}
        self.status.state = ConnectorState.RUNNING
        self.status.last_error = None
        self.status.snapshot_done = False
        self.status.runs += 1
        state = self._drain(connector.snapshot(state), state)
        self.status.snapshot_done = True
        self._drain(connector.changes(state), state)

    def _apply_pending(self) -> None:
        action, self._pending = self._pending, None
        if action is not None:
            self.status.stopped_tables.clear()  # the operator asks to try again
            self.status.snapshot.clear()
        if action in {"reset", "snapshot"}:
            # Both forget the saved position; a connector snapshots when it has no state.
            self.offsets.reset(self.name)
            self.saved_state = None
            log.info("connector.position_reset", connector=self.name, action=action)

    def _drain(self, batches: Iterator[Batch], state: State) -> State:
        try:
            for batch in batches:
                if self._stop.is_set():
                    break
                self._wait_if_paused()
                if self._pending:
                    raise Restart()
                if self._schema_check_due(batch):
                    self.check_schemas()
                self._send(batch)
                state = batch.state
        except Restart:
            self._settle()  # sent already: start again after what was acknowledged
            raise
        except RetriableError:
            self._settle(quietly=True)  # a source outage: keep what the broker acknowledged
            raise
        self._settle()
        return state

    def _settle(self, *, quietly: bool = False) -> None:
        """Wait for every batch in flight, then save the position they reached."""
        assert self._in_flight is not None
        try:
            self._in_flight.drain()
        except Exception:
            if not quietly:
                raise
        self._save_position(None, force=True)

    def _wait_if_paused(self) -> None:
        if not self._resume.is_set():
            self._settle()  # paused: what was sent is acknowledged and its position saved
        while not self._resume.wait(0.5):
            if self._stop.is_set():
                return
        if self.status.state is ConnectorState.PAUSED:
            self.status.state = ConnectorState.RUNNING

    def _send(self, batch: Batch) -> None:
        """Encode the batch and its dead rows and hand them to the producer; the settling thread waits for the
        acknowledgements and saves the position (``_acknowledged``)."""
        assert self._in_flight is not None
        encoded = encode_batch(self.name, self.serde, self.routes, batch)
        if self._txn is not None:  # the batch and its position, all or nothing
            self._txn.commit([*encoded.records, self.offsets.record(self.name, batch.state)])
            self.saved_state = batch.state
            self._progress(batch, encoded)
            return
        sending = self.producer.send_async(encoded.records) if encoded.records else None
        self._in_flight.put(Sent(batch, encoded, sending))

    def _acknowledged(self, sent: Sent) -> None:
        """Every record of ``sent`` and of the batches before it is acknowledged: its position may be saved."""
        self._save_position(sent.batch.state, force=bool(sent.batch.progress))
        self._progress(sent.batch, sent.encoded)

    def _progress(self, batch: Batch, encoded: Encoded) -> None:
        self.status.events += encoded.produced
        self.status.dead += encoded.dead
        self.status.batches += 1
        if batch.source_head:
            self.status.source_head = dict(batch.source_head)
            self._observe_lag(batch)
        if batch.progress is not None:
            p = batch.progress
            self.status.snapshot[p.table] = {"done": p.done, "total": p.total}

    def _save_position(self, state: State | None, *, force: bool = False) -> None:
        """Keep ``state`` (its events acknowledged) as the position to save, and save the one kept when
        ``flush_interval_s`` has passed since the last save or ``force`` (a snapshot batch, a stop or a
        restart). A crash loses only what was not saved: those events come again, none is skipped."""
        if state is not None:
            self._unsaved = state
        now = time.monotonic()
        if self._unsaved is None or not (force or now - self._saved_at >= self.flush_interval_s):
            return
        self.offsets.save(self.name, self._unsaved)
        self.saved_state, self._unsaved = self._unsaved, None
        self._saved_at = now
        self.status.last_saved_at = time.time()

    def _observe_lag(self, batch: Batch) -> None:
        assert batch.source_head is not None
        captured = batch.events[-1].source.position if batch.events else None
        lag = source_lag(batch.source_head, captured)
        if lag is None:
            return
        if lag.seconds is not None:
            SOURCE_LAG.labels(self.name).observe(lag.seconds)
        if not self.lag_monitored:
            show_source_lag(self.name, self.status.source_lag, lag)

    def _route(self, table: TableMeta, connector: Connector) -> TableRoute:
        topic = connector.topic_of(table) or topic_for(table, self.topic_prefix)
        return TableRoute(table, topic, key_schema(table), value_schema(table), field_renames(table))

    def _prepare_routes(self, connector: Connector) -> None:
        admin = Admin(self.settings)
        try:
            admin.ensure_topic(f"dlq.{self.name}")
            for table in connector.describe():
                if table.name in self.status.stopped_tables:
                    continue
                route = self._route(table, connector)
                admin.ensure_topic(route.topic)
                if admin.topic_partitions([route.topic]).get(route.topic) == [0]:
                    route.partition = 0
                self.routes[(table.schema, table.name)] = route
        finally:
            admin.close()
        self._schemas_checked_at = time.monotonic()

    # -- schema changes at the source ---------------------------------------------------------------
    def _schema_check_due(self, batch: Batch) -> bool:
        if time.monotonic() - self._schemas_checked_at >= self.schema_check_interval_s:
            return True
        for event in batch.events:  # a row with other columns than the route knows: check now
            row = event.after if event.after is not None else event.before
            route = self.routes.get((event.source.schema, event.source.table))
            if row is not None and route is not None and len(row) != len(route.table.columns):
                return True
        return False

    def check_schemas(self) -> None:
        """Re-describe the tables: additive changes get a new schema version; others stop that table."""
        self._schemas_checked_at = time.monotonic()
        stopped = len(self.status.stopped_tables)
        evolved = False
        assert self.connector is not None
        for table in self.connector.describe():
            route = self.routes.get((table.schema, table.name))
            if route is None:
                self.routes[(table.schema, table.name)] = self._route(table, self.connector)
                continue
            change = diff_tables(route.table, table)
            if change.empty or table.name in self.status.stopped_tables:
                continue
            if not (change.additive_only or self.on_schema_change == "evolve"):
                self._stop_table(table.name, f"{change.describe()} (set on_schema_change: evolve to accept it)")
                continue
            new = self._route(table, self.connector)
            try:
                self.serde.schema_id(new.topic, new.value_schema)
                self.serde.schema_id(new.topic, new.key_schema, is_key=True)
            except SchemaIncompatibleError as exc:
                self._stop_table(table.name, f"{change.describe()}; the registry refused the new schema: {exc}")
                continue
            self.routes[(table.schema, table.name)] = new
            evolved = True
            log.info("connector.schema_evolved", connector=self.name, change=change.describe())
        if evolved or len(self.status.stopped_tables) > stopped:
            # The batch in hand may hold rows read with the old columns, or rows of a stopped table: read
            # again from the saved position with a fresh connector rather than produce them wrongly or skip.
            raise Restart()

    def _stop_table(self, table: str, reason: str) -> None:
        self.status.stopped_tables[table] = reason
        log.error("connector.table_stopped", connector=self.name, table=table, reason=reason)
        if self.connector is not None:
            self.connector.disable_table(table, reason)
