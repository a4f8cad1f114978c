"""Resolution of the configured tables against the source catalog: each table's columns reflected and mapped
(:mod:`connectors.sql.types`), and its timestamp, incrementing, soft-delete and key columns found (exact name,
else case-insensitive). Every problem found is reported at once, located at the setting's path."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
import structlog

from connectors.sql.config import SqlConnectorConfig, SqlTableConfig, database_name
from connectors.sql.queries import encode_value, table_ref
from connectors.sql.types import column_from_reflection, source_type_text
from connectors.sql.values import comparable, is_deleted
from schemas.columns import Column, ColumnType, TableMeta
from schemas.envelope import Op
from schemas.errors import ConfigError

log = structlog.get_logger(__name__)

__all__ = ["SourceTable", "reflect_tables"]

_TS_TYPES = frozenset({ColumnType.TIMESTAMP, ColumnType.TIMESTAMP_TZ, ColumnType.DATE})
_ID_TYPES = frozenset({ColumnType.INT16, ColumnType.INT32, ColumnType.INT64, ColumnType.DECIMAL})


@dataclass(frozen=True, slots=True)
class SourceTable:
    """A configured table resolved against the catalog."""

    cfg: SqlTableConfig
    meta: TableMeta
    ref: sa.Table
    ts: Column | None
    inc: Column | None
    ids: tuple[Column, ...]  # the incrementing column, or the key in mode timestamp
    soft: Column | None

    @property
    def label(self) -> str:
        return self.cfg.name

    def position(self, raw: Mapping[str, Any]) -> dict[str, str]:
        """The stream position of a raw row: the table, its timestamp and its id(s), JSON-encoded."""
        ids = [encode_value(raw.get(c.name)) for c in self.ids]
        ts = encode_value(raw.get(self.ts.name)) if self.ts else None
        return {"table": self.label, "ts": "" if ts is None else str(ts),
                "id": str(ids[0]) if len(ids) == 1 else json.dumps(ids)}


    def same_columns(self, conn: sa.Connection) -> bool:
        """Whether a ``SELECT *`` that reads no row names the columns the table was described with (one cheap
        statement; names compared without case, as drivers report them in either)."""
        names = conn.execute(_no_rows(self.ref)).keys()
        return [n.lower() for n in names] == [c.name.lower() for c in self.meta.columns]

    def op(self, row: Mapping[str, Any], raw: Mapping[str, Any], *, snapshot: bool, max_id: Any,
           known: bool) -> Op | None:
        """The operation of a polled row (``known``: its key was emitted before, or no key store keeps them);
        ``None`` for a soft-deleted row in the snapshot (nothing to read)."""
        soft = self.cfg.soft_delete
        if self.soft is not None and soft and is_deleted(row[self.soft.name], soft.deleted_values):
            return None if snapshot else Op.DELETE
        if snapshot:
            return Op.READ
        if self.ts is None:
            return Op.CREATE
        if self.inc is not None:
            value = raw[self.inc.name]
            return Op.CREATE if max_id is None or comparable(value) > comparable(max_id) else Op.UPDATE
        return Op.UPDATE if known else Op.CREATE


@lru_cache(maxsize=1024)
def _no_rows(ref: sa.Table) -> sa.Select[Any]:
    """``SELECT * FROM ref WHERE false``, built once per table (building it costs as much as running it)."""
    return sa.select(sa.text("*")).select_from(ref).where(sa.false())


def reflect_tables(engine: sa.Engine, config: SqlConnectorConfig) -> list[SourceTable]:
    """The configured tables as the catalog describes them now; ``ConfigError`` listing every problem. Driver
    errors (``sqlalchemy.exc.DBAPIError``) pass through for the caller to classify."""
    problems: list[str] = []
    tables: list[SourceTable] = []
    insp = sa.inspect(engine)
    default_schema = insp.default_schema_name
    for i, cfg in enumerate(config.tables):
        where = f"{config.name}.tables[{i}]"
        if not insp.has_table(cfg.table_name, schema=cfg.schema_name):
            problems.append(f"{where}.name: table {cfg.name} not found (or no privilege to see it)")
            continue
        infos = insp.get_columns(cfg.table_name, schema=cfg.schema_name)
        pk = list(insp.get_pk_constraint(cfg.table_name, schema=cfg.schema_name).get("constrained_columns") or [])
        schema = None if engine.dialect.name == "sqlite" else (cfg.schema_name or default_schema)
        columns = _columns(engine, config.name, cfg, infos, pk)
        table = _resolve(engine, config.name, cfg, where, columns, pk, schema, problems)
        if table is not None:
            tables.append(table)
    if problems:
        raise ConfigError(problems)
    return tables


def _columns(engine: sa.Engine, connector: str, cfg: SqlTableConfig, infos: Sequence[Mapping[str, Any]],
             pk: list[str]) -> list[Column]:
    """The reflected columns mapped to ``Column``s (a warning logged for each type crmhub does not know)."""
    columns: list[Column] = []
    for info in infos:
        col, warning = column_from_reflection(info, engine.dialect.name, primary_key=info["name"] in pk,
                                              source_type=source_type_text(info["type"], engine.dialect))
        if warning:
            log.warning("sql.unknown_type", connector=connector, table=cfg.name, column=col.name, detail=warning)
        columns.append(col)
    return columns


def _resolve(engine: sa.Engine, connector: str, cfg: SqlTableConfig, where: str, columns: list[Column],
             pk: list[str], schema: str | None, problems: list[str]) -> SourceTable | None:
    """The table with its configured columns found, or None after adding to ``problems``."""
    before = len(problems)
    find = _finder(columns, where, problems)
    ts = find("timestamp_column", cfg.timestamp_column, _TS_TYPES)
    inc = find("incrementing_column", cfg.incrementing_column, _ID_TYPES)
    soft = find("soft_delete.column", cfg.soft_delete.column if cfg.soft_delete else None, None)
    key = [find(f"key_columns[{j}]", k, None) for j, k in enumerate(cfg.key_columns or [])]
    key_names = [k.name for k in key if k is not None] if cfg.key_columns else pk
    if not key_names and not cfg.key_columns:
        problems.append(f"{where}.key_columns: table {cfg.name} has no primary key; list its key columns")
    if len(problems) > before:
        return None
    meta = TableMeta(connector=connector, db=database_name(engine.url), schema=schema, name=cfg.table_name,
                     columns=tuple(columns), key=tuple(key_names))
    ids = (inc,) if inc is not None else meta.key_columns
    ref = table_ref(cfg.schema_name, cfg.table_name, [c.name for c in columns])
    return SourceTable(cfg, meta, ref, ts, inc, tuple(ids), soft)


def _finder(columns: Sequence[Column], where: str, problems: list[str]
            ) -> Callable[[str, str | None, frozenset[ColumnType] | None], Column | None]:
    """Resolve a configured column name against the catalog's (exact, else case-insensitive)."""
    def find(field: str, name: str | None, types: frozenset[ColumnType] | None) -> Column | None:
        if name is None:
            return None
        col = next((c for c in columns if c.name == name), None) or next(
            (c for c in columns if c.name.casefold() == name.casefold()), None)
        if col is None:
            problems.append(f"{where}.{field}: column {name} not found")
        elif types is not None and (col.type not in types or (col.type is ColumnType.DECIMAL and col.scale)):
            problems.append(f"{where}.{field}: column {name} is {col.source_type}, which cannot order changes")
            return None
        return col
    return find
