"""Pure mapping of reflected SQLAlchemy column types to crmhub ``Column``s, and of raw driver values to the
plain Python values the Avro envelope takes.

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

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Context, Decimal, InvalidOperation
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
_INT_RANGES = {
    ColumnType.INT16: (-(2**15), 2**15 - 1),
    ColumnType.INT32: (-(2**31), 2**31 - 1),
    ColumnType.INT64: (-(2**63), 2**63 - 1),
}
_DECIMAL_CONTEXT = Context(prec=120)


@dataclass(frozen=True, slots=True)
class Mapped:
    """The logical type of one reflected column; ``warning`` is set for a type crmhub does not know."""

    type: ColumnType
    precision: int | None = None
    scale: int | None = None
    length: int | None = None
    warning: str | None = None


class ValueProblem(ValueError):
    """A source value that does not fit its column (the row goes to the dead-letter topic)."""


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


# --- values ------------------------------------------------------------------------------------------


def normalise_row(raw: Mapping[str, Any], columns: Sequence[Column], *, trim_char: bool = False) -> dict[str, Any]:
    """Every column's value normalised; ``ValueProblem`` naming the column for a value that does not fit."""
    row: dict[str, Any] = {}
    for col in columns:
        try:
            row[col.name] = normalise_value(raw.get(col.name), col, trim_char=trim_char)
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise ValueProblem(f"column {col.name}: {exc}") from exc
    return row


def normalise_value(value: Any, column: Column, *, trim_char: bool = False) -> Any:
    """The value as the envelope carries it for ``column`` (``None`` stays ``None``)."""
    if value is None:
        return None
    kind = column.type
    if kind is ColumnType.DECIMAL:
        return to_decimal(value, column.precision or UNBOUNDED_DECIMAL[0], column.scale or 0)
    if kind in _INT_RANGES:
        return _to_int(value, kind)
    if kind in (ColumnType.FLOAT32, ColumnType.FLOAT64):
        return float(value)
    if kind is ColumnType.BOOLEAN:
        return _to_bool(value)
    if kind in (ColumnType.DATE, ColumnType.TIME, ColumnType.TIMESTAMP, ColumnType.TIMESTAMP_TZ):
        return _temporal(value, kind)
    if kind is ColumnType.BYTES:
        return value.encode() if isinstance(value, str) else bytes(value)
    text = _to_text(value)
    if kind is ColumnType.CHAR and trim_char:
        return text.rstrip(" ")
    return text


def to_decimal(value: Any, precision: int, scale: int) -> Decimal:
    """``value`` as a Decimal with exactly ``scale`` decimals; ``ValueProblem`` if that needs rounding or the
    value has more than ``precision - scale`` integer digits. Floats go through ``str`` (their shortest
    round-trip text, so SQLite's 12.34 stays 12.34)."""
    if isinstance(value, bool):
        raise ValueProblem(f"boolean {value!r} is not a decimal")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueProblem(f"{value!r} is not a finite number")
        value = repr(value)
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueProblem(f"{str(value)[:40]!r} is not a number") from None
    if not number.is_finite():
        raise ValueProblem(f"{number} is not a finite number")
    quantized = number.quantize(Decimal(1).scaleb(-scale), context=_DECIMAL_CONTEXT)
    if quantized != number:
        raise ValueProblem(f"{number} has more than {scale} decimals (DECIMAL({precision},{scale}))")
    if quantized.adjusted() >= precision - scale and quantized != 0:
        raise ValueProblem(f"{number} does not fit DECIMAL({precision},{scale})")
    return quantized


def _to_int(value: Any, kind: ColumnType) -> int:
    if isinstance(value, bool):
        number = int(value)
    elif isinstance(value, int):
        number = value
    else:
        dec = to_decimal(value, 80, 0)
        number = int(dec)
    low, high = _INT_RANGES[kind]
    if not low <= number <= high:
        raise ValueProblem(f"{number} is out of range for {kind.value}")
    return number


