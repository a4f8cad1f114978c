"""``kafka.local.jvm_options``: the local broker's extra JVM options, their default and checks, and how they reach
the broker the hub starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import validate_config_text
from hub.kafka.local import LocalKafka
from hub.kafka.settings import LOCAL_BROKER_JVM_OPTIONS
from hub.wiring import local_broker
from schemas.errors import ConfigError


def test_default_keeps_the_jit_to_its_quick_compiler() -> None:
    cfg = validate_config_text("kafka: {bootstrap_servers: 'b:9092'}")
    assert cfg.kafka.local.jvm_options == ["-XX:TieredStopAtLevel=1"] == list(LOCAL_BROKER_JVM_OPTIONS)
    assert local_broker(cfg).jvm_options == ("-XX:TieredStopAtLevel=1",)
    assert LocalKafka(data_dir=Path("/tmp/x")).jvm_options == LOCAL_BROKER_JVM_OPTIONS


def test_configured_options_replace_the_default_and_an_empty_list_is_none() -> None:
    cfg = validate_config_text("kafka: {local: {jvm_options: ['-XX:CICompilerCount=2', '-Dname=value']}}")
    assert local_broker(cfg).jvm_options == ("-XX:CICompilerCount=2", "-Dname=value")
    assert local_broker(validate_config_text("kafka: {local: {jvm_options: []}}")).jvm_options == ()


def test_every_option_that_is_not_one_dashed_word_is_listed_with_its_path() -> None:
    with pytest.raises(ConfigError) as err:
        validate_config_text("kafka: {local: {jvm_options: ['-Xss1m', 'Xmx1g', '-a b'], heap: lots}}")
    text = str(err.value)
    assert "kafka.local.jvm_options[1]" in text and "kafka.local.jvm_options[2]" in text
    assert "kafka.local.jvm_options[0]" not in text
    assert "kafka.local.heap" in text
