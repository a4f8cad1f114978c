"""Work shared out by Kafka's group membership protocol, as Kafka Connect's distributed workers do: every
worker joins one consumer group on a topic with one partition per unit of work (a connector); the group
coordinator gives each partition to exactly one live member, and takes it back when the member leaves or
stops heart-beating (``session_timeout_ms``). The cooperative sticky assignor (KIP-429) moves only what must
move: a member keeps its partitions across rebalances and only the moving ones are revoked first.

No record is ever written to or read from the topic: its partitions are the units of work, nothing more.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import structlog
from kafka import KafkaConsumer
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor

from hub.kafka.clients import Admin, KafkaSettings
from schemas.secrets import mask_text

log = structlog.get_logger(__name__)

Work = Callable[[set[int]], None]


def work_topic(group: str) -> str:
    return f"crmhub.cluster.{group}"


def group_id(group: str) -> str:
    return f"crmhub-cluster-{group}"


def ensure_work_topic(settings: KafkaSettings, topic: str, units: int) -> None:
    """The topic with at least ``units`` partitions (grown when connectors were added)."""
    admin = Admin(settings)
    try:
        if not admin.ensure_topic(topic, partitions=units):
            admin.grow_partitions(topic, units)
    finally:
        admin.close()


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, member: GroupMember) -> None:
        self.member = member

    def on_partitions_revoked(self, revoked: Iterable[Any]) -> None:
        self.member._revoke({tp.partition for tp in revoked})

    def on_partitions_assigned(self, assigned: Iterable[Any]) -> None:
        self.member._assign({tp.partition for tp in assigned})

    def on_partitions_lost(self, lost: Iterable[Any]) -> None:
        self.member._revoke({tp.partition for tp in lost})


class GroupMember:
    """One worker's membership: ``on_assigned`` / ``on_revoked`` get partition numbers as the group decides."""

    def __init__(self, settings: KafkaSettings, group_id: str, topic: str, on_assigned: Work, on_revoked: Work,
                 *, session_timeout_ms: int = 10_000, heartbeat_interval_ms: int = 3_000) -> None:
        self.settings = settings
        self.group_id = group_id
        self.topic = topic
        self.on_assigned = on_assigned
        self.on_revoked = on_revoked
        self.session_timeout_ms = session_timeout_ms
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.owned: set[int] = set()
        self.member_id: str | None = None
        self.generation: int | None = None
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"group-{self.group_id}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Leave the group (the others take the work over at once) after giving the owned work back."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _consumer(self) -> KafkaConsumer:
        return KafkaConsumer(**self.settings.common(), group_id=self.group_id, enable_auto_commit=False,
                             session_timeout_ms=self.session_timeout_ms,
                             heartbeat_interval_ms=self.heartbeat_interval_ms,
                             partition_assignment_strategy=[CooperativeStickyAssignor])

    def _run(self) -> None:
        consumer: KafkaConsumer | None = None
        while not self._stop.is_set():
            try:
                if consumer is None:
                    consumer = self._consumer()
                    consumer.subscribe([self.topic], listener=_Listener(self))
                consumer.poll(timeout_ms=500)  # drives the joins; the heartbeats run in their own thread
                meta = consumer._coordinator._generation  # the member id and generation, for status
                self.member_id, self.generation = getattr(meta, "member_id", None), getattr(meta, "generation_id", None)
                self.last_error = None
            except Exception as exc:  # the broker away: give the work back, then join again after a pause
                self.last_error = mask_text(f"{type(exc).__name__}: {exc}")
                log.warning("cluster.member_error", group=self.group_id, error=self.last_error)
                self._revoke(set(self.owned))
                self._close(consumer)
                consumer = None
                self._stop.wait(2.0)
        self._revoke(set(self.owned))
        self._close(consumer)

    @staticmethod
    def _close(consumer: KafkaConsumer | None) -> None:
        if consumer is not None:
            try:
                consumer.close(autocommit=False)
            except Exception as exc:
                log.warning("cluster.close_failed", error=mask_text(str(exc)))

    def _assign(self, partitions: set[int]) -> None:
        new = partitions - self.owned
        self.owned |= partitions
        if new:
            log.info("cluster.assigned", group=self.group_id, partitions=sorted(new))
            self.on_assigned(new)

    def _revoke(self, partitions: set[int]) -> None:
        gone = partitions & self.owned
        self.owned -= gone
        if gone:
            log.info("cluster.revoked", group=self.group_id, partitions=sorted(gone))
            self.on_revoked(gone)


def members(settings: KafkaSettings, group: str) -> tuple[str, list[tuple[str, str, list[int]]]]:
    """The group's state and its members as the broker sees them: ``(client id, host, partitions)``."""
    admin = Admin(settings)
    try:
        described = admin.describe_group(group_id(group))
    finally:
        admin.close()
    out = []
    for m in described.get("members") or ():
        assignment = m.get("member_assignment")
        items = (assignment.get("assigned_partitions") or ()) if isinstance(assignment, dict) else ()
        parts = sorted(p for item in items for p in item["partitions"])
        out.append((str(m.get("client_id") or ""), str(m.get("client_host") or "").lstrip("/"), parts))
    return str(described.get("group_state") or ""), sorted(out)
