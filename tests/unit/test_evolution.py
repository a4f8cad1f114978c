from __future__ import annotations

from schemas.columns import Column, ColumnType
from schemas.evolution import diff_tables
from tests.factories import make_table

BASE = (
    Column("ID", ColumnType.INT32, nullable=False, primary_key=True),
    Column("NAME", ColumnType.CHAR, length=10),
    Column("LIMIT", ColumnType.DECIMAL, precision=11, scale=2),
)


def test_no_change_is_empty() -> None:
    change = diff_tables(make_table(BASE), make_table(BASE))
    assert change.empty and change.additive_only
    assert change.describe().endswith("no change")


def test_added_nullable_column_is_additive() -> None:
    change = diff_tables(make_table(BASE), make_table((*BASE, Column("EMAIL", ColumnType.STRING))))
    assert [c.name for c in change.added] == ["EMAIL"]
    assert change.additive_only
    assert "column EMAIL added (STRING)" in change.describe()


def test_added_not_null_column_is_not_additive() -> None:
    change = diff_tables(make_table(BASE), make_table((*BASE, Column("X", ColumnType.INT32, nullable=False))))
    assert not change.additive_only


def test_dropped_and_retyped_are_named() -> None:
    new = (BASE[0], Column("LIMIT", ColumnType.DECIMAL, precision=13, scale=4))
    change = diff_tables(make_table(BASE), make_table(new))
    assert [c.name for c in change.dropped] == ["NAME"]
    assert [(o.precision, n.precision) for o, n in change.retyped] == [(11, 13)]
    text = change.describe()
    assert "column NAME dropped (was CHAR(10))" in text
    assert "column LIMIT retyped from DECIMAL(11,2) to DECIMAL(13,4)" in text
    assert not change.additive_only
