"""Settings of the SQL Server CDC connector (``kind: mssql-cdc``).

``dsn`` is an ODBC connection string (``DRIVER={ODBC Driver 18 for SQL Server};SERVER=host,1433;
DATABASE=crm;UID=crmhub;Encrypt=yes``); the password goes in ``password`` (``${MSSQL_PASSWORD}``) and is
added as ``PWD={...}`` at connect time, never logged. Every problem is reported with its path.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from connectors.changetables.settings import DsnConnectorSettings
from schemas.settings import ConfigModel, OptSecret

NonEmpty = Annotated[str, Field(min_length=1)]


class MssqlTableConfig(ConfigModel):
    """One captured table, ``schema.table`` (``dbo.Contacts``)."""

    name: Annotated[str, Field(pattern=r"^[^\s.\[\]]+\.[^\s.\[\]]+$")]
    capture_instance: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+$")] | None = None
    key_columns: Annotated[list[NonEmpty], Field(min_length=1)] | None = None
    trim_char: bool = False

    @property
    def schema_name(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def table_name(self) -> str:
        return self.name.split(".", 1)[1]


class MssqlCdcConfig(DsnConnectorSettings):
    """A connector reading SQL Server's CDC change tables of one database.

    ``read_from``: ``function`` reads ``cdc.fn_cdc_get_all_changes_<instance>(from, to, N'all update old')``;
    ``table`` reads ``cdc.<instance>_CT`` directly (Debezium's ``data.query.mode: direct``; faster on big
    change tables, same rows). ``on_changes_gone``: what to do when the cleanup job removed changes the
    connector had not read yet (``fail`` or ``resnapshot`` that table). ``snapshot``: ``initial`` reads the
    tables first, ``never`` starts at the current newest LSN."""

    _masked_fields = frozenset({"dsn"})
    kind: Literal["mssql-cdc"]
    dsn: NonEmpty
    password: OptSecret = Field(default=None, validate_default=True)
    tables: Annotated[list[MssqlTableConfig], Field(min_length=1)]
    read_from: Literal["function", "table"] = "function"
    poll_interval_ms: Annotated[int, Field(ge=1)] = 1000
    batch_size: Annotated[int, Field(ge=1, le=100_000)] = 1000
    heartbeat_interval_ms: Annotated[int, Field(ge=1)] = 10000
    on_changes_gone: Literal["fail", "resnapshot"] = "fail"
    snapshot: Literal["initial", "never"] = "initial"
    login_timeout_s: Annotated[int, Field(ge=1)] = 15

    @field_validator("dsn", mode="after")
    @classmethod
    def _odbc_string(cls, value: str) -> str:
        pairs = [p for p in value.split(";") if p.strip()]
        if not pairs or not all("=" in p for p in pairs):
            raise PydanticCustomError("dsn", "not an ODBC connection string (expected KEY=value;KEY=value...)")
        keys = {p.split("=", 1)[0].strip().upper() for p in pairs}
        if not keys & {"DRIVER", "DSN"}:
            raise PydanticCustomError("dsn", "needs DRIVER={ODBC Driver 18 for SQL Server} or DSN=name")
        return value


def connection_string(config: MssqlCdcConfig) -> str:
    """The ODBC connection string with the password added (braced, ``}`` doubled as ODBC wants)."""
    dsn = config.dsn.rstrip().rstrip(";")
    if config.password is None:
        return dsn
    secret = config.password.get_secret_value().replace("}", "}}")
    return f"{dsn};PWD={{{secret}}}"


def database_of(dsn: str) -> str:
    """The ``DATABASE=`` (or ``Initial Catalog=``) of an ODBC string, '' when absent."""
    for part in dsn.split(";"):
        key, _, value = part.partition("=")
        if key.strip().upper() in ("DATABASE", "INITIAL CATALOG"):
            return value.strip().strip("{}")
    return ""
