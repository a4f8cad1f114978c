"""Pure normalisation of raw driver values to the plain Python values the Avro envelope takes, and the
comparisons the connector makes on them (column types come from :mod:`connectors.sql.types`).

- DECIMAL(p,s): exactly ``s`` decimals; a value that would need rounding, or has more than ``p - s`` integer
  digits, is a :class:`ValueProblem` (the row goes to the DLQ with the reason, never rounded). Floats go
  through their shortest round-trip text.
- Integers are range-checked for their size; booleans accept numbers, bytes (MySQL ``BIT(1)``) and the usual
  words; dates, times and timestamps are parsed from ISO text where the driver returns text (MySQL ``TIME``
  comes as a duration). TIMESTAMP values are naive (aware ones converted to UTC), TIMESTAMP_TZ aware (naive
  ones taken as UTC).
- CHAR keeps its blanks unless the table sets ``trim_char`` (then trailing blanks only are removed); other
  text values pass through ``str()`` (bytes as hex, JSON structures as sorted JSON, durations ISO 8601).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from connectors.sql.types import UNBOUNDED_DECIMAL
from schemas.columns import Column, ColumnType

_INT_RANGES = {
    ColumnType.INT16: (-(2**15), 2**15 - 1),
    ColumnType.INT32: (-(2**31), 2**31 - 1),
    ColumnType.INT64: (-(2**63), 2**63 - 1),
}
_DECIMAL_CONTEXT = Context(prec=120)


class ValueProblem(ValueError):
    """A source value that does not fit its column (the row goes to the dead-letter topic)."""


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
    # what drivers return most, already in its final form (same results as the general rules below)
    if type(value) is str and kind is ColumnType.STRING:
        return value
    if type(value) is datetime and kind is ColumnType.TIMESTAMP and value.tzinfo is None:
        return value
    if type(value) is Decimal and kind is ColumnType.DECIMAL and _fits_as_is(value, column):
        return value
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


def _fits_as_is(value: Decimal, column: Column) -> bool:
    """A finite Decimal with exactly the column's scale and few enough digits: ``to_decimal`` returns it equal."""
    scale = column.scale or 0
    precision = column.precision or UNBOUNDED_DECIMAL[0]
    return (value.is_finite() and value.as_tuple().exponent == -scale
            and (value.adjusted() < precision - scale or not value))


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


def greatest(current: Any, values: Iterable[Any]) -> Any:
    """The greatest of ``current`` and ``values`` by :func:`comparable`, Nones left out (None if all are)."""
    found = max((v for v in values if v is not None), key=comparable, default=None)
    if found is None or (current is not None and comparable(current) > comparable(found)):
        return current
    return found
