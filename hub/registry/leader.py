"""One writer per registry topic, elected through Kafka's group membership protocol: every registry of a
``cluster.group`` joins the group ``crmhub-registry-<group>`` on a one-partition topic; the member the
coordinator gives the partition to is the leader and writes the ``_schemas`` topic (so ids are handed out once);
the others serve reads from their own copy of the topic and forward every change (POST, PUT, DELETE) to the
leader, whose URL they read from its member's client id. A leader that dies or leaves is replaced within the
group's session timeout; meanwhile changes are answered 503 (clients retry), reads go on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from typing import Any

import httpx
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.kafka.clients import KafkaSettings
from hub.kafka.group import GroupMember, ensure_work_topic, group_id, members, work_topic
from hub.kafka.settings import ClusterConfig
from hub.registry.store import SchemaStore
from schemas.errors import RetriableError

log = structlog.get_logger(__name__)
_PREFIX = "crmhub-registry@"
_WRITES = frozenset({"POST", "PUT", "DELETE"})
_HOP = frozenset({"host", "content-length", "connection", "transfer-encoding"})


def leader_group(group: str) -> str:
    return f"registry-{group}"


class Leadership:
    """This registry's membership: ``leading`` while the group gives it the partition; ``leader_url`` else."""

    def __init__(self, settings: KafkaSettings, config: ClusterConfig, url: str, store: SchemaStore) -> None:
        assert config.group is not None
        self.url = url
        self.store = store
        self._stopped = threading.Event()
        self.group = leader_group(config.group)
        self.leading = False
        self.settings = settings
        self._cache: tuple[float, str | None] = (0.0, None)
        topic = work_topic(self.group)
        ensure_work_topic(settings, topic, 1)
        own = dataclasses.replace(settings, client_id=_PREFIX + url)
        self.member = GroupMember(own, group_id(self.group), topic, self._won, self._lost,
                                  session_timeout_ms=config.session_timeout_ms,
                                  heartbeat_interval_ms=config.heartbeat_interval_ms)

    def start(self, elected_within_s: float = 30.0) -> None:
        """Join, and wait until the group has a leader (this registry or another) before serving."""
        self.member.start()
        threading.Thread(target=self._follow, name=f"registry-follow-{self.group}", daemon=True).start()
        deadline = time.monotonic() + elected_within_s
        while not self.leading and time.monotonic() < deadline:
            if self.leader_url() is not None:
                return
            time.sleep(0.2)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopped.set()
        self.member.stop(timeout)

    def _follow(self) -> None:
        """While another registry writes: take its changes every second."""
        while not self._stopped.wait(1.0):
            if not self.leading:
                try:
                    self.store.reload()
                except Exception as exc:  # the broker away: the next round tries again
                    log.warning("registry.reload_failed", error=str(exc)[:200])

    def _won(self, _: set[int]) -> None:
        self.store.reload()  # everything the previous leader wrote, before this one hands out an id
        self.leading = True
        log.info("registry.leader", url=self.url, group=self.group)

    def _lost(self, _: set[int]) -> None:
        self.leading = False

    def leader_url(self) -> str | None:
        """The leader's URL as the group coordinator sees it (cached for a second); None if there is none."""
        at, url = self._cache
        if time.monotonic() - at < 1.0 and url is not None:
            return url
        try:
            _, workers = members(self.settings, self.group)
        except RetriableError:  # no coordinator for the group yet, or the broker away: no leader known
            return None
        url = next((client[len(_PREFIX):] for client, _host, parts in workers
                    if 0 in parts and client.startswith(_PREFIX)), None)
        self._cache = (time.monotonic(), url)
        return url


class ForwardWrites:
    """ASGI middleware of a registry: changes go to the leader unless this registry leads (inside the guard,
    so a caller is authenticated here before the leader checks it again)."""

    def __init__(self, app: ASGIApp, leadership: Leadership) -> None:
        self.app = app
        self.leadership = leadership

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WRITES or self.leadership.leading:
            await self.app(scope, receive, send)
            return
        leader = self.leadership.leader_url()
        if leader is None or leader == self.leadership.url:
            await _answer(send, 503, b'{"error_code": 50003, "message": "no registry leader elected yet; retry"}')
            return
        body = b""
        while True:
            message: Message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"] if k.decode().lower() not in _HOP]
        target = leader + scope["path"] + (f"?{scope['query_string'].decode()}" if scope["query_string"] else "")
        try:
            async with httpx.AsyncClient(timeout=10.0) as client:
                answer = await client.request(scope["method"], target, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("registry.forward_failed", leader=leader, error=type(exc).__name__)
            await _answer(send, 503, b'{"error_code": 50003, "message": "the registry leader did not answer; retry"}')
            return
        if answer.status_code < 300:  # what this registry answers next includes the change
            await asyncio.to_thread(self.leadership.store.reload)
        await _answer(send, answer.status_code, answer.content, answer.headers.get("content-type"))


async def _answer(send: Send, status: int, body: bytes, content_type: str | None = None) -> None:
    headers: list[Any] = [(b"content-type", (content_type or "application/vnd.schemaregistry.v1+json").encode()),
                          (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
