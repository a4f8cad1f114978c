"""Value parsers behind the number and date transforms (legacy encodings included).

Each takes one column value and returns the parsed value, ``None`` for a blank (and, for the numeric date
encodings, for 0: IBM i files use 0 for "no date"), or raises :class:`Bad` with a readable reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pipelines.patterns import compiled


class Bad(ValueError):
    """The value cannot be transformed (the chain names the transform)."""


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text_of(value: Any) -> str:
    """A value as text: integral numbers without ``.0`` or exponent, dates in ISO form."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return str(int(value)) if isinstance(exponent, int) and exponent >= 0 else str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        raise Bad("bytes are not text (decode the column in the connector)")
    return str(value)


# --- numbers ----------------------------------------------------------------------------------------------------

def parse_number(value: Any, decimal_sep: str = ".", thousands_sep: str = "") -> Decimal | None:
    """A number from a column value; text may carry a trailing minus (``123.45-``) as legacy reports do."""
    if blank(value):
        return None
    if isinstance(value, bool):
        raise Bad(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    text = text_of(value).strip()
    if thousands_sep:
        text = text.replace(thousands_sep, "")
    if decimal_sep != ".":
        text = text.replace(decimal_sep, ".")
    if text.endswith("-"):
        text = "-" + text[:-1].strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise Bad(f"not a number: {text_of(value)!r}"[:200]) from None
    if not number.is_finite():
        raise Bad(f"not a finite number: {text!r}")
    return number


def whole(value: Any) -> int | None:
    number = parse_number(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise Bad(f"not a whole number: {number}")
    return int(number)


def implied_decimals(value: Any, scale: int) -> Decimal | None:
    """``12345`` with scale 2 -> ``Decimal('123.45')`` (zoned/packed amounts stored without the point)."""
    number = whole(value)
    return None if number is None else Decimal(number).scaleb(-scale)


# --- dates ------------------------------------------------------------------------------------------------------

def _day(year: int, month: int, day: int, value: Any, what: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise Bad(f"{text_of(value)!r} is not a valid {what} date") from None


def _digits(value: Any, most: int, what: str) -> int | None:
    """A date number (None for blank or 0), at most ``most`` digits."""
    if isinstance(value, (date, datetime)):
        raise Bad(f"{what} expects a number, got a date")
    try:
        number = whole(value)
    except Bad:
        raise Bad(f"{text_of(value)!r} is not a {what} number"[:200]) from None
    if number is None or number == 0:
        return None
    if number < 0 or number >= 10**most:
        raise Bad(f"{number} is not a {what} date")
    return number


def cyymmdd(value: Any) -> date | None:
    """IBM i CYYMMDD: century digit 0 = 19xx, 1 = 20xx (``1230115`` -> 2023-01-15)."""
    n = _digits(value, 7, "CYYMMDD")
    if n is None:
        return None
    century, rest = divmod(n, 1_000_000)
    yy, mmdd = divmod(rest, 10_000)
    return _day(1900 + 100 * century + yy, mmdd // 100, mmdd % 100, value, "CYYMMDD")


def yyyymmdd(value: Any) -> date | None:
    n = _digits(value, 8, "YYYYMMDD")
    if n is None:
        return None
    year, mmdd = divmod(n, 10_000)
    return _day(year, mmdd // 100, mmdd % 100, value, "YYYYMMDD")


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def julian(value: Any, fmt: str = "cyyddd", pivot: int = 50) -> date | None:
    """Day-of-year dates: ``cyyddd`` (``123032`` -> 2023-02-01) or ``yyddd`` (yy below ``pivot`` is 20yy)."""
    what = fmt.upper()
    n = _digits(value, 6 if fmt == "cyyddd" else 5, what)
    if n is None:
        return None
    head, ddd = divmod(n, 1000)
    if fmt == "cyyddd":
        century, yy = divmod(head, 100)
        year = 1900 + 100 * century + yy
    else:
        year = (2000 if head < pivot else 1900) + head
    start = _day(year, 1, 1, value, what)
    if not 1 <= ddd <= (366 if _leap(year) else 365):
        raise Bad(f"{text_of(value)!r} is not a valid {what} date (day {ddd})")
    return start + timedelta(days=ddd - 1)


def parse_date(value: Any, formats: Sequence[str]) -> date | None:
    """A date from a date/datetime value or from text matching one of the ``strptime`` formats."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if blank(value):
        return None
    text = text_of(value).strip()
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise Bad(f"{text!r} does not match {' or '.join(formats)}"[:200])


def timestamp_ms(value: Any) -> int | None:
    """Epoch milliseconds from a datetime, a date or ISO text (naive times are taken as UTC)."""
    if type(value) is datetime and value.tzinfo is None:  # the usual TIMESTAMP column
        return int((value - _NAIVE_EPOCH) // _ONE_MS)
    if blank(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise Bad(f"{value!r} is not an ISO timestamp"[:200]) from None
    if not isinstance(value, datetime):
        raise Bad(f"not a timestamp: {value!r}"[:200])
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int((value - _EPOCH) // _ONE_MS)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_ONE_MS = timedelta(milliseconds=1)


def check_regex(value: str) -> str:
    """``value`` if it is a valid regular expression (a pydantic validator's body)."""
    compiled(value)  # ValueError naming the problem
    return value
