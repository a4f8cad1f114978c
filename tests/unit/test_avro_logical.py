"""Logical-typed values converted before encoding give the bytes fastavro writes from the Python values
themselves, and refuse what fastavro refuses."""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import Decimal
from typing import Any

import fastavro
import pytest

from schemas.avro_logical import convert_row, decimal_bytes, row_converters

DECIMAL = {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}
RECORD = {"type": "record", "name": "Row", "fields": [
    {"name": "amount", "type": ["null", DECIMAL], "default": None},
    {"name": "whole", "type": {"type": "bytes", "logicalType": "decimal", "precision": 5, "scale": 0}},
    {"name": "at", "type": ["null", {"type": "long", "logicalType": "local-timestamp-micros"}], "default": None},
    {"name": "utc", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}], "default": None},
    {"name": "day", "type": ["null", {"type": "int", "logicalType": "date"}], "default": None},
    {"name": "name", "type": ["null", "string"], "default": None},
]}
PARSED = fastavro.parse_schema(RECORD)
CONVERTERS = row_converters(RECORD)


def encoded(row: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, PARSED, row)
    return buf.getvalue()


def test_the_logical_fields_get_converters_and_the_others_none() -> None:
    assert set(CONVERTERS) == {"amount", "whole", "at", "utc", "day"}


@pytest.mark.parametrize("row", [
    {"amount": Decimal("12.50"), "whole": Decimal("7"), "at": dt.datetime(2026, 12, 5, 10, 0, 0, 1),
     "utc": dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.UTC), "day": dt.date(2026, 12, 5), "name": "a"},
    {"amount": Decimal("-0.01"), "whole": Decimal("-99999"), "at": dt.datetime(1901, 1, 1, 23, 59, 59, 999999),
     "utc": dt.datetime(1969, 12, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
     "day": dt.date(1900, 2, 28), "name": None},
    {"amount": Decimal("0"), "whole": Decimal("0E+2"), "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
     "utc": None, "day": None, "name": "x"},
    {"amount": Decimal("1234567.8"), "whole": Decimal("128"), "at": None, "utc": None, "day": dt.date(1970, 1, 1),
     "name": "y"},
    {"amount": None, "whole": Decimal("-128"), "at": 5, "utc": 7, "day": 3, "name": "plain values pass through"},
])
def test_converted_rows_encode_to_the_same_bytes(row: dict[str, Any]) -> None:
    converted = dict(row)
    convert_row(converted, CONVERTERS)
    assert converted != row or all(v is None or isinstance(v, (int, str)) for v in row.values())
    assert encoded(converted) == encoded(row)


@pytest.mark.parametrize(("amount", "message"), [
    (Decimal("12345678.90"), "precision is bigger"),  # ten digits for precision 9
    (Decimal("1.234"), "Scale provided"),  # three decimals for scale 2
])
def test_a_decimal_that_does_not_fit_is_refused_like_fastavro_does(amount: Decimal, message: str) -> None:
    row = {"amount": amount, "whole": Decimal("1"), "at": None, "utc": None, "day": None, "name": None}
    with pytest.raises(ValueError, match=message):
        encoded(row)
    with pytest.raises(ValueError, match=message):
        convert_row(dict(row), CONVERTERS)


@pytest.mark.parametrize(("precision", "scale"), [(9, 2), (38, 10), (38, 0), (5, 5)])
def test_random_decimals_encode_to_fastavros_bytes_or_are_refused_as_it_refuses_them(precision: int,
                                                                                    scale: int) -> None:
    """Any sign, any number of digits up to one past the precision, any exponent from past the scale to above
    zero (``1E+3``): the converted value writes fastavro's bytes, and a value fastavro refuses is refused."""
    rng = random.Random(precision * 100 + scale)
    schema = fastavro.parse_schema({"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale})
    convert = decimal_bytes(precision, scale)
    written = refused = 0
    for _ in range(3000):
        digits = tuple(rng.randrange(10) for _ in range(rng.randint(1, precision + 1)))
        value = Decimal((rng.randrange(2), digits, rng.randint(-scale - 1, 2)))
        expected = io.BytesIO()
        try:
            fastavro.schemaless_writer(expected, schema, value)
        except ValueError:
            with pytest.raises(ValueError):
                convert(value)
            refused += 1
            continue
        got = io.BytesIO()
        fastavro.schemaless_writer(got, schema, convert(value))
        assert got.getvalue() == expected.getvalue(), value
        written += 1
    assert written > 1000 and refused > 100  # both paths were taken


def test_random_timestamps_encode_to_fastavros_bytes() -> None:
    rng = random.Random(7)
    lo, hi = dt.datetime(1, 1, 1).toordinal(), dt.datetime(9999, 12, 31).toordinal()
    zones = [dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30)), dt.timezone(dt.timedelta(hours=-11))]
    for _ in range(2000):
        wall = dt.datetime.fromordinal(rng.randint(lo, hi)).replace(
            hour=rng.randint(0, 23), minute=rng.randint(0, 59), second=rng.randint(0, 59),
            microsecond=rng.choice([0, 1, 999_999, rng.randint(0, 999_999)]))
        utc = wall.replace(tzinfo=rng.choice(zones))
        if not dt.datetime(1, 1, 2) <= wall <= dt.datetime(9999, 12, 30):  # an offset would leave the range
            utc = wall.replace(tzinfo=dt.UTC)
        row: dict[str, Any] = {"whole": Decimal("1"), "at": wall, "utc": utc}
        converted = dict(row)
        convert_row(converted, CONVERTERS)
        assert isinstance(converted["at"], int) and isinstance(converted["utc"], int)
        assert encoded(converted) == encoded(row), row
