"""What the unify step keeps while it applies one batch of canonical events, and what it hands back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from pipelines.store import records as rec
from schemas.canonical import CanonicalEvent

OutRecord = tuple[str, str | None, Any]
"""(topic, key, JSON-form value or None for a tombstone)."""
Publish = Callable[[Sequence[OutRecord]], None]


@dataclass
class ApplyStats:
    applied: int = 0
    skipped: int = 0
    golden_changed: int = 0
    merges: int = 0
    splits: int = 0
    alerts: int = 0
    notes: list[str] = field(default_factory=list)
    source_times: list[tuple[str, int]] = field(default_factory=list)  # (source, source_ts_ms) of applied changes

    def add(self, other: ApplyStats) -> None:
        for name in ("applied", "skipped", "golden_changed", "merges", "splits", "alerts"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Batch:
    conn: Connection
    out: list[OutRecord] = field(default_factory=list)
    stats: ApplyStats = field(default_factory=ApplyStats)
    changes: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # (change, golden)
    # the stored records of the batch's customer refs, read in one query (a ref absent here has none yet)
    stored: dict[tuple[str, str], rec.SourceRow] = field(default_factory=dict)
    # resolution is settled once per batch: the saved customer records, which of them are new, the golden id
    # each had before the batch, the credit refs whose golden record must be rebuilt, and the cause of each
    # (the last event per entity and ref, in event order), and the applied events for the alert rules
    pending: dict[tuple[str, str], rec.SourceRow] = field(default_factory=dict)
    relink: set[tuple[str, str]] = field(default_factory=set)  # refs whose identity features changed
    keys: dict[int, list[str]] = field(default_factory=dict)  # their new blocking keys, by record id
    fresh: set[int] = field(default_factory=set)
    old_golden: dict[tuple[str, str], str | None] = field(default_factory=dict)
    causes: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    applied: list[CanonicalEvent] = field(default_factory=list)
    # the stored credit version of every credit ref in the batch (absent: none), read in one query, kept current
    credit_versions: dict[tuple[str, str], str | None] = field(default_factory=dict)

    def caused(self, entity: str, ref: tuple[str, str], event: CanonicalEvent) -> None:
        key = (entity, *ref)
        self.causes.pop(key, None)  # re-inserted: the dict's order is the order of each key's last event
        self.causes[key] = cause(event)


@dataclass(frozen=True)
class Written:
    """What a batch wrote to the outbox: its records in order, the id of the last (0: none), and whether the
    outbox held records of an earlier batch (a crash between publishing and deleting them)."""

    out: list[OutRecord]
    last_id: int
    leftover: bool = False

    @property
    def first_id(self) -> int:
        """The id of the first record (one writer at a time: a batch's rows have consecutive ids)."""
        return self.last_id - len(self.out) + 1


def cause(event: CanonicalEvent) -> dict[str, Any]:
    return {"source": event.source, "table": event.table, "source_key": event.source_key,
            "version": event.version, "origin": event.origin}


def inherit_causes(causes: dict[str, dict[str, Any]], merges: Sequence[tuple[str, str]],
                   splits: Sequence[tuple[str, str]]) -> None:
    """Golden records no event of the batch named, changed because a named one merged or split: a merged-away
    record takes its survivor's cause (and the other way round), a split-off record its origin's. Without this
    they took the batch's last event, which may belong to an unrelated customer."""
    pairs = [*merges, *((new, origin) for origin, new in splits)]
    for _ in range(len(pairs)):  # chains (a split-off record merged elsewhere) settle in as many passes
        changed = False
        for dependent, source in pairs:
            for a, b in ((dependent, source), (source, dependent)):
                if a not in causes and b in causes:
                    causes[a] = causes[b]
                    changed = True
        if not changed:
            return
