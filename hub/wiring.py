"""Builds the hub's shared parts from a validated config: Kafka settings, the registry, the serde."""

from __future__ import annotations

import socket
from pathlib import Path

from hub.config import HubConfig
from hub.kafka.clients import KafkaSettings
from hub.kafka.local import LocalKafka
from hub.registry.client import RegistryClient
from hub.registry.leader import Leadership
from hub.registry.serde import AvroSerde
from hub.registry.server import RegistryService, create_app, serve_in_thread
from hub.registry.store import SchemaStore


def kafka_settings(cfg: HubConfig, client_id: str | None = None) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=cfg.kafka.bootstrap_servers,
                         client_id=client_id or cfg.kafka.client_id,
                         security=cfg.kafka.security_options(),
                         producer=cfg.kafka.producer.client_options())


def local_broker(cfg: HubConfig) -> LocalKafka:
    local = cfg.kafka.local
    home = local.resolved_kafka_home()
    return LocalKafka(data_dir=Path(local.data_dir).resolve(), port=local.port,
                      controller_port=local.controller_port, heap=local.heap,
                      jvm_options=tuple(local.jvm_options), kafka_home=str(home) if home else None)


def serve_registry(cfg: HubConfig, settings: KafkaSettings) -> RegistryService | None:
    """Serve the registry API from the ``_schemas`` topic, unless an external registry URL is configured."""
    reg = cfg.registry
    if reg.url or not reg.serve.enabled:
        return None
    store = SchemaStore.on_kafka(settings, reg.serve.topic, default_compatibility=reg.default_compatibility)
    store.start()
    from hub.gateway.guards import registry_guard

    leadership = None
    try:
        if cfg.cluster.group is not None:  # several workers serve it: one writer, elected by the group
            host = socket.gethostname() if reg.serve.host in ("0.0.0.0", "::") else reg.serve.host
            url = f"{'https' if reg.serve.http.tls else 'http'}://{host}:{reg.serve.port}"
            leadership = Leadership(settings, cfg.cluster, url, store)
        app = create_app(store, registry_guard(cfg), leadership)
        service = RegistryService(store, serve_in_thread(app, reg.serve.host, reg.serve.port, tls=reg.serve.http.tls),
                                  leadership)
        if leadership is not None:
            leadership.start()
        return service
    except Exception:
        if leadership is not None:
            leadership.stop()
        store.close()
        raise


def registry_client(cfg: HubConfig, served: RegistryService | None = None) -> RegistryClient:
    """A client of the configured registry with its credentials (``hub/gateway/guards.py``)."""
    from hub.gateway.guards import registry_credentials

    auth, token = registry_credentials(cfg)
    url = served.url if served is not None else cfg.registry.effective_url()
    return RegistryClient(url, auth=auth, token=token)


def avro_serde(cfg: HubConfig, served: RegistryService | None = None) -> AvroSerde:
    return AvroSerde(registry_client(cfg, served))
