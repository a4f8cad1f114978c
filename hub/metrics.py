"""Prometheus metrics of the hub process (the default registry; served on ``/metrics`` by the gateway)."""

from __future__ import annotations

from prometheus_client import Counter

DQ_RESULTS = Counter("crmhub_dq_results_total", "Data-quality rule failures by pipeline, source, table, rule and "
                     "level (error = rejected to the DLQ, warning = annotated)",
                     ["pipeline", "source", "table", "rule", "level"])
CANON_EVENTS = Counter("crmhub_canonical_events_total", "Canonical events produced", ["entity", "source"])
UNIFY_EVENTS = Counter("crmhub_unify_events_total", "Canonical events applied or skipped (already applied)",
                       ["outcome"])
PIPELINE_ERRORS = Counter("crmhub_pipeline_errors_total", "Pipeline loop failures and retries", ["pipeline"])
