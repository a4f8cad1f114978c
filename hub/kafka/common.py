"""What the Kafka wrappers share: connection settings, the record types and the error classification."""

from __future__ import annotations

import logging
import re
import time
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
    producer: Mapping[str, Any] = field(default_factory=dict)  # batching options of every producer (linger_ms ...)

    def common(self) -> dict[str, Any]:
        """The keyword arguments every Kafka client of these settings takes."""
        watch_refusals()  # a client is about to be made: its refusals must be seen
        return {"bootstrap_servers": self.bootstrap_servers.split(","), "client_id": self.client_id,
                **dict(self.security)}


class _RefusalLog(logging.Handler):
    """Keeps the last refusal kafka-python logged (wrong SASL credentials, an untrusted certificate): the client
    retries those until a timeout and raises only the timeout, which alone reads like an outage.

    The broker often closes the connection right after it refuses the credentials, before the client has read
    why: the client then logs only a bootstrap connection lost after the broker's version was identified (the
    handshake done, the authentication under way). ``DROPS`` of those within the window count as a refusal too,
    named so when no refusal with its reason was seen."""

    PATTERN = re.compile(r"(SaslAuthenticationFailedError: [^\n]*|CERTIFICATE_VERIFY_FAILED[^\n]*)")
    DROPPED = re.compile(r"node_id=bootstrap-\d+ broker_version=\(\d[^)]*\) \(disconnected\)>: Connection lost: "
                         r"KafkaConnectionError: socket disconnected")
    DROPS = 3
    WINDOW_S = 120.0

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.last: tuple[float, str] | None = None
        self.drops: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        found = self.PATTERN.search(message)
        if found:
            self.last = (time.monotonic(), found.group(1)[:300])
        elif self.DROPPED.search(message):
            now = time.monotonic()
            self.drops = [*[t for t in self.drops if now - t < self.WINDOW_S][-self.DROPS:], now]

    def recent(self, within_s: float = WINDOW_S) -> str | None:
        now = time.monotonic()
        if self.last is not None and now - self.last[0] <= within_s:
            return self.last[1]
        drops = [t for t in self.drops if now - t <= within_s]
        if len(drops) >= self.DROPS:
            return (f"it closed the connection right after the handshake {len(drops)} times, as it does when it "
                    "refuses the credentials")
        return None


REFUSALS = _RefusalLog()


def watch_refusals() -> None:
    """Keep the refusal log on kafka-python's loggers (called when a client is made: a logging set-up made
    since, e.g. ``dictConfig``, may have removed the handler or disabled the library's loggers)."""
    kafka = logging.getLogger("kafka")
    if REFUSALS not in kafka.handlers:
        kafka.addHandler(REFUSALS)
    for name in ("kafka", "kafka.net", "kafka.net.transport", "kafka.net.connection", "kafka.net.manager"):
        logging.getLogger(name).disabled = False


watch_refusals()


def broker_error(exc: Exception, doing: str) -> Exception:
    """Classify a kafka-python error: retriable ones back off, the rest stop the component. A timeout right
    after the broker refused the credentials or the certificate is that refusal: a configuration error."""
    refusal = REFUSALS.recent() if isinstance(exc, KafkaError) else None
    if refusal is not None and type(exc).__name__ in ("KafkaTimeoutError", "NoBrokersAvailable"):
        return FatalError(f"{doing}: the broker refused the connection ({refusal}); check kafka.security")
    if isinstance(exc, KafkaError) and getattr(exc, "retriable", False):
        return RetriableError(f"{doing}: Kafka unreachable or busy ({type(exc).__name__}: {exc})")
    if isinstance(exc, KafkaError):
        return FatalError(f"{doing}: {type(exc).__name__}: {exc}")
    return exc
