"""Pure decoding of the Oracle literals LogMiner writes into SQL_REDO (the scanner is in :mod:`.redo`).

- ``TO_DATE('2020-02-01 10:11:12', 'YYYY-MM-DD HH24:MI:SS')`` -> naive ``datetime``.
- ``TO_TIMESTAMP('2020-02-01 10:11:12.123456789')`` (LogMiner writes it without a format: the session's
  ``NLS_TIMESTAMP_FORMAT``; a zero fraction is written as a bare ``.``) -> naive ``datetime`` (nanoseconds
  are truncated to microseconds: Python's datetime has no more).
- ``TO_TIMESTAMP_TZ('2020-02-01 10:11:12.5 +02:00')`` -> aware ``datetime`` (a region name such as
  ``Europe/Paris`` or Oracle's upper-case ``EUROPE/PARIS`` is looked up in the zoneinfo database).
- ``TO_BINARY_DOUBLE('1.5E+002')``, ``TO_BINARY_FLOAT('-Inf')`` -> ``float`` (``Inf``, ``-Inf``, ``NaN`` in any
  case; BINARY_FLOAT rounded to single precision, as Oracle stores it).
- ``XMLTYPE('<a/>')`` -> its text (an XMLTYPE column is text in the event).
- ``HEXTORAW('0AFF')`` -> ``bytes`` (``'a'`` is 0x0A); ``UNISTR('caf\\00e9')`` -> ``str`` (UTF-16 code units, surrogate
  pairs joined, ``\\\\`` is a backslash); ``EMPTY_CLOB()`` -> ``""``, ``EMPTY_BLOB()`` -> ``b""`` (the LOB's
  content is written by later LOB_WRITE redo, which is not mined: see the package docstring).

The connector sets the session's NLS formats (:data:`connectors.oracle_logminer.sql.NLS_SETTINGS`) so the
fast path (ISO-like text) is what LogMiner writes; other text, with its format or in Oracle's default NLS
formats (``22-SEP-20 12.09.37 AM``), is read by the format model (:mod:`.datetimes`). Year 0 and BC dates
are refused with the reason (:func:`.datetimes.check_year`).
"""

from __future__ import annotations

import math
import re
import struct
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from connectors.oracle_logminer.datetimes import (
    DEFAULT_DATE_FORMAT,
    DEFAULT_TIMESTAMP_FORMAT,
    DEFAULT_TIMESTAMP_TZ_FORMAT,
    DatetimeError,
    Parsed,
    check_year,
    default_timestamp,
    parse_default,
    parse_format,
)

__all__ = [
    "ISO_DATE_FORMAT", "LiteralError", "hextoraw", "to_binary_double", "to_binary_float", "to_date", "to_timestamp",
    "to_timestamp_tz", "unistr", "xmltype",
]


class LiteralError(ValueError):
    """A literal LogMiner wrote that cannot be decoded (the row goes to the dead-letter topic)."""


_ISO = re.compile(r"(-?\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d):(\d\d)(?:\.(\d*))?)?$")
ISO_DATE_FORMAT = "YYYY-MM-DD HH24:MI:SS"
"""The session's NLS_DATE_FORMAT (:data:`.sql.NLS_SETTINGS`): ``TO_DATE`` text in it takes the fast path."""
_ISO_FORMATS = frozenset({ISO_DATE_FORMAT, "YYYY-MM-DD", "YYYY-MM-DD HH24:MI:SS.FF", "YYYY-MM-DD HH24:MI:SSXFF"})
_DATE_DEFAULTS = (DEFAULT_DATE_FORMAT, "DD-MON-RR HH24:MI:SS", DEFAULT_TIMESTAMP_FORMAT)
_TIMESTAMP_DEFAULTS = (DEFAULT_TIMESTAMP_FORMAT, DEFAULT_DATE_FORMAT)
_TZ_DEFAULTS = (DEFAULT_TIMESTAMP_TZ_FORMAT, "DD-MON-RR HH.MI.SSXFF AM TZH:TZM", "DD-MON-RR HH.MI.SSXFF AM TZR TZD")


def _fast(text: str) -> datetime | None:
    if len(text) >= 19 and text[10] == " ":  # what the session's NLS formats produce: C-speed parse
        try:
            return datetime.fromisoformat(text[:-1] if text[-1] == "." else text)
        except ValueError:
            pass
    match = _ISO.match(text)
    if match is None:
        return None
    y, mo, d, h, mi, s, frac = match.groups()
    micro = int((frac or "0")[:6].ljust(6, "0")) if frac else 0
    try:
        check_year(int(y), text)
    except DatetimeError as exc:
        raise LiteralError(str(exc)) from None
    try:
        return datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro)
    except ValueError as exc:
        raise LiteralError(f"bad date/time {text!r}: {exc}") from None


def _read(text: str, fmt: str | None, defaults: tuple[str, ...]) -> Parsed:
    try:
        return parse_format(text, fmt) if fmt is not None else parse_default(text, defaults)
    except DatetimeError as exc:
        raise LiteralError(str(exc)) from None


def to_date(text: str, fmt: str | None = None) -> datetime:
    """``TO_DATE(text[, fmt])`` (Oracle DATE has a time part: a naive datetime); without a format, ISO or
    one of Oracle's default NLS formats (``22-SEP-20``). ISO-looking text in another format (``YYYY-DD-MM``) is
    read by that format."""
    found = _fast(text) if fmt is None or fmt.upper() in _ISO_FORMATS else None
    if found is not None:
        return found
    return _read(text, fmt, _DATE_DEFAULTS).value


