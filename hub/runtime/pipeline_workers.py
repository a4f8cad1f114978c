"""The pipeline loops on Kafka: canonicalize (``src.*`` → ``canon.*`` / ``dlq.<pipeline>``) here, and the
shared consumer-group loop unify builds on (``hub/runtime/unify_worker.py``: ``canon.*`` → store →
``customer.unified`` / ``customer.changes`` / ``customer.alerts``).

Both are consumer-group members with manual commits: consumer offsets are committed only once every output of
the batches they cover is acknowledged. Canonicalize produces a polled batch and checks every acknowledgement
before its commit; unify keeps a few applied batches in flight and commits each batch's offsets once its
outputs and those of every batch before it are acknowledged. The commit is sent without waiting for its answer
(a clean stop waits for the last one), so a crash repeats at most the batches in flight and the one whose
commit was on its way (the unify step then skips events whose version it already applied). A broker outage is
retried with exponential backoff (tenacity, here only); the consumer is re-created, so processing resumes from
the last committed offsets.
"""

from __future__ import annotations

import json
import os
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from tenacity import Retrying, retry_if_exception_type, stop_never, wait_exponential

from hub.config import HubConfig
from hub.kafka.clients import Admin, Consumer, KafkaSettings, Message, Producer, Record
from hub.kafka.settings import FETCH_MAX_WAIT_MS, FETCH_MIN_BYTES
from hub.metrics import (
    CANON_EVENTS,
    DQ_RESULTS,
    PIPELINE_ERRORS,
    PIPELINE_MESSAGES,
)
from hub.registry.decode import ChangeDecoder
from hub.registry.serde import AvroSerde, FirstSeen
from pipelines.canonicalize import CanonResult, canonicalize, rule_counts
from pipelines.dq_stats import DqStats, save_summary
from pipelines.mapping import MappingSet
from pipelines.unify.engine import OutRecord
from schemas.canonical import ENTITIES, KEY_SCHEMA, CanonicalEvent, event_schema
from schemas.errors import RetriableError, SkippableError
from schemas.secrets import mask_text
from schemas.unified import ALERTS_TOPIC, CHANGES_TOPIC, SCHEMAS, UNIFIED_TOPIC, to_avro_datum
from schemas.unified import KEY_SCHEMA as GOLDEN_KEY_SCHEMA

log = structlog.get_logger(__name__)
CANON_TOPICS = tuple(f"canon.{e}" for e in ENTITIES)
#: The longest a pipeline consumer may take between two polls; also the group's rebalance timeout, how long
#: the coordinator waits for known members to rejoin. A member killed in the middle of a join is kept until
#: then: at kafka-python's default (300 s, ten times the client's 30 s request timeout, so the new members'
#: join requests timed out and were sent again) the workers started after a kill -9 of every process sat in
#: joins for a minute or more (``bench/bench_faults.py``). Below the request timeout, a join completes before
#: its request times out. A batch takes well under a second.
MAX_POLL_INTERVAL_MS = 20_000
DQ_SAVE_INTERVAL_S = 2.0  # how often a canonicalize stage with ``dq_file`` writes its data-quality summary
DQ_FILE_ENV = "CRMHUB_DQ_SUMMARY_FILE"  # set by the demo for its stage processes (hub/demo/stages.py)


def dq_summary_file() -> Path | None:
    """Where a canonicalize stage writes its data-quality summary for a dashboard in another process, if set."""
    value = os.environ.get(DQ_FILE_ENV)
    return Path(value) if value else None


