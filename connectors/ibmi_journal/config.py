"""Configuration of the IBM i journal connector (``kind: ibmi-journal``).

Every problem is reported at its own path (``connectors[2].tables[0].ccsid.NAME: CCSID 1025 is not
supported ...``). ``dsn`` is an ODBC connection string (``driver: odbc``, IBM i Access ODBC Driver) or an
ibm_db connection string (``driver: ibm_db``); ``password`` is appended as ``PWD=`` at connect time and is
never logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from connectors.ibmi_journal.ccsids import codec_for_ccsid
from connectors.ibmi_journal.datetimes import date_parser, normalise_format
from schemas.errors import ConfigError
from schemas.settings import ConfigModel, ConnectorSettings, OptSecret, TopicName, duplicate_names, upper_text

NonEmpty = Annotated[str, Field(min_length=1)]
#: An IBM i system name (library, file, journal): 1-10 characters, upper case.
SystemName = Annotated[str, BeforeValidator(upper_text), Field(pattern=r"^[A-Z$#@][A-Z0-9$#@_.]{0,9}$")]


def _check_ccsid(value: int) -> int:
    try:
        codec_for_ccsid(value)
    except ConfigError as exc:
        raise PydanticCustomError("ccsid", exc.problems[0]) from None
    return value


Ccsid = Annotated[int, Field(ge=1, le=65535)]


def _date_format(value: str) -> str:
    try:
        date_parser(value)  # the one check of a format's name
    except ValueError as exc:
        raise PydanticCustomError("date_format", str(exc)) from None
    return normalise_format(value)


#: A DDS date field's DATFMT, with or without its ``*`` (``*MDY``, ``jul``).
DateFormat = Annotated[str, AfterValidator(_date_format)]


class IbmiTableConfig(ConfigModel):
    """One captured file: ``LIBRARY.FILE`` (system names or SQL names; matched against ``QSYS2.SYSCOLUMNS``).

    ``key_columns`` replaces the primary key (for DDS files without one). ``ccsid`` maps a column to the CCSID
    its bytes really are in (a CCSID 65535 column holding text, or a mistagged one). ``date_format`` maps a
    DDS date field to its ``DATFMT`` when that is not ``*ISO`` (see ``connectors.ibmi_journal.datetimes``)."""

    name: Annotated[str, BeforeValidator(upper_text), Field(pattern=r"^[^\s.]{1,128}\.[^\s.]{1,128}$")]
    key_columns: Annotated[list[NonEmpty], Field(min_length=1)] | None = None
    ccsid: dict[str, Ccsid] = Field(default_factory=dict)
    date_format: dict[str, DateFormat] = Field(default_factory=dict)
    topic: TopicName | None = None

    @field_validator("ccsid", mode="after")
    @classmethod
    def _ccsids(cls, value: dict[str, int]) -> dict[str, int]:
        for ccsid in value.values():
            _check_ccsid(ccsid)
        return value

    @property
    def library(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def file(self) -> str:
        return self.name.split(".", 1)[1]


class IbmiJournalConfig(ConnectorSettings):
    """Change capture from one IBM i journal with ``QSYS2.DISPLAY_JOURNAL``; see docs/connectors/ibmi-journal.md."""

    _masked_fields = frozenset({"dsn"})
    kind: Literal["ibmi-journal"]
    driver: Literal["odbc", "ibm_db"] = "odbc"
    dsn: NonEmpty
    password: OptSecret = None
    database: NonEmpty = "*LOCAL"
    journal_library: SystemName
    journal_name: SystemName
    tables: Annotated[list[IbmiTableConfig], Field(min_length=1)]
    binary_ccsid: Ccsid | None = None
    batch_size: Annotated[int, Field(ge=1, le=100_000)] = 1000
    poll_interval_ms: Annotated[int, Field(ge=1)] = 1000
    heartbeat_interval_ms: Annotated[int, Field(ge=1)] = 10000
    on_lost_position: Literal["fail", "resnapshot"] = "fail"
    snapshot_mode: Literal["initial", "never"] = "initial"
    server_timezone: NonEmpty = "UTC"
    trim_char: bool = True

    @field_validator("binary_ccsid", mode="after")
    @classmethod
    def _binary_ccsid(cls, value: int | None) -> int | None:
        if value is not None:
            if value == 65535:
                raise PydanticCustomError("ccsid", "binary_ccsid names the CCSID to decode 65535 columns with")
            _check_ccsid(value)
        return value

    @field_validator("server_timezone", mode="after")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError("timezone", f"unknown time zone '{value}' (an IANA name)") from None
        return value

    @classmethod
    def _cross_check(cls, data: Mapping[str, Any]) -> list[InitErrorDetails]:
        return duplicate_names(data, "tables", "table")


__all__ = ["IbmiJournalConfig", "IbmiTableConfig"]
