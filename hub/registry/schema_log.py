"""Where the schema registry's records live: the compacted ``_schemas`` topic (:class:`KafkaSchemaLog`), or
anything with the calls of :class:`SchemaLog` (:mod:`hub.registry.store` keeps the state built from it)."""

from __future__ import annotations

import time
from typing import Protocol

from hub.kafka.clients import Admin, Consumer, KafkaSettings, Producer, Record
from schemas.errors import FatalError, RetriableError


class SchemaLog(Protocol):
    """Where the registry's records live (the compacted Kafka topic; anything with these two calls)."""

    def load(self) -> list[tuple[bytes | None, bytes | None]]: ...

    def append(self, key: bytes, value: bytes | None) -> None: ...

    def close(self) -> None: ...


class KafkaSchemaLog:
    """The ``_schemas`` topic: one partition, compacted, read to its end on ``load``."""

    def __init__(self, settings: KafkaSettings, topic: str = "_schemas", *, load_timeout: float = 60.0) -> None:
        self.settings = settings
        self.topic = topic
        self.load_timeout = load_timeout
        self._producer: Producer | None = None

    def load(self) -> list[tuple[bytes | None, bytes | None]]:
        admin = Admin(self.settings)
        try:
            admin.ensure_compacted(self.topic)
        finally:
            admin.close()
        consumer = Consumer(self.settings, group_id=None)
        try:
            return self._read_to_end(consumer)
        finally:
            consumer.close()

    def _read_to_end(self, consumer: Consumer) -> list[tuple[bytes | None, bytes | None]]:
        consumer.assign(self.topic, [0], from_beginning=True)
        end = consumer.end_offsets(self.topic)
        if len(end) != 1:
            raise FatalError(f"schema topic {self.topic} must have exactly one partition, it has {len(end)}")
        deadline = time.monotonic() + self.load_timeout
        out: list[tuple[bytes | None, bytes | None]] = []
        while consumer.position(self.topic, 0) < end[0]:
            if time.monotonic() > deadline:
                raise RetriableError(f"reading schema topic {self.topic}: end offset {end[0]} not reached "
                                     f"within {self.load_timeout:.0f} s")
            out.extend((m.key, m.value) for m in consumer.poll(500))
        return out

    def append(self, key: bytes, value: bytes | None) -> None:
        if self._producer is None:
            self._producer = Producer(self.settings, linger_ms=0)
        self._producer.send(Record(self.topic, key, value, partition=0))

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close()
            self._producer = None
