"""What the running hub mounts into the gateway besides its REST routes: the live stream, webhook
subscriptions (and their delivery worker), the operations summary and the pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from prometheus_client import REGISTRY, CollectorRegistry

from hub.gateway.audit_writer import AuditWriter
from hub.gateway.auth import require
from hub.gateway.guards import webhook_targets
from hub.gateway.ops import ops_router, ops_snapshot
from hub.gateway.ops_history import OpsHistory
from hub.gateway.ops_routes import ops_routes
from hub.gateway.stream import stream_router
from hub.gateway.subscriptions import WebhookStore, webhooks_router
from hub.gateway.webhooks import (
    Dispatcher,
    WebhookWorker,
    kafka_dead_letter,
    role_redactor,
)
from hub.pipeline_setup import open_store, pipelines_conf
from hub.wiring import avro_serde


@dataclass
class GatewayExtras:
    routers: list[APIRouter] = field(default_factory=list)
    worker: WebhookWorker | None = None
    history: OpsHistory | None = None  # the dashboard's samples (started: stop it with the gateway)


def gateway_extras(hub: Any) -> GatewayExtras:
    """Routers for ``/stream``, ``/webhooks`` and ``/ops/...`` of ``hub`` (a running Hub), each behind the
    gateway's permission check, the dashboard's history (sampling already), and the webhook delivery worker
    (not started) when webhooks are enabled."""
    cfg = hub.cfg
    serde = avro_serde(cfg, hub.registry)
    stream, hooks = cfg.gateway.stream, cfg.gateway.webhooks
    subscriptions = WebhookStore(hooks.subscriptions_file)
    targets = webhook_targets(cfg)
    def registries() -> tuple[CollectorRegistry, ...]:  # the demo's stages in processes of their own too
        stages = getattr(hub, "stages", None)
        return (REGISTRY,) if stages is None else (REGISTRY, stages.registry)

    history = OpsHistory(lambda: ops_snapshot(hub), registries).start()
    out = GatewayExtras([stream_router(hub.settings, serde, require("stream"), config=stream),
                         webhooks_router(subscriptions, require("webhooks"), targets=targets),
                         ops_router(lambda: ops_snapshot(hub), [require("ops")]),
                         ops_routes(hub, hub.settings, serde, history)], history=history)
    if hooks.enabled:
        store = open_store(pipelines_conf(cfg))  # deliveries are audited like the gateway's answers
        audit = AuditWriter(store)
        dispatcher = Dispatcher(subscriptions, hooks, kafka_dead_letter(hub.producer(), hooks.dlq_topic),
                                redact=role_redactor(cfg.gateway.effective_roles()), targets=targets,
                                audit=audit.offer, on_close=(audit.close, store.dispose))
        out.worker = WebhookWorker(hub.settings, serde, dispatcher, hooks, changes_topic=stream.changes_topic,
                                   alerts_topic=stream.alerts_topic)
    return out
