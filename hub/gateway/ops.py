"""What the operations dashboard shows, in one JSON document: connectors (state, events, dead letters, source
lag), pipeline workers, end-to-end freshness per source (p50/p99 from the histogram), consumer-group lag and
its alerts, and the data-quality view (rule failures per source, table and rule over time, with samples).

:func:`ops_snapshot` reads a running :class:`hub.runtime.hub.Hub` in process; :func:`ops_router` serves it
as ``GET /ops/summary`` behind the gateway's permission check (group ``ops``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Depends
from prometheus_client import REGISTRY, CollectorRegistry

from hub.metrics import histogram_quantiles

FRESHNESS_METRIC = "crmhub_freshness_seconds"


def label_values(metric: str, label: str, registry: CollectorRegistry = REGISTRY) -> list[str]:
    """The values ``label`` takes among the samples of ``metric`` in ``registry``."""
    seen: set[str] = set()
    for family in registry.collect():
        if family.name == metric:
            seen.update(s.labels[label] for s in family.samples if label in s.labels)
    return sorted(seen)


def freshness(registry: CollectorRegistry = REGISTRY) -> dict[str, dict[str, float | None]]:
    """p50 / p99 / count of source commit → outputs acknowledged, per source."""
    out: dict[str, dict[str, float | None]] = {}
    for source in label_values(FRESHNESS_METRIC, "source", registry):
        q = histogram_quantiles(FRESHNESS_METRIC, {"source": source}, (0.5, 0.99), registry)
        count = registry.get_sample_value(f"{FRESHNESS_METRIC}_count", {"source": source})
        out[source] = {"p50_s": q[0.5], "p99_s": q[0.99], "count": count}
    return out


def ops_snapshot(hub: Any) -> dict[str, Any]:
    """The dashboard's document for a running hub (any object with ``runners``, ``workers`` and optionally
    ``lag``, the consumer-lag collector, and ``stages``, pipeline stages in processes of their own:
    :class:`hub.demo.stages.StageProcesses`)."""
    connectors = []
    for name, runner in sorted(hub.runners.items()):
        st = runner.status
        connectors.append({"name": name, "state": st.state.value, "events": st.events, "dead": st.dead,
                           "batches": st.batches, "retries": st.retries, "last_error": st.last_error,
                           "source_lag": dict(st.source_lag), "snapshot_done": st.snapshot_done})
    workers, dq, rejected = [], [], 0
    for w in hub.workers:
        workers.append({"name": w.name, **dataclasses.asdict(w.status)})
        stats = getattr(w, "dq", None)
        if stats is not None:
            dq = stats.summary()
            rejected = sum(r["total"] for r in dq if r["level"] == "error")
    fresh = freshness()
    stages = getattr(hub, "stages", None)
    if stages is not None:
        workers += stages.statuses()
        rejected += stages.rejected()
        dq = dq or stages.dq()
        fresh.update(freshness(stages.registry))
    collector = getattr(hub, "lag", None)
    snap = collector.snapshot if collector is not None else None
    lag = snap.as_dict() if snap is not None else None
    return {"connectors": connectors, "pipelines": workers, "freshness": fresh,
            "dlq": {"connector_dead_rows": sum(c["dead"] for c in connectors), "rejected_by_rules": rejected},
            "lag": lag, "dq": dq}


def ops_router(snapshot: Callable[[], dict[str, Any]], dependencies: Sequence[Any] = ()) -> APIRouter:
    """``GET /ops/summary``; ``dependencies``: the gateway's permission check for the ``ops`` group."""
    router = APIRouter()

    @router.get("/ops/summary", dependencies=[Depends(d) for d in dependencies] if dependencies else None)
    def summary() -> dict[str, Any]:
        return snapshot()

    return router
