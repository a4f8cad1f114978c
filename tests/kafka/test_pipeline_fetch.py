"""The ``pipelines`` fetch settings reach the pipeline workers' consumers: with a minimum the records never fill,
the broker holds every fetch for the configured wait; with the defaults it answers as soon as records are there."""

from __future__ import annotations

import time
import uuid

import pytest

from hub.config import validate_config_text
from hub.kafka.clients import KafkaSettings, Producer, Record
from hub.runtime.pipeline_workers import CanonWorker

pytestmark = pytest.mark.kafka


def fetch_latency_avg_ms(settings: KafkaSettings, topic: str, worker: CanonWorker, records: int = 6) -> float:
    """The worker's consumer reads ``records`` records sent one every 0.3 s; the client's mean fetch latency."""
    consumer = worker.new_consumer()
    producer = Producer(settings)
    try:
        got, sent, deadline = 0, 0, time.monotonic() + 90
        while got < records and time.monotonic() < deadline:
            if sent < records:
                producer.send_batch([Record(topic, b"k", f"record {sent}".encode())])
                sent += 1
            got += len(consumer.poll(300))
        assert got == records, f"read {got} of {records} records"
        metrics = consumer._consumer.metrics()["consumer-fetch-manager-metrics"]
        return float(metrics["fetch-latency-avg"])
    finally:
        consumer.close()
        producer.close()


def worker(settings: KafkaSettings, topic: str, pipelines: str) -> CanonWorker:
    options = validate_config_text(f"pipelines: {{{pipelines}}}").pipelines.loop_options()
    return CanonWorker(settings, None, None, None, [topic], group_id=f"fetch-{uuid.uuid4().hex[:6]}",  # type: ignore[arg-type]
                       **options)


def test_a_minimum_never_reached_holds_every_fetch_for_the_configured_wait(kafka_settings: KafkaSettings,
                                                                          topic: str) -> None:
    held = fetch_latency_avg_ms(kafka_settings, topic, worker(kafka_settings, topic,
                                                               "fetch_min_bytes: 1048576, fetch_max_wait_ms: 2500"))
    assert held > 1500  # each fetch waited its 2.5 s for a megabyte that never came


def test_by_default_a_fetch_returns_as_soon_as_records_are_there(kafka_settings: KafkaSettings, topic: str) -> None:
    default = fetch_latency_avg_ms(kafka_settings, topic, worker(kafka_settings, topic, ""))
    assert default < 500  # an empty fetch is held 100 ms at most; one that finds a record returns at once
