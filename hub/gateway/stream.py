"""The live stream: ``GET /stream``, Server-Sent Events of golden-record changes and alerts, with exact resume.

Query parameters (repeat one, or separate values by commas; values of one parameter are OR-ed, parameters are
AND-ed):

- ``kind`` (alias ``topic``): ``changes``, ``alerts`` or ``both`` (default both);
- ``golden_id``: the record's golden id (a change also matches through ``related``: ids merged into or split
  off from it);
- ``agent``, ``rule``, ``severity``: alerts only (they do not constrain changes; add ``kind=alerts``);
- ``field``: changes touching one of these golden fields (does not constrain alerts);
- ``from``: ``end`` (default: only new events) or ``earliest`` (everything retained), used when no
  ``Last-Event-ID`` header or ``last_event_id`` parameter is given.

Frames (``text/event-stream``):

- ``event: change`` / ``event: alert``, ``data:`` one JSON line ``{"kind", "topic", "partition", "offset",
  "timestamp_ms", "key", "record"}`` and ``id:`` the stream position *after* this event
  (:mod:`hub.gateway.positions`). Reconnect with ``Last-Event-ID`` (browsers do) to get exactly the events
  after it: events filtered out still advance the position.
- The first frame is ``retry:`` plus an ``id:`` with the start position and no data, and heartbeats
  (``: keep-alive`` comments every ``heartbeat_s``) carry an ``id:`` when filtered-out events moved the
  position. Per the SSE spec an ``id:`` without ``data:`` updates the client's last event id without an event.
- ``event: reset``: the requested position is no longer available, for each affected partition
  ``{"topic", "partition", "requested", "earliest", "latest", "resume", "reason"}``; ``reason`` is
  ``retention`` (older than what the topic retains: events between ``requested`` and ``earliest`` are lost
  to this client, reading continues at ``earliest``) or ``ahead`` (past the end: the topic was recreated;
  reading continues at ``latest``). Clients should reload their state from the REST API on a reset.
- ``event: error``: the stream stopped (e.g. the registry is unreachable); reconnect with the last id.

Each connection has its own group-less consumer (assign + seek), polled in a worker thread and closed when
the client disconnects; ``max_connections`` bounds the open streams (503 beyond) and the threads their polls
use (a limiter of their own, apart from the app's thread pool). A malformed ``Last-Event-ID`` answers 400.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import anyio
import anyio.to_thread
import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from kafka import TopicPartition
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from hub.config import StreamConfig
from hub.gateway.positions import Gap, PositionIdError, Positions, decode_id, encode_id, plan_start
from hub.kafka.clients import Consumer, KafkaSettings, Message, broker_error
from hub.registry.serde import AvroSerde
from schemas.errors import RetriableError, SkippableError

log = structlog.get_logger(__name__)

Kind = Literal["change", "alert"]
KINDS: tuple[Kind, ...] = ("change", "alert")
TOPIC_KEYS: dict[Kind, str] = {"change": "c", "alert": "a"}
_KIND_WORDS: dict[str, tuple[Kind, ...]] = {"change": ("change",), "changes": ("change",), "alert": ("alert",),
                                            "alerts": ("alert",), "both": KINDS, "all": KINDS}
Redact = Callable[[Any, Kind, dict[str, Any]], dict[str, Any]]


class EventFilter(BaseModel):
    """Which events a stream or a webhook subscription gets (empty list = no constraint)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kinds: tuple[Kind, ...] = KINDS
    golden_ids: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()


def matches(flt: EventFilter, kind: Kind, record: Mapping[str, Any]) -> bool:
    """Whether an event of ``kind`` with decoded ``record`` passes ``flt`` (pure)."""
    if kind not in flt.kinds:
        return False
    if flt.golden_ids:
        ids = {record.get("golden_id"), *(record.get("related") or ())} if kind == "change" \
            else {record.get("golden_id")}
        if not ids & set(flt.golden_ids):
            return False
    if kind == "alert":
        if flt.agents and record.get("agent") not in flt.agents:
            return False
        if flt.rules and record.get("rule") not in flt.rules:
            return False
        sev = str(record.get("severity") or "").casefold()
        return not flt.severities or sev in {s.casefold() for s in flt.severities}
    if flt.fields:
        changed = {str(f.get("field")) for f in record.get("fields") or ()}
        return bool(changed & set(flt.fields))
    return True