_TRUE = frozenset({"1", "t", "true", "y", "yes", "on"})
_FALSE = frozenset({"0", "f", "false", "n", "no", "off", ""})


def _to_bool(value: Any) -> bool:
    if isinstance(value, bytes | bytearray):  # MySQL BIT(1): b'\x01'
        return any(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ValueProblem(f"{value[:20]!r} is not a boolean")
    if isinstance(value, int | float | Decimal):
        return value != 0
    raise ValueProblem(f"{type(value).__name__} is not a boolean")


def _temporal(value: Any, kind: ColumnType) -> date | time | datetime:
    if kind is ColumnType.DATE:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        return date.fromisoformat(str(value).strip()[:10])
    if kind is ColumnType.TIME:
        if isinstance(value, time):
            return value
        if isinstance(value, timedelta):  # MySQL TIME
            if not timedelta(0) <= value < timedelta(days=1):
                raise ValueProblem(f"duration {value} is not a time of day")
            return (datetime.min + value).time()
        return time.fromisoformat(str(value).strip())
    stamp = value if isinstance(value, datetime) else _parse_datetime(value)
    if kind is ColumnType.TIMESTAMP_TZ:
        return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC).replace(tzinfo=None) if stamp.tzinfo is not None else stamp


def _parse_datetime(value: Any) -> datetime:
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return datetime.fromisoformat(str(value).strip())


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, timedelta):
        return iso_duration(value)
    if isinstance(value, time | datetime | date):
        return value.isoformat()
    return str(value)


def iso_duration(value: timedelta) -> str:
    """An ISO 8601 duration (``P1DT2.5S``; negative durations start with ``-``)."""
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    seconds = value.seconds + value.microseconds / 1_000_000
    text = f"{seconds:f}".rstrip("0").rstrip(".")
    return f"{sign}P{value.days}DT{text}S"


# --- comparisons the connector makes on values ---------------------------------------------------------


def comparable(value: Any) -> Any:
    """A value comparable across its raw, JSON-encoded and bound forms: numbers (and numeric text) as
    Decimal, dates and timestamps (and ISO text) as naive datetimes (aware ones in UTC)."""
    if isinstance(value, bool | int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, datetime):
        return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return comparable(datetime.fromisoformat(str(value).strip()))


def _canon(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float | Decimal):
        return str(Decimal(str(value)).normalize())
    return str(value).strip()


def is_deleted(value: Any, deleted_values: Sequence[str | int | bool]) -> bool:
    """Whether a soft-delete column's (normalised) value is one of the configured deleted values:
    numbers compare by value (``1`` = ``1.0`` = ``"1"``), text without surrounding blanks, booleans
    accept 1/0, true/false, y/n, yes/no."""
    if value is None:
        return False
    if isinstance(value, bool):
        return any(_as_bool(c) is value for c in deleted_values)
    return _canon(value) in {_canon(c) for c in deleted_values}


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "t", "true", "y", "yes"):
        return True
    if text in ("0", "f", "false", "n", "no"):
        return False
    return None


def commit_ts_ms(row: Mapping[str, Any], ts: Column | None, now: datetime, poll_ms: int) -> int:
    """Commit time at the source: poll time minus the row's age at the database (poll time without ts).

    ``now`` is the database's current time. A naive timestamp is wall time in the session's zone, so an
    aware ``now`` (PostgreSQL's CURRENT_TIMESTAMP) is compared by its wall time; an aware value against a
    naive ``now`` takes ``now`` as UTC. A row stamped in the future (clock skew) counts as just committed."""
    value = row.get(ts.name) if ts is not None else None
    if value is None:
        return poll_ms
    stamp = value if isinstance(value, datetime) else comparable(value)
    if stamp.tzinfo is None and now.tzinfo is not None:
        now = now.replace(tzinfo=None)
    elif stamp.tzinfo is not None and now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    age = now - stamp
    return poll_ms - max(0, int(age.total_seconds() * 1000))
