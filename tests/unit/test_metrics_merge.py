"""Prometheus series of several processes served as one exposition (the demo's stages beside the demo)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.parser import text_string_to_metric_families

from hub.metrics import merged_exposition


def _process(golden: int, unify: int, waits: list[float]) -> CollectorRegistry:
    registry = CollectorRegistry()
    Counter("crmhub_golden_changes_total", "golden", registry=registry).inc(golden)
    messages = Counter("crmhub_pipeline_messages_total", "messages", ["pipeline"], registry=registry)
    if unify:
        messages.labels("unify").inc(unify)
    fresh = Histogram("crmhub_freshness_seconds", "fresh", ["source"], registry=registry, buckets=(0.1, 1))
    for w in waits:
        fresh.labels("ibmi").observe(w)
    return registry


def test_a_family_of_several_processes_is_served_once_with_its_series_summed() -> None:
    demo = _process(golden=0, unify=0, waits=[])  # the demo process defines the metrics, the stages write them
    stages = _process(golden=7, unify=40, waits=[0.05, 0.5, 0.07])
    text = merged_exposition(demo, stages).decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert text.count("# TYPE crmhub_golden_changes_total counter") == 1  # one family, not one per process
    values = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families.values() for s in f.samples}
    assert values[("crmhub_golden_changes_total", ())] == 7
    assert values[("crmhub_pipeline_messages_total", (("pipeline", "unify"),))] == 40
    assert values[("crmhub_freshness_seconds_bucket", (("le", "0.1"), ("source", "ibmi")))] == 2
    assert values[("crmhub_freshness_seconds_count", (("source", "ibmi"),))] == 3
    both = merged_exposition(stages, stages).decode()  # two processes that counted alike: the sums double
    assert "crmhub_golden_changes_total 14.0" in both