def split_values(values: Iterable[str] | None) -> tuple[str, ...]:
    """Repeated and comma-separated query values, stripped, empties dropped, order kept."""
    out: dict[str, None] = {}
    for value in values or ():
        for part in value.split(","):
            if part.strip():
                out[part.strip()] = None
    return tuple(out)


def filter_from_query(kind: Iterable[str] | None = None, golden_id: Iterable[str] | None = None,
                      agent: Iterable[str] | None = None, rule: Iterable[str] | None = None,
                      severity: Iterable[str] | None = None, field: Iterable[str] | None = None) -> EventFilter:
    """The filter of the stream's query parameters; ``ValueError`` for an unknown kind."""
    kinds: dict[Kind, None] = {}
    for word in split_values(kind):
        if word.lower() not in _KIND_WORDS:
            raise ValueError(f"unknown kind {word!r} (changes, alerts or both)")
        kinds.update(dict.fromkeys(_KIND_WORDS[word.lower()]))
    return EventFilter(kinds=tuple(k for k in KINDS if k in kinds) or KINDS, golden_ids=split_values(golden_id),
                       agents=split_values(agent), rules=split_values(rule), severities=split_values(severity),
                       fields=split_values(field))


def policy_redact(principal: Any, kind: Kind, record: dict[str, Any]) -> dict[str, Any]:
    """The caller's field policy (the gateway's ``Principal.policy``, with ``change``/``alert``) applied to a
    record; the record unchanged when the principal has none (no auth)."""
    policy = getattr(principal, "policy", None)
    if policy is None:
        return record
    return dict(policy.change(record) if kind == "change" else policy.alert(record))


@dataclass(frozen=True, slots=True)
class StreamEvent:
    kind: Kind
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: str | None
    record: dict[str, Any]

    def body(self) -> dict[str, Any]:
        return {"kind": self.kind, "topic": self.topic, "partition": self.partition, "offset": self.offset,
                "timestamp_ms": self.timestamp_ms, "key": self.key, "record": self.record}


def decode_message(msg: Message, kind: Kind, serde: AvroSerde) -> StreamEvent | None:
    """The event of a consumed message; None for a tombstone. Raises ``SkippableError`` for undecodable bytes,
    ``RetriableError`` when the registry is unreachable."""
    if msg.value is None:
        return None
    record = serde.deserialize(msg.value)
    if not isinstance(record, dict):
        raise SkippableError(f"{msg.topic}/{msg.partition}@{msg.offset}: not a record")
    key: str | None = None
    if msg.key is not None:
        try:
            decoded_key = serde.deserialize(msg.key)
            key = decoded_key if isinstance(decoded_key, str) else None
        except (SkippableError, RetriableError):
            key = msg.key.decode("utf-8", "replace")
    return StreamEvent(kind, msg.topic, msg.partition, msg.offset, msg.timestamp_ms, key, record)


def sse_frame(*, event: str | None = None, data: Any = None, event_id: str | None = None,
              comment: str | None = None, retry_ms: int | None = None) -> str:
    """One SSE frame (ends with a blank line); ``data`` is written as one JSON line."""
    lines = [f": {comment}"] if comment else []
    if retry_ms is not None:
        lines.append(f"retry: {retry_ms}")
    if event:
        lines.append(f"event: {event}")
    if data is not None:
        lines.append("data: " + json.dumps(data, separators=(",", ":"), default=str))
    if event_id is not None:
        lines.append(f"id: {event_id}")
    return "\n".join(lines) + "\n\n"


def gap_body(gaps: Sequence[Gap], topics: Mapping[str, str]) -> dict[str, Any]:
    return {"partitions": [{"topic": topics[g.key], "partition": g.partition, "requested": g.requested,
                            "earliest": g.earliest, "latest": g.latest, "resume": g.resume, "reason": g.reason}
                           for g in gaps]}


