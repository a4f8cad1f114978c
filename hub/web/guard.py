"""The checks every request to a crmhub server passes before a route runs, in this order:

1. ``Host`` must name this server: a loopback name, the configured host or one of ``allowed_hosts`` (else 400),
   so a page whose DNS name was rebound to 127.0.0.1 cannot talk to it. A browser's ``Origin``, when sent,
   must name an allowed host too (else 403): a cross-site page gets no answer.
2. A body larger than ``max_body_bytes`` is refused by its ``Content-Length`` (413), before anything reads it.
3. With an :class:`~hub.web.access.Access`: a path that is not public needs a known token (401 with
   ``WWW-Authenticate``), and the role must have the group the call needs (403). Both are decided before the
   body is read or parsed, and both refusals are audited.
4. A POST, and any call with a body, must declare a JSON content type (``application/json``,
   ``application/*+json``) or carry ``X-Requested-With``: a cross-site form, ``text/plain`` or empty POST can
   do neither without a CORS preflight, which no crmhub server answers (415). PUT, PATCH and DELETE are
   preflighted by browsers whatever they carry.
5. The body of such a call is read up to the limit (413 beyond it, whatever ``Content-Length`` said) and one
   nested deeper than ``max_json_depth`` is refused (400) before a parser recurses into it. Other bodies are
   cut at the limit.

Every answer carries ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``, ``Referrer-Policy:
no-referrer`` and a ``Content-Security-Policy``: pages get scripts, styles and connections from the server
itself only; API answers get none at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.web.access import SAFE_METHODS, Access, Caller, credentials_of, strip_token
from hub.web.settings import LOOPBACK_NAMES, HttpSettings

log = structlog.get_logger(__name__)

PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# the interactive API docs: Swagger UI and ReDoc served by the server itself (fastapi-offline), started by an
# inline script
DOCS_CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc")
_SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                     (b"referrer-policy", b"no-referrer")]
_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+\+)?json$")
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text: str) -> int:
    """How deeply the arrays and objects of JSON ``text`` nest (brackets inside strings do not count)."""
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    return max(accumulate(_DEPTH_STEP[c] for c in brackets), default=0)


def host_name(header: str) -> str:
    """The name of a ``Host`` header value or an origin's authority, without port and brackets, lower case."""
    value = header.strip().lower()
    if "://" in value:
        value = value.split("://", 1)[1].split("/", 1)[0]
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def allowed_hosts(settings: HttpSettings, bound_host: str) -> frozenset[str]:
    """The ``Host`` names a server bound to ``bound_host`` answers: loopback names, its own host and
    ``allowed_hosts`` ('*' among them: any)."""
    names = {*LOOPBACK_NAMES, host_name(bound_host), *(host_name(h) if h != "*" else "*"
                                                      for h in settings.allowed_hosts)}
    return frozenset(n for n in names if n not in ("", "0.0.0.0", "::"))


def is_json_type(content_type: str) -> bool:
    return bool(_JSON_TYPE.match(content_type.split(";", 1)[0].strip().lower()))


@dataclass(frozen=True)
class _Refusal:
    status: int
    error: str
    message: str
    headers: tuple[tuple[bytes, bytes], ...] = ()


class _TooLarge(Exception):
    pass


