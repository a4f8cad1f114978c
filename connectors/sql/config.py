"""Configuration of the query-based SQL connector (any database SQLAlchemy reaches).

Validation problems carry the path of the field they are about: a table in mode ``timestamp`` without
``timestamp_column`` fails at ``tables[0].timestamp_column`` ("field required for mode 'timestamp'"), so the
hub's config loader prints ``connectors[1].tables[0].timestamp_column: ...``. Cross-field rules are field
validators with ``validate_default=True`` (they see the fields declared before them in ``info.data``); that
is what puts the error at the field's own location instead of at the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from schemas.errors import ConfigError
from schemas.settings import ConfigModel, ConnectorSettings, OptPath, OptSecret, TopicName, duplicate_names
from schemas.settings import missing as _missing

if TYPE_CHECKING:
    import sqlalchemy as sa

Mode = Literal["timestamp+incrementing", "incrementing", "timestamp"]
NonEmpty = Annotated[str, Field(min_length=1)]
_Model = ConfigModel


class SoftDelete(_Model):
    """A row whose ``column`` holds one of ``deleted_values`` is a delete (``op`` = ``d``)."""

    column: NonEmpty
    deleted_values: Annotated[list[str | int | bool], Field(min_length=1)]


class SnapshotSettings(_Model):
    """How the initial snapshot reads a table: ``workers`` threads, each on its own connection, read key ranges
    (chunks) of at most ``chunk_rows`` rows (at least one chunk per worker). ``workers`` = 1 reads the table in
    one key-ordered pass. Only a table with a single-column key is split; a composite key is read in one pass."""

    workers: Annotated[int, Field(ge=1, le=32)] = 1
    chunk_rows: Annotated[int, Field(ge=1)] = 100_000


class SqlTableConfig(_Model):
    """One captured table. ``name`` may be ``schema.table``."""

    name: Annotated[str, Field(pattern=r"^[^\s.]+(\.[^\s.]+)?$")]
    mode: Mode
    timestamp_column: NonEmpty | None = Field(default=None, validate_default=True)
    incrementing_column: NonEmpty | None = Field(default=None, validate_default=True)
    key_columns: Annotated[list[NonEmpty], Field(min_length=1)] | None = None
    safety_delay_ms: Annotated[int, Field(ge=0)] = 2000
    soft_delete: SoftDelete | None = None
    reconcile_deletes_every_s: Annotated[float, Field(ge=0)] | None = None
    trim_char: bool = False
    topic: TopicName | None = None
    snapshot: SnapshotSettings | None = Field(default=None, description="this table's snapshot settings, in place "
                                                                        "of the connector's")

    @field_validator("timestamp_column", "incrementing_column", mode="after")
    @classmethod
    def _required_by_mode(cls, value: str | None, info: ValidationInfo) -> str | None:
        mode = info.data.get("mode")  # absent when mode itself failed: that error is reported instead
        needed = "timestamp" if info.field_name == "timestamp_column" else "incrementing"
        if value is None and isinstance(mode, str) and needed in mode.split("+"):
            raise _missing(f"field required for mode '{mode}'")
        return value

    @property
    def schema_name(self) -> str | None:
        """The schema part of ``name`` (None when the name is unqualified)."""
        return self.name.split(".", 1)[0] if "." in self.name else None

    @property
    def table_name(self) -> str:
        """The table part of ``name``."""
        return self.name.rsplit(".", 1)[-1]


class SqlConnectorConfig(ConnectorSettings):
    """A connector polling tables of one database. ``password`` is merged into ``url`` at connect time.

    ``state_dir`` holds a small SQLite file of the keys the connector emitted (for delete reconciliation
    and for telling inserts from updates in ``timestamp`` mode); it is required when a table sets
    ``reconcile_deletes_every_s``.
    """

    _masked_fields = frozenset({"url"})
    kind: Literal["sql"]
    url: NonEmpty
    password: OptSecret = None
    poll_interval_ms: Annotated[int, Field(ge=1)] = 1000
    batch_size: Annotated[int, Field(ge=1)] = 1000
    heartbeat_interval_ms: Annotated[int, Field(ge=1)] = 10000
    tables: Annotated[list[SqlTableConfig], Field(min_length=1)]
    snapshot: SnapshotSettings = SnapshotSettings()
    state_dir: OptPath = Field(default=None, validate_default=True)

    @field_validator("url", mode="after")
    @classmethod
    def _sqlalchemy_url(cls, value: str) -> str:
        head, sep, _ = value.partition("://")
        if not sep or not head or not head[0].isalpha() or not all(c.isalnum() or c in "+_.-" for c in head):
            # never echo the value: it may hold a password
            raise PydanticCustomError("url_parsing", "not a SQLAlchemy URL (expected dialect+driver://...)")
        return value

    @classmethod
    def _cross_check(cls, data: Mapping[str, Any]) -> list[InitErrorDetails]:
        return duplicate_names(data, "tables", "table")

    @field_validator("state_dir", mode="after")
    @classmethod
    def _state_dir_for_reconcile(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        tables = info.data.get("tables") or []
        if value is None and any(t.reconcile_deletes_every_s is not None for t in tables):
            raise _missing("field required when a table sets reconcile_deletes_every_s")
        return value

    def snapshot_of(self, table: SqlTableConfig) -> SnapshotSettings:
        """The snapshot settings of ``table``: its own, else the connector's."""
        return table.snapshot or self.snapshot


_DRIVER_EXTRAS = {"ibm_db_sa": "crmhub[db2]", "db2": "crmhub[db2]", "pyodbc": "crmhub[odbc]",
                  "oracle": "crmhub[oracle]"}


def create_engine(config: SqlConnectorConfig) -> sa.Engine:
    """The engine for ``config.url`` with the password merged in (never logged: SQLAlchemy masks it in the
    URL's repr, and ``hide_parameters`` keeps row values out of error messages). A missing dialect or
    driver is a ``ConfigError`` naming the extra to install."""
    import sqlalchemy as sa  # here, not at the top: reading a config does not load SQLAlchemy

    try:
        url = sa.engine.make_url(config.url)
        if config.password is not None:
            url = url.set(password=config.password.get_secret_value())
        # a pooled connection to a server can go stale (idle timeouts, failover): test it before each use; a
        # SQLite file cannot, and the test was a statement per query. The pool keeps a connection per snapshot
        # worker besides the connector's own.
        workers = max(config.snapshot_of(t).workers for t in config.tables)
        return sa.create_engine(url, pool_pre_ping=url.get_backend_name() != "sqlite", hide_parameters=True,
                                pool_size=max(5, workers + 1))
    except (ImportError, sa.exc.NoSuchModuleError, sa.exc.ArgumentError) as exc:
        backend = config.url.split("://", 1)[0]
        extra = next((e for word, e in _DRIVER_EXTRAS.items() if word in backend), None)
        hint = f"; install {extra}" if extra else ""
        raise ConfigError(f"{config.name}.url: no SQLAlchemy dialect or driver for {backend!r} "
                          f"({type(exc).__name__}){hint}") from None


def database_name(url: sa.URL) -> str:
    """The database name for ``source.db``: SQLite's file stem, else the URL's database (or host)."""
    if url.get_backend_name() == "sqlite":
        return Path(url.database).stem if url.database and url.database != ":memory:" else "main"
    return url.database or url.host or ""