@dataclass
class WorkerStatus:
    state: str = "STARTING"
    batches: int = 0
    messages: int = 0
    last_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class _Loop(ABC):
    """A consumer-group loop with backoff; subclasses implement :meth:`handle`."""

    name = "pipeline"
    consumer_class: type[Consumer] = Consumer

    def __init__(self, settings: KafkaSettings, group_id: str, topics: Sequence[str], *, batch_size: int = 500,
                 poll_ms: int = 200, max_backoff_s: float = 30.0, stall_s: float = 15.0,
                 fetch_min_bytes: int = FETCH_MIN_BYTES, fetch_max_wait_ms: int = FETCH_MAX_WAIT_MS) -> None:
        self.settings = settings
        self.group_id = group_id
        self.topics = list(topics)
        self.batch_size = batch_size
        self.poll_ms = poll_ms
        self.max_backoff_s = max_backoff_s
        self.stall_s = stall_s
        self.fetch = {"fetch_min_bytes": fetch_min_bytes, "fetch_max_wait_ms": fetch_max_wait_ms}
        self.status = WorkerStatus()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @abstractmethod
    def handle(self, messages: list[Message]) -> None:
        """Process one polled batch; return when its outputs are acknowledged, unless :meth:`after_poll` and
        :meth:`finish` commit only what was acknowledged."""

    def idle(self) -> None:  # noqa: B027 - optional hook
        """Called after every poll (also an empty one)."""

    def after_poll(self, consumer: Consumer, handled: bool) -> None:
        """After every poll, with whether it brought a batch: commit the offsets consumed (the batch's outputs are
        acknowledged: a lost commit only means a batch read again), then :meth:`idle`."""
        if handled:
            # Not waiting for the coordinator's answer takes a round trip out of every batch's latency.
            consumer.commit_async()
        self.idle()

    def finish(self, consumer: Consumer) -> None:
        """A clean stop between batches: make sure the last commit landed."""
        consumer.commit()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=f"crmhub-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        retrying = Retrying(retry=retry_if_exception_type(RetriableError), stop=stop_never, reraise=True,
                            wait=wait_exponential(multiplier=0.5, min=0.5, max=self.max_backoff_s),
                            before_sleep=self._before_sleep)
        try:
            retrying(self._consume)
            self.status.state = "STOPPED"
        except Exception as exc:
            self.status.state = "FAILED"
            self.status.last_error = mask_text(f"{type(exc).__name__}: {exc}")
            PIPELINE_ERRORS.labels(self.name).inc()
            log.error("pipeline.failed", pipeline=self.name, error=self.status.last_error)

    def _before_sleep(self, rs: Any) -> None:
        exc = rs.outcome.exception() if rs.outcome else None
        self.status.state = "RETRYING"
        self.status.last_error = mask_text(str(exc))
        PIPELINE_ERRORS.labels(self.name).inc()
        log.warning("pipeline.retrying", pipeline=self.name, error=self.status.last_error)

    def new_consumer(self) -> Consumer:
        # the hub creates the topics before it starts the loops, so the group join can wait for their metadata
        return self.consumer_class(self.settings, self.group_id, self.topics, max_poll_records=self.batch_size,
                                   join_after_metadata=True, max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
                                   **self.fetch)

    def _consume(self) -> None:
        consumer = self.new_consumer()
        quiet_since = time.monotonic()
        clean = False
        try:
            self.status.state = "RUNNING"
            while not self._stop.is_set():
                messages = consumer.poll(self.poll_ms, max_records=self.batch_size)
                if messages:
                    self.handle(messages)
                    self.status.batches += 1
                    self.status.messages += len(messages)
                    PIPELINE_MESSAGES.labels(self.name).inc(len(messages))
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since > self.stall_s:
                    self.status.extra["consumer"] = consumer.describe()
                    reason = consumer.stall_reason()
                    if reason:  # a wedged client: the retry opens a new consumer
                        raise RetriableError(f"no records for {self.stall_s:.0f} s although the consumer {reason}; "
                                             "reconnecting")
                    quiet_since = time.monotonic()
                self.after_poll(consumer, bool(messages))
            clean = True
        finally:
            try:
                if clean:  # stopped between batches
                    self.finish(consumer)
            finally:
                consumer.close()


class CanonWorker(_Loop):
    """``src.*`` change events → mapping, transforms, data-quality rules → ``canon.<entity>`` or the DLQ."""

    name = "canonicalize"

    def __init__(self, settings: KafkaSettings, producer: Producer, serde: AvroSerde, mappings: MappingSet,
                 topics: Sequence[str], *, pipeline: str = "canon", group_id: str = "crmhub-canonicalize",
                 dq_file: Path | None = None, **kw: Any) -> None:
        super().__init__(settings, group_id, topics, **kw)
        self.producer = producer
        self.serde = serde
        self.mappings = mappings
        self.pipeline = pipeline
        self.decoder = ChangeDecoder(serde)
        self.dq = DqStats()  # rule failures over time with samples, for the dashboard
        self.dq_file = dq_file  # where the summary is written for a dashboard in another process, if anywhere
        self._dq_saved = 0.0
        self.keys = KeyBytes(serde, KEY_SCHEMA)

    def idle(self) -> None:
        if self.dq_file is not None and time.monotonic() - self._dq_saved >= DQ_SAVE_INTERVAL_S:
            self._dq_saved = time.monotonic()
            save_summary(self.dq, self.dq_file)

    @property
    def dlq_topic(self) -> str:
        return f"dlq.{self.pipeline}"

    def handle(self, messages: list[Message]) -> None:
        now = int(time.time() * 1000)
        records: list[Record] = []
        published: Counter[tuple[str, str]] = Counter()
        for m in messages:
            if m.value is None or m.key is None:
                continue
            try:
                event = self.decoder.decode(m.key, m.value)
            except SkippableError as exc:
                records.append(undecodable_record(self.dlq_topic, m, exc.reason))
                continue
            result = canonicalize(self.mappings, event, topic=m.topic, partition=m.partition, offset=m.offset,
                                  now_ms=now)
            records.extend(self.records_for(result))
            for ev in result.events:
                published[ev.entity, ev.source] += 1
        self.producer.send_batch(records)
        for (entity, source), n in published.items():
            CANON_EVENTS.labels(entity, source).inc(n)

    def records_for(self, result: CanonResult) -> list[Record]:
        out = [canon_record(self.serde, ev, self.keys) for ev in result.events]
        for rejected in result.rejected:
            body = rejected.to_json()
            value = json.dumps(body, default=str, sort_keys=True).encode()
            out.append(Record(self.dlq_topic, f"{rejected.source}/{rejected.source_key}".encode(), value,
                              (("crmhub.reason", rejected.reason.encode()[:500]),)))
        if result.rejected or any(ev.warnings for ev in result.events):
            for (source, table, rule, level), n in rule_counts(result).items():
                DQ_RESULTS.labels(self.pipeline, source, table, rule, level).inc(n)
        self.dq.add(result, int(time.time() * 1000))
        return out


