"""SQL Server's CDC catalog: capture instances, change-table columns, keys, and the mapping of
INFORMATION_SCHEMA types to crmhub columns (pure functions over the rows the catalog queries return).

- Capture instances come from ``cdc.change_tables`` (source object, ``capture_instance``, ``start_lsn``
  binary(10), ``create_date``); a table has at most two. Rows the reader may not see (no SELECT on the
  cdc schema) do not appear: that is reported as "not enabled for CDC or no privilege".
- A table is described with the columns of its **newest** capture instance's change table (``cdc.<instance>_CT``
  minus the ``__$`` columns), typed from INFORMATION_SCHEMA.COLUMNS; a column that an older instance (still
  read) lacks is nullable, as its value is unknown in the older rows. The key is the source table's primary
  key, else the capture instance's unique index (``cdc.index_columns``), else ``key_columns``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.columns import Column, ColumnType

__all__ = ["CAPTURE_INSTANCES_SQL", "COLUMNS_SQL", "INDEX_COLUMNS_SQL", "PRIMARY_KEY_SQL", "CaptureInstance",
           "column_from_info", "describe_columns", "instances_by_table"]

CAPTURE_INSTANCES_SQL = (
    "SELECT OBJECT_SCHEMA_NAME(ct.source_object_id) AS source_schema, OBJECT_NAME(ct.source_object_id) AS "
    "source_table, ct.capture_instance, ct.start_lsn, ct.create_date, ct.supports_net_changes, ct.role_name "
    "FROM cdc.change_tables AS ct ORDER BY source_schema, source_table, ct.create_date"
)
COLUMNS_SQL = (
    "SELECT COLUMN_NAME, ORDINAL_POSITION, DATA_TYPE, IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, "
    "NUMERIC_SCALE, DATETIME_PRECISION FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? "
    "ORDER BY ORDINAL_POSITION"
)
PRIMARY_KEY_SQL = (
    "SELECT kcu.COLUMN_NAME, kcu.ORDINAL_POSITION FROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS AS tc "
    "JOIN INFORMATION_SCHEMA.KEY_COLUMN_USAGE AS kcu ON kcu.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA "
    "AND kcu.CONSTRAINT_NAME = tc.CONSTRAINT_NAME WHERE tc.CONSTRAINT_TYPE = 'PRIMARY KEY' "
    "AND tc.TABLE_SCHEMA = ? AND tc.TABLE_NAME = ? ORDER BY kcu.ORDINAL_POSITION"
)
INDEX_COLUMNS_SQL = (
    "SELECT ic.column_name, ic.index_ordinal FROM cdc.index_columns AS ic JOIN cdc.change_tables AS ct "
    "ON ct.object_id = ic.object_id WHERE ct.capture_instance = ? ORDER BY ic.index_ordinal"
)


@dataclass(frozen=True, slots=True)
class CaptureInstance:
    """One row of ``cdc.change_tables``."""

    source_schema: str
    source_table: str
    name: str
    start_lsn: bytes
    create_date: datetime | None

    @property
    def change_table(self) -> str:
        return f"{self.name}_CT"


def instances_by_table(rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], list[CaptureInstance]]:
    """(schema, table) in lower case -> its capture instances, oldest first (by start LSN, then creation)."""
    found: dict[tuple[str, str], list[CaptureInstance]] = {}
    for r in rows:
        if r.get("source_schema") is None or r.get("source_table") is None:
            continue  # the source table was dropped, or is not visible to this login
        inst = CaptureInstance(str(r["source_schema"]), str(r["source_table"]), str(r["capture_instance"]),
                               bytes(r["start_lsn"] or b"\x00" * 10), r.get("create_date"))
        found.setdefault((inst.source_schema.lower(), inst.source_table.lower()), []).append(inst)
    for insts in found.values():
        insts.sort(key=lambda i: (i.start_lsn, i.create_date or datetime.min))
    return found


_INTS = {"tinyint": ColumnType.INT16, "smallint": ColumnType.INT16, "int": ColumnType.INT32,
         "bigint": ColumnType.INT64}
_TIMES = {"date": ColumnType.DATE, "time": ColumnType.TIME, "datetime": ColumnType.TIMESTAMP,
          "datetime2": ColumnType.TIMESTAMP, "smalldatetime": ColumnType.TIMESTAMP,
          "datetimeoffset": ColumnType.TIMESTAMP_TZ}
_BINARY = frozenset({"binary", "varbinary", "image", "timestamp", "rowversion"})
_FIXED = frozenset({"char", "nchar"})
_TEXT = frozenset({"varchar", "nvarchar", "text", "ntext", "uniqueidentifier", "xml", "sysname", "sql_variant",
                   "hierarchyid", "geography", "geometry"})


def column_from_info(info: Mapping[str, Any], *, nullable: bool, primary_key: bool) -> tuple[Column, str | None]:
    """One INFORMATION_SCHEMA.COLUMNS row as a ``Column`` (and a warning for a type crmhub does not know).

    ``decimal/numeric(p,s)`` -> DECIMAL(p,s); ``money`` DECIMAL(19,4), ``smallmoney`` DECIMAL(10,4); ``float``
    with precision 24 or less and ``real`` -> FLOAT32, else FLOAT64; ``bit`` -> BOOLEAN; ``char/nchar(n)`` ->
    CHAR(n); other text (``max`` length is -1) -> STRING; ``uniqueidentifier`` -> STRING (pyodbc returns
    text); binaries and ``rowversion`` -> BYTES."""
    dtype = str(info["DATA_TYPE"]).lower()
    length = info.get("CHARACTER_MAXIMUM_LENGTH")
    size = int(length) if length is not None and int(length) > 0 else None
    kind, precision, scale, size, warning = _mapped(dtype, info, size)
    col = Column(name=str(info["COLUMN_NAME"]), type=kind, nullable=nullable, precision=precision, scale=scale,
                 length=size, primary_key=primary_key, source_type=_type_text(info))
    return col, warning


Mapped = tuple[ColumnType, int | None, int | None, int | None, str | None]


def _mapped(dtype: str, info: Mapping[str, Any], size: int | None) -> Mapped:
    """(type, precision, scale, length, warning) of one SQL Server type."""
    if dtype in ("decimal", "numeric"):
        return ColumnType.DECIMAL, int(info["NUMERIC_PRECISION"]), int(info.get("NUMERIC_SCALE") or 0), None, None
    if dtype in ("money", "smallmoney"):
        return ColumnType.DECIMAL, 19 if dtype == "money" else 10, 4, None, None
    if dtype in _INTS:
        return _INTS[dtype], None, None, None, None
    if dtype in ("float", "real"):
        small = dtype == "real" or int(info.get("NUMERIC_PRECISION") or 53) <= 24
        return ColumnType.FLOAT32 if small else ColumnType.FLOAT64, None, None, None, None
    if dtype == "bit":
        return ColumnType.BOOLEAN, None, None, None, None
    if dtype in _TIMES:
        return _TIMES[dtype], None, None, None, None
    if dtype in _BINARY:
        return ColumnType.BYTES, None, None, size, None
    if dtype in _FIXED:
        return ColumnType.CHAR, None, None, size, None
    warning = None if dtype in _TEXT else f"unknown SQL Server type {dtype}: values are passed as text"
    return ColumnType.STRING, None, None, size, warning


def _type_text(info: Mapping[str, Any]) -> str:
    dtype = str(info["DATA_TYPE"]).lower()
    length = info.get("CHARACTER_MAXIMUM_LENGTH")
    if dtype in ("decimal", "numeric"):
        return f"{dtype}({info['NUMERIC_PRECISION']},{info.get('NUMERIC_SCALE') or 0})"
    if length is not None:
        return f"{dtype}({'max' if int(length) < 0 else int(length)})"
    return dtype


def describe_columns(newest: Sequence[Mapping[str, Any]], older: Sequence[Sequence[Mapping[str, Any]]],
                     source: Sequence[Mapping[str, Any]], key: Sequence[str]) -> tuple[list[Column], list[str]]:
    """Columns of a table from its newest change table's INFORMATION_SCHEMA rows (``__$`` columns left out).

    Nullability is the source table's; a column missing from the source table or from an older change table
    still read is nullable (its value is unknown there). Returns the columns and the warnings."""
    src_null = {str(r["COLUMN_NAME"]): str(r.get("IS_NULLABLE", "YES")).upper() == "YES" for r in source}
    older_sets = [{str(r["COLUMN_NAME"]) for r in o} for o in older]
    columns: list[Column] = []
    warnings: list[str] = []
    for info in newest:
        name = str(info["COLUMN_NAME"])
        if name.startswith("__$"):
            continue
        nullable = src_null.get(name, True) or any(name not in s for s in older_sets)
        col, warning = column_from_info(info, nullable=nullable and name not in key, primary_key=name in key)
        columns.append(col)
        if warning:
            warnings.append(f"{name}: {warning}")
    return columns, warnings
