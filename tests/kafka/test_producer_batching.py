"""The ``kafka.producer`` section reaches every producer: batching waits its linger, batches are compressed on
the broker's disk as configured, and the records come back as sent."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from hub.config import validate_config_text
from hub.kafka.clients import KafkaSettings, Producer, Record
from hub.kafka.local import LocalKafka
from hub.wiring import kafka_settings as settings_of
from tests.kafka.helpers import read_all

pytestmark = pytest.mark.kafka

# a record batch on disk: base offset (8), length (4), leader epoch (4), magic (1), crc (4), attributes (2)
ATTRIBUTES_AT = 21
CODECS = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}


def batch_codecs(segment: Path) -> list[str]:
    """The compression codec of every record batch in a log segment file (the low 3 bits of its attributes)."""
    data, out, pos = segment.read_bytes(), [], 0
    while pos + ATTRIBUTES_AT + 2 <= len(data):
        length = int.from_bytes(data[pos + 8:pos + 12], "big")
        out.append(CODECS[int.from_bytes(data[pos + ATTRIBUTES_AT:pos + ATTRIBUTES_AT + 2], "big") & 0x7])
        pos += 12 + length
    return out


def stored_codecs(broker: LocalKafka, topic: str) -> list[str]:
    """The codec of every record batch the broker holds for partition 0 of ``topic``."""
    return [c for s in sorted((broker.data_dir / "data" / f"{topic}-0").glob("*.log")) for c in batch_codecs(s)]


def test_configured_compression_is_what_the_broker_stores(kafka_broker: LocalKafka, topic: str) -> None:
    cfg = validate_config_text(f'kafka: {{bootstrap_servers: "{kafka_broker.bootstrap}", '
                               'producer: {compression_type: gzip, linger_ms: 20}}')
    settings = settings_of(cfg)
    values = [f"customer {i} ".encode() * 20 for i in range(300)]
    producer = Producer(settings)
    producer.send_batch(Record(topic, f"k{i}".encode(), v) for i, v in enumerate(values))
    producer.close()
    assert [m.value for m in read_all(settings, topic, len(values))] == values
    codecs = stored_codecs(kafka_broker, topic)
    assert codecs and set(codecs) == {"gzip"}


def test_without_the_section_batches_are_stored_uncompressed(kafka_broker: LocalKafka, topic: str) -> None:
    settings = settings_of(validate_config_text(f'kafka: {{bootstrap_servers: "{kafka_broker.bootstrap}"}}'))
    producer = Producer(settings)
    producer.send_batch(Record(topic, None, b"x" * 200) for _ in range(50))
    producer.close()
    assert set(stored_codecs(kafka_broker, topic)) == {"none"}


def test_a_batch_that_is_not_full_waits_for_the_linger(kafka_settings: KafkaSettings, topic: str) -> None:
    lingering = Producer(replace(kafka_settings, producer={"linger_ms": 60_000}))
    prompt = Producer(kafka_settings)  # the default linger (milliseconds)
    try:
        held = lingering.send_async([Record(topic, None, b"held")] * 5)
        sent = prompt.send_async([Record(topic, None, b"sent")] * 5)
        assert len(sent.wait(30)) == 5
        time.sleep(1.0)
        assert not any(f.is_done for f in held.futures)  # still in the accumulator, a minute from its send
        lingering.send_batch([])  # a flush sends what waits
        assert [a.offset for a in held.wait(30)] != []
    finally:
        lingering.close()
        prompt.close()