class HttpGuard:
    """ASGI middleware running the checks of the module doc; ``access`` None: no token is asked for. The caller
    found is kept in ``scope["state"]["caller"]``."""

    def __init__(self, app: ASGIApp, settings: HttpSettings, bound_host: str = "127.0.0.1",
                 access: Access | None = None, realm: str = "crmhub") -> None:
        self.app, self.settings, self.access = app, settings, access
        self.hosts = allowed_hosts(settings, bound_host)
        self.any_host = "*" in self.hosts
        self.challenge = (b"www-authenticate", f'Bearer realm="{realm}"'.encode()
                          if access is None or not access.basic else f'Basic realm="{realm}"'.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        path: str = scope["path"]
        refusal = self._check_request(scope, headers, path)
        if refusal is not None:
            await self._refuse(scope, send, refusal, path)
            return
        if scope["method"] not in SAFE_METHODS:
            try:
                body = await self._read_body(receive)
            except _TooLarge:
                await self._refuse(scope, send, self._too_large(), path)
                return
            if body and json_depth(body.decode("utf-8", "replace")) > self.settings.max_json_depth:
                await self._refuse(scope, send, _Refusal(400, "bad_request", "the JSON body nests deeper than "
                                                         f"{self.settings.max_json_depth} levels"), path)
                return
            receive = _replay(body, receive)
        else:
            receive = self._limited(receive)
        await self.app(scope, receive, self._secured(scope, send, path))

    def _check_request(self, scope: Scope, headers: dict[str, str], path: str) -> _Refusal | None:
        if not self.any_host and host_name(headers.get("host", "")) not in self.hosts:
            return _Refusal(400, "bad_request", "this server does not answer to that Host name "
                                                "(see allowed_hosts in its http settings)")
        origin = headers.get("origin")
        if origin is not None and not self.any_host and host_name(origin) not in self.hosts:
            return _Refusal(403, "forbidden", "cross-origin requests are not answered")
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.settings.max_body_bytes):
            return self._too_large()
        refusal = self._check_caller(scope, headers, path)
        if refusal is not None:
            return refusal
        has_body = length not in (None, "0") or "transfer-encoding" in headers
        if (scope["method"] == "POST" or (has_body and scope["method"] not in SAFE_METHODS)) and (
                "x-requested-with" not in headers and not is_json_type(headers.get("content-type", ""))):
            return _Refusal(415, "unsupported_media_type", "a call that changes something needs Content-Type: "
                                                           "application/json (or an X-Requested-With header)")
        return None

    def _check_caller(self, scope: Scope, headers: dict[str, str], path: str) -> _Refusal | None:
        access = self.access
        if access is None or access.public(path):
            return None
        caller = access.identify(credentials_of(headers.get("authorization"), scope.get("query_string", b""),
                                                path, access))
        if caller is None:
            return _Refusal(401, "unauthorized", "a known token is needed (Authorization: Bearer <token>)",
                            (self.challenge,))
        scope.setdefault("state", {})["caller"] = caller
        group = access.group_of(scope["method"], path) if access.group_of is not None else None
        if group is not None and not access.allows(caller, group):
            return _Refusal(403, "forbidden", f"role '{caller.role}' may not call {group} endpoints")
        return None

    def _too_large(self) -> _Refusal:
        return _Refusal(413, "request_entity_too_large", f"the body is larger than {self.settings.max_body_bytes} "
                                                         "bytes")

    async def _read_body(self, receive: Receive) -> bytes:
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.settings.max_body_bytes:
                raise _TooLarge
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    def _limited(self, receive: Receive) -> Receive:
        seen = 0
        limit = self.settings.max_body_bytes

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    return {"type": "http.disconnect"}  # the app stops reading; nothing past the limit is parsed
            return message

        return limited

    def _secured(self, scope: Scope, send: Send, path: str) -> Send:
        csp = _csp(path)
        access = self.access
        audit = access.audit if access is not None and access.audit_answers else None

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *_SECURITY_HEADERS,
                                                  (b"content-security-policy", csp)]}
                caller = scope.get("state", {}).get("caller")
                if audit is not None and caller is not None:
                    audit(caller, scope["method"], path, _query(scope), int(message["status"]))
            await send(message)

        return secured

    async def _refuse(self, scope: Scope, send: Send, refusal: _Refusal, path: str) -> None:
        caller: Caller | None = scope.get("state", {}).get("caller")
        access = self.access
        if access is not None and access.audit is not None and refusal.status in (401, 403):
            access.audit(caller, scope["method"], path, _query(scope), refusal.status)
        log.info("http.refused", status=refusal.status, method=scope["method"], path=path,
                 client=caller.name if caller else None)
        body = json.dumps({"error": refusal.error, "message": refusal.message}).encode()
        await send({"type": "http.response.start", "status": refusal.status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                *refusal.headers, *_SECURITY_HEADERS, (b"content-security-policy", API_CSP.encode())]})
        await send({"type": "http.response.body", "body": body})


def _csp(path: str) -> bytes:
    if path.startswith("/ui/") or path == "/ui":
        return PAGE_CSP.encode()
    if path.startswith(DOCS_PATHS):
        return DOCS_CSP.encode()
    return API_CSP.encode()


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read already, then what the client sends next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _query(scope: Scope) -> str | None:
    raw: bytes = scope.get("query_string", b"")
    return strip_token(raw.decode("latin-1")) or None if raw else None


@dataclass(frozen=True)
class GuardSpec:
    """What :func:`install_guard` puts in front of an app: the settings, the host the server binds (its own name
    is answered), who may call (None: no token asked for) and what to close when the server stops."""

    settings: HttpSettings = field(default_factory=HttpSettings)
    host: str = "127.0.0.1"
    access: Access | None = None
    on_stop: tuple[Callable[[], object], ...] = ()
    realm: str = "crmhub"


def install_guard(app: Any, spec: GuardSpec | None) -> None:
    """Put :class:`HttpGuard` outside every other middleware of ``app`` (a FastAPI or Starlette app); None: the
    default checks without tokens. ``spec.on_stop`` goes to ``app.state.on_stop`` (run by the server's stop)."""
    spec = spec if spec is not None else GuardSpec()
    app.add_middleware(HttpGuard, settings=spec.settings, bound_host=spec.host, access=spec.access,
                       realm=spec.realm)
    app.state.on_stop = list(spec.on_stop)
