"""The SQL_REDO scanner and literal decoders, on statements written by the Oracle-style encoder."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from connectors.oracle_logminer.literals import LiteralError, to_date, to_timestamp, to_timestamp_tz, unistr
from connectors.oracle_logminer.redo import RedoParseError, parse_redo
from tests.unit.test_oracle_logminer_encoders import delete_sql, insert_sql, lit, update_sql

ROW = {
    "ID": Decimal("42"), "NAME": "O'Brien ''quoted''", "NOTE": None, "AMOUNT": Decimal("-1234.5600"),
    "CREATED": datetime(2024, 2, 29, 23, 59, 58), "STAMP": datetime(2024, 1, 1, 0, 0, 0, 123456),
    "ZONED": datetime(2024, 1, 1, 12, 0, 0, 500000, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
    "RAW": b"\x00\xffAB", "CITY": "Zürich café 😀 \\ back", "EMPTY": "",
}


def test_insert_with_every_literal_type() -> None:
    redo = parse_redo(insert_sql("CRM", "CUST", ROW))
    assert (redo.op, redo.owner, redo.table, redo.before) == ("c", "CRM", "CUST", None)
    after = redo.after
    assert after is not None
    assert after["ID"] == "42" and after["AMOUNT"] == "-1234.5600"  # NUMBER comes quoted; typed later
    assert {k: after[k] for k in ("NAME", "NOTE", "CREATED", "STAMP", "ZONED", "RAW", "CITY", "EMPTY")} == {
        k: ROW[k] for k in ("NAME", "NOTE", "CREATED", "STAMP", "ZONED", "RAW", "CITY", "EMPTY")}


def test_update_before_from_where_after_merged_with_is_null_and_rowid() -> None:
    old = {"ID": 7, "NAME": "a'b", "NOTE": None}
    new = {"ID": 7, "NAME": "new, and where = 'x'", "NOTE": "set"}
    redo = parse_redo(update_sql("CRM", "CUST", old, new, rowid="AAAR3sAAEAAAACXAAA"))
    assert redo.op == "u" and redo.rowid == "AAAR3sAAEAAAACXAAA"
    assert redo.before == {"ID": "7", "NAME": "a'b", "NOTE": None}
    assert redo.after == {"ID": "7", "NAME": "new, and where = 'x'", "NOTE": "set"}


def test_delete_with_is_null_and_no_delimiter() -> None:
    sql = delete_sql("CRM", "CUST", {"ID": 1, "NOTE": None}).rstrip(";")
    redo = parse_redo(sql)
    assert (redo.op, redo.before, redo.after) == ("d", {"ID": "1", "NOTE": None}, None)


@pytest.mark.parametrize("text, value", [
    ("-1", Decimal("-1")), ("3.25", Decimal("3.25")), ("-.5", Decimal("-0.5")), ("1.5E+10", Decimal("1.5E+10")),
    ("2e-3", Decimal("0.002")),
])
def test_bare_numbers(text: str, value: Decimal) -> None:
    assert parse_redo(f'insert into "O"."T"("N") values ({text})').after == {"N": value}


def test_functions_and_unsupported() -> None:
    sql = ('insert into "O"."T"("A","B","C","D","E") values '
           "(EMPTY_CLOB(),EMPTY_BLOB(),Unsupported Type,TO_TIMESTAMP('2020-02-01 00:00:00.'),"
           "UNISTR('\\00e9\\\\'))")
    assert parse_redo(sql).after == {"A": "", "B": b"", "C": None, "D": datetime(2020, 2, 1), "E": "é\\"}


def test_debezium_style_spacing_and_update_without_where() -> None:
    redo = parse_redo('update "O"."T" set "A" = \'1\', "B" = NULL;')
    assert (redo.before, redo.after) == ({}, {"A": "1", "B": None})
    spaced = parse_redo('insert into "O"."T" ("A", "B") values (\'1\', NULL);')
    assert spaced.after == {"A": "1", "B": None}
    upper = parse_redo('DELETE FROM "O"."T" WHERE "A"=\'1\' AND "B" IS NULL')
    assert upper.before == {"A": "1", "B": None}


@pytest.mark.parametrize("sql", [
    "select * from dual", 'insert into "O"."T"("A","B") values (\'1\')', 'insert into "O"."T"("A") values (FOO(1))',
    'update "O"."T" set "A" = \'unterminated', 'delete from "O"."T" where "A" = \'1\' or "B" = \'2\'',
    "insert into \"O\".\"T\"(\"A\") values (HEXTORAW('zz'))",
])
def test_malformed_is_an_error(sql: str) -> None:
    with pytest.raises(RedoParseError):
        parse_redo(sql)


def test_literal_decoders() -> None:
    assert to_date("01-FEB-20", "DD-MON-RR") == datetime(2020, 2, 1)
    assert to_timestamp("2020-02-01 10:11:12.123456789") == datetime(2020, 2, 1, 10, 11, 12, 123456)
    assert to_timestamp("01/02/2020 10.11.12.5", "DD/MM/YYYY HH24.MI.SS.FF") == datetime(2020, 2, 1, 10, 11, 12,
                                                                                         500000)
    assert to_timestamp_tz("2020-02-01 10:11:12. UTC") == datetime(2020, 2, 1, 10, 11, 12, tzinfo=UTC)
    paris = to_timestamp_tz("2020-07-01 10:00:00.000 Europe/Paris")
    assert paris.utcoffset() == timedelta(hours=2)
    assert unistr("\\D83D\\DE00x") == "😀x"
    with pytest.raises(LiteralError):
        unistr("\\D83D")
    with pytest.raises(LiteralError):
        to_date("2020-13-01 00:00:00")


def test_round_trip_random_rows() -> None:
    rnd = random.Random(7)
    alphabet = "abc' é\\,()=\"and where ROWID 中😀"
    for _ in range(300):
        row = {f"C{i}": rnd.choice([
            None, "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12))),
            Decimal(rnd.randint(-10**6, 10**6)) / 100, datetime(2020, 1, 1) + timedelta(seconds=rnd.randint(0, 10**8)),
            bytes(rnd.randrange(256) for _ in range(4))]) for i in range(6)}
        expect = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()}
        assert parse_redo(insert_sql("O", "T", row)).after == expect, lit(row)
        redo = parse_redo(delete_sql("O", "T", row))
        assert redo.before == expect
