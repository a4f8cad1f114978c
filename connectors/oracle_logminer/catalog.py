"""Pure mapping of Oracle catalog rows (ALL_TAB_COLUMNS, ALL_CONS_COLUMNS) to ``Column``/``TableMeta``.

The rules are the SQL connector's for Oracle (:mod:`connectors.sql.types`): NUMBER(p,s) -> DECIMAL(p,s)
(negative scale widens the precision; NUMBER without precision -> DECIMAL(38,10); INTEGER is NUMBER(38));
FLOAT and BINARY_DOUBLE -> FLOAT64, BINARY_FLOAT -> FLOAT32; DATE (it has a time) and TIMESTAMP(n) and
TIMESTAMP WITH LOCAL TIME ZONE -> TIMESTAMP; TIMESTAMP WITH TIME ZONE -> TIMESTAMP_TZ; CHAR/NCHAR -> CHAR(n);
VARCHAR2/NVARCHAR2/CLOB/NCLOB/LONG -> STRING; RAW/BLOB/LONG RAW -> BYTES; INTERVAL, ROWID, XMLTYPE -> STRING;
anything else -> STRING with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.sql.types import UNBOUNDED_DECIMAL
from schemas.columns import Column, ColumnType, TableMeta

__all__ = ["column_from_catalog", "table_from_catalog"]

_STRING = frozenset({"VARCHAR2", "NVARCHAR2", "VARCHAR", "CLOB", "NCLOB", "LONG", "ROWID", "UROWID", "XMLTYPE"})
_BYTES = frozenset({"RAW", "BLOB", "LONG RAW", "BFILE"})


def _number(precision: int | None, scale: int | None) -> tuple[ColumnType, int, int]:
    if precision is None:
        return (ColumnType.DECIMAL, UNBOUNDED_DECIMAL[0], 0) if scale == 0 else (
            ColumnType.DECIMAL, *UNBOUNDED_DECIMAL)
    scale = scale or 0
    if scale < 0:
        return ColumnType.DECIMAL, precision - scale, 0
    return ColumnType.DECIMAL, max(precision, scale), scale


def _kind(data_type: str, precision: int | None, scale: int | None) -> tuple[ColumnType, int | None, int | None,
                                                                            str | None]:
    base = data_type.split("(", 1)[0].strip()
    if data_type == "NUMBER" or data_type in ("INTEGER", "DECIMAL", "NUMERIC", "SMALLINT"):
        return (*_number(38 if data_type != "NUMBER" and precision is None else precision,
                         0 if data_type != "NUMBER" and scale is None else scale), None)
    if data_type in ("FLOAT", "BINARY_DOUBLE", "DOUBLE PRECISION"):
        return ColumnType.FLOAT64, None, None, None
    if data_type in ("BINARY_FLOAT", "REAL"):
        return ColumnType.FLOAT32, None, None, None
    if data_type == "DATE":
        return ColumnType.TIMESTAMP, None, None, None
    if base == "TIMESTAMP":
        if data_type.endswith("WITH LOCAL TIME ZONE"):
            return ColumnType.TIMESTAMP, None, None, None
        kind = ColumnType.TIMESTAMP_TZ if data_type.endswith("WITH TIME ZONE") else ColumnType.TIMESTAMP
        return kind, None, None, None
    if data_type in ("CHAR", "NCHAR"):
        return ColumnType.CHAR, None, None, None
    if data_type in _STRING or base == "INTERVAL":
        return ColumnType.STRING, None, None, None
    if data_type in _BYTES:
        return ColumnType.BYTES, None, None, None
    return ColumnType.STRING, None, None, f"unknown column type {data_type}: captured as text"


def column_from_catalog(row: Mapping[str, Any], key: Sequence[str] = ()) -> tuple[Column, str | None]:
    """A ``Column`` from one ALL_TAB_COLUMNS row (COLUMN_NAME, DATA_TYPE, DATA_PRECISION, DATA_SCALE,
    NULLABLE 'Y'/'N', DATA_LENGTH, CHAR_LENGTH) and the warning for an unknown type (or None)."""
    data_type = str(row["DATA_TYPE"]).upper()
    precision = None if row.get("DATA_PRECISION") is None else int(row["DATA_PRECISION"])
    scale = None if row.get("DATA_SCALE") is None else int(row["DATA_SCALE"])
    kind, prec, sc, warning = _kind(data_type, precision, scale)
    length = None
    if kind in (ColumnType.CHAR, ColumnType.STRING) and data_type not in ("CLOB", "NCLOB", "LONG", "XMLTYPE"):
        length = int(row.get("CHAR_LENGTH") or row.get("DATA_LENGTH") or 0) or None
    elif kind is ColumnType.BYTES and data_type == "RAW":
        length = int(row.get("DATA_LENGTH") or 0) or None
    shown = data_type
    if data_type == "NUMBER" and precision is not None:
        shown = f"NUMBER({precision},{scale or 0})"
    elif length is not None:
        shown = f"{data_type}({length})"
    name = str(row["COLUMN_NAME"])
    column = Column(name=name, type=kind, nullable=str(row.get("NULLABLE", "Y")).upper() != "N",
                    precision=prec, scale=sc, length=length, primary_key=name in key, source_type=shown)
    return column, warning


def table_from_catalog(connector: str, db: str, owner: str, table: str, rows: Sequence[Mapping[str, Any]],
                       key: Sequence[str]) -> tuple[TableMeta, list[str]]:
    """The table's ``TableMeta`` (key in constraint position order) and the warnings for unknown types."""
    columns: list[Column] = []
    warnings: list[str] = []
    for row in rows:
        column, warning = column_from_catalog(row, key)
        columns.append(column)
        if warning:
            warnings.append(f"{owner}.{table}.{column.name}: {warning}")
    meta = TableMeta(connector=connector, db=db, schema=owner, name=table, columns=tuple(columns), key=tuple(key))
    return meta, warnings
