"""Connector positions in the compacted topic ``crmhub.offsets``.

Key: the connector name (UTF-8). Value: the connector's JSON-safe state, or a tombstone after a reset.
A position is written only after Kafka acknowledged every event it covers (the runner's job); the
write itself is acknowledged (acks=all) before ``save`` returns. Reading the topic to its end gives the
latest position of every connector, so a restarted hub resumes where the previous one stopped.
"""

from __future__ import annotations

import json
from typing import Any

from hub.kafka.clients import Admin, Consumer, KafkaSettings, Producer, Record

State = dict[str, Any]


def encode_state(state: State) -> bytes:
    return json.dumps(state, sort_keys=True, separators=(",", ":"), default=str).encode()


def decode_state(raw: bytes | None) -> State | None:
    return None if raw is None else dict(json.loads(raw))


class OffsetStore:
    def __init__(self, settings: KafkaSettings, producer: Producer, topic: str = "crmhub.offsets") -> None:
        self.settings = settings
        self.topic = topic
        self._producer = producer
        admin = Admin(settings)
        try:
            admin.ensure_compacted(topic)
        finally:
            admin.close()

    def load_all(self) -> dict[str, State]:
        """The latest state of every connector (tombstoned ones left out)."""
        consumer = Consumer(self.settings, group_id=None)
        try:
            consumer.assign(self.topic)
            ends = consumer.end_offsets(self.topic)
            states: dict[str, State | None] = {}
            while any(consumer.position(self.topic, p) < end for p, end in ends.items()):
                for msg in consumer.poll(500):
                    if msg.key is not None:
                        states[msg.key.decode()] = decode_state(msg.value)
        finally:
            consumer.close()
        return {name: st for name, st in states.items() if st is not None}

    def load(self, name: str) -> State | None:
        return self.load_all().get(name)

    def record(self, name: str, state: State) -> Record:
        """The position as a record of the topic (an exactly-once connector writes it in its transaction)."""
        return Record(self.topic, name.encode(), encode_state(state))

    def save(self, name: str, state: State) -> None:
        self._producer.send(self.record(name, state))

    def reset(self, name: str) -> None:
        """Forget a connector's position (tombstone): it snapshots again on its next start."""
        self._producer.send(Record(self.topic, name.encode(), None))
