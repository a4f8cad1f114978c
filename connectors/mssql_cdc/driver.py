"""The real connection: pyodbc with Microsoft's 'ODBC Driver 18 for SQL Server' (the ``crmhub[odbc]`` extra).

pyodbc cannot read ``datetimeoffset`` (ODBC type -155) by itself; :func:`datetimeoffset` is registered as
its output converter (the driver hands over the SQL_SS_TIMESTAMPOFFSET_STRUCT bytes).
"""

from __future__ import annotations

import struct
from datetime import datetime, timedelta, timezone
from typing import Any

from connectors.changetables.dbapi import ConnectionFactory, DbConnection
from connectors.mssql_cdc.config import MssqlCdcConfig, connection_string
from schemas.errors import ConfigError

__all__ = ["SQL_SS_TIMESTAMPOFFSET", "datetimeoffset", "pyodbc_factory"]

SQL_SS_TIMESTAMPOFFSET = -155
_DTO = struct.Struct("<6hI2h")  # year, month, day, hour, minute, second, fraction (ns), tz hour, tz minute


def datetimeoffset(value: bytes) -> datetime:
    """SQL_SS_TIMESTAMPOFFSET_STRUCT (20 bytes, little-endian) -> aware datetime (microseconds)."""
    year, month, day, hour, minute, second, nanos, tz_h, tz_m = _DTO.unpack(value)
    zone = timezone(timedelta(hours=tz_h, minutes=tz_m))
    return datetime(year, month, day, hour, minute, second, nanos // 1000, tzinfo=zone)


def pyodbc_factory(config: MssqlCdcConfig) -> ConnectionFactory:
    """A factory opening autocommit pyodbc connections (each poll sees committed change rows at once)."""
    def connect() -> DbConnection:
        try:
            import pyodbc  # optional extra
        except ImportError:
            raise ConfigError(f"{config.name}: the SQL Server CDC connector needs pyodbc; install crmhub[odbc] "
                              "and Microsoft's 'ODBC Driver 18 for SQL Server'") from None
        conn: Any = pyodbc.connect(connection_string(config), autocommit=True, timeout=config.login_timeout_s)
        conn.add_output_converter(SQL_SS_TIMESTAMPOFFSET, datetimeoffset)
        return conn  # type: ignore[no-any-return]
    return connect
