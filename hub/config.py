"""The hub's configuration: one YAML file, interpolated, then validated into frozen pydantic models.

``load_config(path)`` / ``validate_config_text(text, ...)`` raise one ``ConfigError`` listing every problem,
each with its path (``connectors[1].tables[0].timestamp_column: field required for mode 'timestamp'``).

Interpolation runs on string values before validation: ``${VAR}``, ``${VAR:-default}`` (default when unset or
empty), ``${file:PATH}`` (file content, trailing newline stripped, PATH relative to the config file's folder);
``$${`` is a literal ``${``. Resolved values never appear in problems or in a model's repr (secrets are
``SecretStr``; URLs and the Kafka ``security`` options are masked).

To add a connector kind: write a ``ConnectorSettings`` subclass with ``kind: Literal["journal"]`` and add it to
``ConnectorConfig`` (and ``_CONNECTOR_MODELS``); paths, "did you mean" hints and kind lists follow.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypedDict, get_args

from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from connectors.db2_asn.config import Db2AsnConfig
from connectors.filedrop.config import FileDropConnector
from connectors.ibmi_journal.config import IbmiJournalConfig
from connectors.mssql_cdc.config import MssqlCdcConfig
from connectors.oracle_logminer.config import OracleLogminerConfig
from connectors.sql.config import SqlConnectorConfig
from hub.config_parse import (
    Interpolator,
    display_loc,
    parse_yaml,
    problem_text,
)
from hub.gateway.settings import DEFAULT_ROLES, GatewayRole
from hub.kafka.security import SecurityOptions
from hub.kafka.settings import (
    FETCH_MAX_WAIT_MS,
    FETCH_MIN_BYTES,
    LOCAL_BROKER_JVM_OPTIONS,
    ClusterConfig,
    ProducerConfig,
)
from hub.lag.settings import LagConfig
from hub.web.settings import AuthMode, HttpSettings
from pipelines.unify.config import UnifyConfig
from schemas.errors import ConfigError
from schemas.settings import (
    Compatibility,
    ConfigModel,
    ConnectorSettings,
    HttpUrlText,
    LogLevel,
    OptPath,
    Port,
    TopicName,
    blank_to_none,
    duplicate_names,
    upper_text,
)

# --- kafka, registry, logging, offsets, gateway -------------------------------------------------------


class KafkaLocal(ConfigModel):
    """The single-node broker (KRaft) that `crmhub kafka up` starts for development and the demo."""

    port: Port = Field(default=9092, description="client port")
    controller_port: Port = Field(default=9093, description="KRaft controller port")
    data_dir: Path = Field(default=Path(".crmhub/kafka"), description="the broker's folder: data, logs, its pid")
    kafka_home: OptPath = Field(default=None, description="an installed Kafka to run (its libs/); empty: $KAFKA_HOME, "
                                                  "else the jars resolved with Maven")
    heap: Annotated[str, Field(pattern=r"^\d+[kKmMgG]?$", description="Java heap (-Xms and -Xmx)")] = "512m"
    jvm_options: list[Annotated[str, Field(pattern=r"^-\S+$")]] = Field(
        default_factory=lambda: list(LOCAL_BROKER_JVM_OPTIONS), description=(
            "more options for the broker's JVM, each one word starting with '-'; the default keeps the JIT to its "
            "quick compiler, which used less CPU on a small machine at moderate rates than the full JIT; an empty "
            "list (the JVM's own default, the full JIT) is faster for bulk loads where the broker is the limit"))

    def resolved_kafka_home(self, env: Mapping[str, str] | None = None) -> Path | None:
        """``kafka_home`` if set, else ``$KAFKA_HOME`` if set, else None (use the Maven-resolved jars)."""
        home = (os.environ if env is None else env).get("KAFKA_HOME", "").strip()
        return self.kafka_home or (Path(home) if home else None)


class TopicDefaults(ConfigModel):
    """Partitions and replication factor of the pipelines' topics, when crmhub creates them."""

    partitions: Annotated[int, Field(ge=1)] = 1
    replication_factor: Annotated[int, Field(ge=1)] = 1


