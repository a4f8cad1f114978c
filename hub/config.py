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
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_core import InitErrorDetails

from connectors.filedrop.config import FileDropConnector
from connectors.sql.config import SqlConnectorConfig
from hub.config_parse import (
    Interpolator,
    display_loc,
    parse_yaml,
    problem_text,
)
from pipelines.unify.config import UnifyConfig
from schemas.errors import ConfigError
from schemas.secrets import is_secret_key
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
    port: Port = 9092
    controller_port: Port = 9093
    data_dir: Path = Path(".crmhub/kafka")
    kafka_home: OptPath = None
    heap: Annotated[str, Field(pattern=r"^\d+[kKmMgG]?$")] = "512m"

    def resolved_kafka_home(self, env: Mapping[str, str] | None = None) -> Path | None:
        """``kafka_home`` if set, else ``$KAFKA_HOME`` if set, else None (use the Maven-resolved jars)."""
        home = (os.environ if env is None else env).get("KAFKA_HOME", "").strip()
        return self.kafka_home or (Path(home) if home else None)


class TopicDefaults(ConfigModel):
    partitions: Annotated[int, Field(ge=1)] = 1
    replication_factor: Annotated[int, Field(ge=1)] = 1


class KafkaConfig(ConfigModel):
    bootstrap_servers: Annotated[str, Field(min_length=1)] = "127.0.0.1:9092"
    client_id: Annotated[str, Field(min_length=1)] = "crmhub"
    security: dict[str, Any] = Field(default_factory=dict)
    local: KafkaLocal = Field(default_factory=KafkaLocal)
    topic_defaults: TopicDefaults = Field(default_factory=TopicDefaults)

    @field_validator("security", mode="after")
    @classmethod
    def _hide_secret_options(cls, value: dict[str, Any]) -> dict[str, Any]:
        return {k: SecretStr(v) if is_secret_key(k) and isinstance(v, str) else v for k, v in value.items()}

    def security_options(self) -> dict[str, Any]:
        """The ``security`` passthrough with secrets unwrapped, ready for the Kafka client's keyword args."""
        return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in self.security.items()}


class BasicAuth(ConfigModel):
    user: Annotated[str, Field(min_length=1)]
    password: SecretStr


class RegistryServe(ConfigModel):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: Port = 8081
    topic: TopicName = "_schemas"


class RegistryConfig(ConfigModel):
    _masked_fields = frozenset({"url"})
    url: Annotated[HttpUrlText | None, BeforeValidator(blank_to_none)] = None
    serve: RegistryServe = Field(default_factory=RegistryServe)
    default_compatibility: Annotated[Compatibility, BeforeValidator(upper_text)] = "BACKWARD"
    basic_auth: BasicAuth | None = None

    def effective_url(self) -> str:
        """The external registry's URL if set, else the one crmhub serves itself."""
        return self.url or f"http://{self.serve.host}:{self.serve.port}"


class LoggingConfig(ConfigModel):
    level: Annotated[LogLevel, BeforeValidator(upper_text)] = "INFO"
    format: Literal["console", "json"] = "console"
    file: OptPath = None


class OffsetsConfig(ConfigModel):
    topic: TopicName = "crmhub.offsets"


class GatewayConfig(ConfigModel):
    host: str = "127.0.0.1"
    port: Port = 8080


class AdminConfig(ConfigModel):
    """The hub's admin API (connector management, Kafka Connect style); `crmhub connectors` talks to it."""

    host: str = "127.0.0.1"
    port: Port = 8083


class StoreConfig(ConfigModel):
    """The golden-record store: SQLite by default, PostgreSQL when several unify workers share it."""

    _masked_fields = frozenset({"url"})
    url: Annotated[str, Field(min_length=1)] = "sqlite:///.crmhub/store.db"


class PipelinesConfig(ConfigModel):
    """Canonicalize (mappings, data quality) and unify (identity, survivorship, alerts)."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")] = "canon"  # dead letters go to dlq.<name>
    group_id_prefix: Annotated[str, Field(min_length=1)] = "crmhub"  # consumer groups <prefix>-canonicalize/-unify
    mappings: list[Path] = Field(default_factory=list)  # mapping files, folders or globs
    alerts: OptPath = None  # alert rules file
    store: StoreConfig = Field(default_factory=StoreConfig)
    unify: UnifyConfig = Field(default_factory=UnifyConfig)
    batch_size: Annotated[int, Field(ge=1, le=10000)] = 500
    poll_interval_ms: Annotated[int, Field(ge=10)] = 100
    timer_interval_s: Annotated[float, Field(gt=0)] = 5.0


# --- connectors -----------------------------------------------------------------------------------------


ConnectorConfig = Annotated[SqlConnectorConfig | FileDropConnector, Field(discriminator="kind")]
_CONNECTOR_MODELS: tuple[type[ConnectorSettings], ...] = (SqlConnectorConfig, FileDropConnector)
CONNECTOR_KINDS: tuple[str, ...] = tuple(get_args(m.model_fields["kind"].annotation)[0] for m in _CONNECTOR_MODELS)


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

    @classmethod
    def _cross_check(cls, data: Mapping[str, Any]) -> list[InitErrorDetails]:
        return duplicate_names(data, "connectors", "connector")


# --- public API ---------------------------------------------------------------------------------------


def validate_config_text(
    text: str,
    source_name: str = "<config>",
    env: Mapping[str, str] | None = None,
    *,
    base_dir: str | Path | None = None,
) -> HubConfig:
    """Parse, interpolate and validate YAML text; ``base_dir`` anchors ``${file:...}`` (default: cwd)."""
    data = parse_yaml(text, source_name)
    if not isinstance(data, dict):
        sections = ", ".join(HubConfig.model_fields)
        raise ConfigError([f"{source_name}: the top level must be a mapping of sections ({sections})"])
    interpolator = Interpolator(os.environ if env is None else env, Path(base_dir or "."))
    data = interpolator.walk(data)
    problems = list(interpolator.problems)
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
