"""Thin wrappers over kafka-python so connectors and pipelines never touch the client library directly.

- ``Producer`` (``hub/kafka/producer.py``): idempotent, ``acks=all``, batching; ``send_batch`` returns only once
  *every* record of the batch is acknowledged, ``send_async`` at once (the runner saves a source position only
  after its batch's acknowledgements).
- ``Consumer``: no auto-commit (the caller commits after processing: the offsets consumed so far, or explicit
  ones per partition when batches are still in flight); reads committed records only.
- ``Admin``: topics with configs (compacted ones for offsets, schemas, unified records), group offsets.
Broker errors become ``RetriableError`` or ``FatalError`` (schemas/errors.py) in one place
(``hub/kafka/common.py``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewPartitions, NewTopic
from kafka.errors import InvalidPartitionsError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

from hub.kafka.common import Ack, Header, KafkaSettings, Record, broker_error
from hub.kafka.membership import JOIN_STUCK_S, heartbeat_silence
from hub.kafka.producer import Producer, Sending

log = structlog.get_logger(__name__)
COMPACTED = {"cleanup.policy": "compact", "min.compaction.lag.ms": "0", "segment.ms": "600000"}

# the producer and the shared types live in their own modules; callers import them from here
__all__ = ["COMPACTED", "Ack", "Admin", "Consumer", "Header", "KafkaSettings", "Message", "Producer", "Record",
           "Sending", "broker_error"]


@dataclass(frozen=True, slots=True)
class Message:
    """One consumed message."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int
    headers: Sequence[Header] = ()


#: How often a consumer refreshes its metadata at the latest (kafka-python's default is 5 minutes). The group
#: leader assigns partitions from its own metadata: a client that joins before it has seen a topic's partitions
#: (a topic another process created a moment ago) assigns none of them until a refresh shows them, and then
#: rebalances. Seen with the unify process started beside the one that created the canonical topics.
METADATA_MAX_AGE_MS = 30_000


def _commit_answered(offsets: Any, response: Any) -> None:
    if isinstance(response, Exception):
        log.warning("kafka.commit_failed", error=f"{type(response).__name__}: {response}", partitions=len(offsets))


def _offsets(offsets: Mapping[tuple[str, int], int] | None) -> dict[TopicPartition, OffsetAndMetadata] | None:
    if offsets is None:
        return None
    return {TopicPartition(t, p): OffsetAndMetadata(off, "", -1) for (t, p), off in offsets.items()}


