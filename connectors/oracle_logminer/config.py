"""Configuration of the Oracle connector (``kind: oracle-logminer``): LogMiner or ORA_ROWSCN polling.

Every bad field is reported with its path (``connectors[2].tables[0]: ...``), like the SQL connector's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from schemas.settings import ConfigModel, ConnectorSettings, OptSecret, duplicate_names

__all__ = ["OracleLogminerConfig", "OracleTable"]

_TABLE = r"^[A-Za-z_$#][A-Za-z0-9_$#]*\.[A-Za-z_$#][A-Za-z0-9_$#]*$"


class OracleTable(ConfigModel):
    """One captured table, ``OWNER.TABLE`` (upper case as the catalog stores it, unless quoted at creation)."""

    name: Annotated[str, Field(pattern=_TABLE)]
    key_columns: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] | None = None

    @property
    def owner(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def table(self) -> str:
        return self.name.split(".", 1)[1]


class OracleLogminerConfig(ConnectorSettings):
    """An Oracle database captured with LogMiner (``mode: logminer``) or by polling ORA_ROWSCN (``rowscn``).

    ``dsn`` is an Easy Connect string (``host:port/service``) or a TNS alias/descriptor (python-oracledb thin
    mode); ``mode: rowscn`` needs Easy Connect (it goes through SQLAlchemy). ``window_scns`` is how many SCNs
    one LogMiner session mines at most; ``db_timezone`` the zone of the database server's clock (LogMiner's
    TIMESTAMP and COMMIT_TIMESTAMP are its wall time), used for ``source.ts_ms``. ``relaxed_quotes``: a
    SQL_REDO statement refused because LogMiner left quotes inside a text value unescaped (seen with
    ``MAX_STRING_SIZE = EXTENDED``) is parsed again taking a quote as the value's end only where the statement
    can go on after it (Debezium's ``log.mining.sql.relaxed.quote.detection`` rule); a value that itself
    contains such a sequence is cut there, so it is off by default and such statements go to the DLQ.
    """

    _masked_fields = frozenset({"dsn"})
    kind: Literal["oracle-logminer"]
    dsn: Annotated[str, Field(min_length=1)]
    user: Annotated[str, Field(min_length=1)]
    password: OptSecret = None
    mode: Literal["logminer", "rowscn"] = "logminer"
    tables: Annotated[list[OracleTable], Field(min_length=1)]
    window_scns: Annotated[int, Field(ge=1, le=10_000_000)] = 20_000
    poll_interval_ms: Annotated[int, Field(ge=1)] = 1000
    batch_size: Annotated[int, Field(ge=1)] = 1000
    heartbeat_interval_ms: Annotated[int, Field(ge=1)] = 10000
    fetch_size: Annotated[int, Field(ge=1)] = 2000
    db_timezone: Annotated[str, Field(min_length=1)] = "UTC"
    relaxed_quotes: bool = False

    @field_validator("db_timezone", mode="after")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError("unknown_timezone", f"unknown time zone '{value}'") from None
        return value

    @field_validator("dsn", mode="after")
    @classmethod
    def _dsn(cls, value: str) -> str:
        if "/" in value.split("@", 1)[0] and "@" in value:
            # never echo the value: "user/password@host" puts a password in the DSN
            raise PydanticCustomError("dsn_password", "the DSN must not hold user/password; use user and password")
        return value

    @classmethod
    def _cross_check(cls, data: Mapping[str, Any]) -> list[InitErrorDetails]:
        return duplicate_names(data, "tables", "table")

    def table(self, owner: str, name: str) -> OracleTable | None:
        """The configured table ``owner.name`` (exact, as the catalog spells it), or None."""
        wanted = f"{owner}.{name}"
        return next((t for t in self.tables if t.name == wanted), None)
