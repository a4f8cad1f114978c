"""Pure mapping of reflected SQLAlchemy column types to crmhub ``Column``s (the values of those columns are
normalised by :mod:`connectors.sql.values`).

Type rules (``dialect`` is SQLAlchemy's dialect name: sqlite, postgresql, mysql, mariadb, oracle, mssql,
ibm_db_sa for Db2 LUW and Db2 for i):

- NUMERIC/DECIMAL(p,s) -> DECIMAL(p,s), also when s = 0 (Debezium's precise mode: ``NUMBER(7,0)`` stays a
  decimal, so keys like IBM i ``NUMERIC(7,0)`` keep their declared shape). Oracle negative scale
  ``NUMBER(p,-n)`` -> DECIMAL(p+n,0); scale above precision ``NUMBER(3,5)`` -> DECIMAL(5,5).
- A NUMERIC without precision (Oracle ``NUMBER``, PostgreSQL ``numeric``, SQLite ``DECIMAL``) has no fixed
  shape; it becomes DECIMAL(38,10) (:data:`UNBOUNDED_DECIMAL`). A value with more than 10 decimals or
  more than 28 integer digits does not fit: that row goes to the DLQ with the reason (never rounded).
- Integers by size: SMALLINT/TINYINT -> INT16, INTEGER/MEDIUMINT -> INT32, BIGINT -> INT64; MySQL unsigned
  types widen one step (BIGINT UNSIGNED -> DECIMAL(20,0)). SQLite integers are always INT64 (its INTEGER
  affinity stores 64 bits whatever the declared name). Oracle ``INTEGER`` is ``NUMBER(38)`` -> DECIMAL(38,0).
  MySQL ``TINYINT(1)`` stays INT16 (it is a number to the server), MySQL ``BIT(1)`` -> BOOLEAN.
- REAL, BINARY_FLOAT, MySQL FLOAT, FLOAT(p<=24) -> FLOAT32; other floating types -> FLOAT64 (SQLite REAL is
  8 bytes: FLOAT64). Db2's DOUBLE (a Numeric subclass in ibm_db_sa) -> FLOAT64.
- DATE -> DATE, except Oracle DATE (it has a time part) -> TIMESTAMP. TIMESTAMP/DATETIME/DATETIME2/
  SMALLDATETIME -> TIMESTAMP; with time zone (PostgreSQL timestamptz, Oracle WITH TIME ZONE, SQL Server
  DATETIMEOFFSET) -> TIMESTAMP_TZ; Oracle WITH LOCAL TIME ZONE (returned in session time) -> TIMESTAMP.
  TIME -> TIME (a time with a zone -> STRING, ISO text, as Avro's time has no zone).
- CHAR/NCHAR/GRAPHIC(n) -> CHAR(n); the value keeps its blanks unless the table sets ``trim_char`` (then
  trailing blanks only are removed). VARCHAR/TEXT/CLOB/... -> STRING(n).
- BOOLEAN/BIT (SQL Server) -> BOOLEAN. BINARY/VARBINARY/BLOB/BYTEA/RAW/IMAGE/ROWVERSION -> BYTES.
- Known textual types (UUID, JSON, XML, INTERVAL, INET, ARRAY, PostgreSQL MONEY...) -> STRING; SQL Server
  MONEY -> DECIMAL(19,4), SMALLMONEY -> DECIMAL(10,4).
- Anything else (NullType from a catalog type SQLAlchemy does not know, e.g. Db2 DECFLOAT, BINARY) ->
  STRING **with a warning**: its values are passed through ``str()``. Check such columns by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from schemas.columns import Column, ColumnType

UNBOUNDED_DECIMAL = (38, 10)
"""(precision, scale) used for a NUMERIC declared without precision."""

_TEXTUAL = frozenset({
    "UUID", "UNIQUEIDENTIFIER", "JSON", "JSONB", "XML", "INTERVAL", "INET", "CIDR", "MACADDR", "MACADDR8",
    "ARRAY", "HSTORE", "ROWID", "TSVECTOR", "TSQUERY", "OID", "REGCLASS", "MONEY",
})
_FIXED_CHAR = frozenset({"CHAR", "NCHAR", "GRAPHIC", "CHARACTER"})


@dataclass(frozen=True, slots=True)
class Mapped:
    """The logical type of one reflected column; ``warning`` is set for a type crmhub does not know."""

    type: ColumnType
    precision: int | None = None
    scale: int | None = None
    length: int | None = None
    warning: str | None = None


def _name(sqltype: TypeEngine[Any]) -> str:
    return str(getattr(sqltype, "__visit_name__", "") or type(sqltype).__name__).upper()


def map_type(sqltype: TypeEngine[Any], dialect: str) -> Mapped:
    """The crmhub logical type of a reflected SQLAlchemy type (rules in the module docstring)."""
    name = _name(sqltype)
    special = _special(sqltype, name, dialect)
    if special is not None:
        return special
    if isinstance(sqltype, sqltypes.Boolean):
        return Mapped(ColumnType.BOOLEAN)
    if isinstance(sqltype, sqltypes.Float) or name == "DOUBLE":
        return Mapped(_float_type(sqltype, name, dialect))
    if isinstance(sqltype, sqltypes.Numeric):
        return _decimal(getattr(sqltype, "precision", None), getattr(sqltype, "scale", None))
    if isinstance(sqltype, sqltypes.Integer):
        return _integer(sqltype, name, dialect)
    if isinstance(sqltype, sqltypes.DateTime):
        return Mapped(_datetime_type(sqltype, name))
    if isinstance(sqltype, sqltypes.Date):
        return Mapped(ColumnType.DATE)
    if isinstance(sqltype, sqltypes.Time):
        return Mapped(ColumnType.STRING if getattr(sqltype, "timezone", False) else ColumnType.TIME)
    if isinstance(sqltype, sqltypes._Binary):
        return Mapped(ColumnType.BYTES, length=getattr(sqltype, "length", None))
    if isinstance(sqltype, sqltypes.String):
        kind = ColumnType.CHAR if name in _FIXED_CHAR else ColumnType.STRING
        return Mapped(kind, length=getattr(sqltype, "length", None))
    if name in _TEXTUAL or isinstance(sqltype, sqltypes.JSON | sqltypes.Uuid | sqltypes.Interval):
        return Mapped(ColumnType.STRING)
    return Mapped(ColumnType.STRING, warning=f"unknown column type {name or '?'}: captured as text")


def _special(sqltype: TypeEngine[Any], name: str, dialect: str) -> Mapped | None:
    """Dialect types whose generic base says the wrong thing."""
    if dialect == "mssql" and name in ("MONEY", "SMALLMONEY"):
        return _decimal(19, 4) if name == "MONEY" else _decimal(10, 4)
    if dialect in ("mysql", "mariadb") and name == "BIT":
        length = getattr(sqltype, "length", None) or 1
        return Mapped(ColumnType.BOOLEAN) if length == 1 else Mapped(ColumnType.BYTES)
    if dialect in ("mysql", "mariadb") and name == "YEAR":
        return Mapped(ColumnType.INT16)
    if dialect == "oracle" and isinstance(sqltype, sqltypes.Integer) and not isinstance(sqltype, sqltypes.Numeric):
        return _decimal(38, 0)  # Oracle INTEGER/SMALLINT are NUMBER(38)
    if dialect == "oracle" and name == "NUMBER":
        return _decimal(getattr(sqltype, "precision", None), getattr(sqltype, "scale", None))
    if name == "BIT" and dialect == "postgresql":
        return Mapped(ColumnType.STRING)
    return None


def _decimal(precision: int | None, scale: int | None) -> Mapped:
    if precision is None or precision < 1:
        if scale == 0 and precision is None:
            return Mapped(ColumnType.DECIMAL, precision=UNBOUNDED_DECIMAL[0], scale=0)
        return Mapped(ColumnType.DECIMAL, precision=UNBOUNDED_DECIMAL[0], scale=UNBOUNDED_DECIMAL[1])
    scale = scale or 0
    if scale < 0:
        return Mapped(ColumnType.DECIMAL, precision=precision - scale, scale=0)
    return Mapped(ColumnType.DECIMAL, precision=max(precision, scale), scale=scale)


def _float_type(sqltype: TypeEngine[Any], name: str, dialect: str) -> ColumnType:
    if dialect == "sqlite" or name in ("DOUBLE", "DOUBLE_PRECISION", "BINARY_DOUBLE"):
        return ColumnType.FLOAT64
    if name in ("REAL", "BINARY_FLOAT"):
        return ColumnType.FLOAT32
    if dialect in ("mysql", "mariadb") and name == "FLOAT":
        precision = getattr(sqltype, "precision", None)
        return ColumnType.FLOAT32 if precision is None or precision <= 24 else ColumnType.FLOAT64
    precision = getattr(sqltype, "precision", None)
    if dialect != "oracle" and precision is not None and precision <= 24:
        return ColumnType.FLOAT32
    return ColumnType.FLOAT64


def _integer(sqltype: TypeEngine[Any], name: str, dialect: str) -> Mapped:
    if dialect == "sqlite":
        return Mapped(ColumnType.INT64)
    if isinstance(sqltype, sqltypes.BigInteger) or "BIG" in name:
        size = ColumnType.INT64
    elif isinstance(sqltype, sqltypes.SmallInteger) or name in ("SMALLINT", "TINYINT", "SMALL_INTEGER"):
        size = ColumnType.INT16
    else:
        size = ColumnType.INT32
    if getattr(sqltype, "unsigned", False):  # MySQL: widen one step where the range needs it
        if size is ColumnType.INT64:
            return _decimal(20, 0)
        if name not in ("TINYINT", "MEDIUMINT"):  # TINYINT UNSIGNED fits INT16, MEDIUMINT UNSIGNED INT32
            size = ColumnType.INT32 if size is ColumnType.INT16 else ColumnType.INT64
    return Mapped(size)


def _datetime_type(sqltype: TypeEngine[Any], name: str) -> ColumnType:
    if getattr(sqltype, "local_timezone", False):
        return ColumnType.TIMESTAMP
    if getattr(sqltype, "timezone", False) or name == "DATETIMEOFFSET":
        return ColumnType.TIMESTAMP_TZ
    return ColumnType.TIMESTAMP


def source_type_text(sqltype: TypeEngine[Any], dialect: Dialect | None = None) -> str:
    """The type as the source declares it (``DECIMAL(11, 2)``), for people; the class name if it won't compile."""
    try:
        return str(sqltype.compile(dialect=dialect))
    except Exception:
        return type(sqltype).__name__


def column_from_reflection(
    info: Mapping[str, Any], dialect: str, *, primary_key: bool = False, source_type: str | None = None
) -> tuple[Column, str | None]:
    """A ``Column`` from one ``Inspector.get_columns`` entry, and the warning for an unknown type (or None)."""
    mapped = map_type(info["type"], dialect)
    column = Column(
        name=str(info["name"]),
        type=mapped.type,
        nullable=bool(info.get("nullable", True)),
        precision=mapped.precision,
        scale=mapped.scale,
        length=mapped.length if mapped.length and mapped.length > 0 else None,
        primary_key=primary_key,
        source_type=source_type or _name(info["type"]),
    )
    return column, mapped.warning