class KafkaConfig(ConfigModel):
    bootstrap_servers: Annotated[str, Field(min_length=1, description="host:port of the Kafka cluster, several "
                                                                      "separated by commas")] = "127.0.0.1:9092"
    client_id: Annotated[str, Field(min_length=1)] = "crmhub"
    security: SecurityOptions = Field(default_factory=dict, description=(
        "options passed to the Kafka clients (security_protocol, sasl_mechanism, sasl_plain_username, ssl_cafile "
        "...), checked at load; secret ones are masked in logs"))
    local: KafkaLocal = Field(default_factory=KafkaLocal)
    topic_defaults: TopicDefaults = Field(default_factory=TopicDefaults)
    producer: ProducerConfig = Field(default_factory=ProducerConfig)

    def security_options(self) -> dict[str, Any]:
        """The ``security`` passthrough with secrets unwrapped, ready for the Kafka client's keyword args."""
        return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in self.security.items()}


class BasicAuth(ConfigModel):
    """HTTP basic authentication for the schema registry."""

    user: Annotated[str, Field(min_length=1)]
    password: SecretStr


class RegistryServe(ConfigModel):
    """The Confluent-compatible registry API crmhub serves itself when `registry.url` is empty; its schemas
    live in the compacted ``topic``."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: Port = 8081
    topic: TopicName = "_schemas"
    auth: AuthMode = Field(default="tokens", description="tokens: the gateway's (reads: schemas; changes: manage)")
    http: HttpSettings = Field(default_factory=HttpSettings)


class RegistryConfig(ConfigModel):
    _masked_fields = frozenset({"url"})
    url: Annotated[HttpUrlText | None, BeforeValidator(blank_to_none)] = Field(
        default=None,
        description="an external Confluent-compatible registry; empty: the one crmhub serves (registry.serve)")
    serve: RegistryServe = Field(default_factory=RegistryServe)
    default_compatibility: Annotated[Compatibility, BeforeValidator(upper_text)] = Field(
        default="BACKWARD", description="compatibility level of the subjects that have none of their own")
    basic_auth: BasicAuth | None = None
    token: SecretStr | None = Field(default=None, description="a bearer token (crmhub's registry: an admin token)")

    def effective_url(self) -> str:
        """The external registry's URL if set, else the one crmhub serves itself."""
        scheme = "https" if self.serve.http.tls is not None else "http"
        return self.url or f"{scheme}://{self.serve.host}:{self.serve.port}"


class LoggingConfig(ConfigModel):
    level: Annotated[LogLevel, BeforeValidator(upper_text)] = "INFO"
    format: Literal["console", "json"] = "console"
    file: OptPath = Field(default=None, description="a log file, in addition to stderr")


class OffsetsConfig(ConfigModel):
    """Where the connectors' positions go, and how often."""

    topic: TopicName = Field(default="crmhub.offsets", description="compacted topic of the connectors' positions")
    flush_interval_ms: Annotated[int, Field(ge=0, description=(
        "how often a connector's position is saved at most (0: after every batch); a crash repeats what was "
        "delivered since, never skips it (Kafka Connect's offset.flush.interval.ms)"))] = 1000


class StreamConfig(ConfigModel):
    """The gateway's live stream (``GET /stream``, ``hub/gateway/stream.py``): topics streamed, keep-alive
    comment interval, longest single Kafka poll."""

    changes_topic: TopicName = "customer.changes"
    alerts_topic: TopicName = "customer.alerts"
    heartbeat_s: Annotated[float, Field(gt=0)] = 10.0
    poll_ms: Annotated[int, Field(ge=10, le=10_000)] = 500
    retry_ms: Annotated[int, Field(ge=0, description="the SSE retry: hint sent to clients")] = 3000
    max_connections: Annotated[int, Field(ge=1, description="more open streams answer 503; each polls in a "
                                                            "thread")] = 100


class WebhookConfig(ConfigModel):
    """Webhook subscriptions (``hub/gateway/webhooks.py``): kept in ``subscriptions_file`` (JSON, mode 0600);
    the delivery worker reads the streamed topics with its own consumer group and dead-letters to
    ``dlq_topic`` after ``max_attempts`` failed attempts (exponential backoff between them)."""

    enabled: bool = True
    subscriptions_file: Path = Path(".crmhub/webhooks.json")
    group_id: Annotated[str, Field(min_length=1)] = "crmhub-webhooks"
    dlq_topic: TopicName = "dlq.webhooks"
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 5
    backoff_initial_s: Annotated[float, Field(ge=0)] = 1.0
    backoff_max_s: Annotated[float, Field(ge=0)] = 60.0
    timeout_s: Annotated[float, Field(gt=0)] = 10.0
    concurrency: Annotated[int, Field(ge=1, le=64, description="subscriptions delivered in parallel (each in "
                                                               "order)")] = 4
    start_from: Literal["latest", "earliest"] = Field(default="latest", description="where a new consumer group starts")
    allow_targets: list[str] = Field(default_factory=list, description="host names, addresses or networks (CIDR) "
                                     "targets may reach though loopback, private or link-local")


