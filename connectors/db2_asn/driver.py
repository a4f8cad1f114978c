"""The real connection: ibm_db_dbi (the ``crmhub[db2]`` extra), autocommit so each poll sees new CD rows."""

from __future__ import annotations

from typing import Any

from connectors.changetables.dbapi import ConnectionFactory, DbConnection
from connectors.db2_asn.config import Db2AsnConfig, connection_string
from schemas.errors import ConfigError

__all__ = ["ibm_db_factory"]


def ibm_db_factory(config: Db2AsnConfig) -> ConnectionFactory:
    def connect() -> DbConnection:
        try:
            import ibm_db_dbi  # optional extra
        except ImportError:
            raise ConfigError(f"{config.name}: the Db2 ASN connector needs ibm_db; install crmhub[db2]") from None
        conn: Any = ibm_db_dbi.connect(connection_string(config), "", "")
        conn.set_autocommit(True)
        return conn  # type: ignore[no-any-return]
    return connect
