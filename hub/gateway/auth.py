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
from dataclasses import dataclass, field
from typing import Any

import structlog
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.gateway.policy import FieldPolicy
from hub.gateway.settings import GROUPS, GatewayRole
from hub.gateway.tokens import TokenRegistry
from pipelines.identity import MatchConfig
from pipelines.store.engine import Store

log = structlog.get_logger(__name__)

AUTH_HEADERS = {"WWW-Authenticate": 'Bearer realm="crmhub"'}
_bearer = HTTPBearer(auto_error=False, description="An API token from `crmhub token create`.")


@dataclass
class GatewayContext:
    """What every request needs: the store, the tokens, the roles (kept on ``app.state.gateway``)."""

    store: Store
    tokens: TokenRegistry
    roles: dict[str, GatewayRole]
    match: MatchConfig = field(default_factory=MatchConfig)


@dataclass(frozen=True)
class Principal:
    """The caller: the token's name and role, the role's endpoint groups and field policy."""

    name: str
    role: str
    groups: frozenset[str]
    policy: FieldPolicy


def gateway_context(request: Request) -> GatewayContext:
    ctx: GatewayContext = request.app.state.gateway
    return ctx


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers=AUTH_HEADERS)


def authenticate(request: Request,
                 credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    """The caller of ``request`` (401 without a known bearer token); kept on ``request.state.principal``.
    ``GET /stream`` also takes ``?access_token=``: a browser's EventSource cannot send headers (the audit log
    and request logs never keep it)."""
    token = credentials.credentials if credentials is not None else None
    if not token and request.url.path == "/stream":
        token = request.query_params.get("access_token")
    if not token:
        raise _unauthorized("missing bearer token (Authorization: Bearer <token>)")
    ctx = gateway_context(request)
    entry = ctx.tokens.lookup(token)
    if entry is None:
        log.info("gateway.unknown_token", path=request.url.path)
        raise _unauthorized("unknown or revoked token")
    role = ctx.roles.get(entry.role)
    groups = frozenset(role.allow) if role is not None else frozenset()
    policy = FieldPolicy.of(role) if role is not None else FieldPolicy()
    principal = Principal(entry.name, entry.role, groups, policy)
    request.state.principal = principal
    if role is None:
        log.warning("gateway.role_not_configured", client=entry.name, role=entry.role)
        raise HTTPException(403, f"role '{entry.role}' of token '{entry.name}' is not configured")
    return principal


def require(group: str) -> Callable[..., Any]:
    """A FastAPI dependency: the caller, if their role may call endpoints of ``group`` (else 401/403)."""
    if group not in GROUPS:
        raise ValueError(f"unknown endpoint group {group!r} (known: {', '.join(GROUPS)})")

    def dependency(principal: Principal = Depends(authenticate)) -> Principal:
        if group not in principal.groups:
            raise HTTPException(403, f"role '{principal.role}' may not call {group} endpoints")
        return principal

    dependency.__name__ = f"require_{group}"
    return dependency


def record_golden_ids(request: Request, ids: list[str] | set[str] | tuple[str, ...]) -> None:
    """Name the golden records a response discloses (the audit row lists them)."""
    seen: list[str] = list(getattr(request.state, "golden_ids", []))
    seen.extend(i for i in ids if i and i not in seen)
    request.state.golden_ids = seen
