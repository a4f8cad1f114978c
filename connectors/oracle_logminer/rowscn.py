"""``mode: rowscn``: query-based capture on ORA_ROWSCN, built on the SQL connector (called, not copied).

The SQL connector cannot do this by configuration alone: its ``incrementing_column`` must be a column the
catalog reflects, and ORA_ROWSCN is a pseudo-column. :class:`RowscnConnector` therefore resolves the tables
with :func:`connectors.sql.catalog.reflect_tables` (no incrementing column) and then adds ``ora_rowscn`` as the
incrementing column of each, so the SQL connector's snapshot (keyset), ``WHERE ora_rowscn > :id ORDER BY
ora_rowscn`` polling, head query and state are used as they are.

Semantics: ORA_ROWSCN is the commit SCN of the row's last change, per **block** unless the table was
created with ``ROWDEPENDENCIES`` (then per row): without it, changing one row re-emits the other rows of its
block (duplicates, never loss). Every changed row is emitted as ``u`` with ``before`` = null (an upsert:
ORA_ROWSCN cannot tell an insert from an update); deletes are not seen (use ``reconcile_deletes_every_s`` of
the SQL connector, not exposed here). Column names are those SQLAlchemy reflects (lower case for Oracle's
case-insensitive names), unlike ``mode: logminer`` (upper case, as the catalog stores them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from connectors.oracle_logminer.config import OracleLogminerConfig
from connectors.sql.catalog import SourceTable, reflect_tables
from connectors.sql.config import SqlConnectorConfig, SqlTableConfig
from connectors.sql.connector import SqlConnector
from connectors.sql.queries import table_ref
from schemas.columns import Column, ColumnType
from schemas.envelope import Op
from schemas.errors import ConfigError

__all__ = ["RowscnConnector", "sql_config"]

ROWSCN = "ora_rowscn"
_EASY = re.compile(r"^(?://)?(?P<host>[^:/\s]+)(?::(?P<port>\d+))?/(?P<service>[^:/\s]+)$")


def sql_url(dsn: str, user: str) -> str:
    """``oracle+oracledb://user@host:port/?service_name=svc`` for an Easy Connect DSN; ``ConfigError`` else."""
    match = _EASY.match(dsn.strip())
    if match is None:
        raise ConfigError("dsn: mode rowscn needs an Easy Connect DSN (host[:port]/service)")
    port = match["port"] or "1521"
    return f"oracle+oracledb://{quote(user, safe='')}@{match['host']}:{port}/?service_name={match['service']}"


def sql_config(config: OracleLogminerConfig) -> SqlConnectorConfig:
    """The SQL connector's configuration for the same tables (validated by its own model)."""
    return SqlConnectorConfig.model_validate({
        "kind": "sql", "name": config.name, "url": sql_url(config.dsn, config.user),
        "password": config.password.get_secret_value() if config.password else None,
        "poll_interval_ms": config.poll_interval_ms, "batch_size": config.batch_size,
        "heartbeat_interval_ms": config.heartbeat_interval_ms,
        "on_schema_change": config.on_schema_change, "schema_check_interval_s": config.schema_check_interval_s,
        "tables": [{"name": t.name.lower(), "mode": "incrementing", "incrementing_column": ROWSCN,
                    "key_columns": [k.lower() for k in t.key_columns] if t.key_columns else None,
                    "safety_delay_ms": 0} for t in config.tables],
    })


class RowscnConnector(SqlConnector):
    """The SQL connector polling ``ora_rowscn`` (module docstring)."""

    kind = "oracle"

    def _reflect(self) -> list[SourceTable]:
        plain = self.config.model_copy(update={"tables": [
            SqlTableConfig.model_construct(**{**t.model_dump(), "incrementing_column": None})
            for t in self.config.tables]})
        with self._db("reading the catalog"):
            tables = reflect_tables(self._get_engine(), plain)
        inc = Column(ROWSCN, ColumnType.DECIMAL, nullable=False, precision=38, scale=0, source_type="ORA_ROWSCN")
        out: list[SourceTable] = []
        for t, cfg in zip(tables, self.config.tables, strict=True):
            ref = table_ref(cfg.schema_name, cfg.table_name, [*(c.name for c in t.meta.columns), ROWSCN])
            out.append(replace(t, cfg=cfg, ref=ref, inc=inc, ids=(inc,)))
        return out

    def _op(self, t: SourceTable, row: Mapping[str, Any], raw: Mapping[str, Any], snapshot: bool, max_id: Any,
            known: bool) -> Op | None:
        return Op.READ if snapshot else Op.UPDATE