class StreamConsumer(Consumer):
    """The consumer wrapper plus the earliest retained offsets, which a resume needs."""

    def offsets(self, tps: Sequence[TopicPartition], *, timeout_ms: int = 15_000) -> tuple[Positions, Positions]:
        try:
            first = self._consumer.beginning_offsets(list(tps), timeout_ms=timeout_ms)
            end = self._consumer.end_offsets(list(tps), timeout_ms=timeout_ms)
        except Exception as exc:
            raise broker_error(exc, "reading the offsets of the streamed topics") from exc
        return ({(tp.topic, tp.partition): int(o) for tp, o in first.items()},
                {(tp.topic, tp.partition): int(o) for tp, o in end.items()})

    def partitions(self, topic: str) -> list[int]:
        return sorted(self._partitions(topic))

    def assign_at(self, start: Mapping[tuple[str, int], int]) -> None:
        tps = {TopicPartition(t, p): off for (t, p), off in start.items()}
        self._consumer.assign(list(tps))
        for tp, off in tps.items():
            self._consumer.seek(tp, off)


class StreamSession:
    """One client's stream: a consumer positioned from the requested id, stepped from a worker thread."""

    def __init__(self, settings: KafkaSettings, serde: AvroSerde, config: StreamConfig, flt: EventFilter,
                 principal: Any = None, redact: Redact | None = None) -> None:
        self.serde, self.config, self.flt, self.principal, self.redact = serde, config, flt, principal, redact
        self.topics: dict[str, str] = {TOPIC_KEYS[k]: self._topic(k) for k in flt.kinds}  # key -> topic
        self.kinds: dict[str, Kind] = {self._topic(k): k for k in flt.kinds}  # topic -> kind
        self.position: Positions = {}
        self.gaps: list[Gap] = []
        self._lock = threading.Lock()
        self._closed = False
        self._sent_id = ""
        self._next_beat = time.monotonic() + config.heartbeat_s
        self.consumer = StreamConsumer(settings, group_id=None, client_id=f"{settings.client_id}-stream")

    def _topic(self, kind: Kind) -> str:
        return self.config.changes_topic if kind == "change" else self.config.alerts_topic

    def start(self, requested: Positions, *, from_earliest: bool) -> None:
        """Assign every partition of the streamed topics at the planned start (blocking: call in a thread)."""
        tps = [TopicPartition(t, p) for t in self.topics.values() for p in self.consumer.partitions(t)]
        first, end = self.consumer.offsets(tps)
        by_key = {v: k for k, v in self.topics.items()}
        earliest = {(by_key[t], p): o for (t, p), o in first.items()}
        latest = {(by_key[t], p): o for (t, p), o in end.items()}
        self.position, self.gaps = plan_start(requested, earliest, latest, from_earliest=from_earliest)
        self.consumer.assign_at({(self.topics[k], p): o for (k, p), o in self.position.items()})

    def opening(self) -> list[str]:
        self._sent_id = encode_id(self.position)
        if self.gaps:
            log.info("stream.reset", gaps=len(self.gaps))
            return [sse_frame(retry_ms=self.config.retry_ms, event="reset", data=gap_body(self.gaps, self.topics),
                              event_id=self._sent_id)]
        return [sse_frame(retry_ms=self.config.retry_ms, event_id=self._sent_id)]

    def step(self) -> list[str]:
        """Poll once (at most until the next heartbeat is due); the frames to send, maybe none."""
        with self._lock:
            if self._closed:
                return []
            wait_ms = int(max(0.0, min(self.config.poll_ms / 1000, self._next_beat - time.monotonic())) * 1000)
            out = [self._frame(m) for m in self.consumer.poll(wait_ms, max_records=500)]
            frames = [f for f in out if f]
            if time.monotonic() >= self._next_beat:
                self._next_beat = time.monotonic() + self.config.heartbeat_s
                current = encode_id(self.position)
                frames.append(sse_frame(comment="keep-alive", event_id=current if current != self._sent_id else None))
                self._sent_id = current
            return frames

    def _frame(self, msg: Message) -> str:
        kind = self.kinds[msg.topic]
        self.position[(TOPIC_KEYS[kind], msg.partition)] = msg.offset + 1
        try:
            event = decode_message(msg, kind, self.serde)
        except SkippableError as exc:
            log.warning("stream.undecodable", topic=msg.topic, partition=msg.partition, offset=msg.offset,
                        error=str(exc))
            return ""
        if event is None:
            return ""
        record = self.redact(self.principal, kind, event.record) if self.redact else event.record
        if not matches(self.flt, kind, record):
            return ""
        body = {**event.body(), "record": record}
        self._sent_id = encode_id(self.position)
        return sse_frame(event=kind, data=body, event_id=self._sent_id)

    def close(self) -> None:
        """Close the consumer (waits for a running step); safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self.consumer.close()


def stream_router(settings: KafkaSettings, serde: AvroSerde, auth_dependency: Callable[..., Any] | None = None, *,
                  config: StreamConfig | None = None, redact: Redact | None = policy_redact) -> APIRouter:
    """``GET /stream`` (see the module doc). ``auth_dependency`` (e.g. the gateway's ``require("stream")``)
    guards it and its result is passed to ``redact(principal, kind, record)`` (default: the principal's field
    policy), which drops or masks fields before filtering: the ``field`` filter sees what the client may see."""
    cfg = config or StreamConfig()
    router = APIRouter(tags=["stream"])
    sessions: set[StreamSession] = set()
    limiter: list[anyio.CapacityLimiter] = []  # made on first use, inside the event loop
    router.open_sessions = sessions  # type: ignore[attr-defined]  # open sessions, for tests and metrics

    def _no_auth() -> None:
        return None

    auth = auth_dependency or _no_auth

    @router.get("/stream", response_class=StreamingResponse,
                responses={200: {"content": {"text/event-stream": {}}, "description": "SSE frames"},
                           400: {"description": "malformed Last-Event-ID or filter"}})
    async def stream(request: Request, principal: Any = Depends(auth),
                     kind: list[str] | None = Query(None), topic: list[str] | None = Query(None),
                     golden_id: list[str] | None = Query(None), agent: list[str] | None = Query(None),
                     rule: list[str] | None = Query(None), severity: list[str] | None = Query(None),
                     field: list[str] | None = Query(None), last_event_id: str | None = Query(None),
                     start_from: Literal["end", "latest", "earliest", "beginning"] = Query("end", alias="from"),
                     ) -> StreamingResponse:
        try:
            flt = filter_from_query([*(kind or ()), *(topic or ())], golden_id, agent, rule, severity, field)
            resume_id = request.headers.get("last-event-id") or last_event_id
            requested = decode_id(resume_id.strip()) if resume_id else {}
        except (ValueError, PositionIdError) as exc:
            raise HTTPException(400, str(exc)) from None
        if len(sessions) >= cfg.max_connections:
            raise HTTPException(503, f"too many open streams ({cfg.max_connections}); retry later")
        session = await run_in_threadpool(_open, flt, principal, requested, start_from in ("earliest", "beginning"))
        sessions.add(session)
        return StreamingResponse(_frames(request, session), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    def _open(flt: EventFilter, principal: Any, requested: Positions, from_earliest: bool) -> StreamSession:
        session = StreamSession(settings, serde, cfg, flt, principal, redact)
        try:
            session.start(requested, from_earliest=from_earliest)
        except RetriableError as exc:
            session.close()
            raise HTTPException(503, str(exc)) from None
        except Exception:
            session.close()
            raise
        return session

    async def _frames(request: Request, session: StreamSession) -> Any:
        try:
            for frame in session.opening():
                yield frame
            while not await request.is_disconnected():
                try:
                    if not limiter:  # stream polls get their own threads, not the shared pool of the app
                        limiter.append(anyio.CapacityLimiter(cfg.max_connections))
                    frames = await anyio.to_thread.run_sync(session.step, limiter=limiter[0])
                except RetriableError as exc:
                    yield sse_frame(event="error", data={"error": str(exc)})
                    return
                for frame in frames:
                    yield frame
        finally:
            sessions.discard(session)
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(session.close)

    return router
