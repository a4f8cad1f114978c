"""The producer: idempotent, ``acks=all``, batching. ``send_batch`` returns only once *every* record of the
batch is acknowledged; ``send_async`` returns at once and its ``Sending.wait`` checks the acknowledgements later
(the runner keeps a few batches in flight and saves a source position only after its batch's acks)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from kafka import KafkaProducer
from kafka.partitioner import DefaultPartitioner

from hub.kafka.common import Ack, KafkaSettings, Record, broker_error
from hub.kafka.settings import BATCH_BYTES, LINGER_MS

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Sending:
    """Records handed to the producer, in the order sent."""

    futures: Sequence[Any]

    def wait(self, timeout: float = 120.0) -> list[Ack]:
        """Every record's acknowledgement; raises (retriable or fatal) if any record failed."""
        try:
            metas = [fut.get(timeout=timeout) for fut in self.futures]
        except Exception as exc:
            raise broker_error(exc, f"producing a batch of {len(self.futures)}") from exc
        return [Ack(m.topic, m.partition, m.offset) for m in metas]


class OnePartitionFirst(DefaultPartitioner):  # type: ignore[misc]
    """kafka-python's partitioner (murmur2 of the key, in Python: about 8 µs a record here), except for a topic
    of one partition, where every key has the same answer. crmhub's topics have one partition unless configured
    otherwise; a topic given more later is hashed from the next metadata refresh on, as before."""

    def partition(self, topic: str, key: Any, serialized_key: bytes | None, value: Any,
                  serialized_value: bytes | None, cluster: Any) -> int:
        partitions = cluster.partitions_for_topic(topic)
        if partitions is not None and len(partitions) == 1:
            return int(next(iter(partitions)))
        return int(super().partition(topic, key, serialized_key, value, serialized_value, cluster))


class Producer:
    """Idempotent producer (kafka-python 3 turns idempotence on by default; stated here anyway)."""

    def __init__(self, settings: KafkaSettings, **overrides: Any) -> None:
        config: dict[str, Any] = {
            **settings.common(),
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": LINGER_MS,
            "batch_size": BATCH_BYTES,
            "max_request_size": 4 * 1024 * 1024,
            "retries": 2**31 - 1,
            "delivery_timeout_ms": 120_000,
            "partitioner": OnePartitionFirst(),
            **settings.producer,
            **overrides,
        }
        try:
            self._producer = KafkaProducer(**config)
        except Exception as exc:
            raise broker_error(exc, "creating the producer") from exc

    def send_async(self, records: Iterable[Record]) -> Sending:
        """Hand every record to the producer and return at once; ``Sending.wait`` checks the acks."""
        futures: list[Any] = []
        try:
            for rec in records:
                futures.append(self._producer.send(rec.topic, key=rec.key, value=rec.value,
                                                   headers=list(rec.headers), partition=rec.partition))
        except Exception as exc:
            raise broker_error(exc, f"producing a batch of {len(futures)}") from exc
        return Sending(futures)

    def send_batch(self, records: Iterable[Record], timeout: float = 120.0) -> list[Ack]:
        """Send every record, flush, and wait for each acknowledgement; raise if any failed."""
        sending = self.send_async(records)
        try:
            self._producer.flush(timeout=timeout)
        except Exception as exc:
            raise broker_error(exc, f"producing a batch of {len(sending.futures)}") from exc
        return sending.wait(timeout)

    def send(self, record: Record) -> Ack:
        return self.send_batch([record])[0]

    # -- transactions (a producer created with ``transactional_id``) ----------------------------------------
    def init_transactions(self) -> None:
        self._producer.init_transactions()

    def begin_transaction(self) -> None:
        self._producer.begin_transaction()

    def commit_transaction(self) -> None:
        self._producer.commit_transaction()

    def abort_transaction(self) -> None:
        self._producer.abort_transaction()

    def close(self, timeout: float = 10.0) -> None:
        """Flush and close within ``timeout``; records a silent broker did not take by then are dropped (their
        positions were never saved, so they are read again at the next start)."""
        try:
            self._producer.close(timeout=timeout)
        except Exception as exc:  # a timeout here must not turn a clean stop into a crash
            log.warning("kafka.producer_close_incomplete", error=f"{type(exc).__name__}: {exc}")
