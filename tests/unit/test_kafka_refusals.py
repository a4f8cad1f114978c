"""A broker that refuses the credentials often closes the connection before the client reads why: a bootstrap
timeout after such drops is a configuration error too, not an outage to retry forever."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from kafka.errors import KafkaTimeoutError

from hub.kafka.common import REFUSALS, broker_error, watch_refusals
from schemas.errors import FatalError, RetriableError

DROP = ("<KafkaConnection node_id=bootstrap-0 broker_version=(4, 1) (disconnected)>: Connection lost: "
        "KafkaConnectionError: socket disconnected")
REFUSED_TCP = ("<KafkaConnection node_id=bootstrap-0 broker_version=unknown (disconnected)>: Connection lost: "
               "KafkaConnectionError: socket disconnected")
SASL = ("<KafkaConnection node_id=bootstrap-0 broker_version=(4, 1) (disconnected)>: Connection lost: [Error 58] "
        "SaslAuthenticationFailedError: Authentication failed during authentication due to invalid credentials")


@pytest.fixture(autouse=True)
def fresh_log() -> Iterator[logging.Logger]:
    watch_refusals()
    REFUSALS.last, REFUSALS.drops = None, []
    yield logging.getLogger("kafka.net.connection")
    REFUSALS.last, REFUSALS.drops = None, []


def timeout() -> Exception:
    return broker_error(KafkaTimeoutError("Unable to bootstrap from ['127.0.0.1:9093']"), "connecting")


def test_connections_dropped_after_the_handshake_are_a_refusal(fresh_log: logging.Logger) -> None:
    for _ in range(2):
        fresh_log.error(DROP)
    assert isinstance(timeout(), RetriableError)  # two could be a broker going down
    fresh_log.error(DROP)
    error = timeout()
    assert isinstance(error, FatalError)
    assert "closed the connection right after the handshake 3 times" in str(error)
    assert "check kafka.security" in str(error)


def test_a_broker_that_is_not_there_is_still_an_outage(fresh_log: logging.Logger) -> None:
    for _ in range(5):
        fresh_log.error(REFUSED_TCP)  # no version identified: the handshake never happened
    assert isinstance(timeout(), RetriableError)


def test_the_reason_wins_when_it_was_read(fresh_log: logging.Logger) -> None:
    for line in (DROP, DROP, SASL, DROP):
        fresh_log.error(line)
    assert "SaslAuthenticationFailedError: Authentication failed" in str(timeout())
