"""connectors.sql.types and .values: reflected types -> logical columns, raw driver values -> envelope values."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy.types as st
from sqlalchemy.dialects import mssql, mysql, oracle, postgresql, sqlite

from connectors.sql.types import Mapped, column_from_reflection, map_type, source_type_text
from connectors.sql.values import (
    ValueProblem,
    commit_ts_ms,
    comparable,
    is_deleted,
    iso_duration,
    normalise_row,
    normalise_value,
    to_decimal,
)
from schemas.columns import Column, ColumnType

D, S = ColumnType.DECIMAL, ColumnType.STRING

CASES: list[tuple[str, Any, Mapped]] = [
    # generic / PostgreSQL
    ("postgresql", st.NUMERIC(11, 2), Mapped(D, 11, 2)),
    ("postgresql", st.NUMERIC(7, 0), Mapped(D, 7, 0)),
    ("postgresql", st.NUMERIC(), Mapped(D, 38, 10)),
    ("postgresql", st.SMALLINT(), Mapped(ColumnType.INT16)),
    ("postgresql", st.INTEGER(), Mapped(ColumnType.INT32)),
    ("postgresql", st.BIGINT(), Mapped(ColumnType.INT64)),
    ("postgresql", st.REAL(), Mapped(ColumnType.FLOAT32)),
    ("postgresql", st.DOUBLE_PRECISION(), Mapped(ColumnType.FLOAT64)),
    ("postgresql", st.DATE(), Mapped(ColumnType.DATE)),
    ("postgresql", postgresql.TIME(), Mapped(ColumnType.TIME)),
    ("postgresql", postgresql.TIME(timezone=True), Mapped(S)),
    ("postgresql", postgresql.TIMESTAMP(), Mapped(ColumnType.TIMESTAMP)),
    ("postgresql", postgresql.TIMESTAMP(timezone=True), Mapped(ColumnType.TIMESTAMP_TZ)),
    ("postgresql", st.CHAR(10), Mapped(ColumnType.CHAR, length=10)),
    ("postgresql", st.VARCHAR(40), Mapped(S, length=40)),
    ("postgresql", st.TEXT(), Mapped(S)),
    ("postgresql", st.BOOLEAN(), Mapped(ColumnType.BOOLEAN)),
    ("postgresql", postgresql.BYTEA(), Mapped(ColumnType.BYTES)),
    ("postgresql", postgresql.UUID(), Mapped(S)),
    ("postgresql", postgresql.JSONB(), Mapped(S)),
    ("postgresql", postgresql.INTERVAL(), Mapped(S)),
    ("postgresql", postgresql.MONEY(), Mapped(S)),
    ("postgresql", postgresql.BIT(3), Mapped(S)),
    # MySQL / MariaDB
    ("mariadb", mysql.TINYINT(display_width=1), Mapped(ColumnType.INT16)),
    ("mysql", mysql.INTEGER(unsigned=True), Mapped(ColumnType.INT64)),
    ("mysql", mysql.SMALLINT(unsigned=True), Mapped(ColumnType.INT32)),
    ("mysql", mysql.TINYINT(unsigned=True), Mapped(ColumnType.INT16)),
    ("mysql", mysql.BIGINT(unsigned=True), Mapped(D, 20, 0)),
    ("mysql", mysql.MEDIUMINT(), Mapped(ColumnType.INT32)),
    ("mysql", mysql.FLOAT(), Mapped(ColumnType.FLOAT32)),
    ("mysql", mysql.DOUBLE(), Mapped(ColumnType.FLOAT64)),
    ("mysql", mysql.DECIMAL(11, 2), Mapped(D, 11, 2)),
    ("mariadb", mysql.BIT(1), Mapped(ColumnType.BOOLEAN)),
    ("mariadb", mysql.BIT(8), Mapped(ColumnType.BYTES)),
    ("mysql", mysql.YEAR(), Mapped(ColumnType.INT16)),
    ("mysql", mysql.DATETIME(fsp=6), Mapped(ColumnType.TIMESTAMP)),
    ("mysql", mysql.ENUM("a", "b"), Mapped(S, length=1)),
    ("mysql", mysql.LONGBLOB(), Mapped(ColumnType.BYTES)),
    # SQLite: declared type affinity
    ("sqlite", st.INTEGER(), Mapped(ColumnType.INT64)),
    ("sqlite", st.SMALLINT(), Mapped(ColumnType.INT64)),
    ("sqlite", st.REAL(), Mapped(ColumnType.FLOAT64)),
    ("sqlite", st.DECIMAL(11, 2), Mapped(D, 11, 2)),
    ("sqlite", sqlite.DATETIME(), Mapped(ColumnType.TIMESTAMP)),
    # Oracle
    ("oracle", oracle.NUMBER(), Mapped(D, 38, 10)),
    ("oracle", oracle.NUMBER(9, 0), Mapped(D, 9, 0)),
    ("oracle", oracle.NUMBER(5, -2), Mapped(D, 7, 0)),
    ("oracle", oracle.NUMBER(3, 5), Mapped(D, 5, 5)),
    ("oracle", st.INTEGER(), Mapped(D, 38, 0)),
    ("oracle", oracle.DATE(), Mapped(ColumnType.TIMESTAMP)),
    ("oracle", oracle.TIMESTAMP(timezone=True), Mapped(ColumnType.TIMESTAMP_TZ)),
    ("oracle", oracle.TIMESTAMP(local_timezone=True), Mapped(ColumnType.TIMESTAMP)),
    ("oracle", oracle.BINARY_FLOAT(), Mapped(ColumnType.FLOAT32)),
    ("oracle", oracle.BINARY_DOUBLE(), Mapped(ColumnType.FLOAT64)),
    ("oracle", oracle.FLOAT(binary_precision=126), Mapped(ColumnType.FLOAT64)),
    ("oracle", oracle.RAW(16), Mapped(ColumnType.BYTES, length=16)),
    ("oracle", oracle.ROWID(), Mapped(S)),
    ("oracle", oracle.NCLOB(), Mapped(S)),
    ("oracle", oracle.INTERVAL(), Mapped(S)),
    # SQL Server
    ("mssql", mssql.BIT(), Mapped(ColumnType.BOOLEAN)),
    ("mssql", mssql.TINYINT(), Mapped(ColumnType.INT16)),
    ("mssql", mssql.MONEY(), Mapped(D, 19, 4)),
    ("mssql", mssql.SMALLMONEY(), Mapped(D, 10, 4)),
    ("mssql", mssql.DATETIME2(), Mapped(ColumnType.TIMESTAMP)),
    ("mssql", mssql.SMALLDATETIME(), Mapped(ColumnType.TIMESTAMP)),
    ("mssql", mssql.DATETIMEOFFSET(), Mapped(ColumnType.TIMESTAMP_TZ)),
    ("mssql", mssql.NCHAR(5), Mapped(ColumnType.CHAR, length=5)),
    ("mssql", mssql.UNIQUEIDENTIFIER(), Mapped(S)),
    ("mssql", mssql.TIMESTAMP(), Mapped(ColumnType.BYTES)),
    ("mssql", mssql.IMAGE(), Mapped(ColumnType.BYTES)),
    ("mssql", mssql.XML(), Mapped(S)),
]


@pytest.mark.parametrize(("dialect", "sqltype", "expected"), CASES,
                         ids=[f"{d}-{type(t).__name__}" for d, t, _ in CASES])
def test_map_type(dialect: str, sqltype: Any, expected: Mapped) -> None:
    assert map_type(sqltype, dialect) == expected


def test_db2_types_from_ibm_db_sa() -> None:
    base = pytest.importorskip("ibm_db_sa.base")
    assert map_type(base.DOUBLE(), "ibm_db_sa") == Mapped(ColumnType.FLOAT64)  # a Numeric subclass there
    assert map_type(base.GRAPHIC(4), "ibm_db_sa") == Mapped(ColumnType.CHAR, length=4)
    assert map_type(base.VARGRAPHIC(20), "ibm_db_sa") == Mapped(S, length=20)
    assert map_type(base.DBCLOB(), "ibm_db_sa").type is S
    assert map_type(st.DECIMAL(7, 0), "ibm_db_sa") == Mapped(D, 7, 0)
    assert map_type(st.SmallInteger(), "ibm_db_sa") == Mapped(ColumnType.INT16)


def test_unknown_type_is_text_with_a_warning() -> None:
    mapped = map_type(st.NullType(), "ibm_db_sa")
    assert mapped.type is S and mapped.warning is not None and "unknown column type" in mapped.warning
    assert map_type(mssql.SQL_VARIANT(), "mssql").warning is not None


def test_column_from_reflection() -> None:
    info = {"name": "CREDIT", "type": st.DECIMAL(11, 2), "nullable": False}
    col, warning = column_from_reflection(info, "postgresql", primary_key=True,
                                          source_type=source_type_text(info["type"], postgresql.dialect()))
    assert warning is None
    assert col == Column("CREDIT", D, nullable=False, precision=11, scale=2, primary_key=True,
                         source_type="DECIMAL(11, 2)")
    unknown, warn = column_from_reflection({"name": "X", "type": st.NullType()}, "sqlite")
    assert unknown.type is S and unknown.nullable and warn


# --- values ------------------------------------------------------------------------------------------------

DEC = Column("c", D, precision=11, scale=2)


@pytest.mark.parametrize(("raw", "expected"), [
    (Decimal("12.3"), "12.30"), (12.34, "12.34"), ("  -0.5 ", "-0.50"), (7, "7.00"), (0.1 + 0.2 - 0.3 + 0.3, None),
    (Decimal("999999999.99"), "999999999.99"),
])
def test_decimal_is_exact_at_the_column_scale(raw: Any, expected: str | None) -> None:
    if expected is None:  # 0.30000000000000004: more decimals than the column has
        with pytest.raises(ValueProblem, match="more than 2 decimals"):
            normalise_value(raw, DEC)
        return
    value = normalise_value(raw, DEC)
    assert isinstance(value, Decimal) and str(value) == expected


@pytest.mark.parametrize(("raw", "message"), [
    (Decimal("1.005"), "more than 2 decimals"), (Decimal("1000000000.00"), "does not fit DECIMAL"),
    (float("nan"), "not a finite"), ("abc", "not a number"), (True, "boolean"),
])
def test_decimal_that_does_not_fit(raw: Any, message: str) -> None:
    with pytest.raises(ValueProblem, match=message):
        normalise_value(raw, DEC)


def test_decimal_unbounded_and_huge_precision() -> None:
    assert to_decimal("123456789012345678901234567.1234567891", 38, 10) == Decimal(
        "123456789012345678901234567.1234567891")
    with pytest.raises(ValueProblem):
        to_decimal("12345678901234567890123456789.5", 38, 10)  # 29 integer digits


def test_integers_booleans_floats() -> None:
    i16 = Column("i", ColumnType.INT16)
    assert normalise_value(Decimal("42"), i16) == 42 and normalise_value("7", i16) == 7
    with pytest.raises(ValueProblem, match="out of range"):
        normalise_value(40000, i16)
    with pytest.raises(ValueProblem):
        normalise_value(Decimal("1.5"), i16)
    b = Column("b", ColumnType.BOOLEAN)
    assert [normalise_value(v, b) for v in (1, 0, b"\x01", b"\x00", "Y", "false", True)] == [
        True, False, True, False, True, False, True]
    with pytest.raises(ValueProblem):
        normalise_value("maybe", b)
    assert normalise_value(Decimal("1.5"), Column("f", ColumnType.FLOAT64)) == 1.5


def test_temporal_values_from_every_driver_shape() -> None:
    d, t = Column("d", ColumnType.DATE), Column("t", ColumnType.TIME)
    ts, tz = Column("ts", ColumnType.TIMESTAMP), Column("tz", ColumnType.TIMESTAMP_TZ)
    assert normalise_value("2024-02-29", d) == date(2024, 2, 29)  # SQLite text
    assert normalise_value(timedelta(hours=8, minutes=30), t) == time(8, 30)  # MySQL TIME
    with pytest.raises(ValueProblem, match="not a time of day"):
        normalise_value(timedelta(hours=30), t)
    assert normalise_value("2024-05-01 12:00:00.123456", ts) == datetime(2024, 5, 1, 12, 0, 0, 123456)
    assert normalise_value(date(2024, 5, 1), ts) == datetime(2024, 5, 1)
    plus2 = datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert normalise_value(plus2, ts) == datetime(2024, 5, 1, 12, 0)
    assert normalise_value(datetime(2024, 5, 1, 12), tz) == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert normalise_value(plus2, tz) is plus2


def test_text_char_and_bytes() -> None:
    char = Column("c", ColumnType.CHAR, length=10)
    assert normalise_value("AB        ", char) == "AB        "
    assert normalise_value("  AB  \t  ", char, trim_char=True) == "  AB  \t"  # trailing blanks only
    assert normalise_value({"b": 1, "a": [2]}, Column("j", S)) == '{"a": [2], "b": 1}'
    assert normalise_value(timedelta(days=1, seconds=2.5), Column("i", S)) == "P1DT2.5S"
    assert normalise_value(memoryview(b"\x00\xff"), Column("b", ColumnType.BYTES)) == b"\x00\xff"
    assert iso_duration(-timedelta(seconds=90)) == "-P0DT90S"


def test_normalise_row_names_the_column() -> None:
    cols = [Column("id", ColumnType.INT32), DEC]
    assert normalise_row({"id": 1, "c": None}, cols) == {"id": 1, "c": None}
    with pytest.raises(ValueProblem, match=r"^column c: "):
        normalise_row({"id": 1, "c": "1.234"}, cols)


def test_soft_delete_matching() -> None:
    assert is_deleted("Y ", ["Y"]) and not is_deleted("N", ["Y"]) and not is_deleted(None, ["Y"])
    assert is_deleted(True, [1]) and is_deleted(True, ["yes"]) and not is_deleted(False, [True])
    assert is_deleted(Decimal("1.0"), [1]) and is_deleted(1, ["1"]) and not is_deleted(2, [1, "3"])


def test_comparable_and_commit_time() -> None:
    assert comparable("2024-05-01 12:00:00.5") > comparable(datetime(2024, 5, 1, 12))
    assert comparable(date(2024, 5, 1)) == datetime(2024, 5, 1)
    assert comparable(7) == comparable("7") == comparable(Decimal("7.0"))
    ts = Column("ts", ColumnType.TIMESTAMP)
    now = datetime(2024, 5, 1, 12, 0, 10)
    assert commit_ts_ms({"ts": datetime(2024, 5, 1, 12, 0, 7)}, ts, now, 1_000_000) == 997_000
    assert commit_ts_ms({"ts": None}, ts, now, 1_000_000) == 1_000_000
    assert commit_ts_ms({"ts": datetime(2024, 5, 1, 13)}, ts, now, 1_000_000) == 1_000_000  # clock skew
    assert commit_ts_ms({"x": 1}, None, now, 5) == 5
    # PostgreSQL: CURRENT_TIMESTAMP is aware (session zone +02:00), a timestamp column holds that wall time
    pg_now = datetime(2024, 5, 1, 12, 0, 10, tzinfo=timezone(timedelta(hours=2)))
    assert commit_ts_ms({"ts": datetime(2024, 5, 1, 12, 0, 7)}, ts, pg_now, 1_000_000) == 997_000
    aware = datetime(2024, 5, 1, 10, 0, 7, tzinfo=UTC)
    assert commit_ts_ms({"ts": aware}, Column("ts", ColumnType.TIMESTAMP_TZ), pg_now, 1_000_000) == 997_000
    assert commit_ts_ms({"ts": aware}, ts, now.replace(hour=10), 1_000_000) == 997_000
    assert commit_ts_ms({"d": "2024-05-01"}, Column("d", ColumnType.DATE), datetime(2024, 5, 1, 0, 0, 1),
                        5000) == 4000
