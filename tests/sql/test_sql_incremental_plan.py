"""The incremental query is a range of the (timestamp, id) index on PostgreSQL: a page after 15,000 captured rows
reads its page, not every row before it (the plan's index condition starts at the position)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from connectors.sql.queries import incremental_query
from tests.sqlservers import SqlDb

pytestmark = pytest.mark.pg


@pytest.fixture()
def pg_db(pg_url: str) -> Iterator[SqlDb]:
    engine = sa.create_engine(pg_url)
    db = SqlDb("postgresql", pg_url, engine)
    yield db
    db.drop_all()
    engine.dispose()


def test_a_page_after_many_captured_rows_is_an_index_range(pg_db: SqlDb) -> None:
    name = pg_db.table_name("inc")
    start = datetime(2026, 1, 1)
    with pg_db.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {name} (id bigint PRIMARY KEY, updated timestamp NOT NULL, note text)")
        conn.exec_driver_sql(f"CREATE INDEX {name}_ts ON {name} (updated, id)")
        conn.exec_driver_sql(f"INSERT INTO {name} SELECT g, %(start)s::timestamp + g * interval '1 ms', 'n' "
                             "FROM generate_series(1, 20000) g", {"start": start})
        conn.exec_driver_sql(f"ANALYZE {name}")
    table = sa.Table(name, sa.MetaData(), autoload_with=pg_db.engine)
    stmt = incremental_query(table, ts_column="updated", id_columns=["id"],
                             after_ts=start + timedelta(milliseconds=15000), after_ids=[15000],
                             upper_ts=start + timedelta(days=1), limit=1000, dialect="postgresql")
    with pg_db.engine.begin() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")  # the plan a big table gets, on a small one
        compiled = stmt.compile(dialect=pg_db.engine.dialect)
        plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}", compiled.params).scalar_one()
        rows = conn.execute(stmt).all()
    assert [r.id for r in rows] == list(range(15001, 16001))
    node = plan[0]["Plan"]
    while "Index Cond" not in node and node.get("Plans"):
        node = node["Plans"][0]
    assert ">=" in node.get("Index Cond", ""), json.dumps(plan)[:1500]
    assert node.get("Rows Removed by Filter", 0) < 100, json.dumps(plan)[:1500]
