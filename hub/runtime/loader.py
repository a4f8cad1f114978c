"""Initial load: snapshot every configured source straight through the canonicalize and unify steps.

``crmhub load`` runs in process (no Kafka needed): each connector's snapshot batches are mapped, checked and
unified into the store. What the hub would publish (golden records, changes, alerts, and the rejected records
for ``dlq.<pipeline>``) is written to the store's outbox in the same transactions; ``--publish`` sends it to
Kafka at the end, otherwise the pipelines role of ``crmhub run`` publishes it when it starts. So nothing is
lost whether or not a broker is up during the load.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from connectors.base import Batch
from hub.config import HubConfig
from hub.pipeline_setup import PipelineParts
from hub.runtime.dlq_read import DEAD_ROW, reason_pattern
from hub.runtime.hub import connector_factory
from pipelines.canonicalize import canonicalize
from pipelines.store import views
from pipelines.unify.engine import Unifier
from schemas.canonical import CanonicalEvent

Progress = Callable[[str, Batch], None]


@dataclass
class LoadSummary:
    records: int = 0
    canonical: int = 0
    rejected: int = 0
    dead_rows: int = 0
    golden: int = 0
    merges: int = 0
    seconds: float = 0.0
    per_connector: dict[str, int] = field(default_factory=dict)
    reasons: Counter[tuple[str, str]] = field(default_factory=Counter)  # (rule, reason pattern) of the rejects
    warnings: Counter[str] = field(default_factory=Counter)  # rule -> warnings on the canonical records kept

    @property
    def dlq(self) -> int:
        return self.rejected + self.dead_rows


def _dead_letters(pipeline: str, connector: str, batch: Batch) -> list[tuple[str, str | None, object]]:
    return [(f"dlq.{connector}", None, {"connector": connector, "table": d.table, "reason": d.reason,
                                         "position": dict(d.position), "record": dict(d.raw)})
            for d in batch.dead]


def load(cfg: HubConfig, parts: PipelineParts, unifier: Unifier, progress: Progress | None = None,
         chunk: int = 1000) -> LoadSummary:
    """Snapshot every connector of ``cfg`` through the pipelines into ``unifier``'s store."""
    started = time.perf_counter()
    summary = LoadSummary()
    dlq_topic = f"dlq.{parts.conf.name}"
    for conf in cfg.connectors:
        connector = connector_factory(conf)()
        offset = 0
        try:
            connector.describe()
            for batch in connector.snapshot({}):
                events: list[CanonicalEvent] = []
                dead = _dead_letters(parts.conf.name, conf.name, batch)
                for ev in batch.events:
                    offset += 1
                    result = canonicalize(parts.mappings, ev, topic=f"load.{conf.name}", partition=0,
                                          offset=offset, now_ms=int(time.time() * 1000))
                    events.extend(result.events)
                    dead.extend((dlq_topic, f"{r.source}/{r.source_key}", r.to_json()) for r in result.rejected)
                    summary.rejected += len(result.rejected)
                    summary.reasons.update((r.rule, reason_pattern(r.reason)) for r in result.rejected)
                    summary.warnings.update(w.rule for e in result.events for w in e.warnings)
                summary.reasons.update((DEAD_ROW, reason_pattern(d.reason)) for d in batch.dead)
                summary.records += len(batch.events)
                summary.dead_rows += len(batch.dead)
                summary.canonical += len(events)
                summary.per_connector[conf.name] = summary.per_connector.get(conf.name, 0) + len(batch.events)
                for i in range(0, len(events), chunk):
                    summary.merges += unifier.apply(events[i:i + chunk]).merges
                if dead:
                    with unifier.store.tx() as conn:
                        views.add_outbox(conn, dead)
                if progress is not None:
                    progress(conf.name, batch)
        finally:
            connector.close()
    with unifier.store.tx() as conn:
        summary.golden = views.count_golden(conn)
    summary.seconds = time.perf_counter() - started
    return summary
