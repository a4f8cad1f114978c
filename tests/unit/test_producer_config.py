"""The ``kafka.producer`` section: its defaults, its checks (every problem with its path) and what it hands to
the producers."""

from __future__ import annotations

import importlib.util

import pytest

from hub.config import validate_config_text
from hub.kafka import settings as kafka_settings_module
from hub.kafka.settings import BATCH_BYTES, LINGER_MS
from hub.wiring import kafka_settings
from schemas.errors import ConfigError


def test_defaults_are_the_producers_own() -> None:
    cfg = validate_config_text("kafka: {bootstrap_servers: 'b:9092'}")
    assert cfg.kafka.producer.client_options() == {"linger_ms": LINGER_MS, "batch_size": BATCH_BYTES,
                                                   "compression_type": None}
    assert kafka_settings(cfg).producer == {"linger_ms": 5, "batch_size": 262144, "compression_type": None}


def test_settings_reach_the_kafka_settings_of_the_process() -> None:
    cfg = validate_config_text("kafka: {producer: {linger_ms: 20, batch_size: 65536, compression_type: gzip}}")
    assert kafka_settings(cfg).producer == {"linger_ms": 20, "batch_size": 65536, "compression_type": "gzip"}


def test_every_problem_is_listed_with_its_path() -> None:
    with pytest.raises(ConfigError) as err:
        validate_config_text("kafka: {producer: {linger_ms: -1, batch_size: 10, compression_type: brotli}}")
    text = str(err.value)
    for path in ("kafka.producer.linger_ms", "kafka.producer.batch_size", "kafka.producer.compression_type"):
        assert path in text


def test_a_codec_whose_package_is_missing_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(kafka_settings_module.importlib.util, "find_spec",
                        lambda name, *a: None if name == "lz4" else real(name, *a))
    with pytest.raises(ConfigError) as err:
        validate_config_text("kafka: {producer: {compression_type: lz4}}")
    assert "kafka.producer.compression_type" in str(err.value)
    assert "needs the Python package lz4" in str(err.value)
