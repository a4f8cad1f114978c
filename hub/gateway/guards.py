"""The guard of each HTTP surface, built from the config: the gateway's tokens and roles for all three.

======== ============================= ==================== ======================= ===========================
surface  answered without a token      reads need group     changes need group      audit log
======== ============================= ==================== ======================= ===========================
gateway  /health, /asyncapi.json, the  (each route's own)   (each route's own)      every call with a known
         pages, the API docs                                                        token, refusals (401, 403)
admin    the API docs                  ``ops``              ``manage``              every call and refusal
registry ``/``, the API docs           ``schemas``          ``manage``              every call and refusal
======== ============================= ==================== ======================= ===========================

Registry reads include ``POST /subjects/{subject}`` (look a schema up) and ``POST /compatibility/...`` (test
one): they change nothing. The admin API and the registry take ``auth: none`` only when the config says so
(``crmhub check`` warns when such a server listens beyond loopback). The audit rows go to the golden-record
store's ``audit_log`` when the config has ``pipelines:`` (``GET /audit`` shows them), else to the log
(``http.audit`` lines). The hub's own processes call the registry with the service token
(:func:`service_token`), accepted as ``crmhub-service`` with the ``admin`` role.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import structlog

from hub.config import HubConfig
from hub.gateway.audit_writer import AuditEntry, AuditWriter
from hub.gateway.auth import QUERY_TOKEN_PATHS
from hub.gateway.tokens import TokenRegistry
from hub.gateway.webhook_targets import TargetPolicy, local_addresses
from hub.web.access import SAFE_METHODS, SERVICE_NAME, Access, Caller, hash_token, read_or_create_service_token
from hub.web.guard import GuardSpec
from hub.web.settings import HttpSettings, is_loopback_host

log = structlog.get_logger(__name__)

DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
DOCS_ASSETS = "/static-offline-docs/"  # Swagger UI and ReDoc, served by the server itself (fastapi-offline)
GATEWAY_PUBLIC = DOCS_PATHS | {"/", "/health", "/asyncapi.json", "/ui"}


def docs_public(path: str) -> bool:
    return path in DOCS_PATHS or path.startswith(DOCS_ASSETS)


def gateway_public(path: str) -> bool:
    return path in GATEWAY_PUBLIC or path.startswith(("/ui/", DOCS_ASSETS))


def admin_group(method: str, _path: str) -> str:
    return "ops" if method in SAFE_METHODS else "manage"


def registry_group(method: str, path: str) -> str:
    """``schemas`` for what reads (GET, a look-up, a compatibility test), ``manage`` for what changes."""
    parts = path.strip("/").split("/")
    if method in SAFE_METHODS or (method == "POST" and (parts[0] == "compatibility"
                                                       or (parts[0] == "subjects" and len(parts) == 2))):
        return "schemas"
    return "manage"


def service_token_file(cfg: HubConfig) -> Path:
    """Where the hub's service token is kept: beside the tokens file."""
    return cfg.gateway.tokens_file.with_name("service-token")


def service_token(cfg: HubConfig) -> str:
    return read_or_create_service_token(service_token_file(cfg))


def grants(cfg: HubConfig) -> dict[str, frozenset[str]]:
    return {name: frozenset(role.allow) for name, role in cfg.gateway.effective_roles().items()}


class StoreAudit:
    """Audit sink writing rows through an :class:`AuditWriter` (the caller ``-`` when no known token)."""

    def __init__(self, writer: AuditWriter) -> None:
        self.writer = writer

    def __call__(self, caller: Caller | None, method: str, path: str, query: str | None, status: int) -> None:
        entry = AuditEntry(caller.name if caller else "-", caller.role if caller else "-", method, path, query,
                           status)
        if not self.writer.offer(entry):
            log.warning("http.audit_queue_full", method=method, path=path, status=status)


def log_audit(caller: Caller | None, method: str, path: str, query: str | None, status: int) -> None:
    """Audit sink writing one ``http.audit`` log line (a config without a store)."""
    log.info("http.audit", client=caller.name if caller else None, role=caller.role if caller else None,
             method=method, path=path, query=query, status=status)


def _store_audit(cfg: HubConfig) -> tuple[Callable[..., None], tuple[Callable[[], object], ...]]:
    if cfg.pipelines is None:
        return log_audit, ()
    from hub.pipeline_setup import open_store, pipelines_conf

    store = open_store(pipelines_conf(cfg))
    writer = AuditWriter(store)

    def close() -> None:
        writer.close()
        store.dispose()

    return StoreAudit(writer), (close,)


