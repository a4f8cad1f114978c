"""Pure reading of Oracle datetime text by a format model, for the values LogMiner writes into SQL_REDO.

LogMiner renders DATE and TIMESTAMP values with the mining session's NLS formats: ``TO_DATE('..', 'fmt')``
names its format, ``TO_TIMESTAMP('..')`` and ``TO_TIMESTAMP_TZ('..')`` do not. The connector sets ISO formats
(:data:`.sql.NLS_SETTINGS`), read on a fast path in :mod:`.literals`; text in any other format comes here. A
value without a format is tried against Oracle's documented defaults (territory AMERICA, Oracle Database
Globalization Support Guide): :data:`DEFAULT_DATE_FORMAT` ``DD-MON-RR``, :data:`DEFAULT_TIMESTAMP_FORMAT`
``DD-MON-RR HH.MI.SSXFF AM`` and :data:`DEFAULT_TIMESTAMP_TZ_FORMAT` ``DD-MON-RR HH.MI.SSXFF AM TZR``
(``22-SEP-20 12.09.37.000000 AM``; the ``XFF`` fraction may be absent).

Format elements (SQL Language Reference, "Datetime Format Models"): ``YYYY SYYYY RRRR YY RR`` (``RR``: a
two-digit year 00-49 or 50-99 is put in the century that keeps it nearest the current year; ``YY``: the
current century), ``MM MON MONTH`` (English names, NLS_DATE_LANGUAGE AMERICAN), ``DD``, ``DY DAY`` (read,
not checked), ``HH24 HH12 HH MI SS``, ``X`` (the radix character, ``.`` or ``,``), ``FF`` / ``FF1``-``FF9``
(up to 9 digits, truncated to microseconds), ``AM PM A.M. P.M.``, ``AD BC``, ``TZH TZM TZR TZD``, quoted
text, and punctuation, which matches any run of punctuation or spaces, or none (the conversion rules of
``TO_DATE`` without ``FX``). What the format leaves out is Oracle's default: the current year and month, day 1,
midnight.

Oracle's calendar runs from 4712 BC to 9999 AD and has no year 0. A year 0 (stored by a client that bypassed
Oracle's checks) or a BC date cannot be an event timestamp: :class:`DatetimeError` says which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

__all__ = [
    "DEFAULT_DATE_FORMAT", "DEFAULT_TIMESTAMP_FORMAT", "DEFAULT_TIMESTAMP_TZ_FORMAT", "DatetimeError", "Parsed",
    "check_year", "default_timestamp", "parse_default", "parse_format", "rr_year",
]

DEFAULT_DATE_FORMAT = "DD-MON-RR"
DEFAULT_TIMESTAMP_FORMAT = "DD-MON-RR HH.MI.SSXFF AM"
DEFAULT_TIMESTAMP_TZ_FORMAT = "DD-MON-RR HH.MI.SSXFF AM TZR"


class DatetimeError(ValueError):
    """Datetime text that does not match its format, or a date the event cannot carry."""


_MONTHS = {name: i for i, name in enumerate(
    ("JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST", "SEPTEMBER", "OCTOBER",
     "NOVEMBER", "DECEMBER"), start=1)}
_MONTHS.update({name[:3]: i for name, i in list(_MONTHS.items())})

_TOKENS = re.compile(
    r'"[^"]*"|SYYYY|YYYY|RRRR|YY|RR|MONTH|MON|MM|DDD|DD|DAY|DY|HH24|HH12|HH|MI|SSSSS|SS|FF[1-9]?|X'
    r"|A\.M\.|P\.M\.|AM|PM|A\.D\.|B\.C\.|AD|BC|TZH|TZM|TZR|TZD|[^A-Za-z0-9\"]+|.",
    re.IGNORECASE,
)
# element -> (regex group, field it sets)
_ELEMENTS: dict[str, tuple[str, str]] = {
    "SYYYY": (r"[-+]?\d{1,4}", "year"), "YYYY": (r"\d{1,4}", "year"), "RRRR": (r"\d{1,4}", "rr"),
    "YY": (r"\d{1,2}", "yy"), "RR": (r"\d{1,4}", "rr"),
    "MONTH": (r"[A-Za-z]+", "month_name"), "MON": (r"[A-Za-z]{3}", "month_name"), "MM": (r"\d{1,2}", "month"),
    "DD": (r"\d{1,2}", "day"), "DAY": (r"[A-Za-z]+", "ignored"), "DY": (r"[A-Za-z]{3}", "ignored"),
    "HH24": (r"\d{1,2}", "hour24"), "HH12": (r"\d{1,2}", "hour12"), "HH": (r"\d{1,2}", "hour12"),
    "MI": (r"\d{1,2}", "minute"), "SS": (r"\d{1,2}", "second"),
    "AM": (r"[AaPp]\.?[Mm]\.?", "meridian"), "PM": (r"[AaPp]\.?[Mm]\.?", "meridian"),
    "A.M.": (r"[AaPp]\.?[Mm]\.?", "meridian"), "P.M.": (r"[AaPp]\.?[Mm]\.?", "meridian"),
    "AD": (r"[AaBb]\.?[DdCc]\.?", "era"), "BC": (r"[AaBb]\.?[DdCc]\.?", "era"),
    "A.D.": (r"[AaBb]\.?[DdCc]\.?", "era"), "B.C.": (r"[AaBb]\.?[DdCc]\.?", "era"),
    "TZH": (r"[-+]?\d{1,2}", "tzh"), "TZM": (r"\d{1,2}", "tzm"),
    "TZR": (r"[-+]\d{1,2}:\d\d|[A-Za-z][A-Za-z0-9_/+-]*", "tzr"), "TZD": (r"[A-Za-z]+", "tzd"),
}


@dataclass(frozen=True, slots=True)
class Parsed:
    """Naive datetime read from the text, and the zone text it named (``TZR``, or ``TZH:TZM``), if any."""

    value: datetime
    zone: str | None = None


def rr_year(two_digits: int, current_year: int) -> int:
    """Oracle's ``RR`` rule: the century that puts a two-digit year nearest ``current_year``
    (in 2026: 00-49 -> 2000-2049, 50-99 -> 1950-1999; in 2060: 00-49 -> 2100-2149)."""
    century = current_year // 100 * 100
    current = current_year % 100
    if two_digits < 50:
        return century + two_digits + (100 if current >= 50 else 0)
    return century + two_digits - (100 if current < 50 else 0)


def check_year(year: int, text: str) -> None:
    """``DatetimeError`` for a year an event timestamp cannot carry, naming why."""
    if year == 0:
        raise DatetimeError(f"{text!r} has year 0, which Oracle's calendar does not have (4712 BC to 9999 AD, "
                            "no year 0): a value stored without Oracle's date checks")
    if year < 0:
        raise DatetimeError(f"{text!r} is a date before year 1 ({-year} BC), which an event timestamp cannot carry")
    if year > 9999:
        raise DatetimeError(f"{text!r} has year {year}, past Oracle's last year 9999")


@lru_cache(maxsize=128)
def _compile(fmt: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """The regex for a format model and the field each of its groups sets."""
    parts: list[str] = []
    fields: list[str] = []
    tokens = _TOKENS.findall(fmt)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        upper = token.upper()
        if upper == "X" and i + 1 < len(tokens) and tokens[i + 1].upper().startswith("FF"):
            parts.append(r"(?:[.,](\d{0,9}))?")  # radix and fraction: both may be absent
            fields.append("fraction")
            i += 2
            continue
        if upper.startswith("FF"):
            parts.append(r"(\d{0,9})")
            fields.append("fraction")
        elif upper == "X":
            parts.append(r"[.,]?")
        elif upper in _ELEMENTS:
            pattern, field = _ELEMENTS[upper]
            parts.append(f"({pattern})")
            fields.append(field)
        elif token.startswith('"'):
            parts.append(re.escape(token[1:-1]))
        elif not token[0].isalnum():
            parts.append(r"[^A-Za-z0-9]*")
        else:
            raise DatetimeError(f"format element {token!r} of {fmt!r} is not supported")
        i += 1
    return re.compile(r"\s*" + "".join(parts) + r"\s*$", re.IGNORECASE), tuple(fields)


def _month(name: str, text: str) -> int:
    month = _MONTHS.get(name.upper())
    if month is None:
        raise DatetimeError(f"{text!r}: {name!r} is not a month name")
    return month


def parse_format(text: str, fmt: str, current_year: int | None = None) -> Parsed:
    """``text`` read by the Oracle format model ``fmt``; ``current_year`` (default: today's) for ``RR``/``YY``."""
    pattern, fields = _compile(fmt)
    m = pattern.match(text)
    if m is None:
        raise DatetimeError(f"{text!r} does not match the format {fmt!r}")
    got: dict[str, str] = {f: v for f, v in zip(fields, m.groups(), strict=True) if v}
    today = date.today()
    this_year = current_year if current_year is not None else today.year
    year = this_year
    if "year" in got:
        year = int(got["year"])
    elif "rr" in got:
        digits = got["rr"]
        year = rr_year(int(digits), this_year) if len(digits) <= 2 else int(digits)
    elif "yy" in got:
        year = this_year // 100 * 100 + int(got["yy"])
    if got.get("era", "").upper().startswith("B"):
        year = -year if year > 0 else year
    check_year(year, text)
    month = _month(got["month_name"], text) if "month_name" in got else int(got.get("month", today.month))
    hour = int(got.get("hour24", 0))
    if "hour12" in got:
        hour = int(got["hour12"])
        if not 1 <= hour <= 12:
            raise DatetimeError(f"{text!r}: hour {hour} is not 1-12")
        pm = got.get("meridian", "A").upper().startswith("P")
        hour = hour % 12 + (12 if pm else 0)
    micro = int(got.get("fraction", "")[:6].ljust(6, "0") or 0)
    try:
        value = datetime(year, month, int(got.get("day", 1)), hour, int(got.get("minute", 0)),
                         int(got.get("second", 0)), micro)
    except ValueError as exc:
        raise DatetimeError(f"{text!r} is not a valid date/time: {exc}") from None
    zone = got.get("tzr")
    if zone is None and "tzh" in got:
        hours = got["tzh"]
        sign = "-" if hours.startswith("-") else "+"
        zone = f"{sign}{int(hours.lstrip('+-')):02d}:{int(got.get('tzm', 0)):02d}"
    return Parsed(value, zone)


_DEFAULT_TIMESTAMP = re.compile(r"(\d\d)-([A-Za-z]{3})-(\d\d) (\d\d)\.(\d\d)\.(\d\d)(?:[.,](\d{0,9}))? ([AaPp])[Mm]$")


def default_timestamp(text: str, current_year: int | None = None) -> datetime | None:
    """``text`` in the exact shape Oracle's default ``DD-MON-RR HH.MI.SSXFF AM`` produces
    (``22-SEP-20 12.09.37.123456 AM``) without the general format machinery; None for any other text."""
    m = _DEFAULT_TIMESTAMP.match(text)
    if m is None:
        return None
    day, mon, yy, hh, mi, ss, frac, half = m.groups()
    month = _month(mon, text)
    hour = int(hh)
    if not 1 <= hour <= 12:
        raise DatetimeError(f"{text!r}: hour {hour} is not 1-12")
    hour = hour % 12 + (12 if half in "Pp" else 0)
    year = rr_year(int(yy), current_year if current_year is not None else date.today().year)
    micro = int(frac[:6].ljust(6, "0")) if frac else 0
    try:
        return datetime(year, month, int(day), hour, int(mi), int(ss), micro)
    except ValueError as exc:
        raise DatetimeError(f"{text!r} is not a valid date/time: {exc}") from None


def parse_default(text: str, formats: tuple[str, ...], current_year: int | None = None) -> Parsed:
    """``text`` by the first of ``formats`` it matches; ``DatetimeError`` naming them all when none does.
    A date that matches but is invalid (year 0, 30 February) is reported as such."""
    for fmt in formats:
        try:
            return parse_format(text, fmt, current_year)
        except DatetimeError as exc:
            if "does not match" not in str(exc):
                raise
    raise DatetimeError(f"{text!r} is in none of the formats {', '.join(formats)}")
