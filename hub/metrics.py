"""Prometheus metrics of the hub process (the default registry; served on ``/metrics`` by the gateway)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.samples import Sample

DQ_RESULTS = Counter("crmhub_dq_results_total", "Data-quality rule failures by pipeline, source, table, rule and "
                     "level (error = rejected to the DLQ, warning = annotated)",
                     ["pipeline", "source", "table", "rule", "level"])
CANON_EVENTS = Counter("crmhub_canonical_events_total", "Canonical events produced", ["entity", "source"])
UNIFY_EVENTS = Counter("crmhub_unify_events_total", "Canonical events applied or skipped (already applied)",
                       ["outcome"])
PIPELINE_MESSAGES = Counter("crmhub_pipeline_messages_total", "Kafka messages handled per pipeline stage",
                            ["pipeline"])
GOLDEN_CHANGES = Counter("crmhub_golden_changes_total", "Golden records created or changed by the unify stage")
DEMO_CHANGES = Counter("crmhub_demo_changes_total", "Source changes made by the demo's change generator", ["kind"])
DEMO_CHANGE_ERRORS = Counter("crmhub_demo_change_errors_total", "Changes the demo's generator failed to make")
PIPELINE_ERRORS = Counter("crmhub_pipeline_errors_total", "Pipeline loop failures and retries", ["pipeline"])
FRESHNESS = Histogram("crmhub_freshness_seconds", "End-to-end freshness: source commit time of a change to its "
                      "outputs (golden record, changes, alerts) acknowledged by Kafka, per source",
                      ["source"], buckets=(0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.225, 0.25, 0.3, 0.35,
                                           0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.5, 2.5, 5, 10, 30, 60, 300, 1800,
                                           3600))
SOURCE_LAG = Histogram("crmhub_source_lag_seconds", "Source lag per delivered batch: the source's newest change "
                       "time minus the newest captured one", ["connector"],
                       buckets=(0, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800, 3600, 86400))
SOURCE_LAG_NOW = Gauge("crmhub_source_lag_current_seconds", "Latest source lag in seconds", ["connector", "table"])
SOURCE_LAG_ROWS = Gauge("crmhub_source_lag_rows", "Latest source lag in rows (numeric ids)", ["connector", "table"])


def bucket_quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """Prometheus' ``histogram_quantile`` for one series: ``buckets`` are (upper bound, cumulative count)
    sorted by bound, the last one +Inf; linear interpolation inside the bucket; None without observations."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return lower_bound  # in the open-ended bucket: the highest finite bound, as Prometheus does
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = bound, count
    return lower_bound


def histogram_quantiles(name: str, labels: dict[str, str], qs: tuple[float, ...] = (0.5, 0.99),
                        registry: CollectorRegistry = REGISTRY) -> dict[float, float | None]:
    """Quantiles of one labelled series of a histogram in ``registry`` (e.g. freshness per source)."""
    buckets: list[tuple[float, float]] = []
    for metric in registry.collect():
        if metric.name != name:
            continue
        for s in metric.samples:
            if s.name == f"{name}_bucket" and all(s.labels.get(k) == v for k, v in labels.items()):
                buckets.append((float(s.labels["le"]), s.value))
    buckets.sort()
    return {q: bucket_quantile(buckets, q) for q in qs}


class _Merged:
    """The families of several registries as one: a family written by several processes (the demo's stages in
    their own processes beside the demo's) is one family, and one series of it (name and labels) is summed,
    as counters and histogram buckets add up; a gauge's last value wins, a ``_created`` time is the earliest."""

    def __init__(self, registries: tuple[CollectorRegistry, ...]) -> None:
        self.registries = registries

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        series: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], Sample]] = {}
        for registry in self.registries:
            for family in registry.collect():
                if family.name not in families:
                    families[family.name] = Metric(family.name, family.documentation, family.type, family.unit)
                    series[family.name] = {}
                found = series[family.name]
                for sample in family.samples:
                    key = (sample.name, tuple(sorted(sample.labels.items())))
                    old = found.get(key)
                    if old is not None and sample.name.endswith("_created"):
                        sample = sample._replace(value=min(old.value, sample.value))
                    elif old is not None and family.type != "gauge":
                        sample = sample._replace(value=old.value + sample.value)
                    found[key] = sample
        for name, family in families.items():
            family.samples = list(series[name].values())
            yield family


def merged_exposition(*registries: CollectorRegistry) -> bytes:
    """The Prometheus text exposition of ``registries`` merged (:class:`_Merged`)."""
    merged = CollectorRegistry(auto_describe=False)
    merged.register(_Merged(registries))
    return generate_latest(merged)