def to_timestamp(text: str, fmt: str | None = None) -> datetime:
    """``TO_TIMESTAMP(text[, fmt])``, nanoseconds truncated to microseconds; without a format, ISO or
    Oracle's default ``DD-MON-RR HH.MI.SSXFF AM`` (``22-SEP-20 12.09.37.123456 AM``, fraction optional)."""
    found = _fast(text) if fmt is None or fmt.upper() in _ISO_FORMATS else None
    if found is not None:
        return found
    if fmt is None:
        try:
            found = default_timestamp(text)
        except DatetimeError as exc:
            raise LiteralError(str(exc)) from None
        if found is not None:
            return found
    return _read(text, fmt, _TIMESTAMP_DEFAULTS).value


@lru_cache(maxsize=1)
def _region_names() -> dict[str, str]:
    """IANA zone names by their upper-case spelling (Oracle writes regions upper-case: ``EUROPE/PARIS``)."""
    return {name.upper(): name for name in available_timezones()}


def _zone(text: str) -> tzinfo:
    if text[:1] in "+-":
        sign = -1 if text[0] == "-" else 1
        hours, _, minutes = text[1:].partition(":")
        try:
            return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))
        except ValueError:
            raise LiteralError(f"bad time zone offset {text!r}") from None
    if text.upper() in ("UTC", "GMT", "Z"):
        return UTC
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    name = _region_names().get(text.upper())
    if name is None:
        raise LiteralError(f"unknown time zone {text!r}")
    return ZoneInfo(name)


def to_timestamp_tz(text: str, fmt: str | None = None) -> datetime:
    """``TO_TIMESTAMP_TZ('YYYY-MM-DD HH24:MI:SS.FF TZH:TZM')``, with a region (``TZR``, any case) instead of
    the offset, a region and its abbreviation (``TZR TZD``: the region wins), or in Oracle's default
    ``DD-MON-RR HH.MI.SSXFF AM TZR`` or a given format."""
    if fmt is None:
        stamp, sep, zone = text.strip().rpartition(" ")
        if not sep:
            raise LiteralError(f"timestamp with time zone {text!r} has no zone")
        if zone[:1] not in "+-" and " " in stamp:
            head, _, before = stamp.rpartition(" ")
            if before[:1] in "+-" or "/" in before or before.upper() in ("UTC", "GMT"):
                stamp, zone = head, before  # 'ts +02:00 CEST', 'ts EUROPE/PARIS CEST': the abbreviation is ignored
        naive = _fast(stamp)
        if naive is not None:
            return naive.replace(tzinfo=_zone(zone))
    parsed = _read(text, fmt, _TZ_DEFAULTS)
    if parsed.zone is None:
        raise LiteralError(f"timestamp with time zone {text!r} has no zone")
    return parsed.value.replace(tzinfo=_zone(parsed.zone))


def hextoraw(text: str) -> bytes:
    """``HEXTORAW('0AFF')``; an odd number of digits gets a leading 0, as Oracle pads it (``'a'`` -> 0x0A)."""
    try:
        return bytes.fromhex("0" + text if len(text) % 2 else text)
    except ValueError:
        raise LiteralError(f"HEXTORAW argument is not hex: {text[:40]!r}") from None


def unistr(text: str) -> str:
    """``UNISTR`` text: ``\\XXXX`` is one UTF-16 code unit (pairs joined), ``\\\\`` a backslash."""
    if "\\" not in text:
        return text
    units: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        j = text.find("\\", i)
        if j < 0:
            units.append(text[i:])
            break
        units.append(text[i:j])
        if text.startswith("\\\\", j):
            units.append("\\")
            i = j + 2
            continue
        code = text[j + 1:j + 5]
        if len(code) != 4:
            raise LiteralError(f"UNISTR escape at {j} is not \\XXXX")
        try:
            units.append(chr(int(code, 16)))
        except ValueError:
            raise LiteralError(f"UNISTR escape \\{code} is not hex") from None
        i = j + 5
    joined = "".join(units)
    try:
        return joined.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeDecodeError:
        raise LiteralError("UNISTR holds an unpaired surrogate") from None


_FLOAT_WORDS = {"INF": "inf", "+INF": "inf", "-INF": "-inf", "INFINITY": "inf", "-INFINITY": "-inf", "NAN": "nan"}


def to_binary_double(text: str) -> float:
    """``TO_BINARY_DOUBLE('1.5E+002')``: a number, or ``Inf``/``-Inf``/``NaN`` in any case."""
    if not isinstance(text, str):
        raise LiteralError(f"TO_BINARY_DOUBLE of {type(text).__name__}")
    word = text.strip()
    try:
        return float(_FLOAT_WORDS.get(word.upper(), word))
    except ValueError:
        raise LiteralError(f"TO_BINARY_DOUBLE argument is not a number: {text[:40]!r}") from None


def to_binary_float(text: str) -> float:
    """``TO_BINARY_FLOAT('3.4E+38')``: as :func:`to_binary_double`, rounded to single precision (a value past
    its range is infinite, as Oracle converts it)."""
    value = to_binary_double(text)
    try:
        return float(struct.unpack("<f", struct.pack("<f", value))[0])
    except OverflowError:
        return math.copysign(math.inf, value)


def xmltype(content: str | bytes) -> str | bytes:
    """``XMLTYPE('<a/>')``: the document's text (bytes from ``HEXTORAW`` are decoded by the column's
    character set later, as for other text columns)."""
    if not isinstance(content, str | bytes):
        raise LiteralError(f"XMLTYPE of {type(content).__name__}")
    return content