class Consumer:
    """Consumer with manual commits: call ``commit()`` after the polled batch is processed."""

    def __init__(self, settings: KafkaSettings, group_id: str | None, topics: Sequence[str] = (), *,
                 join_after_metadata: bool = False, **overrides: Any) -> None:
        config: dict[str, Any] = {
            **settings.common(),
            "group_id": group_id,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "max_poll_records": 1000,
            "metadata_max_age_ms": METADATA_MAX_AGE_MS,
            # records of aborted transactions (an exactly-once connector fenced or failed mid-batch) are never
            # read; for topics written without transactions this changes nothing
            "isolation_level": "read_committed",
            **overrides,
        }
        self._group_id = group_id
        try:
            self._consumer = KafkaConsumer(**config)
        except Exception as exc:
            raise broker_error(exc, "creating the consumer") from exc
        if topics and join_after_metadata and group_id is not None:
            # A pattern, not a list: before each group join kafka-python then waits for fresh metadata, so the
            # member never joins before its client knows the topics' partitions (with a list it can, and is then
            # assigned none of them until a later metadata refresh and rejoin; KAFKA-3949). A topic created
            # after the subscription is only seen at the next refresh, so this is for topics that exist.
            self._consumer.subscribe(pattern="^(?:" + "|".join(re.escape(t) for t in topics) + ")$")
        elif topics:
            self._consumer.subscribe(list(topics))

    def assign(self, topic: str, partitions: Iterable[int] | None = None, *, from_beginning: bool = True) -> None:
        parts = partitions if partitions is not None else sorted(self._partitions(topic))
        tps = [TopicPartition(topic, p) for p in parts]
        self._consumer.assign(tps)
        if from_beginning:
            self._consumer.seek_to_beginning(*tps)

    def assign_topics(self, topics: Sequence[str], *, from_beginning: bool = True) -> None:
        """Read every partition of several topics (no group), from the beginning by default."""
        tps = [TopicPartition(t, p) for t in topics for p in sorted(self._partitions(t))]
        self._consumer.assign(tps)
        if from_beginning:
            self._consumer.seek_to_beginning(*tps)

    def _partitions(self, topic: str) -> set[int]:
        parts = self._consumer.partitions_for_topic(topic)
        return set(parts or {0})

    def poll(self, timeout_ms: int = 500, max_records: int | None = None) -> list[Message]:
        try:
            batches = self._consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
        except Exception as exc:
            raise broker_error(exc, "polling") from exc
        out: list[Message] = []
        for msgs in batches.values():
            out.extend(Message(m.topic, m.partition, m.offset, m.key, m.value, m.timestamp,
                               tuple((h[0], h[1]) for h in (m.headers or ()))) for m in msgs)
        return out

    def end_offsets(self, topic: str) -> dict[int, int]:
        tps = [TopicPartition(topic, p) for p in sorted(self._partitions(topic))]
        return {tp.partition: off for tp, off in self._consumer.end_offsets(tps).items()}

    def position(self, topic: str, partition: int) -> int:
        return int(self._consumer.position(TopicPartition(topic, partition)))

    def stall_reason(self, timeout_ms: int = 10_000) -> str | None:
        """For a caller whose polls stayed empty a while: why the client is wedged, or None. Wedged means it
        lost its group coordinator, its group session went without a heartbeat answer while it believes it is
        a stable member (kafka-python 3.0 can leave heartbeats disabled after a quick double rebalance: the
        broker then expires the member and the client never learns), or it holds partitions with records it
        has not fetched, or it holds no partitions and has had no heartbeat answer for ``JOIN_STUCK_S`` (a
        group join that never completed). A new consumer fixes each; a quiet topic, or a member left without
        partitions in a large group (it still heartbeats), is not stalled."""
        try:
            coordinator: Any = getattr(self._consumer, "_coordinator", None)  # kafka-python keeps no public flag
            in_group = self._group_id is not None and coordinator is not None
            if in_group:
                if coordinator.coordinator_unknown():
                    return "lost its group coordinator"
                silent = heartbeat_silence(coordinator, time.monotonic())
                if silent is not None:
                    return f"had no heartbeat answer for {silent:.0f} s as a stable group member"
            tps = list(self._consumer.assignment())
            if not tps:
                stuck = heartbeat_silence(coordinator, time.monotonic(), stable_only=False,
                                          at_least=JOIN_STUCK_S) if in_group else None
                if stuck is not None:
                    return f"holds no partitions and had no heartbeat answer for {stuck:.0f} s (a stuck group join)"
                return None
            ends = self._consumer.end_offsets(tps, timeout_ms=timeout_ms)
            for tp in tps:
                pos = self._consumer.position(tp, timeout_ms=timeout_ms)
                if pos is None or pos < ends[tp]:
                    return f"has records it did not fetch on {tp.topic}[{tp.partition}] ({pos} of {ends[tp]})"
            return None
        except Exception as exc:
            raise broker_error(exc, "checking whether the consumer is stalled") from exc

    def describe(self) -> str:
        """One line on the client's group membership and assignment, for a worker's status when it is quiet."""
        coordinator = getattr(self._consumer, "_coordinator", None)
        beat = getattr(coordinator, "heartbeat", None)
        parts = [f"state={getattr(getattr(coordinator, 'state', None), 'name', '?')}"]
        try:
            parts.append(f"assigned={len(self._consumer.assignment())}")
            if beat is not None:
                parts.append(f"heartbeat_answer_s_ago={time.monotonic() - max(beat.last_receive, beat.last_reset):.1f}")
        except Exception as exc:  # a description must never fail the loop
            parts.append(f"error={type(exc).__name__}")
        return " ".join(parts)

    def seek(self, topic: str, partition: int, offset: int) -> None:
        self._consumer.seek(TopicPartition(topic, partition), offset)

    def commit(self, offsets: Mapping[tuple[str, int], int] | None = None) -> None:
        """Commit and wait for the coordinator's answer: the offsets consumed so far, or ``offsets`` (the next
        offset to read, by (topic, partition))."""
        try:
            self._consumer.commit(_offsets(offsets))
        except Exception as exc:
            raise broker_error(exc, "committing offsets") from exc

    def commit_async(self, offsets: Mapping[tuple[str, int], int] | None = None) -> None:
        """Commit the offsets consumed so far, or ``offsets`` (the next offset to read, by (topic, partition)),
        without waiting for the coordinator's answer (the next poll handles it). A failed commit is logged; the
        next one covers the same partitions, so a failure can only mean that a batch is read again after a
        restart, never that one is skipped."""
        try:
            self._consumer.commit_async(_offsets(offsets), callback=_commit_answered)
        except Exception as exc:
            raise broker_error(exc, "committing offsets") from exc

    def close(self) -> None:
        self._consumer.close()


