"""Quantiles from histogram buckets, as Prometheus' histogram_quantile computes them."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Histogram

from hub.metrics import bucket_quantile, histogram_quantiles


def test_interpolates_inside_the_bucket() -> None:
    buckets = [(0.1, 0.0), (0.5, 50.0), (1.0, 100.0), (float("inf"), 100.0)]
    assert bucket_quantile(buckets, 0.5) == 0.5
    assert bucket_quantile(buckets, 0.25) == 0.1 + 0.4 * 0.5
    assert bucket_quantile(buckets, 0.99) == 0.5 + 0.5 * 0.98


def test_open_bucket_and_no_data() -> None:
    assert bucket_quantile([(1.0, 1.0), (float("inf"), 10.0)], 0.99) == 1.0
    assert bucket_quantile([(1.0, 0.0), (float("inf"), 0.0)], 0.5) is None


def test_reads_one_labelled_series_of_a_registry() -> None:
    registry = CollectorRegistry()
    h = Histogram("fresh_seconds", "x", ["source"], buckets=(0.1, 0.2, 0.4), registry=registry)
    for v in (0.05, 0.15, 0.15, 0.3):
        h.labels("a").observe(v)
    h.labels("b").observe(10)
    got = histogram_quantiles("fresh_seconds", {"source": "a"}, (0.5, 1.0), registry)
    assert got[0.5] == pytest.approx(0.15) and got[1.0] == 0.4
    assert histogram_quantiles("fresh_seconds", {"source": "b"}, (0.5,), registry)[0.5] == 0.4