def _guard(cfg: HubConfig, host: str, http: HttpSettings, group_of: Callable[[str, str], str],
           public: Callable[[str], bool], *, basic: bool = False, realm: str) -> GuardSpec:
    audit, on_stop = _store_audit(cfg)
    extra = {hash_token(service_token(cfg)): Caller(SERVICE_NAME, "admin")}
    access = Access(TokenRegistry(cfg.gateway.tokens_file), grants(cfg), group_of, public, extra, basic=basic,
                    audit=audit, audit_answers=True)
    return GuardSpec(http, host, access, on_stop, realm)


def exposure_warnings(cfg: HubConfig) -> list[str]:
    """What ``crmhub check`` warns about (and the hub logs at start): a server listening beyond loopback without
    tokens, or with tokens over plain HTTP."""
    servers = [("admin", cfg.admin.host, cfg.admin.auth, "pause, restart and reset connectors", cfg.admin.http),
               ("gateway", cfg.gateway.host, "tokens", "", cfg.gateway.http)]
    if cfg.registry.url is None and cfg.registry.serve.enabled:
        servers.append(("registry.serve", cfg.registry.serve.host, cfg.registry.serve.auth,
                        "register and delete schemas and change compatibility", cfg.registry.serve.http))
    out = []
    for name, host, auth, power, http in servers:
        if is_loopback_host(host):
            continue
        if auth == "none":
            out.append(f"{name}.host: {host} with {name}.auth: none: anyone who reaches this machine can {power} "
                       f"(set {name}.auth: tokens, or bind to 127.0.0.1)")
        elif http.tls is None:
            out.append(f"{name}.host: {host}: tokens cross the network in clear over plain HTTP (set "
                       f"{name}.http.tls, put a TLS proxy in front, or bind to 127.0.0.1)")
    return out


def _warn_if_open(cfg: HubConfig, name: str) -> None:
    for warning in exposure_warnings(cfg):
        if warning.startswith(f"{name}.host") and "auth: none" in warning:
            log.warning("http.no_auth_beyond_loopback", server=name, problem=warning)


def admin_guard(cfg: HubConfig) -> GuardSpec:
    """The admin API's guard (no token asked for with ``admin.auth: none``)."""
    if cfg.admin.auth == "none":
        _warn_if_open(cfg, "admin")
        return GuardSpec(cfg.admin.http, cfg.admin.host)
    return _guard(cfg, cfg.admin.host, cfg.admin.http, admin_group, docs_public, realm="crmhub admin")


def registry_guard(cfg: HubConfig) -> GuardSpec:
    """The registry's guard: tokens as Bearer or HTTP basic (no token asked for with ``registry.serve.auth:
    none``)."""
    serve = cfg.registry.serve
    if serve.auth == "none":
        _warn_if_open(cfg, "registry.serve")
        return GuardSpec(serve.http, serve.host)
    return _guard(cfg, serve.host, serve.http, registry_group, lambda p: p == "/" or docs_public(p), basic=True,
                  realm="crmhub registry")


def gateway_access(cfg: HubConfig, tokens: TokenRegistry, audit: AuditWriter) -> GuardSpec:
    """The gateway's guard: a known token before any route (each route checks its group), refusals audited."""
    access = Access(tokens, grants(cfg), None, gateway_public, query_token_paths=QUERY_TOKEN_PATHS,
                    audit=StoreAudit(audit))
    return GuardSpec(cfg.gateway.http, cfg.gateway.host, access)


def registry_credentials(cfg: HubConfig) -> tuple[tuple[str, str] | None, str | None]:
    """``(basic auth, bearer token)`` the hub's registry client sends: ``registry.basic_auth``, else
    ``registry.token``, else (crmhub's own registry with tokens) the service token."""
    reg = cfg.registry
    if reg.basic_auth is not None:
        return (reg.basic_auth.user, reg.basic_auth.password.get_secret_value()), None
    if reg.token is not None:
        return None, reg.token.get_secret_value()
    if reg.url is None and reg.serve.auth == "tokens":
        return None, service_token(cfg)
    return None, None


def webhook_targets(cfg: HubConfig) -> TargetPolicy:
    """Where webhooks may go: public addresses, ``allow_targets``, never the hub's own ports on this machine."""
    own = frozenset({cfg.gateway.port, cfg.admin.port, cfg.registry.serve.port})
    hosts = (cfg.gateway.host, cfg.admin.host, cfg.registry.serve.host)
    return TargetPolicy(tuple(cfg.gateway.webhooks.allow_targets), own, local_addresses(hosts))
