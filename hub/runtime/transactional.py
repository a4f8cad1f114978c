"""Exactly-once capture: each batch's events, its dead letters and the connector's new position go to Kafka in
one transaction under the connector's own ``transactional.id`` (``crmhub-connector-<name>``). Readers with
``read_committed`` (every crmhub consumer) see all of a batch or none of it, and the position never says more
or less than what was committed with it. A second process that starts the same connector (a worker that took
it over) initialises the same transactional id: the broker fences the first one, whose next write fails with
``ProducerFencedError`` and which stops (a ``FatalError``), so a stalled worker can add nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from kafka.errors import KafkaError

from hub.kafka.clients import KafkaSettings, Producer, Record
from hub.kafka.common import broker_error
from schemas.errors import FatalError, RetriableError
from schemas.secrets import mask_text

log = structlog.get_logger(__name__)

_FENCED = ("ProducerFenced", "InvalidProducerEpoch", "TransactionalIdAuthorizationFailed")


def transactional_id(connector: str) -> str:
    return f"crmhub-connector-{connector}"


class TransactionalSender:
    """One connector's transactional producer: ``commit(records)`` writes them all, or none."""

    def __init__(self, settings: KafkaSettings, connector: str, *, timeout_s: float = 60.0) -> None:
        self.connector = connector
        self.timeout_s = timeout_s
        self._producer = Producer(settings, transactional_id=transactional_id(connector),
                                  transaction_timeout_ms=int(timeout_s * 1000))
        try:
            self._producer.init_transactions()  # fences an earlier producer of this connector
        except Exception as exc:
            self._producer.close(1.0)
            raise self._error(exc, "starting its transactions") from exc

    def commit(self, records: Sequence[Record]) -> None:
        try:
            self._producer.begin_transaction()
            sending = self._producer.send_async(records)
            self._producer.commit_transaction()  # flushes; every record is written, or the transaction aborts
            sending.wait(self.timeout_s)
        except Exception as exc:
            self._abort()
            raise self._error(exc, f"committing a batch of {len(records)}") from exc

    def _abort(self) -> None:
        try:
            self._producer.abort_transaction()
        except Exception as exc:  # fenced, or the broker away: the transaction times out on its own
            log.info("connector.abort_failed", connector=self.connector, error=mask_text(str(exc)))

    def _error(self, exc: Exception, doing: str) -> Exception:
        cause = exc.__cause__ if isinstance(exc, RetriableError | FatalError) and exc.__cause__ else exc
        if any(word in type(cause).__name__ for word in _FENCED):
            return FatalError(f"connector {self.connector}: fenced by another process that took it over "
                              f"({type(cause).__name__}); this one stops")
        if isinstance(exc, KafkaError):
            exc = broker_error(exc, doing)
        if isinstance(exc, FatalError):  # kafka-python does not name every fencing answer of a 4.x broker
            return FatalError(f"connector {self.connector}: the broker refused the transaction ({exc}); this is "
                              "what a process that took the connector over (fenced it) looks like; this one stops")
        if isinstance(exc, RetriableError):
            return exc
        return RetriableError(f"{doing}: {type(exc).__name__}: {mask_text(str(exc))}")

    def close(self, timeout: float = 5.0) -> None:
        self._producer.close(timeout)
