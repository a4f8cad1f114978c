"""Connectors shared by the ``crmhub run`` processes of one ``cluster.group`` (hub/kafka/group.py): each
connector runs in exactly one live worker, moves to another within the session timeout when its worker dies or
leaves, and the connectors spread again when a worker joins. A connector is the partition of the group's topic
``crmhub.cluster.<group>`` at its index among the configured connectors sorted by name, so every worker must
have the same connectors in its config. A connector that moves resumes from its saved position.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog

from hub.kafka.clients import KafkaSettings
from hub.kafka.group import GroupMember, ensure_work_topic, group_id, work_topic
from hub.kafka.settings import ClusterConfig

log = structlog.get_logger(__name__)


class ConnectorCluster:
    """This worker's share of the connectors: ``start(name)`` / ``stop(name)`` as the group assigns them."""

    def __init__(self, settings: KafkaSettings, config: ClusterConfig, names: Sequence[str],
                 start: Callable[[str], None], stop: Callable[[str], None]) -> None:
        assert config.group is not None
        self.config = config
        self.names = sorted(names)
        self._start, self._stop = start, stop
        ensure_work_topic(settings, work_topic(config.group), len(self.names))
        self.member = GroupMember(settings, group_id(config.group), work_topic(config.group), self._assigned,
                                  self._revoked, session_timeout_ms=config.session_timeout_ms,
                                  heartbeat_interval_ms=config.heartbeat_interval_ms)

    def start(self) -> None:
        self.member.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.member.stop(timeout)

    def running(self) -> list[str]:
        return sorted(self._name(p) for p in self.member.owned if p < len(self.names))

    def status(self) -> dict[str, object]:
        return {"group": self.config.group, "member_id": self.member.member_id,
                "generation": self.member.generation, "connectors": self.running(),
                "last_error": self.member.last_error}

    def _name(self, partition: int) -> str:
        return self.names[partition]

    def _assigned(self, partitions: set[int]) -> None:
        for p in sorted(partitions):
            if p < len(self.names):  # a partition beyond the connectors (one was removed): nothing to run
                log.info("cluster.connector_assigned", connector=self._name(p))
                self._start(self._name(p))

    def _revoked(self, partitions: set[int]) -> None:
        for p in sorted(partitions):
            if p < len(self.names):
                log.info("cluster.connector_revoked", connector=self._name(p))
                self._stop(self._name(p))
