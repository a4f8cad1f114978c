"""The benches' broker warm-up: hub-shaped raw traffic for a while, the broker's CPU measured per window."""

from __future__ import annotations

import sys

import pytest

from bench.raw_client import warm_broker
from hub.kafka.clients import Consumer, KafkaSettings
from hub.kafka.local import LocalKafka

pytestmark = [pytest.mark.kafka,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]


def test_warm_up_writes_batches_at_the_rate_and_reports_the_broker_cpu_per_window(
        kafka_broker: LocalKafka, kafka_settings: KafkaSettings, topic: str) -> None:
    pid = kafka_broker.pid()
    assert pid is not None
    cores = warm_broker(kafka_settings, pid, seconds=2.5, rate=400.0, window_s=1.0, topic=topic)
    assert len(cores) == 2  # whole windows only
    assert all(0.0 < c < 8.0 for c in cores)  # the broker served the traffic
    reader = Consumer(kafka_settings, group_id=None)
    try:
        written = reader.end_offsets(topic)[0]
    finally:
        reader.close()
    assert written % 20 == 0  # batches of 20
    assert 0.7 * 400 * 2.5 <= written <= 400 * 2.5 + 20  # paced at the rate, not as fast as it goes