class Admin:
    def __init__(self, settings: KafkaSettings, **overrides: Any) -> None:
        try:
            self._admin = KafkaAdminClient(**{**settings.common(), **overrides})
        except Exception as exc:
            raise broker_error(exc, "connecting the admin client") from exc

    def ensure_topic(self, name: str, partitions: int = 1, replication_factor: int = 1,
                     configs: Mapping[str, str] | None = None) -> bool:
        """Create the topic if it does not exist. Returns True if it was created."""
        topic = NewTopic(name, partitions, replication_factor, topic_configs=dict(configs or {}))
        try:
            self._admin.create_topics([topic])
        except TopicAlreadyExistsError:
            return False
        except Exception as exc:
            raise broker_error(exc, f"creating topic {name}") from exc
        return True

    def grow_partitions(self, name: str, count: int, settle_s: float = 5.0) -> None:
        """Give the topic ``count`` partitions if it has fewer (partitions are never removed). Another client
        creating or growing the topic at the same moment is no error: a topic just created is not described yet
        (it reads as having none), so the broker refuses the growth as already done; the topic is described
        again for up to ``settle_s`` seconds and, once it has ``count`` partitions, that is the wanted end."""
        def grown() -> bool:
            return len(self.topic_partitions([name]).get(name, [])) >= count

        if grown():
            return
        what = f"growing {name} to {count} partitions"
        try:
            self._admin.create_partitions({name: NewPartitions(total_count=count)})
        except InvalidPartitionsError as exc:
            deadline = time.monotonic() + settle_s
            while not grown():
                if time.monotonic() >= deadline:
                    raise broker_error(exc, what) from exc
                time.sleep(0.1)
        except Exception as exc:
            raise broker_error(exc, what) from exc

    def ensure_compacted(self, name: str, partitions: int = 1, replication_factor: int = 1) -> bool:
        return self.ensure_topic(name, partitions, replication_factor, COMPACTED)

    def topic_configs(self, name: str) -> dict[str, str]:
        from kafka.admin import ConfigResource, ConfigResourceType

        result = self._admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
        out: dict[str, str] = {}
        for by_name in result.values():
            for key, data in by_name.get(name, {}).items():
                out[key] = str(data.get("value") if isinstance(data, dict) else data)
        return out

    def list_topics(self) -> list[str]:
        return sorted(self._admin.list_topics())

    def list_groups(self) -> list[str]:
        try:
            return sorted(g["group_id"] for g in self._admin.list_groups())
        except Exception as exc:  # e.g. a broker started a moment ago still loading its group coordinator
            raise broker_error(exc, "listing consumer groups") from exc

    def delete_groups(self, group_ids: Sequence[str]) -> None:
        """Delete consumer groups and their committed offsets (groups that do not exist are skipped; a group
        with active members cannot be deleted and raises)."""
        ids = [g for g in group_ids if g in set(self.list_groups())]
        if not ids:
            return
        try:
            results = self._admin.delete_groups(ids)
        except Exception as exc:
            raise broker_error(exc, "deleting consumer groups") from exc
        failed = [f"{g}: {err}" for g, err in dict(results).items() if err != "OK"]
        if failed:
            raise broker_error(RuntimeError("; ".join(failed)), "deleting consumer groups")

    def group_offsets(self, group_id: str) -> dict[tuple[str, int], int]:
        offsets = self._admin.list_group_offsets(group_id).get(group_id, {})
        return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}

    def groups_offsets(self, group_ids: Sequence[str]) -> dict[str, dict[tuple[str, int], int]]:
        """Committed offsets of several groups in one request per coordinator (no commit: left out)."""
        if not group_ids:
            return {}
        try:
            result = self._admin.list_group_offsets(list(group_ids))
        except Exception as exc:
            raise broker_error(exc, "fetching committed offsets") from exc
        return {g: {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items() if meta.offset >= 0}
                for g, offsets in result.items()}

    def describe_group(self, group_id: str) -> dict[str, Any]:
        """The broker's description of one group (state, members with their assignments)."""
        try:
            return dict(self._admin.describe_groups([group_id]).get(group_id) or {})
        except Exception as exc:
            raise broker_error(exc, "describing a consumer group") from exc

    def describe_groups(self, group_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The broker's description of several groups (state, members with client id, host and assignment), in
        one request per coordinator."""
        if not group_ids:
            return {}
        try:
            return {g: dict(info or {}) for g, info in self._admin.describe_groups(list(group_ids)).items()}
        except Exception as exc:
            raise broker_error(exc, "describing consumer groups") from exc

    def group_assignments(self, group_ids: Sequence[str]) -> dict[str, tuple[str, set[tuple[str, int]]]]:
        """Each group's state (Stable, Empty, ...) and the partitions assigned to its members."""
        if not group_ids:
            return {}
        try:
            described = self._admin.describe_groups(list(group_ids))
        except Exception as exc:
            raise broker_error(exc, "describing consumer groups") from exc
        out: dict[str, tuple[str, set[tuple[str, int]]]] = {}
        for group_id, info in described.items():
            assigned: set[tuple[str, int]] = set()
            for member in info.get("members") or ():
                assignment = member.get("member_assignment")
                for item in (assignment.get("assigned_partitions") or ()) if isinstance(assignment, dict) else ():
                    assigned.update((item["topic"], p) for p in item["partitions"])
            out[group_id] = (str(info.get("group_state") or ""), assigned)
        return out

    def topic_partitions(self, topics: Sequence[str]) -> dict[str, list[int]]:
        """The partition numbers of each existing topic (topics that do not exist are left out)."""
        if not topics:
            return {}
        try:
            described = self._admin.describe_topics(list(topics))
        except Exception as exc:
            raise broker_error(exc, "describing topics") from exc
        return {t["name"]: sorted(p["partition_index"] for p in t["partitions"])
                for t in described if not t.get("error_code")}

    def end_offsets(self, tps: Iterable[tuple[str, int]], *, earliest: bool = False) -> dict[tuple[str, int], int]:
        """The end (next to be written) offset of each partition, or the earliest one still on the log."""
        from kafka.admin import OffsetSpec

        spec = OffsetSpec.EARLIEST if earliest else OffsetSpec.LATEST
        specs = {TopicPartition(t, p): spec for t, p in tps}
        if not specs:
            return {}
        try:
            result = self._admin.list_partition_offsets(specs)
        except Exception as exc:
            raise broker_error(exc, "listing partition offsets") from exc
        return {(tp.topic, tp.partition): int(ot.offset) for tp, ot in result.items()}

    def bounds(self, topics: Sequence[str]) -> dict[tuple[str, int], tuple[int, int]]:
        """(earliest, end) offset of every partition of ``topics``: the messages still on the log."""
        tps = [(t, p) for t, ps in self.topic_partitions(topics).items() for p in ps]
        ends, starts = self.end_offsets(tps), self.end_offsets(tps, earliest=True)
        return {tp: (starts.get(tp, 0), ends.get(tp, 0)) for tp in tps}

    def delete_topics(self, names: Sequence[str]) -> None:
        self._admin.delete_topics(list(names))

    def close(self) -> None:
        self._admin.close()
