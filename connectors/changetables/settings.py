"""What the change-table connectors' settings share: a connection string, and its password kept apart."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationInfo, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from schemas.settings import ConnectorSettings, duplicate_names

_PWD = re.compile(r"(?i)(^|;)\s*PWD\s*=")


class DsnConnectorSettings(ConnectorSettings):
    """A connector reached through a ``KEY=value;...`` connection string (``dsn``) whose password is its own
    secret field (``password``, added as ``PWD=`` when connecting, never logged), with a ``tables`` list."""

    @field_validator("password", mode="after", check_fields=False)
    @classmethod
    def _one_password(cls, value: Any, info: ValidationInfo) -> Any:
        dsn = info.data.get("dsn")
        if value is not None and isinstance(dsn, str) and _PWD.search(dsn):
            raise PydanticCustomError("password", "the password is given twice (PWD= in dsn and password): "
                                                  "keep it in password only")
        return value

    @classmethod
    def _cross_check(cls, data: Mapping[str, Any]) -> list[InitErrorDetails]:
        return duplicate_names(data, "tables", "table")
