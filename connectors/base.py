"""The one base class a source connector implements. The hub's runner owns the loop.

A connector turns source changes into :class:`~schemas.envelope.ChangeEvent` batches and knows nothing of
Kafka, pipelines or HTTP. The runner calls it like this (the order a checkpoint must follow)::

    tables = connector.describe()                 # -> schemas registered per table
    for batch in connector.snapshot(state):       # op = r, chunked by key, resumable
        produce(batch.events); flush; check every ack; send batch.dead to the DLQ
        state = batch.state                       # saved to crmhub.offsets only now
    for batch in connector.changes(state):        # streaming; an empty batch is a heartbeat
        ...same...
    connector.close()

State is a small JSON-safe dict owned by the connector (its shape is the connector's business, built by
a pure helper so tests can make one); the runner only stores and hands it back. A connector never
advances its own notion of "done" on its own: the position it resumes from is always the ``state`` the
runner hands it, which the runner saved only after Kafka acknowledged every event before it.
"""

from __future__ import annotations

import copy
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from schemas.columns import TableMeta
from schemas.envelope import ChangeEvent

T = TypeVar("T")

State = dict[str, Any]
"""A connector's JSON-safe position (snapshot progress + streaming position)."""


@dataclass(frozen=True, slots=True)
class DeadRow:
    """A source record that could not become an event: it goes to the dead-letter topic, never dropped."""

    table: str
    reason: str
    raw: Mapping[str, Any]
    position: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Batch:
    """Events read together, and the state to save once all of them are acknowledged by Kafka."""

    events: list[ChangeEvent]
    state: State
    dead: list[DeadRow] = field(default_factory=list)
    source_head: Mapping[str, str] | None = None  # the source's newest position, for source-lag metrics
    progress: SnapshotProgress | None = None  # set by snapshot batches, for progress bars


@dataclass(frozen=True, slots=True)
class SnapshotProgress:
    """How far the snapshot of one table is: rows read so far, and the total if the source can tell."""

    table: str
    done: int
    total: int | None = None


class Connector(ABC):
    """Base of every source connector (one instance per configured connector)."""

    kind: str = "base"

    def __init__(self, name: str) -> None:
        self.name = name
        self.stopping = threading.Event()  # set by the runner at a stop

    def running(self) -> bool:
        """False once the runner stops the connector: a ``changes`` loop ends after its current poll rather
        than idling on until its next heartbeat."""
        return not self.stopping.is_set()

    @abstractmethod
    def describe(self) -> list[TableMeta]:
        """The captured tables with their columns (read from the source catalog)."""

    @abstractmethod
    def snapshot(self, state: State) -> Iterator[Batch]:
        """Initial read of every table (``op`` = ``r``), resuming where ``state`` says it stopped.

        Yields nothing when the snapshot is already complete in ``state``."""

    @abstractmethod
    def changes(self, state: State) -> Iterator[Batch]:
        """Changes after ``state`` until ``running()`` turns false; yields an empty batch when idle (a heartbeat)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and files."""

    def source_heads(self) -> list[dict[str, str]]:
        """The newest position of each captured table, read from the source now (``{"table", "ts", "id"}``,
        encoded as its events' ``source.position``), for source lag; empty when the connector cannot tell.
        Called on an instance of its own, from another thread than the one reading changes."""
        return []

    def saved_positions(self, state: State) -> dict[str, dict[str, str]]:
        """Per table, where ``state`` stands, encoded as :meth:`source_heads` encodes the head; empty when the
        state does not say."""
        return {}

    def topic_of(self, table: TableMeta) -> str | None:
        """The topic a table's ``topic`` setting names, or None for ``src.<connector>.<table>``."""
        return None

    def disable_table(self, table: str, reason: str) -> None:
        """Stop capturing ``table`` (e.g. after an incompatible schema change) while the others go on.

        Its position stays where it is, so once an operator fixes the cause it resumes without a gap.
        Connectors that cannot stop one table raise ``FatalError`` here, which stops the connector."""
        from schemas.errors import FatalError

        raise FatalError(f"{self.name}: table {table} must stop ({reason}), and this connector cannot stop one "
                         "table alone")


def tables_in_turn(tables: Iterable[T], snapshot_table: Callable[[T, State], Iterator[Batch]],
                   state: State) -> Iterator[Batch]:
    """Each table's snapshot batches in turn, each table starting from the state the previous one left."""
    for table in tables:
        for batch in snapshot_table(table, state):
            state = batch.state
            yield batch


def snapshot_batches(batches: Iterable[Batch], state: State, finish: Callable[[State], None]) -> Iterator[Batch]:
    """The snapshot's ``batches`` as the runner should get them: a batch with neither events nor dead rows only
    moves the state on, and the last one is held back until the end, when its last event is marked
    ``snapshot="last"`` (as Debezium marks the end of a snapshot) and it carries the final state: a copy of the
    last batch's state (``state`` when there was none) after ``finish`` marked it done."""
    pending: Batch | None = None
    st = state
    for batch in batches:
        st = batch.state
        if batch.events or batch.dead:
            if pending is not None:
                yield pending
            pending = batch
    final = copy.deepcopy(st)
    finish(final)
    if pending is None:
        yield Batch([], final)
        return
    if pending.events:
        last = pending.events[-1]
        pending.events[-1] = replace(last, source=replace(last.source, snapshot="last"))
    pending.state = final
    yield pending


def mark_snapshot_done(state: State) -> None:
    """The ``finish`` of :func:`snapshot_batches` for connectors whose state has a ``snapshot_done`` flag."""
    state["snapshot_done"] = True
