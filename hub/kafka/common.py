"""What the Kafka wrappers share: connection settings, the record types and the error classification."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka.errors import KafkaError

from schemas.errors import FatalError, RetriableError

Header = tuple[str, bytes]


@dataclass(frozen=True, slots=True)
class Record:
    """One message to produce."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Sequence[Header] = ()
    partition: int | None = None


@dataclass(frozen=True, slots=True)
class Ack:
    topic: str
    partition: int
    offset: int


@dataclass
class KafkaSettings:
    bootstrap_servers: str = "127.0.0.1:9092"
    client_id: str = "crmhub"
    security: Mapping[str, Any] = field(default_factory=dict)

    def common(self) -> dict[str, Any]:
        return {"bootstrap_servers": self.bootstrap_servers.split(","), "client_id": self.client_id,
                **dict(self.security)}


def broker_error(exc: Exception, doing: str) -> Exception:
    """Classify a kafka-python error: retriable ones back off, the rest stop the component."""
    if isinstance(exc, KafkaError) and getattr(exc, "retriable", False):
        return RetriableError(f"{doing}: Kafka unreachable or busy ({type(exc).__name__}: {exc})")
    if isinstance(exc, KafkaError):
        return FatalError(f"{doing}: {type(exc).__name__}: {exc}")
    return exc
