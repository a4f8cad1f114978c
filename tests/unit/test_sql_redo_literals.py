"""Datetime literals in formats other than the session's ISO ones (Oracle's default NLS formats, given format
models, the RR year rule, AM/PM, fractions, zones), year 0 and BC dates, TO_BINARY_DOUBLE/TO_BINARY_FLOAT
and XMLTYPE. Expected values follow Oracle's SQL Language Reference (datetime format models, TO_DATE,
TO_TIMESTAMP_TZ, TO_BINARY_DOUBLE) and Globalization Support Guide (NLS_DATE_FORMAT, NLS_TIMESTAMP_FORMAT,
NLS_TIMESTAMP_TZ_FORMAT defaults for territory AMERICA)."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connectors.oracle_logminer.catalog import table_from_catalog
from connectors.oracle_logminer.datetimes import (
    DEFAULT_TIMESTAMP_FORMAT,
    DatetimeError,
    check_year,
    default_timestamp,
    parse_format,
    rr_year,
)
from connectors.oracle_logminer.events import event_from_redo
from connectors.oracle_logminer.literals import (
    LiteralError,
    to_binary_double,
    to_binary_float,
    to_date,
    to_timestamp,
    to_timestamp_tz,
)
from connectors.oracle_logminer.redo import RedoParseError, parse_redo
from schemas.envelope import SourceInfo


def test_rr_rule_follows_the_current_year() -> None:
    # the documented table: current year's last two digits 00-49 or 50-99, given year 00-49 or 50-99
    assert [rr_year(y, 2026) for y in (0, 20, 49, 50, 99)] == [2000, 2020, 2049, 1950, 1999]
    assert [rr_year(y, 1996) for y in (5, 49, 50, 96)] == [2005, 2049, 1950, 1996]
    assert [rr_year(y, 2060) for y in (5, 49, 50, 99)] == [2105, 2149, 2050, 2099]
    assert parse_format("22-SEP-50", "DD-MON-RR", current_year=2026).value == datetime(1950, 9, 22)
    assert parse_format("22-SEP-50", "DD-MON-YY", current_year=2026).value == datetime(2050, 9, 22)
    assert parse_format("22-SEP-1850", "DD-MON-RR", current_year=2026).value == datetime(1850, 9, 22)


@pytest.mark.parametrize("text, expected", [
    ("22-SEP-20 12.09.37 AM", datetime(2020, 9, 22, 0, 9, 37)),  # no fraction
    ("22-SEP-20 12.09.37.000000 AM", datetime(2020, 9, 22, 0, 9, 37)),
    ("22-SEP-20 12.09.37.5 PM", datetime(2020, 9, 22, 12, 9, 37, 500000)),
    ("01-JAN-99 11.59.59.123456789 PM", datetime(1999, 1, 1, 23, 59, 59, 123456)),  # 9 digits: truncated
    ("29-feb-24 01.02.03,25 am", datetime(2024, 2, 29, 1, 2, 3, 250000)),  # any case, ',' as the radix
])
def test_timestamps_in_the_default_nls_timestamp_format(text: str, expected: datetime) -> None:
    assert to_timestamp(text) == expected
    assert parse_format(text, DEFAULT_TIMESTAMP_FORMAT, current_year=2026).value == expected
    sql = f"insert into \"APP\".\"T\"(\"TS\") values (TO_TIMESTAMP('{text}'))"
    assert parse_redo(sql).after == {"TS": expected}


MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def _oracle_default(when: datetime, digits: int) -> str:
    """``when`` as Oracle renders it in ``DD-MON-RR HH.MI.SSXFF AM`` with ``digits`` fraction digits."""
    hour12 = when.hour % 12 or 12
    text = f"{when.day:02d}-{MONTHS[when.month - 1]}-{when.year % 100:02d} "
    text += f"{hour12:02d}.{when.minute:02d}.{when.second:02d}"
    if digits:
        text += "." + f"{when.microsecond:06d}000"[:digits]
    return text + (" PM" if when.hour >= 12 else " AM")


def test_default_format_round_trip() -> None:
    rnd = random.Random(7)
    start = datetime(1950, 1, 1)
    for _ in range(2000):
        when = start + timedelta(seconds=rnd.randrange(100 * 366 * 86400), microseconds=rnd.randrange(10**6))
        if when.year > 2049:
            continue
        digits = rnd.choice((0, 3, 6, 9))
        expected = when.replace(microsecond=int(f"{when.microsecond:06d}"[:digits].ljust(6, "0")) if digits else 0)
        text = _oracle_default(when, digits)
        assert default_timestamp(text, current_year=2026) == expected, text
        assert parse_format(text, DEFAULT_TIMESTAMP_FORMAT, current_year=2026).value == expected, text


def test_dates_in_default_and_given_formats() -> None:
    assert to_date("22-SEP-20") == datetime(2020, 9, 22)  # NLS_DATE_FORMAT default DD-MON-RR
    assert to_date("22-SEP-20", "DD-MON-RR") == datetime(2020, 9, 22)
    assert to_date("15-AUGUST-2021 14:05:09", "DD-MONTH-YYYY HH24:MI:SS") == datetime(2021, 8, 15, 14, 5, 9)
    assert to_date("2021/08/15 02:05:09 P.M.", "YYYY/MM/DD HH12:MI:SS P.M.") == datetime(2021, 8, 15, 14, 5, 9)
    assert to_date("20210815", "YYYYMMDD") == datetime(2021, 8, 15)
    today = date.today()  # Oracle's defaults for what the format leaves out: this year and month, day 1
    assert to_date("14:05", "HH24:MI") == datetime(today.year, today.month, 1, 14, 5)
    assert to_date('2021-08-15T10:00', 'YYYY-MM-DD"T"HH24:MI') == datetime(2021, 8, 15, 10)
    assert to_date("Sun 15.08.2021", "DY DD.MM.YYYY") == datetime(2021, 8, 15)
    fraction = to_timestamp("2021-08-15 10:00:00.25", "YYYY-MM-DD HH24:MI:SS.FF2")
    assert fraction == datetime(2021, 8, 15, 10, 0, 0, 250000)
    sql = ("update \"APP\".\"T\" set \"D\" = TO_DATE('22-SEP-20', 'DD-MON-RR') "
           "where \"D\" = TO_DATE('01-JAN-60', 'DD-MON-RR')")
    redo = parse_redo(sql)
    assert (redo.before, redo.after) == ({"D": datetime(1960, 1, 1)}, {"D": datetime(2020, 9, 22)})


def test_iso_looking_text_in_another_format_is_read_by_its_format() -> None:
    # 'YYYY-DD-MM': the fourth of March is written 2020-04-03
    assert to_date("2020-04-03 10:00:00", "YYYY-DD-MM HH24:MI:SS") == datetime(2020, 3, 4, 10)
    sql = ("delete from \"APP\".\"T\" where \"A\" = TO_DATE('2020-04-03 10:00:00', 'YYYY-DD-MM HH24:MI:SS') "
           "and \"B\" = TO_DATE('2020-04-03 10:00:00', 'YYYY-MM-DD HH24:MI:SS')")
    assert parse_redo(sql).before == {"A": datetime(2020, 3, 4, 10), "B": datetime(2020, 4, 3, 10)}
    sql = "insert into \"APP\".\"T\"(\"A\") values (TO_DATE('2020-04-03 10:00:00', 'YYYY-DD-MM HH24:MI:SS'))"
    assert parse_redo(sql).after == {"A": datetime(2020, 3, 4, 10)}


@pytest.mark.parametrize("text, fmt, why", [
    ("31-FEB-20", "DD-MON-RR", "not a valid date"),
    ("22-SPT-20", "DD-MON-RR", "not a month name"),
    ("13.00.00 PM 22-SEP-20", "HH.MI.SS AM DD-MON-RR", "not 1-12"),
    ("22/09", "DD-MON-RR", "does not match"),
])
def test_bad_datetime_text_says_why(text: str, fmt: str, why: str) -> None:
    with pytest.raises(LiteralError, match=why):
        to_date(text, fmt)


def test_year_zero_and_bc_dates_are_refused_with_the_reason() -> None:
    with pytest.raises(DatetimeError, match="year 0"):
        check_year(0, "0000-01-01")
    for literal in ("TO_DATE('0000-00-00 00:00:00', 'YYYY-MM-DD HH24:MI:SS')", "TO_TIMESTAMP('0000-01-01 00:00:00.')",
                    "TO_DATE('01-JAN-0000', 'DD-MON-YYYY')"):
        with pytest.raises(RedoParseError, match="year 0, which Oracle's calendar does not have"):
            parse_redo(f'insert into "APP"."T"("D") values ({literal})')
    with pytest.raises(LiteralError, match="44 BC"):
        to_date("-0044-03-15 00:00:00", "SYYYY-MM-DD HH24:MI:SS")
    with pytest.raises(LiteralError, match="44 BC"):
        to_date("15-MAR-0044 BC", "DD-MON-YYYY AD")
    with pytest.raises(LiteralError, match="44 BC"):
        to_date("-0044-03-15 00:00:00")
    assert to_date("15-MAR-0044 AD", "DD-MON-YYYY BC") == datetime(44, 3, 15)


def test_timestamps_with_time_zone() -> None:
    paris = ZoneInfo("Europe/Paris")
    minus5 = timezone(-timedelta(hours=5))
    assert to_timestamp_tz("2020-09-22 00:09:37.000000 -05:00") == datetime(2020, 9, 22, 0, 9, 37, tzinfo=minus5)
    half = datetime(2020, 9, 22, 0, 9, 37, 500000, tzinfo=paris)
    assert to_timestamp_tz("2020-09-22 00:09:37.5 Europe/Paris") == half
    assert to_timestamp_tz("2020-09-22 00:09:37. EUROPE/PARIS") == datetime(2020, 9, 22, 0, 9, 37, tzinfo=paris)
    assert to_timestamp_tz("2020-09-22 00:09:37. EUROPE/PARIS CEST") == datetime(2020, 9, 22, 0, 9, 37, tzinfo=paris)
    assert to_timestamp_tz("2020-09-22 00:09:37. +02:00 CEST").utcoffset() == timedelta(hours=2)
    assert to_timestamp_tz("2020-09-22 00:09:37 UTC") == datetime(2020, 9, 22, 0, 9, 37, tzinfo=UTC)
    # Oracle's default NLS_TIMESTAMP_TZ_FORMAT, DD-MON-RR HH.MI.SSXFF AM TZR
    assert to_timestamp_tz("22-SEP-20 12.09.37.000000 PM -05:00") == datetime(2020, 9, 22, 12, 9, 37, tzinfo=minus5)
    assert to_timestamp_tz("22-SEP-20 12.09.37 AM EUROPE/PARIS") == datetime(2020, 9, 22, 0, 9, 37, tzinfo=paris)
    assert to_timestamp_tz("22-SEP-20 12.09.37.25 AM US/PACIFIC PDT").utcoffset() == timedelta(hours=-7)
    given = to_timestamp_tz("2020-09-22 10:00 +0530", "YYYY-MM-DD HH24:MI TZHTZM")
    assert given == datetime(2020, 9, 22, 10, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    with pytest.raises(LiteralError, match="unknown time zone"):
        to_timestamp_tz("2020-09-22 00:09:37. Mars/Olympus")
    with pytest.raises(LiteralError, match="none of the formats"):  # a zone is required
        to_timestamp_tz("22-SEP-20 12.09.37 AM")


def test_binary_double_and_float_literals() -> None:
    assert to_binary_double("1.5E+002") == 150.0 and to_binary_double("-0.25") == -0.25
    assert to_binary_double("Inf") == math.inf and to_binary_double("-INF") == -math.inf
    assert math.isnan(to_binary_double("Nan")) and math.isnan(to_binary_float("NaN"))
    assert to_binary_float("0.1") == 0.10000000149011612  # the nearest single-precision value to 0.1
    assert to_binary_float("1E+39") == math.inf  # past BINARY_FLOAT's range
    with pytest.raises(LiteralError, match="not a number"):
        to_binary_double("twelve")
    redo = parse_redo('insert into "APP"."M"("ID","D","F") values (\'1\',TO_BINARY_DOUBLE(\'-Inf\'),'
                      "TO_BINARY_FLOAT('3.5'))")
    assert redo.after == {"ID": "1", "D": -math.inf, "F": 3.5}


XML_TABLE = [
    {"COLUMN_NAME": "ID", "DATA_TYPE": "NUMBER", "DATA_PRECISION": 9, "DATA_SCALE": 0, "NULLABLE": "N", "COLUMN_ID": 1},
    {"COLUMN_NAME": "DOC", "DATA_TYPE": "XMLTYPE", "COLUMN_ID": 2},
    {"COLUMN_NAME": "RATE", "DATA_TYPE": "BINARY_DOUBLE", "COLUMN_ID": 3},
    {"COLUMN_NAME": "RATIO", "DATA_TYPE": "BINARY_FLOAT", "COLUMN_ID": 4},
]


def _images(sql: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    meta, _ = table_from_catalog("ora", "PDB1", "APP", "XDOCS", XML_TABLE, ["ID"])
    source = SourceInfo(connector="oracle", name="ora", db="PDB1", schema="APP", table="XDOCS", ts_ms=0)
    event = event_from_redo(parse_redo(sql), meta, source, 0)
    return event.before, event.after


def test_xmltype_values_are_text_of_an_xmltype_column() -> None:
    _, after = _images('insert into "APP"."XDOCS"("ID","DOC","RATE","RATIO") values '
                       "('1',XMLTYPE('<a x=\"1\">it''s</a>'),TO_BINARY_DOUBLE('2.5E+000'),TO_BINARY_FLOAT('Inf'))")
    assert after == {"ID": 1, "DOC": "<a x=\"1\">it's</a>", "RATE": 2.5, "RATIO": math.inf}
    before, after = _images('update "APP"."XDOCS" a set a."DOC" = XMLTYPE(\'<b/>\') '
                            "where a.\"ID\" = '1' and a.\"DOC\" = XMLTYPE('<a/>')")
    assert before is not None and after is not None
    assert (before["DOC"], after["DOC"], after["ID"]) == ("<a/>", "<b/>", 1)
    _, after = _images('insert into "APP"."XDOCS"("ID","DOC") values (\'2\',XMLTYPE(\'<a>\' || \'</a>\'))')
    assert after is not None and after["DOC"] == "<a></a>"
    _, after = _images('insert into "APP"."XDOCS"("ID","DOC") values (\'3\',XMLTYPE(HEXTORAW(\'3c612f3e\')))')
    assert after is not None and after["DOC"] == "<a/>"  # bytes in the database character set (AL32UTF8)
    before, _ = _images('delete from "APP"."XDOCS" a where a."ID" = \'4\' and a."DOC" = XMLTYPE(\'<c/>\')')
    assert before is not None and before["DOC"] == "<c/>"