class GatewayConfig(ConfigModel):
    """The HTTP gateway (``hub/gateway``): ``tokens_file`` holds API token hashes (``crmhub token create``);
    ``roles`` adds roles or overrides built-in ones by name (``hub/gateway/settings.py``)."""

    host: str = Field(default="127.0.0.1", description="address the gateway listens on")
    port: Port = 8080
    tokens_file: Path = Field(default=Path(".crmhub/tokens.yaml"),
                              description="API token hashes (`crmhub token create`)")
    roles: dict[str, GatewayRole] = Field(default_factory=dict, description="roles by name, added to the built-in "
                                          "agent, finance, integration and admin (or replacing one of them)")
    stream: StreamConfig = Field(default_factory=StreamConfig)
    webhooks: WebhookConfig = Field(default_factory=WebhookConfig)
    http: HttpSettings = Field(default_factory=HttpSettings)

    def effective_roles(self) -> dict[str, GatewayRole]:
        """The built-in roles, overridden and extended by ``roles``."""
        return {**DEFAULT_ROLES, **self.roles}


class AdminConfig(ConfigModel):
    """The hub's admin API (connector management, Kafka Connect style); `crmhub connectors` talks to it."""

    host: str = "127.0.0.1"
    port: Port = 8083
    auth: AuthMode = Field(default="tokens", description="tokens: the gateway's tokens (reads: ops, changes: manage)")
    http: HttpSettings = Field(default_factory=HttpSettings)


class StoreConfig(ConfigModel):
    """The golden-record store: SQLite by default, PostgreSQL when several unify workers share it."""

    _masked_fields = frozenset({"url"})
    url: Annotated[str, Field(min_length=1, description="SQLAlchemy URL (sqlite:///... or postgresql://...)")
                   ] = "sqlite:///.crmhub/store.db"


class LoopOptions(TypedDict):
    """The keyword arguments every pipeline worker's consumer loop takes from the ``pipelines`` section."""

    batch_size: int
    poll_ms: int
    fetch_min_bytes: int
    fetch_max_wait_ms: int


