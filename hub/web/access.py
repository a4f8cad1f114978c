"""Who is calling an HTTP surface, and may they: the credentials of a request, the caller they name, the endpoint
group a call needs.

Credentials travel as ``Authorization: Bearer <token>``, or (where :attr:`Access.basic` allows it, the schema
registry) as HTTP basic with the token's name as user and the token as password, which is what Confluent's
clients send (``basic.auth.user.info = name:token``). Paths named in :attr:`Access.query_token_paths` also take
``?access_token=`` (a browser's EventSource cannot send headers). Tokens are looked up in the gateway's token
registry (``hub/gateway/tokens.py``) and in :attr:`Access.extra` (the hub's own service token); a token never
leaves this module: callers are named by the token's name.

The service token lets the hub's own processes (connectors, pipelines, the demo's stage processes) call the
registry the hub serves: 32 random bytes in a file beside the tokens file (mode 0600), created by the first
process that needs it and read by the others on the same machine.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote_plus

SERVICE_NAME = "crmhub-service"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Caller:
    """A known token's name and role (never the token)."""

    name: str
    role: str


class TokenLookup(Protocol):
    """The gateway's token registry: an entry with ``name`` and ``role`` for a known token, else None."""

    def lookup(self, token: str) -> Any: ...


class AuditSink(Protocol):
    """Records one call: who (None: no known token), method, path, query (without secrets), status."""

    def __call__(self, caller: Caller | None, method: str, path: str, query: str | None, status: int) -> None: ...


GroupRule = Callable[[str, str], "str | None"]


@dataclass(frozen=True)
class Access:
    """How a surface checks its callers. ``grants``: role -> endpoint groups; ``group_of(method, path)``: the
    group a call needs (None: the route checks it itself, as the gateway's do); ``public(path)``: answered
    without a token; ``audit``: where refusals (and, with ``audit_answers``, every answered call) go."""

    tokens: TokenLookup
    grants: Mapping[str, frozenset[str]]
    group_of: GroupRule | None = None
    public: Callable[[str], bool] = lambda _path: False
    extra: Mapping[str, Caller] = field(default_factory=dict)  # sha256 of a token -> its caller
    basic: bool = False
    query_token_paths: frozenset[str] = frozenset()
    audit: AuditSink | None = None
    audit_answers: bool = False

    def identify(self, credentials: tuple[str, str | None] | None) -> Caller | None:
        """The caller of ``(token, basic user or None)``; None when unknown (or the basic user is not the
        token's name)."""
        if credentials is None:
            return None
        token, user = credentials
        known = self.extra.get(hash_token(token))
        if known is None:
            entry = self.tokens.lookup(token)
            known = Caller(str(entry.name), str(entry.role)) if entry is not None else None
        if known is None or (user is not None and user != known.name):
            return None
        return known

    def allows(self, caller: Caller, group: str) -> bool:
        return group in self.grants.get(caller.role, frozenset())


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def credentials_of(authorization: str | None, query: bytes, path: str, access: Access
                   ) -> tuple[str, str | None] | None:
    """``(token, basic user)`` from an ``Authorization`` header (Bearer; Basic if ``access.basic``), or from
    ``?access_token=`` on the paths that take it; None without usable credentials."""
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer" and value:
            return value, None
        if scheme.lower() == "basic" and value and access.basic:
            try:
                user, sep, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return (password, user) if sep and password else None
        return None
    if path in access.query_token_paths and query:
        for key, val in parse_qsl(query.decode("latin-1")):
            if key == "access_token" and val:
                return val, None
    return None


def strip_token(query: str) -> str:
    """The query string without an ``access_token`` parameter (a secret, never stored or logged), however its
    name is encoded (``access%5Ftoken`` is the same parameter to the server)."""
    return "&".join(p for p in query.split("&") if p and unquote_plus(p.split("=", 1)[0]) != "access_token")


def read_or_create_service_token(path: Path) -> str:
    """The hub's service token kept in ``path`` (created with mode 0600 when missing)."""
    try:
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    token = "crmhub_svc_" + secrets.token_urlsafe(32)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    try:
        os.link(tmp, path)  # fails if another process created it meanwhile: use theirs
    except FileExistsError:
        token = path.read_text(encoding="utf-8").strip()
    finally:
        tmp.unlink(missing_ok=True)
    return token
