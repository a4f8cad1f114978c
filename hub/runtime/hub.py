"""The hub process: the roles a config describes, in one process or spread over several.

``crmhub run`` starts every role by default; ``--only connectors,admin`` runs those, so roles can live in
different processes or on different machines. ``pipelines`` is both pipeline stages; ``canonicalize`` and
``unify`` run one each, so identity resolution can have a process (a core, a GIL) of its own. The registry is
served by the process that runs the ``registry`` role (one leader per ``_schemas`` topic).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import structlog

from connectors.base import Connector
from connectors.db2_asn.config import Db2AsnConfig
from connectors.filedrop.config import FileDropConnector
from connectors.ibmi_journal.config import IbmiJournalConfig
from connectors.mssql_cdc.config import MssqlCdcConfig
from connectors.oracle_logminer.config import OracleLogminerConfig
from connectors.sql.config import SqlConnectorConfig
from hub.config import HubConfig
from hub.kafka.clients import KafkaSettings, Producer
from hub.pipeline_setup import load_parts, topic_overrides
from hub.registry.server import RegistryService, ServerHandle
from hub.runtime.cluster import ConnectorCluster
from hub.runtime.offsets import OffsetStore
from hub.runtime.pipeline_workers import CanonWorker, _Loop, dq_summary_file, ensure_pipeline_topics
from hub.runtime.runner import ConnectorRunner
from hub.runtime.source_lag_monitor import SourceLagMonitor
from hub.runtime.unify_worker import UnifyWorker
from hub.wiring import avro_serde, kafka_settings, serve_registry
from schemas.errors import ConfigError
from schemas.secrets import mask_text
from schemas.settings import ConnectorSettings

if TYPE_CHECKING:
    from hub.gateway.app import GatewayService
    from hub.gateway.webhooks import WebhookWorker
    from hub.lag.collector import LagCollector

log = structlog.get_logger(__name__)


class Stoppable(Protocol):
    """Something the hub stops with itself (the demo's stage processes)."""

    def stop(self, timeout_s: float = ...) -> None: ...


#: How long a clean stop (SIGTERM, SIGINT) may take at most.
STOP_TIMEOUT_S = 5.0
ROLES = ("registry", "connectors", "pipelines", "canonicalize", "unify", "admin", "gateway")
PIPELINE_ROLES = frozenset({"pipelines", "canonicalize", "unify"})


def connector_factory(conf: ConnectorSettings) -> Callable[[], Connector]:
    """A function that builds a fresh connector instance for one configured connector."""
    if isinstance(conf, SqlConnectorConfig):
        from connectors.sql.connector import SqlConnector

        return lambda: SqlConnector(conf)
    if isinstance(conf, FileDropConnector):
        from connectors.filedrop.connector import FileDropSource

        return lambda: FileDropSource(conf)
    if isinstance(conf, IbmiJournalConfig):
        from connectors.ibmi_journal.connector import IbmiJournalConnector

        return lambda: IbmiJournalConnector(conf)
    if isinstance(conf, OracleLogminerConfig):
        from connectors.oracle_logminer.connector import OracleLogminerConnector

        return lambda: OracleLogminerConnector(conf)
    if isinstance(conf, MssqlCdcConfig):
        from connectors.mssql_cdc.connector import MssqlCdcConnector

        return lambda: MssqlCdcConnector(conf)
    if isinstance(conf, Db2AsnConfig):
        from connectors.db2_asn.connector import Db2AsnConnector

        return lambda: Db2AsnConnector(conf)
    raise ConfigError(f"connectors: {conf.name} has no connector implementation")


@dataclass
class Hub:
    cfg: HubConfig
    roles: frozenset[str] = frozenset(ROLES)
    settings: KafkaSettings = field(init=False)
    runners: dict[str, ConnectorRunner] = field(default_factory=dict)
    registry: RegistryService | None = None
    admin: ServerHandle | None = None
    gateway: GatewayService | None = None
    webhooks: WebhookWorker | None = None
    workers: list[_Loop] = field(default_factory=list)
    lag: LagCollector | None = None
    stages: Stoppable | None = None  # pipeline stages in child processes (``crmhub demo --processes``)
    _producer: Producer | None = None
    cluster: ConnectorCluster | None = None
    _offsets: OffsetStore | None = None
    source_lag: SourceLagMonitor | None = None
    ops_history: Stoppable | None = None  # the dashboard's samples, taken beside the gateway

    def __post_init__(self) -> None:
        unknown = set(self.roles) - set(ROLES)
        if unknown:
            raise ConfigError(f"--only: unknown role(s) {', '.join(sorted(unknown))} (known: {', '.join(ROLES)})")
        self.settings = kafka_settings(self.cfg, client_id=f"{self.cfg.kafka.client_id}-{uuid.uuid4().hex[:6]}")

    def start(self) -> None:
        if "registry" in self.roles:
            self.registry = serve_registry(self.cfg, self.settings)
        if "connectors" in self.roles and self.cfg.connectors:
            self._start_connectors()
        if self.roles & PIPELINE_ROLES and self.cfg.pipelines is not None:
            self._start_pipelines()
        if "admin" in self.roles:
            from hub.gateway.guards import admin_guard
            from hub.registry.server import serve_in_thread
            from hub.serving.admin import create_admin_app

            if self.cfg.lag.enabled:  # the lag monitor runs beside the admin API that serves it
                from hub.lag.collector import LagCollector

                self.lag = LagCollector(self.settings, self.cfg.lag)
                self.lag.start()
            self.admin = serve_in_thread(create_admin_app(self, admin_guard(self.cfg)), self.cfg.admin.host,
                                         self.cfg.admin.port, tls=self.cfg.admin.http.tls)
            log.info("hub.admin_api", url=self.admin.url)
        if "gateway" in self.roles and self.cfg.pipelines is not None:  # it reads the pipelines' store
            from hub.gateway.app import serve_gateway
            from hub.gateway.wiring import gateway_extras
            from hub.runtime.ops_dlq import dead_letter_router

            extras = gateway_extras(self)
            self.ops_history = extras.history
            self.gateway = serve_gateway(self.cfg, [*extras.routers, dead_letter_router(self)])
            self.webhooks = extras.worker
            if self.webhooks is not None:
                self.webhooks.start()
            log.info("hub.gateway", url=self.gateway.url, docs=f"{self.gateway.url}/docs",
                     access_file=str(self.cfg.gateway.tokens_file))

    def runs(self, stage: str) -> bool:
        """Whether this process runs the pipeline stage ``canonicalize`` or ``unify``."""
        return "pipelines" in self.roles or stage in self.roles

    def producer(self) -> Producer:
        if self._producer is None:
            self._producer = Producer(self.settings)
        return self._producer

    def _start_pipelines(self) -> None:
        parts = load_parts(self.cfg)
        conf = parts.conf
        topics = parts.source_topics(overrides=topic_overrides(self.cfg))
        ensure_pipeline_topics(self.cfg, self.settings, topics, conf.name)
        serde = avro_serde(self.cfg, self.registry)
        loop = conf.loop_options()
        if self.runs("canonicalize"):
            self.workers.append(CanonWorker(self.settings, self.producer(), serde, parts.mappings, topics,
                                            pipeline=conf.name, group_id=f"{conf.group_id_prefix}-canonicalize",
                                            dq_file=dq_summary_file(), **loop))
        if self.runs("unify"):
            self.workers.append(UnifyWorker(self.settings, self.producer(), serde, parts.unifier(),
                                            timer_interval_s=conf.timer_interval_s, pipeline=conf.name,
                                            group_id=f"{conf.group_id_prefix}-unify", **loop))
        for worker in self.workers:
            worker.start()
        log.info("hub.pipelines_started", source_topics=len(topics), store=mask_text(conf.store.url))

    def _start_connectors(self) -> None:
        self._offsets = OffsetStore(self.settings, self.producer(), self.cfg.offsets.topic)
        self.source_lag = SourceLagMonitor(lambda: self.runners).start()
        if self.cfg.cluster.group is not None:  # the group decides which connectors run here
            self.cluster = ConnectorCluster(self.settings, self.cfg.cluster, [c.name for c in self.cfg.connectors],
                                            self.start_connector, self.stop_connector)
            self.cluster.start()
            log.info("hub.cluster_joined", group=self.cfg.cluster.group)
            return
        for conf in self.cfg.connectors:
            self.start_connector(conf.name)

    def cluster_status(self) -> dict[str, object] | None:
        return self.cluster.status() if self.cluster is not None else None

    def start_connector(self, name: str) -> None:
        conf = next(c for c in self.cfg.connectors if c.name == name)
        assert self._offsets is not None
        runner = ConnectorRunner(
            connector_factory(conf), conf.name, self.settings, self.producer(), avro_serde(self.cfg, self.registry),
            self._offsets, on_schema_change=conf.on_schema_change,
            schema_check_interval_s=conf.schema_check_interval_s,
            flush_interval_s=self.cfg.offsets.flush_interval_ms / 1000, max_in_flight=conf.max_in_flight,
            max_in_flight_bytes=int(conf.max_in_flight_mb * 1024 * 1024), exactly_once=conf.exactly_once)
        self.runners = {**self.runners, name: runner}  # a new dict: the admin API may be reading the old one
        runner.start()
        log.info("hub.connector_started", connector=conf.name, kind=conf.kind)

    def stop_connector(self, name: str) -> None:
        """Stop a connector this process runs (its position saved), e.g. when the group moved it away."""
        runner = self.runners.get(name)
        if runner is not None:
            runner.stop(STOP_TIMEOUT_S)
            self.runners = {k: v for k, v in self.runners.items() if k != name}
            log.info("hub.connector_stopped", connector=name)

    def runner(self, name: str) -> ConnectorRunner:
        try:
            return self.runners[name]
        except KeyError:
            raise KeyError(f"connector {name!r} is not running in this hub") from None

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop every role within ``timeout`` seconds, also when the broker does not answer: connectors and
        pipeline workers are all told to stop first and then given what is left of the time; whatever a
        silent broker did not acknowledge by then is read again at the next start (nothing is skipped)."""
        deadline = time.monotonic() + timeout

        def left() -> float:
            return max(0.05, deadline - time.monotonic())

        if self.stages is not None:  # they read what the connectors write and the registry serves
            self.stages.stop(left())
        if self.cluster is not None:  # leave the group: the others take this worker's connectors over at once
            self.cluster.stop(left())
        loops: list[ConnectorRunner | _Loop] = [*self.runners.values(), *self.workers]
        for loop in loops:
            loop.stop(0)  # tell every loop at once; each then finishes its batch in parallel
        for loop in loops:
            loop.stop(left())
        if self.source_lag is not None:
            self.source_lag.stop(left())
        if self.webhooks is not None:
            self.webhooks.stop(left())
        if self._producer is not None:
            self._producer.close(left())
        if self.ops_history is not None:
            self.ops_history.stop(left())
        if self.gateway is not None:
            self.gateway.stop()
        if self.admin is not None:
            self.admin.stop()
        if self.lag is not None:
            self.lag.stop(left())
        if self.registry is not None:
            self.registry.stop()


def parse_roles(only: Iterable[str] | None) -> frozenset[str]:
    """``--only connectors,admin`` → those roles; nothing → every role."""
    if not only:
        return frozenset(ROLES)
    return frozenset(r.strip() for item in only for r in item.split(",") if r.strip())
