"""Settings of the Db2 ASN capture connector (``kind: db2-asn``), Db2 LUW or Db2 for z/OS.

``dsn`` is an ibm_db connection string (``DATABASE=CRM;HOSTNAME=db2.example;PORT=50000;PROTOCOL=TCPIP;
UID=crmhub;``); the password goes in ``password`` and is added as ``PWD=`` at connect time, never logged.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from connectors.changetables.settings import DsnConnectorSettings
from schemas.settings import ConfigModel, OptSecret, upper_text

NonEmpty = Annotated[str, Field(min_length=1)]
Ident = Annotated[str, Field(pattern=r"^[A-Za-z0-9_#@$]{1,128}$")]


class Db2TableConfig(ConfigModel):
    """One captured table, ``OWNER.TABLE`` (registered in ``IBMSNAP_REGISTER``)."""

    name: Annotated[str, Field(pattern=r"^[^\s.\"]+\.[^\s.\"]+$")]
    key_columns: Annotated[list[NonEmpty], Field(min_length=1)] | None = None
    trim_char: bool = False

    @property
    def owner(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def table_name(self) -> str:
        return self.name.split(".", 1)[1]


class Db2AsnConfig(DsnConnectorSettings):
    """A connector reading the CD tables Db2's ASN Capture program fills.

    ``asn_schema``: the Capture control tables' schema (``ASN``; ``ASNCDC`` for Debezium's set-up).
    ``before_image_prefix``: the prefix of before-image columns in the CD tables; by default the one each
    registration names (``IBMSNAP_REGISTER.BEFORE_IMG_PREFIX``, usually ``X``). ``commit_time``: ``uow``
    takes ``IBMSNAP_LOGMARKER`` from ``IBMSNAP_UOW``, ``poll`` the time the rows were read."""

    _masked_fields = frozenset({"dsn"})
    kind: Literal["db2-asn"]
    dsn: NonEmpty
    password: OptSecret = Field(default=None, validate_default=True)
    platform: Literal["luw", "zos"] = "luw"
    asn_schema: Annotated[Ident, Field()] = "ASN"
    before_image_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9_#@$]{1,4}$")] | None = None
    commit_time: Literal["uow", "poll"] = "uow"
    tables: Annotated[list[Db2TableConfig], Field(min_length=1)]
    poll_interval_ms: Annotated[int, Field(ge=1)] = 1000
    batch_size: Annotated[int, Field(ge=1, le=100_000)] = 1000
    heartbeat_interval_ms: Annotated[int, Field(ge=1)] = 10000
    on_changes_gone: Literal["fail", "resnapshot"] = "fail"
    snapshot: Literal["initial", "never"] = "initial"

    @field_validator("asn_schema", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return upper_text(value)

    @field_validator("dsn", mode="after")
    @classmethod
    def _connection_string(cls, value: str) -> str:
        pairs = [p for p in value.split(";") if p.strip()]
        if not pairs or not all("=" in p for p in pairs):
            raise PydanticCustomError("dsn", "not an ibm_db connection string (expected DATABASE=..;HOSTNAME=..;...)")
        keys = {p.split("=", 1)[0].strip().upper() for p in pairs}
        if "DATABASE" not in keys and "DSN" not in keys:
            raise PydanticCustomError("dsn", "needs DATABASE=name (with HOSTNAME, PORT, PROTOCOL=TCPIP) or DSN=alias")
        return value


def connection_string(config: Db2AsnConfig) -> str:
    """The ibm_db connection string with ``PWD=`` added."""
    dsn = config.dsn.rstrip().rstrip(";")
    if config.password is None:
        return dsn + ";"
    return f"{dsn};PWD={config.password.get_secret_value()};"


def database_of(dsn: str) -> str:
    for part in dsn.split(";"):
        key, _, value = part.partition("=")
        if key.strip().upper() in ("DATABASE", "DSN"):
            return value.strip()
    return ""
