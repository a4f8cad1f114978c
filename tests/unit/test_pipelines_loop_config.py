"""The ``pipelines`` keys of the workers' consumer loops: defaults, what the workers receive, every problem with
its path."""

from __future__ import annotations

import pytest

from hub.config import validate_config_text
from hub.kafka.settings import FETCH_MAX_WAIT_MS, FETCH_MIN_BYTES
from hub.runtime.pipeline_workers import CanonWorker
from schemas.errors import ConfigError


def test_defaults() -> None:
    options = validate_config_text("pipelines: {}").pipelines.loop_options()
    assert options == {"batch_size": 500, "poll_ms": 100, "fetch_min_bytes": FETCH_MIN_BYTES,
                       "fetch_max_wait_ms": FETCH_MAX_WAIT_MS}


def test_the_settings_reach_the_workers_consumer_options() -> None:
    conf = validate_config_text("pipelines: {batch_size: 50, poll_interval_ms: 20, fetch_min_bytes: 8192, "
                                "fetch_max_wait_ms: 30}").pipelines
    worker = CanonWorker(None, None, None, None, [], **conf.loop_options())  # type: ignore[arg-type]
    assert (worker.batch_size, worker.poll_ms) == (50, 20)
    assert worker.fetch == {"fetch_min_bytes": 8192, "fetch_max_wait_ms": 30}


def test_every_problem_is_listed_with_its_path() -> None:
    with pytest.raises(ConfigError) as err:
        validate_config_text("pipelines: {fetch_min_bytes: 0, fetch_max_wait_ms: 60000}")
    text = str(err.value)
    assert "pipelines.fetch_min_bytes" in text and "pipelines.fetch_max_wait_ms" in text