class KeyBytes:
    """The wire-format bytes of string keys by topic, each encoded once while it is among the ``limit``
    most recently first seen: a source record or golden record changes again and again."""

    def __init__(self, serde: AvroSerde, schema: dict[str, Any], limit: int = 65536) -> None:
        self.serde, self.schema = serde, schema
        self._bytes: FirstSeen[tuple[str, str], bytes] = FirstSeen(self._encode, limit)

    def _encode(self, topic_key: tuple[str, str]) -> bytes:
        return self.serde.serialize(topic_key[0], self.schema, topic_key[1], is_key=True)

    def get(self, topic: str, key: str) -> bytes:
        return self._bytes((topic, key))


def canon_record(serde: AvroSerde, ev: CanonicalEvent, keys: KeyBytes | None = None) -> Record:
    topic = f"canon.{ev.entity}"
    key = keys.get(topic, ev.kafka_key) if keys else serde.serialize(topic, KEY_SCHEMA, ev.kafka_key, is_key=True)
    return Record(topic, key, serde.serialize(topic, event_schema(ev.entity), ev.to_avro()))


def undecodable_record(dlq_topic: str, m: Message, reason: str) -> Record:
    body = {"reason": reason, "rule": "decode", "topic": m.topic, "partition": m.partition, "offset": m.offset,
            "value_hex": (m.value or b"").hex(), "ts_ms": int(time.time() * 1000)}
    return Record(dlq_topic, m.key, json.dumps(body, sort_keys=True).encode(), (("crmhub.reason", reason.encode()),))


def output_record(serde: AvroSerde, topic: str, key: str | None, value: Any, keys: KeyBytes | None = None) -> Record:
    """An outbox entry as a Kafka record: Avro for the customer topics, JSON for dead letters."""
    if topic not in SCHEMAS:
        body = None if value is None else json.dumps(value, default=str, sort_keys=True).encode()
        reason = str(value.get("reason", "")) if isinstance(value, dict) else ""
        return Record(topic, None if key is None else key.encode(), body, (("crmhub.reason", reason.encode()[:500]),))
    if key is None:
        k = None
    else:
        k = keys.get(topic, key) if keys else serde.serialize(topic, GOLDEN_KEY_SCHEMA, key, is_key=True)
    v = None if value is None else serde.serialize(topic, SCHEMAS[topic](), to_avro_datum(topic, value))
    return Record(topic, k, v)


def make_publisher(serde: AvroSerde, producer: Producer,
                   keys: KeyBytes | None = None) -> Callable[[Sequence[OutRecord]], None]:
    """The unify step's ``publish``: outbox entries → Kafka records → produced, every ack checked (``keys``: the
    caller's cache of encoded keys, shared with its other outputs)."""
    keys = keys or KeyBytes(serde, GOLDEN_KEY_SCHEMA)

    def publish(outputs: Sequence[OutRecord]) -> None:
        producer.send_batch([output_record(serde, t, k, v, keys) for t, k, v in outputs])
    return publish


def ensure_pipeline_topics(cfg: HubConfig, settings: KafkaSettings, source_topics: Sequence[str],
                           pipeline: str) -> None:
    """Create the topics the pipelines read and write (``customer.unified`` compacted) if missing."""
    parts, rf = cfg.kafka.topic_defaults.partitions, cfg.kafka.topic_defaults.replication_factor
    admin = Admin(settings)
    try:
        for topic in [*source_topics, *CANON_TOPICS, CHANGES_TOPIC, ALERTS_TOPIC, f"dlq.{pipeline}"]:
            admin.ensure_topic(topic, parts, rf)
        admin.ensure_compacted(UNIFIED_TOPIC, parts, rf)
    finally:
        admin.close()
