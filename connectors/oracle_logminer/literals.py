"""Pure decoding of the Oracle literals LogMiner writes into SQL_REDO (the scanner is in :mod:`.redo`).

- ``TO_DATE('2020-02-01 10:11:12', 'YYYY-MM-DD HH24:MI:SS')`` -> naive ``datetime``.
- ``TO_TIMESTAMP('2020-02-01 10:11:12.123456789')`` (LogMiner writes it without a format: the session's
  ``NLS_TIMESTAMP_FORMAT``; a zero fraction is written as a bare ``.``) -> naive ``datetime`` (nanoseconds
  are truncated to microseconds: Python's datetime has no more).
- ``TO_TIMESTAMP_TZ('2020-02-01 10:11:12.5 +02:00')`` -> aware ``datetime`` (a region name such as
  ``Europe/Paris`` is looked up in the zoneinfo database).
- ``HEXTORAW('0AFF')`` -> ``bytes`` (``'a'`` is 0x0A); ``UNISTR('caf\\00e9')`` -> ``str`` (UTF-16 code units, surrogate
  pairs joined, ``\\\\`` is a backslash); ``EMPTY_CLOB()`` -> ``""``, ``EMPTY_BLOB()`` -> ``b""`` (the LOB's
  content is written by later LOB_WRITE redo, which is not mined: see the package docstring).

The connector sets the session's NLS formats (:data:`connectors.oracle_logminer.sql.NLS_SETTINGS`) so the
fast path (ISO-like text) is what LogMiner writes; other formats given to ``TO_DATE``/``TO_TIMESTAMP`` go
through a translation to ``strptime`` (YYYY RRRR YY RR MM MON MONTH DD HH24 HH12 HH MI SS FF[n] AM PM).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["LiteralError", "hextoraw", "to_date", "to_timestamp", "to_timestamp_tz", "unistr"]


class LiteralError(ValueError):
    """A literal LogMiner wrote that cannot be decoded (the row goes to the dead-letter topic)."""


_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d):(\d\d)(?:\.(\d*))?)?$")
_FORMAT_TOKENS = re.compile(r"YYYY|RRRR|YY|RR|MONTH|MON|MM|DD|HH24|HH12|HH|MI|SS|FF[1-9]?|AM|PM|A\.M\.|P\.M\.|.",
                            re.IGNORECASE)
_STRPTIME = {"YYYY": "%Y", "RRRR": "%Y", "YY": "%y", "RR": "%y", "MONTH": "%B", "MON": "%b", "MM": "%m",
             "DD": "%d", "HH24": "%H", "HH12": "%I", "HH": "%I", "MI": "%M", "SS": "%S", "AM": "%p", "PM": "%p",
             "A.M.": "%p", "P.M.": "%p"}


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
        return datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro)
    except ValueError as exc:
        raise LiteralError(f"bad date/time {text!r}: {exc}") from None


@lru_cache(maxsize=64)
def _strptime_format(fmt: str) -> tuple[str, bool]:
    """``strptime`` format for an Oracle format model, and whether it has fractional seconds."""
    out: list[str] = []
    frac = False
    for token in _FORMAT_TOKENS.findall(fmt):
        upper = token.upper()
        if upper.startswith("FF"):
            out.append("%f")
            frac = True
        elif upper in _STRPTIME:
            out.append(_STRPTIME[upper])
        elif token == "%":
            out.append("%%")
        else:
            out.append(token.strip('"'))
    return "".join(out), frac


def _with_format(text: str, fmt: str) -> datetime:
    pattern, frac = _strptime_format(fmt)
    if frac:  # Oracle writes up to 9 digits; strptime takes at most 6
        text = re.sub(r"(\.\d{6})\d+", r"\1", text).replace(". ", ".0 ")
        if text.endswith("."):
            text += "0"
    try:
        return datetime.strptime(text, pattern)
    except ValueError as exc:
        raise LiteralError(f"{text!r} does not match format {fmt!r}: {exc}") from None


def to_date(text: str, fmt: str | None = None) -> datetime:
    """``TO_DATE(text, fmt)`` (Oracle DATE has a time part: a naive datetime)."""
    found = _fast(text)
    if found is not None:
        return found
    if fmt is None:
        raise LiteralError(f"date {text!r} is not YYYY-MM-DD HH24:MI:SS and has no format")
    return _with_format(text, fmt)


def to_timestamp(text: str, fmt: str | None = None) -> datetime:
    """``TO_TIMESTAMP(text[, fmt])``, nanoseconds truncated to microseconds."""
    return to_date(text, fmt)


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
        raise LiteralError(f"unknown time zone {text!r}") from None


def to_timestamp_tz(text: str, fmt: str | None = None) -> datetime:
    """``TO_TIMESTAMP_TZ('YYYY-MM-DD HH24:MI:SS.FF TZH:TZM')`` or with a region (``TZR``)."""
    stamp, sep, zone = text.strip().rpartition(" ")
    if not sep:
        raise LiteralError(f"timestamp with time zone {text!r} has no zone")
    if zone[:1] not in "+-" and stamp.count(" ") >= 1 and stamp.rsplit(" ", 1)[-1][:1] in "+-":
        stamp, _, offset = stamp.rpartition(" ")  # 'ts +02:00 CEST': offset wins, abbreviation ignored
        zone = offset
    naive = to_timestamp(stamp, None if fmt is None else fmt.rsplit(" ", 1)[0])
    return naive.replace(tzinfo=_zone(zone))


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
