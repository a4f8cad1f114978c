"""SqlConnector against real databases (SQLite, PostgreSQL, MariaDB): describe and snapshot."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from schemas.columns import ColumnType
from schemas.envelope import Op
from tests.sqlservers import T0, SqlDb, collect, connector, create, customers_table, make_config, rows


def test_describe_reflects_faithful_types(sql_db: SqlDb) -> None:
    name = sql_db.table_name("cust")
    create(sql_db, customers_table(name))
    conn = connector(make_config(sql_db, name))
    (meta,) = conn.describe()
    conn.close()
    assert (meta.connector, meta.name, meta.key) == ("crm", name, ("id",))
    assert meta.schema == (None if sql_db.kind == "sqlite" else ("public" if sql_db.kind == "postgresql"
                                                                  else "crmhub_test"))
    credit, born, changed, code = (meta.column(c) for c in ("credit", "born", "changed", "code"))
    assert (credit.type, credit.precision, credit.scale) == (ColumnType.DECIMAL, 11, 2)
    assert born.type is ColumnType.DATE and changed.type is ColumnType.TIMESTAMP
    assert (code.type, code.length) == (ColumnType.CHAR, 10)
    assert meta.column("id").type is (ColumnType.INT64 if sql_db.kind == "sqlite" else ColumnType.INT32)
    assert meta.column("id").primary_key and not meta.column("name").nullable


@pytest.mark.parametrize("trim", [False, True])
def test_snapshot_reads_every_row_in_key_order_with_faithful_values(sql_db: SqlDb, trim: bool) -> None:
    name = sql_db.table_name("cust")
    sql_db.execute(create(sql_db, customers_table(name)).insert(), rows(25))
    batches = list(connector(make_config(sql_db, name, trim_char=trim)).snapshot({}))
    events = [e for b in batches for e in b.events]
    assert [len(b.events) for b in batches] == [10, 10, 5]
    assert [e.key["id"] for e in events] == list(range(1, 26))
    assert {e.op for e in events} == {Op.READ}
    assert [e.source.snapshot for e in events[-2:]] == ["true", "last"]
    assert batches[-1].state["snapshot_done"] is True
    assert [b.state["snapshot"][name]["last_key"] for b in batches[:2]] == [[10], [20]]
    assert [(b.progress.table, b.progress.done) for b in batches if b.progress] == [(name, 10), (name, 20), (name, 25)]
    first = events[0].after
    assert first is not None
    assert first["credit"] == Decimal("12346.60") and first["credit"].as_tuple().exponent == -2
    assert first["born"] == date(1980, 2, 29)
    assert first["changed"] == T0 + timedelta(seconds=1)
    padded = sql_db.kind == "postgresql" and not trim  # MariaDB strips CHAR padding itself; SQLite never pads
    assert first["code"] == ("AB        " if padded else "AB")
    assert events[0].source.position["id"] == "1" and events[0].source.table == name


def test_snapshot_resumes_after_the_last_acknowledged_chunk(sql_db: SqlDb) -> None:
    name = sql_db.table_name("cust")
    sql_db.execute(create(sql_db, customers_table(name)).insert(), rows(25))
    cfg = make_config(sql_db, name)
    first = next(iter(connector(cfg).snapshot({})))  # the hub stops after acknowledging one chunk
    rest = list(connector(cfg).snapshot(first.state))
    ids = [e.key["id"] for e in first.events] + [e.key["id"] for b in rest for e in b.events]
    assert ids == list(range(1, 26))
    assert list(connector(cfg).snapshot(rest[-1].state)) == []


def test_changes_made_during_the_snapshot_are_streamed_afterwards(sql_db: SqlDb) -> None:
    name = sql_db.table_name("cust")
    table = create(sql_db, customers_table(name))
    sql_db.execute(table.insert(), rows(25))
    cfg = make_config(sql_db, name)
    snap = iter(connector(cfg).snapshot({}))
    batches = [next(snap)]
    # while the snapshot runs: row 3 (already read) changes, row 26 arrives
    later = datetime.now().replace(microsecond=0) - timedelta(minutes=5)
    sql_db.execute(table.update().where(table.c.id == 3).values(name="changed", changed=later))
    sql_db.execute(table.insert(), rows(1, start=26, ts=later))
    batches += list(snap)
    assert [e.key["id"] for b in batches for e in b.events] == list(range(1, 27))
    stream = [e for b in collect(connector(cfg).changes(batches[-1].state)) for e in b.events]
    by_id = {e.key["id"]: e for e in stream}
    assert by_id[3].op is Op.UPDATE and by_id[3].after is not None and by_id[3].after["name"] == "changed"
    assert by_id[26].op is Op.CREATE


def test_empty_table_snapshot_completes_with_a_state(sql_db: SqlDb) -> None:
    name = sql_db.table_name("cust")
    create(sql_db, customers_table(name))
    batches = list(connector(make_config(sql_db, name)).snapshot({}))
    assert len(batches) == 1 and batches[0].events == []
    assert batches[0].state["snapshot_done"] is True


def test_value_that_does_not_fit_its_decimal_goes_to_the_dlq(sqlite_db: SqlDb) -> None:
    """Only SQLite stores a value its declared DECIMAL(11,2) cannot hold; the row is dead-lettered."""
    name = sqlite_db.table_name("cust")
    table = create(sqlite_db, customers_table(name))
    sqlite_db.execute(table.insert(), rows(3))
    with sqlite_db.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {name} SET credit = 1.005 WHERE id = 2"))
    (batch,) = connector(make_config(sqlite_db, name)).snapshot({})
    assert [e.key["id"] for e in batch.events] == [1, 3]
    (dead,) = batch.dead
    assert "credit" in dead.reason and "more than 2 decimals" in dead.reason
    assert dead.raw["id"] == 2 and dead.table == name
