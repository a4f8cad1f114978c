"""Webhook subscriptions: a filter, a target URL and a secret each, kept in a JSON file (mode 0600, replaced in
one step on each write, re-read when it changes), and their REST API (``POST /webhooks`` answers the secret
once; ``GET``, ``DELETE /webhooks/{id}``). Delivery is :mod:`hub.gateway.webhooks`.

A subscription belongs to the token that created it (its name is the ``owner``): a caller lists, reads and
deletes its own subscriptions only (another's answers 404), a role with the ``manage`` group (admin) all of
them. The target must pass :class:`hub.gateway.webhook_targets.TargetPolicy` when it is created (422 if not)
and again at each delivery."""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field

from hub.gateway.stream import EventFilter
from hub.gateway.webhook_targets import TargetPolicy, TargetRefused


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000)]
    secret: Annotated[str | None, Field(min_length=16, max_length=512)] = None
    filter: EventFilter = Field(default_factory=EventFilter)
    description: Annotated[str, Field(max_length=500)] = ""


class Subscription(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    url: str
    secret: str
    filter: EventFilter = Field(default_factory=EventFilter)
    description: str = ""
    role: str | None = None  # the creator's role, for redaction of what is delivered
    owner: str | None = None  # the creator's token name: who may see and delete it
    created_ms: int = 0

    def public(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"secret"})


class WebhookStore:
    """Subscriptions in a JSON file (a list of objects), re-read when the file changes; thread-safe."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._subs: dict[str, Subscription] = {}
        self._stamp: tuple[int, int] | None = None

    def _reload(self) -> None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._subs, self._stamp = {}, None
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            items = json.loads(self.path.read_text(encoding="utf-8") or "[]")
            self._subs = {s.id: s for s in (Subscription.model_validate(i) for i in items)}
            self._stamp = stamp

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump([s.model_dump(mode="json") for s in self._subs.values()], f, indent=1)
        os.replace(tmp, self.path)
        st = self.path.stat()
        self._stamp = (st.st_mtime_ns, st.st_size)

    def list(self) -> list[Subscription]:
        with self._lock:
            self._reload()
            return list(self._subs.values())

    def add(self, new: SubscriptionIn, role: str | None = None, owner: str | None = None) -> Subscription:
        sub = Subscription(id=uuid.uuid4().hex[:16], url=new.url, secret=new.secret or secrets.token_urlsafe(32),
                           filter=new.filter, description=new.description, role=role, owner=owner,
                           created_ms=int(time.time() * 1000))
        with self._lock:
            self._reload()
            self._subs[sub.id] = sub
            self._save()
        return sub

    def delete(self, sub_id: str) -> bool:
        with self._lock:
            self._reload()
            if self._subs.pop(sub_id, None) is None:
                return False
            self._save()
            return True


def _no_auth() -> None:
    return None


def _role_attr(principal: Any) -> str | None:
    role = getattr(principal, "role", None)
    return role if isinstance(role, str) else None


def _name_attr(principal: Any) -> str | None:
    name = getattr(principal, "name", None)
    return name if isinstance(name, str) else None


def _sees_all(principal: Any) -> bool:
    return principal is None or "manage" in getattr(principal, "groups", ())


def webhooks_router(store: WebhookStore, auth_dependency: Callable[..., Any] | None = None, *,
                    role_of: Callable[[Any], str | None] | None = _role_attr,
                    targets: TargetPolicy | None = None) -> APIRouter:
    """``POST /webhooks`` (201, the subscription with its secret), ``GET /webhooks``, ``GET /webhooks/{id}``,
    ``DELETE /webhooks/{id}`` (204; 404 if unknown or another's). ``auth_dependency`` (e.g.
    ``require("webhooks")``) guards every route; ``role_of(principal)`` (default: ``principal.role``) is stored
    with the subscription and names the field policy its deliveries get (see :func:`role_redactor`), the
    principal's ``name`` is its owner. ``targets``: the target check (default: public addresses only)."""
    router = APIRouter(tags=["webhooks"])
    targets = targets if targets is not None else TargetPolicy()

    auth = auth_dependency or _no_auth

    def visible(principal: Any) -> list[Subscription]:
        subs = store.list()
        return subs if _sees_all(principal) else [s for s in subs if s.owner == _name_attr(principal)]

    @router.post("/webhooks", status_code=201)
    def create(body: SubscriptionIn, principal: Any = Depends(auth)) -> dict[str, Any]:
        try:
            targets.check(body.url)
        except TargetRefused as exc:
            raise HTTPException(422, f"url: {exc}") from None
        sub = store.add(body, role_of(principal) if role_of else None, _name_attr(principal))
        return {**sub.public(), "secret": sub.secret}

    @router.get("/webhooks")
    def list_all(principal: Any = Depends(auth)) -> list[dict[str, Any]]:
        return [s.public() for s in visible(principal)]

    @router.get("/webhooks/{sub_id}")
    def get_one(sub_id: str, principal: Any = Depends(auth)) -> dict[str, Any]:
        sub = next((s for s in visible(principal) if s.id == sub_id), None)
        if sub is None:
            raise HTTPException(404, f"no webhook subscription {sub_id!r}")
        return sub.public()

    @router.delete("/webhooks/{sub_id}", status_code=204)
    def delete(sub_id: str, principal: Any = Depends(auth)) -> Response:
        if not any(s.id == sub_id for s in visible(principal)) or not store.delete(sub_id):
            raise HTTPException(404, f"no webhook subscription {sub_id!r}")
        return Response(status_code=204)

    return router
