"""Webhooks: the delivery worker (subscriptions and their API: :mod:`hub.gateway.subscriptions`).

A subscription has a target ``url``, a ``secret`` and a ``filter`` (:class:`hub.gateway.stream.EventFilter`,
the stream's filter as JSON: ``{"kinds": ["change"], "golden_ids": [...], "agents": [...], "rules": [...],
"severities": [...], "fields": [...]}``). Subscriptions live in one JSON file (``gateway.webhooks.
subscriptions_file``, written atomically with mode 0600 since it holds the secrets); the worker re-reads it
when it changes, so the API and the worker may run in different processes. The secret is returned once, by
``POST`` (generated when not given), never by ``GET``.

Delivery: ``POST <url>`` with the JSON body ``{"id", "subscription", "kind", "topic", "partition", "offset",
"timestamp_ms", "key", "record"}`` and the headers

- ``X-Crmhub-Timestamp``: Unix seconds when this attempt was signed;
- ``X-Crmhub-Signature``: ``sha256=`` + hex HMAC-SHA256 with the subscription's secret (UTF-8) as key over
  ``<timestamp> + "." + <raw body bytes>``;
- ``X-Crmhub-Event-Id`` (``<topic>-<partition>-<offset>``, the same on every retry: deduplicate on it) and
  ``X-Crmhub-Subscription``.

Receivers recompute the HMAC over the raw body, compare in constant time and reject timestamps more than
5 minutes away from their clock (:func:`verify_signature`). A 2xx answer is a delivery; connection errors,
timeouts, 5xx and 429 are retried with exponential backoff (``backoff_initial_s`` doubling up to
``backoff_max_s``); after ``max_attempts`` attempts, or at once for another status, the event goes to
``dlq.webhooks`` as JSON ``{"subscription_id", "url", "reason", "attempts", "event_id", "event"}`` and the
worker moves on. Offsets are committed after every matching subscription got each event of the batch or its
dead letter: delivery is at least once (a crash mid-batch delivers the batch again).

Each attempt re-checks the target (:mod:`hub.gateway.webhook_targets`: no loopback, private or link-local
address unless allow-listed, never the hub's own ports) and connects to the address it checked; a refused
target is dead-lettered at once. Every delivered or dead-lettered event is a row in the audit log: the
subscription's owner and role, ``POST``, the target without its query, the last status (0: no answer), the
golden id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import httpx
import structlog
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from hub.config import WebhookConfig
from hub.gateway.audit_writer import AuditEntry
from hub.gateway.policy import FieldPolicy
from hub.gateway.settings import GatewayRole
from hub.gateway.stream import Kind, StreamEvent, decode_message, matches
from hub.gateway.subscriptions import Subscription, WebhookStore
from hub.gateway.webhook_targets import TargetPolicy, TargetRefused, display_url
from hub.kafka.clients import Admin, Consumer, KafkaSettings, Message, Producer, Record
from hub.registry.serde import AvroSerde
from schemas.errors import SkippableError

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-Crmhub-Signature"
TIMESTAMP_HEADER = "X-Crmhub-Timestamp"
EVENT_HEADER = "X-Crmhub-Event-Id"
SUBSCRIPTION_HEADER = "X-Crmhub-Subscription"
TOLERANCE_S = 300


# --- signing -------------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, ``<timestamp>.<body>``)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    ts = int(time.time() if now is None else now)
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign(secret, ts, body), "Content-Type": "application/json"}


class SignatureError(ValueError):
    """A delivery whose signature does not verify; the message says why."""


def verify_signature(secret: str, body: bytes, timestamp: str | None, signature: str | None, *,
                     now: float | None = None, tolerance_s: int = TOLERANCE_S) -> None:
    """For receivers: raise :class:`SignatureError` unless ``signature`` is the one of ``body`` at ``timestamp``
    and ``timestamp`` is within ``tolerance_s`` of ``now`` (stops replays of old deliveries)."""
    if not timestamp or not signature:
        raise SignatureError("missing timestamp or signature header")
    try:
        ts = int(timestamp)
    except ValueError:
        raise SignatureError(f"timestamp {timestamp[:20]!r} is not Unix seconds") from None
    if abs((time.time() if now is None else now) - ts) > tolerance_s:
        raise SignatureError(f"timestamp {ts} is more than {tolerance_s} s away from now")
    if not hmac.compare_digest(sign(secret, ts, body), signature.strip()):
        raise SignatureError("signature does not match the body")


# --- delivery --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeadLetter:
    subscription_id: str | None
    url: str | None
    reason: str
    attempts: int
    event_id: str
    event: dict[str, Any]

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":"), default=str).encode()


class DeliveryFailed(Exception):
    def __init__(self, reason: str, attempts: int, status: int = 0) -> None:
        super().__init__(reason)
        self.reason, self.attempts, self.status = reason, attempts, status


class WorkerStopping(Exception):
    """Raised inside a backoff wait when the worker is stopped: the batch is not committed."""


class _Retryable(Exception):
    pass


def event_id(event: StreamEvent) -> str:
    return f"{event.topic}-{event.partition}-{event.offset}"


Redactor = Callable[[str | None, Kind, dict[str, Any]], dict[str, Any]]


def role_redactor(roles: Mapping[str, GatewayRole]) -> Redactor:
    """Applies the field policy of a subscription's role (``gateway.effective_roles()``); a subscription
    without a role gets records unchanged, one whose role is no longer configured gets nothing (dead letter)."""
    def redact(role: str | None, kind: Kind, record: dict[str, Any]) -> dict[str, Any]:
        if role is None:
            return record
        if role not in roles:
            raise ValueError(f"role {role!r} of the subscription is not configured")
        policy = FieldPolicy.of(roles[role])
        return policy.change(record) if kind == "change" else policy.alert(record)
    return redact


class Dispatcher:
    """Delivers events to the matching subscriptions, retrying, and dead-letters what cannot be delivered."""

    def __init__(self, store: WebhookStore, config: WebhookConfig, dead_letter: Callable[[DeadLetter], None], *,
                 client: httpx.Client | None = None, redact: Redactor | None = None,
                 targets: TargetPolicy | None = None, audit: Callable[[AuditEntry], object] | None = None,
                 on_close: Sequence[Callable[[], object]] = ()) -> None:
        self.store, self.config, self.redact = store, config, redact
        self.targets = targets if targets is not None else TargetPolicy(tuple(config.allow_targets))
        self.audit, self.on_close = audit, on_close
        self._dead_letter = dead_letter
        self.client = client or httpx.Client(timeout=config.timeout_s)
        self.stopping = threading.Event()
        self.stats = {"delivered": 0, "dead_lettered": 0, "retries": 0}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(config.concurrency, thread_name_prefix="crmhub-webhook")
        self._last_status: dict[str, int] = {}  # per subscription: each is delivered by one thread at a time

    def _sleep(self, seconds: float) -> None:
        if self.stopping.wait(seconds):
            raise WorkerStopping()

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.stats[name] += n

    def deliver(self, sub: Subscription, payload: bytes, ev_id: str, golden_ids: Sequence[str] = ()) -> int:
        """POST ``payload`` to ``sub`` until accepted; the attempts used, or ``DeliveryFailed``. Audited."""
        status = 0
        try:
            attempts = self._deliver(sub, payload, ev_id)
            status = self._last_status.get(sub.id, 0)
            return attempts
        except DeliveryFailed as exc:
            status = exc.status
            raise
        finally:
            if self.audit is not None:
                self.audit(AuditEntry(sub.owner or "-", sub.role or "-", "POST", display_url(sub.url), None,
                                      status, list(golden_ids)))

    def _post(self, sub: Subscription, payload: bytes, headers: dict[str, str]) -> httpx.Response:
        try:
            pinned = self.targets.check(sub.url)
        except TargetRefused as exc:
            raise DeliveryFailed(f"target refused: {exc}", 1) from None
        kwargs = pinned.request_kwargs()
        return self.client.post(pinned.url, content=payload, headers={**headers, **kwargs["headers"]},
                                extensions=kwargs["extensions"])

    def _deliver(self, sub: Subscription, payload: bytes, ev_id: str) -> int:
        attempts = 0
        self._last_status[sub.id] = 0

        def attempt() -> None:
            nonlocal attempts
            attempts += 1
            headers = {**signed_headers(sub.secret, payload), EVENT_HEADER: ev_id, SUBSCRIPTION_HEADER: sub.id}
            try:
                resp = self._post(sub, payload, headers)
            except DeliveryFailed as exc:
                raise DeliveryFailed(exc.reason, attempts) from None
            self._last_status[sub.id] = resp.status_code
            if resp.status_code >= 500 or resp.status_code == 429:
                raise _Retryable(f"HTTP {resp.status_code} from {sub.url}")
            if not 200 <= resp.status_code < 300:
                raise DeliveryFailed(f"HTTP {resp.status_code} from {sub.url} (not retried)", attempts,
                                     resp.status_code)

        retrying = Retrying(stop=stop_after_attempt(self.config.max_attempts), reraise=True, sleep=self._sleep,
                            wait=wait_exponential(multiplier=self.config.backoff_initial_s,
                                                  max=self.config.backoff_max_s),
                            retry=retry_if_exception_type((httpx.TransportError, _Retryable)))
        try:
            retrying(attempt)
        except (httpx.TransportError, _Retryable) as exc:
            reason = str(exc) if isinstance(exc, _Retryable) else f"{type(exc).__name__}: {exc} ({sub.url})"
            status = self._last_status.get(sub.id, 0) if isinstance(exc, _Retryable) else 0
            raise DeliveryFailed(f"{reason}; gave up after {attempts} attempts", attempts, status) from exc
        finally:
            self._count("retries", max(0, attempts - 1))
        return attempts

    def dead_letter(self, letter: DeadLetter) -> None:
        with self._lock:
            self._dead_letter(letter)
            self.stats["dead_lettered"] += 1
        log.warning("webhook.dead_letter", subscription=letter.subscription_id, reason=letter.reason)

    def _deliver_all(self, sub: Subscription, events: Sequence[StreamEvent]) -> None:
        for event in events:
            if not matches(sub.filter, event.kind, event.record):  # then again after redaction
                continue
            body = {"id": event_id(event), "subscription": sub.id, **event.body()}
            try:
                record = self.redact(sub.role, event.kind, event.record) if self.redact else event.record
            except ValueError as exc:
                self.dead_letter(DeadLetter(sub.id, sub.url, str(exc), 0, event_id(event), body))
                continue
            if not matches(sub.filter, event.kind, record):
                continue
            body["record"] = record
            payload = json.dumps(body, separators=(",", ":"), default=str).encode()
            try:
                gid = record.get("golden_id")
                self.deliver(sub, payload, event_id(event), [str(gid)] if gid else [])
                self._count("delivered")
            except DeliveryFailed as exc:
                self.dead_letter(DeadLetter(sub.id, sub.url, exc.reason, exc.attempts, event_id(event), body))

    def dispatch(self, events: Sequence[StreamEvent]) -> None:
        """Every event to every matching subscription (each subscription in order, several in parallel);
        returns when each was delivered or dead-lettered. Raises if a dead letter could not be written."""
        futures = [self._pool.submit(self._deliver_all, sub, events) for sub in self.store.list()]
        errors = [f.exception() for f in futures]
        for error in errors:
            if error is not None:
                raise error

    def close(self) -> None:
        self.stopping.set()
        self._pool.shutdown(wait=True)
        self.client.close()
        for close in self.on_close:
            close()


def kafka_dead_letter(producer: Producer, topic: str = "dlq.webhooks") -> Callable[[DeadLetter], None]:
    """A dead-letter callable producing to ``topic`` (key: the subscription id), waiting for the ack."""
    def send(letter: DeadLetter) -> None:
        key = (letter.subscription_id or "").encode() or None
        producer.send(Record(topic, key, letter.to_json(), headers=(("reason", letter.reason.encode()[:1000]),)))
    return send


class WebhookWorker:
    """Consumes the changes and alerts topics in consumer group ``config.group_id`` and dispatches each batch,
    committing after it; on an error the consumer is rebuilt (re-reading from the last commit)."""

    def __init__(self, settings: KafkaSettings, serde: AvroSerde, dispatcher: Dispatcher, config: WebhookConfig,
                 *, changes_topic: str = "customer.changes", alerts_topic: str = "customer.alerts",
                 poll_ms: int = 500, retry_s: float = 5.0) -> None:
        self.settings, self.serde, self.dispatcher, self.config = settings, serde, dispatcher, config
        self.kinds: dict[str, Kind] = {changes_topic: "change", alerts_topic: "alert"}
        self.poll_ms, self.retry_s = poll_ms, retry_s
        self.commits = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="crmhub-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self.dispatcher.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.dispatcher.close()

    def _consumer(self) -> Consumer:
        return Consumer(self.settings, self.config.group_id, topics=list(self.kinds),
                        auto_offset_reset=self.config.start_from, client_id=f"{self.settings.client_id}-webhooks")

    def _ensure_dlq(self) -> None:
        admin = Admin(self.settings)  # topics are not auto-created: make the dead-letter topic like runners do
        try:
            admin.ensure_topic(self.config.dlq_topic)
        finally:
            admin.close()

    def _run(self) -> None:
        consumer: Consumer | None = None
        while not self._stop.is_set():
            try:
                if consumer is None:
                    self._ensure_dlq()
                    consumer = self._consumer()
                messages = consumer.poll(self.poll_ms, max_records=500)
                if messages:
                    self.process(messages)
                    consumer.commit()
                    self.commits += 1
            except WorkerStopping:
                break
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.error("webhook.worker_error", error=self.last_error)
                if consumer is not None:
                    consumer.close()
                    consumer = None
                self._stop.wait(self.retry_s)
        if consumer is not None:
            consumer.close()

    def process(self, messages: Sequence[Message]) -> None:
        """Decode a batch (undecodable records are dead-lettered) and dispatch it."""
        events: list[StreamEvent] = []
        for msg in messages:
            try:
                event = decode_message(msg, self.kinds[msg.topic], self.serde)
            except SkippableError as exc:
                ev_id = f"{msg.topic}-{msg.partition}-{msg.offset}"
                self.dispatcher.dead_letter(DeadLetter(None, None, f"undecodable: {exc}", 0, ev_id,
                                                       {"topic": msg.topic, "partition": msg.partition,
                                                        "offset": msg.offset}))
                continue
            if event is not None:
                events.append(event)
        if events:
            self.dispatcher.dispatch(events)