class PipelinesConfig(ConfigModel):
    """Canonicalize (mappings, data quality) and unify (identity, survivorship, alerts)."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$",
                               description="the pipelines' name: dead letters go to dlq.<name>")] = "canon"
    group_id_prefix: Annotated[str, Field(min_length=1, description="consumer groups <prefix>-canonicalize and "
                                                                    "<prefix>-unify")] = "crmhub"
    mappings: list[Path] = Field(default_factory=list, description="mapping files, folders or globs")
    alerts: OptPath = Field(default=None, description="alert rules file")
    store: StoreConfig = Field(default_factory=StoreConfig)
    unify: UnifyConfig = Field(default_factory=UnifyConfig)
    batch_size: Annotated[int, Field(ge=1, le=10000)] = 500
    poll_interval_ms: Annotated[int, Field(ge=10)] = 100
    fetch_min_bytes: Annotated[int, Field(ge=1, le=1024 * 1024, description=(
        "the least bytes of records the broker gathers before it answers a pipeline consumer's fetch (up to "
        "fetch_max_wait_ms): more means fewer, fuller fetches, for a broker across a network, and up to "
        "fetch_max_wait_ms more latency per stage; with the broker on the same host it saved no CPU"))
                               ] = FETCH_MIN_BYTES
    fetch_max_wait_ms: Annotated[int, Field(ge=1, le=10_000, description=(
        "the longest the broker holds a pipeline consumer's fetch that has fewer than fetch_min_bytes; with the "
        "default minimum, an idle consumer fetches once per wait"))] = FETCH_MAX_WAIT_MS
    timer_interval_s: Annotated[float, Field(gt=0)] = 5.0

    def loop_options(self) -> LoopOptions:
        return {"batch_size": self.batch_size, "poll_ms": self.poll_interval_ms,
                "fetch_min_bytes": self.fetch_min_bytes, "fetch_max_wait_ms": self.fetch_max_wait_ms}


# --- connectors -----------------------------------------------------------------------------------------


ConnectorConfig = Annotated[SqlConnectorConfig | FileDropConnector | IbmiJournalConfig | OracleLogminerConfig
                            | MssqlCdcConfig | Db2AsnConfig, Field(discriminator="kind")]
_CONNECTOR_MODELS: tuple[type[ConnectorSettings], ...] = (
    SqlConnectorConfig, FileDropConnector, IbmiJournalConfig, OracleLogminerConfig, MssqlCdcConfig, Db2AsnConfig)
CONNECTOR_KINDS: tuple[str, ...] = tuple(get_args(m.model_fields["kind"].annotation)[0] for m in _CONNECTOR_MODELS)


RESERVED_TOPIC_PREFIXES = ("canon.", "customer.", "dlq.", "crmhub.", "_")


def table_topic_problems(data: Mapping[str, Any]) -> list[InitErrorDetails]:
    """A table's ``topic`` must not be one crmhub writes itself nor another table's."""
    problems: list[InitErrorDetails] = []
    seen: dict[str, str] = {}
    connectors = data.get("connectors")
    for i, conn in enumerate(connectors if isinstance(connectors, list) else []):
        tables = conn.get("tables") if isinstance(conn, Mapping) else None
        for j, table in enumerate(tables if isinstance(tables, list) else []):
            topic = table.get("topic") if isinstance(table, Mapping) else None
            if not isinstance(topic, str) or not topic:
                continue
            where = f"connectors[{i}].tables[{j}].topic"
            if topic.startswith(RESERVED_TOPIC_PREFIXES):
                msg = f"topic '{topic}' is crmhub's own (canon.*, customer.*, dlq.*, crmhub.*, _*)"
            elif topic in seen:
                msg = f"topic '{topic}' is already the topic of {seen[topic]}"
            else:
                seen[topic] = where
                continue
            problems.append(InitErrorDetails(type=PydanticCustomError("topic_taken", msg),
                                             loc=("connectors", i, "tables", j, "topic"), input=None))
    return problems


class HubConfig(ConfigModel):
    """The whole configuration; every section is optional, so an empty file runs the embedded demo."""

    kafka: KafkaConfig = Field(default_factory=KafkaConfig)
    registry: RegistryConfig = Field(default_factory=RegistryConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    offsets: OffsetsConfig = Field(default_factory=OffsetsConfig)
    connectors: list[ConnectorConfig] = Field(default_factory=list)
    gateway: GatewayConfig = Field(default_factory=GatewayConfig)
    admin: AdminConfig = Field(default_factory=AdminConfig)
    pipelines: PipelinesConfig | None = None
    lag: LagConfig = Field(default_factory=LagConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)

    @classmethod
    def _cross_check(cls, data: Mapping[str, Any]) -> list[InitErrorDetails]:
        return duplicate_names(data, "connectors", "connector") + table_topic_problems(data)


# --- public API ---------------------------------------------------------------------------------------


def validate_config_text(
    text: str,
    source_name: str = "<config>",
    env: Mapping[str, str] | None = None,
    *,
    base_dir: str | Path | None = None,
) -> HubConfig:
    """Parse, interpolate and validate YAML text; ``base_dir`` anchors ``${file:...}`` (default: cwd)."""
    data, duplicates = parse_yaml(text, source_name)
    if not isinstance(data, dict):
        sections = ", ".join(HubConfig.model_fields)
        raise ConfigError([f"{source_name}: the top level must be a mapping of sections ({sections})"])
    interpolator = Interpolator(os.environ if env is None else env, Path(base_dir or "."))
    data = interpolator.walk(data)
    problems = [*duplicates, *interpolator.problems]
    try:
        config = HubConfig.model_validate(data)
    except ValidationError as exc:
        # a value left empty by a failed reference would only repeat that problem
        failed = interpolator.problem_locs
        errors = [e for e in exc.errors() if display_loc(e["loc"], CONNECTOR_KINDS) not in failed]
        problems += [problem_text(e, CONNECTOR_KINDS) for e in errors]
    if problems:
        raise ConfigError(problems) from None
    return config


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> HubConfig:
    """Load and validate the config file at ``path``; raises ``ConfigError`` listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or type(exc).__name__}"]) from None
    return validate_config_text(text, str(path), env, base_dir=path.parent)
