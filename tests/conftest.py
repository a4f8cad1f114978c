"""Shared fixtures. The Kafka broker is real: a single KRaft node started once per session on free ports."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.kafka.clients import Admin, KafkaSettings
from hub.kafka.local import LocalKafka, free_port
from hub.registry.server import RegistryService, run_registry
from pipelines.store.engine import Store

pytest_plugins = ["tests.sqlservers"]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    """A real broker for the whole session (or the one at $CRMHUB_TEST_BOOTSTRAP if set)."""
    external = os.environ.get("CRMHUB_TEST_BOOTSTRAP")
    if external:
        host, port = external.rsplit(":", 1)
        yield LocalKafka(data_dir=Path("/nonexistent"), host=host, port=int(port))
        return
    yield from _local_broker(tmp_path_factory.mktemp("kafka"))


def _local_broker(data_dir: Path) -> Iterator[LocalKafka]:
    broker = LocalKafka(data_dir=data_dir, port=free_port(), controller_port=free_port())
    broker.up(timeout=120)
    try:
        yield broker
    finally:
        broker.down()


@pytest.fixture()
def hub_broker(tmp_path_factory: pytest.TempPathFactory, kafka_broker: LocalKafka) -> Iterator[LocalKafka]:
    """A broker of this test's own, for a test that runs a whole hub with pipelines: their topics have fixed
    names (``canon.*``, ``customer.*``), and records another test's hub wrote there carry schema ids of
    another registry. With $CRMHUB_TEST_BOOTSTRAP set, the shared one."""
    if os.environ.get("CRMHUB_TEST_BOOTSTRAP"):
        yield kafka_broker
        return
    yield from _local_broker(tmp_path_factory.mktemp("hubkafka"))


@pytest.fixture(scope="session")
def kafka_settings(kafka_broker: LocalKafka) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=kafka_broker.bootstrap, client_id="crmhub-test")


@pytest.fixture()
def topic(kafka_settings: KafkaSettings) -> str:
    """A fresh, empty topic name for one test."""
    name = f"t.{uuid.uuid4().hex[:10]}"
    admin = Admin(kafka_settings)
    admin.ensure_topic(name)
    admin.close()
    return name


@pytest.fixture(scope="module")
def registry(kafka_settings: KafkaSettings) -> Iterator[RegistryService]:
    """crmhub's schema registry on a free port, over a fresh `_schemas` topic, for one test module."""
    service = run_registry(kafka_settings, topic=f"_schemas-{uuid.uuid4().hex[:8]}", port=free_port())
    yield service
    service.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty SQLite store in the test's folder (a test module may define its own ``store``)."""
    s = Store(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.dispose()
