"""Who is calling, and may they: bearer tokens, roles, endpoint groups.

Every protected route depends on ``require(group)``; routers written elsewhere (the live stream, webhooks)
use the same dependency and get the same checks, the same field policy and the same audit row::

    router = APIRouter()

    @router.get("/stream")
    def stream(principal: Principal = Depends(require("stream"))) -> ...: ...

No or an unknown token: 401 with ``WWW-Authenticate: Bearer``; a role without the group: 403. Log lines name
the token by its name under ``client=`` (a key with "token" in it would be masked by the log's secret filter),
never the token itself.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import structlog
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy import Connection
from starlette.requests import HTTPConnection

from hub.gateway.audit_writer import AuditWriter
from hub.gateway.policy import FieldPolicy
from hub.gateway.reads import StoreReads
from hub.gateway.settings import GROUPS, GatewayRole
from hub.gateway.tokens import TokenRegistry
from pipelines.identity import MatchConfig
from pipelines.store.engine import Store

log = structlog.get_logger(__name__)
T = TypeVar("T")

AUTH_HEADERS = {"WWW-Authenticate": 'Bearer realm="crmhub"'}
#: Paths that also take the token as ``?access_token=``: Server-Sent Events, which a browser's EventSource opens
#: without a way to send headers.
QUERY_TOKEN_PATHS = frozenset({"/stream", "/live"})
_bearer = HTTPBearer(auto_error=False, description="An API token from `crmhub token create`.")


@dataclass
class GatewayContext:
    """What every request needs: the store, the tokens, the roles (kept on ``app.state.gateway``), and the
    audit writer. Each role's endpoint groups and field policy are computed once, here."""

    store: Store
    tokens: TokenRegistry
    roles: dict[str, GatewayRole]
    match: MatchConfig = field(default_factory=MatchConfig)
    audit: AuditWriter | None = None
    reads: StoreReads | None = None
    grants: dict[str, tuple[frozenset[str], FieldPolicy]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.grants = {name: (frozenset(role.allow), FieldPolicy.of(role)) for name, role in self.roles.items()}

    def read(self) -> AbstractContextManager[Connection]:
        """A read transaction for one request, in a worker thread (on reused connections, see ``reads.py``)."""
        return self.reads.read() if self.reads is not None else self.store.read()

    async def lookup(self, fn: Callable[[Connection], T]) -> T:
        """``fn(conn)`` in a read transaction, for point look-ups from ``async`` routes (see ``reads.py``)."""
        if self.reads is not None:
            return await self.reads.lookup(fn)

        def call() -> T:
            with self.store.read() as conn:
                return fn(conn)

        return await anyio.to_thread.run_sync(call)


@dataclass(frozen=True)
class Principal:
    """The caller: the token's name and role, the role's endpoint groups and field policy."""

    name: str
    role: str
    groups: frozenset[str]
    policy: FieldPolicy


def gateway_context(request: HTTPConnection) -> GatewayContext:
    ctx: GatewayContext = request.app.state.gateway
    return ctx


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers=AUTH_HEADERS)


def _principal(request: HTTPConnection, token: str | None) -> Principal:
    if not token and request.url.path in QUERY_TOKEN_PATHS:
        token = request.query_params.get("access_token")
    if not token:
        raise _unauthorized("missing bearer token (Authorization: Bearer <token>)")
    ctx = gateway_context(request)
    entry = ctx.tokens.lookup(token)
    if entry is None:
        log.info("gateway.unknown_token", path=request.url.path)
        raise _unauthorized("unknown or revoked token")
    grant = ctx.grants.get(entry.role)
    groups, policy = grant if grant is not None else (frozenset(), FieldPolicy())
    principal = Principal(entry.name, entry.role, groups, policy)
    request.state.principal = principal
    if grant is None:
        log.warning("gateway.role_not_configured", client=entry.name, role=entry.role)
        raise HTTPException(403, f"role '{entry.role}' of token '{entry.name}' is not configured")
    return principal


async def authenticate(request: Request,
                       credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    """The caller of ``request`` (401 without a known bearer token); kept on ``request.state.principal``.
    The paths of :data:`QUERY_TOKEN_PATHS` also take ``?access_token=``: a browser's EventSource cannot send
    headers (the audit log and request logs never keep it). Runs on the event loop: the token check is a dict
    look-up (``tokens.py``)."""
    return _principal(request, credentials.credentials if credentials is not None else None)


class _Require(HTTPBearer):
    """``require(group)``: bearer token, caller and permission in one dependency (one step of FastAPI's
    dependency solving per request instead of three); documented in OpenAPI as the same ``HTTPBearer`` scheme."""

    def __init__(self, group: str) -> None:
        super().__init__(auto_error=False, scheme_name="HTTPBearer", description=_bearer.model.description)
        self.group = group

    async def __call__(self, request: HTTPConnection) -> Principal:  # type: ignore[override]
        scheme, credentials = get_authorization_scheme_param(request.headers.get("Authorization"))
        principal = _principal(request, credentials if scheme.lower() == "bearer" and credentials else None)
        if self.group not in principal.groups:
            raise HTTPException(403, f"role '{principal.role}' may not call {self.group} endpoints")
        return principal


def require(group: str) -> Callable[..., Any]:
    """A FastAPI dependency: the caller, if their role may call endpoints of ``group`` (else 401/403)."""
    if group not in GROUPS:
        raise ValueError(f"unknown endpoint group {group!r} (known: {', '.join(GROUPS)})")
    return _Require(group)


def record_golden_ids(request: Request, ids: list[str] | set[str] | tuple[str, ...]) -> None:
    """Name the golden records a response discloses (the audit row lists them)."""
    seen: list[str] = list(getattr(request.state, "golden_ids", []))
    seen.extend(i for i in ids if i and i not in seen)
    request.state.golden_ids = seen
