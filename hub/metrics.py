"""Prometheus metrics of the hub process (the default registry; served on ``/metrics`` by the gateway)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DQ_RESULTS = Counter("crmhub_dq_results_total", "Data-quality rule failures by pipeline, source, table, rule and "
                     "level (error = rejected to the DLQ, warning = annotated)",
                     ["pipeline", "source", "table", "rule", "level"])
CANON_EVENTS = Counter("crmhub_canonical_events_total", "Canonical events produced", ["entity", "source"])
UNIFY_EVENTS = Counter("crmhub_unify_events_total", "Canonical events applied or skipped (already applied)",
                       ["outcome"])
PIPELINE_ERRORS = Counter("crmhub_pipeline_errors_total", "Pipeline loop failures and retries", ["pipeline"])
FRESHNESS = Histogram("crmhub_freshness_seconds", "End-to-end freshness: source commit time of a change to its "
                      "outputs (golden record, changes, alerts) acknowledged by Kafka, per source",
                      ["source"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600))
SOURCE_LAG = Histogram("crmhub_source_lag_seconds", "Source lag per delivered batch: the source's newest change "
                       "time minus the newest captured one", ["connector"],
                       buckets=(0, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800, 3600, 86400))
SOURCE_LAG_NOW = Gauge("crmhub_source_lag_current_seconds", "Latest source lag in seconds", ["connector", "table"])
SOURCE_LAG_ROWS = Gauge("crmhub_source_lag_rows", "Latest source lag in rows (numeric ids)", ["connector", "table"])
