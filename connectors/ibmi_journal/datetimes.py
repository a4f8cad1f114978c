"""DATE, TIME and TIMESTAMP fields as an IBM i record image stores them, SQL tables and DDS files alike.

An SQL table stores dates as ``*ISO`` text. A DDS physical file stores a date field (type L) in the format of
its ``DATFMT`` keyword, and the record image (the journal's ``ENTRY_DATA``) holds exactly that text
(IBM, "DATFMT keyword for physical and logical files"):

========  ===========  ======  =====================================================================
DATFMT    form         bytes   notes
========  ===========  ======  =====================================================================
``ISO``   yyyy-mm-dd   10      the default, and every SQL table; ``JIS`` is the same form
``USA``   mm/dd/yyyy   10
``EUR``   dd.mm.yyyy   10
``MDY``   mm/dd/yy     8       ``DATSEP`` separator: ``/ - . ,`` or blank, whichever the file uses
``DMY``   dd/mm/yy     8
``YMD``   yy/mm/dd     8
``JUL``   yy/ddd       6       day of the year
========  ===========  ======  =====================================================================

Two-digit years are 1940-2039, IBM's window for these formats (``40``-``99`` -> 19xx, ``00``-``39`` -> 20xx).
A time field (type T) is 8 bytes in every ``TIMFMT``: ``HMS`` hh:mm:ss with its ``TIMSEP`` (``: . ,`` or
blank), ``ISO``/``EUR`` hh.mm.ss, ``JIS`` hh:mm:ss, ``USA`` hh:mm AM/PM.

Which format a DDS field has is not in ``QSYS2.SYSCOLUMNS``; the table's ``date_format`` / ``time_format``
settings name it (``DSPFFD`` shows it as ``WHFMT``; IBM i 7.4 TR5 / 7.3 TR11 and later also list it in
``QSYS2.SYSCOLUMNS2.DATE_FORMAT``). Each parser is a pure function of the field's text and raises
``ValueError`` for text that is not a valid value in its format.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

DATE_FORMATS: dict[str, int] = {"ISO": 10, "JIS": 10, "USA": 10, "EUR": 10, "MDY": 8, "DMY": 8, "YMD": 8, "JUL": 6}
TIME_FORMATS = ("HMS", "ISO", "EUR", "JIS", "USA")
_SEPARATORS = frozenset("/-., ")


def normalise_format(name: str) -> str:
    """``"*mdy"`` -> ``"MDY"`` (DDS writes formats with a leading ``*``)."""
    return name.strip().upper().removeprefix("*")


def century_year(yy: str) -> int:
    """A two-digit year in IBM's 1940-2039 window."""
    if len(yy) != 2 or not yy.isdigit():
        raise ValueError(f"not a two-digit year: {yy!r}")
    year = int(yy)
    return 1900 + year if year >= 40 else 2000 + year


def parse_date(text: str) -> date:
    """A DATE as the record image stores it: ISO/JIS ``yyyy-mm-dd``, USA ``mm/dd/yyyy``, EUR ``dd.mm.yyyy``."""
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        return date(int(text[0:4]), int(text[5:7]), int(text[8:10]))
    if len(text) == 10 and text[2] == "/" and text[5] == "/":
        return date(int(text[6:10]), int(text[0:2]), int(text[3:5]))
    if len(text) == 10 and text[2] == "." and text[5] == ".":
        return date(int(text[6:10]), int(text[3:5]), int(text[0:2]))
    raise ValueError("not a date in ISO, USA, EUR or JIS form")


def _two_digit_parts(text: str, fmt: str) -> tuple[str, str, str]:
    parts = text[0:2], text[3:5], text[6:8]
    if len(text) != 8 or text[2] not in _SEPARATORS or text[5] != text[2] or not "".join(parts).isdigit():
        raise ValueError(f"not a {fmt} date (two digits each, two equal separators of / - . , or blank)")
    return parts


def _mdy(text: str) -> date:
    mm, dd, yy = _two_digit_parts(text, "MDY")
    return date(century_year(yy), int(mm), int(dd))


def _dmy(text: str) -> date:
    dd, mm, yy = _two_digit_parts(text, "DMY")
    return date(century_year(yy), int(mm), int(dd))


def _ymd(text: str) -> date:
    yy, mm, dd = _two_digit_parts(text, "YMD")
    return date(century_year(yy), int(mm), int(dd))


def _julian(text: str) -> date:
    if len(text) != 6 or text[2] not in _SEPARATORS or not text[3:6].isdigit():
        raise ValueError("not a JUL date (yy/ddd)")
    year, day = century_year(text[0:2]), int(text[3:6])
    first = date(year, 1, 1)
    if not 1 <= day <= (date(year + 1, 1, 1) - first).days:
        raise ValueError(f"day {day} is not in {year}")
    return first + timedelta(days=day - 1)


def date_parser(fmt: str = "ISO") -> tuple[int, Callable[[str], date]]:
    """``(bytes in the record image, parser)`` for a ``DATFMT`` (with or without its ``*``)."""
    name = normalise_format(fmt)
    if name not in DATE_FORMATS:
        raise ValueError(f"unknown date format {fmt!r} (one of {', '.join(DATE_FORMATS)})")
    parser = {"MDY": _mdy, "DMY": _dmy, "YMD": _ymd, "JUL": _julian}.get(name, parse_date)
    return DATE_FORMATS[name], parser


def parse_time(text: str) -> time:
    """A TIME as stored (8 bytes): ``hh.mm.ss`` (ISO, EUR), ``hh:mm:ss`` (JIS, HMS; HMS also with ``,`` or a
    blank), USA ``hh:mm AM``."""
    if len(text) == 8 and text[2] == ":" and text[5] == " " and text[6:8] in ("AM", "PM"):
        hour = int(text[0:2])
        if not 1 <= hour <= 12:
            raise ValueError(f"hour {hour} in a USA time")
        return time(hour % 12 + (12 if text[6:8] == "PM" else 0), int(text[3:5]))
    if len(text) == 8 and text[2] in ".:, " and text[5] == text[2]:
        return time(int(text[0:2]), int(text[3:5]), int(text[6:8]))
    raise ValueError("not a time in ISO, EUR, JIS, HMS or USA form")


def parse_timestamp(text: str) -> datetime:
    """``yyyy-mm-dd-hh.mm.ss[.f...]`` -> naive datetime (fractions past microseconds are cut)."""
    if len(text) < 19 or text[4] != "-" or text[10] not in "- " or text[13] not in ".:":
        raise ValueError("not a timestamp (yyyy-mm-dd-hh.mm.ss.ffffff)")
    micros = int((text[20:26] if len(text) > 20 else "0").ljust(6, "0"))
    return datetime(int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), int(text[14:16]),
                    int(text[17:19]), micros)
