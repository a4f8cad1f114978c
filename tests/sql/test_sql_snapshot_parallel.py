"""The SQL connector's snapshot in key ranges read by several workers (connectors.sql.snapshot), against real
databases: exactly the rows of a one-pass snapshot, an honest state after every batch, a resume after a crash
that reads no row twice, and workers that stop with the generator."""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.base import Batch
from connectors.sql import SqlConnectorConfig
from connectors.sql.queries import keyset_query, table_ref
from connectors.sql.snapshot import ChunkReader
from tests.sqlservers import SqlDb, collect, connector, create, customers_table, make_config, rows


def parallel_config(db: SqlDb, table: str, workers: int = 3, chunk_rows: int = 7, **kw: Any) -> SqlConnectorConfig:
    data = make_config(db, table, **kw).model_dump()
    data["snapshot"] = {"workers": workers, "chunk_rows": chunk_rows}
    return SqlConnectorConfig.model_validate(data)


def keys(batches: list[Batch]) -> list[Any]:
    return [e.key["id"] for b in batches for e in b.events]


def claimed(state: dict[str, Any], table: str, ids: list[int]) -> set[int]:
    """The ids of ``ids`` the state says were read: per chunk, those after its start up to its last key (or
    up to its end when the chunk is done)."""
    out: set[int] = set()
    for chunk in state["snapshot"][table]["chunks"]:
        lo = chunk["after"][0] if chunk["after"] else None
        hi = (chunk["upto"][0] if chunk["upto"] else None) if chunk["done"] else (
            chunk["last_key"][0] if chunk["last_key"] else None)
        if not chunk["done"] and chunk["last_key"] is None:
            continue
        out |= {i for i in ids if (lo is None or int(i) > int(lo)) and (hi is None or int(i) <= int(hi))}
    return out


def opened(batches: Iterator[Batch]) -> Generator[Batch, None, None]:
    """The snapshot as the generator it is (the runner closes it when it stops)."""
    assert isinstance(batches, Generator)
    return batches


def snapshot_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("crmhub-snapshot-")]


@pytest.mark.parametrize("count", [0, 1, 50, 203])
def test_workers_read_exactly_the_rows_of_one_pass(sql_db: SqlDb, count: int) -> None:
    name = sql_db.table_name("cust")
    table = create(sql_db, customers_table(name))
    if count:
        # gaps in the keys: chunks of equal key intervals hold different row counts
        sql_db.execute(table.insert(), [r for r in rows(count) if r["id"] % 5 != 2])
    one_pass = list(connector(make_config(sql_db, name)).snapshot({}))
    conn = connector(parallel_config(sql_db, name))
    batches = list(conn.snapshot({}))
    conn.close()
    got = keys(batches)
    assert sorted(got) == keys(one_pass) and len(got) == len(set(got))
    assert batches[-1].state["snapshot_done"] is True
    assert [e.source.snapshot for b in batches for e in b.events][-1:] == (["last"] if got else [])
    progress = batches[-1].state["snapshot"][name]
    assert progress["done"] and progress["rows"] == len(got) and progress["total"] == len(got)
    if count > 50:
        assert len(progress["chunks"]) > 3 and all(c["done"] for c in progress["chunks"])


def test_each_state_claims_only_rows_already_yielded(sql_db: SqlDb) -> None:
    name = sql_db.table_name("cust")
    sql_db.execute(create(sql_db, customers_table(name)).insert(), rows(120))
    ids = list(range(1, 121))
    seen: set[int] = set()
    conn = connector(parallel_config(sql_db, name, workers=4, chunk_rows=9, batch_size=4))
    for batch in conn.snapshot({}):
        seen |= {int(e.key["id"]) for e in batch.events}
        assert claimed(batch.state, name, ids) <= seen
    conn.close()
    assert seen == set(ids)


@pytest.mark.parametrize("stop_after", [1, 5, 17])
def test_a_crash_resumes_from_the_saved_state_without_reading_a_row_twice(sql_db: SqlDb, stop_after: int) -> None:
    name = sql_db.table_name("cust")
    sql_db.execute(create(sql_db, customers_table(name)).insert(), rows(150))
    cfg = parallel_config(sql_db, name, workers=3, chunk_rows=11, batch_size=5)
    first = connector(cfg)
    snap = opened(first.snapshot({}))
    acked = [next(snap) for _ in range(stop_after)]
    snap.close()  # the hub stopped: only what Kafka acknowledged counts
    first.close()
    saved = acked[-1].state
    done_before = [c for c in saved["snapshot"][name]["chunks"] if c["done"]]
    again = connector(cfg)
    rest = list(again.snapshot(saved))
    again.close()
    before, after = keys(acked), keys(rest)
    assert not set(before) & set(after)  # nothing read twice, completed chunks included
    assert sorted(before + after) == list(range(1, 151))
    assert rest[-1].state["snapshot_done"] is True
    for chunk in done_before:  # a chunk complete in the saved state is not read again
        lo, hi = (chunk["after"] or [0])[0], (chunk["upto"] or [10**9])[0]
        assert not [i for i in after if lo < i <= hi]
    assert list(connector(cfg).snapshot(rest[-1].state)) == []


def test_closing_the_generator_stops_the_workers_and_returns_their_connections(sql_db: SqlDb) -> None:
    name = sql_db.table_name("cust")
    sql_db.execute(create(sql_db, customers_table(name)).insert(), rows(300))
    conn = connector(parallel_config(sql_db, name, workers=4, chunk_rows=10, batch_size=2))
    snap = opened(conn.snapshot({}))
    next(snap)
    assert snapshot_threads()  # the workers run, the queue full
    snap.close()
    assert snapshot_threads() == []
    pool = conn._get_engine().pool
    assert isinstance(pool, sa.pool.QueuePool) and pool.checkedout() == 0
    again = conn.snapshot({})
    next(again)
    conn.close()  # the connector closing stops a snapshot still open
    assert snapshot_threads() == []


def test_the_connector_close_stops_an_open_snapshot(sqlite_db: SqlDb) -> None:
    name = sqlite_db.table_name("cust")
    sqlite_db.execute(create(sqlite_db, customers_table(name)).insert(), rows(100))
    conn = connector(parallel_config(sqlite_db, name, workers=2, chunk_rows=5, batch_size=1))
    snap = opened(conn.snapshot({}))
    next(snap)
    conn.close()
    assert snapshot_threads() == []
    snap.close()


def test_a_table_setting_overrides_the_connector_and_a_composite_key_reads_in_one_pass(sqlite_db: SqlDb) -> None:
    pair = sqlite_db.table_name("pair")
    table = sa.Table(pair, sa.MetaData(), sa.Column("a", sa.Integer, primary_key=True),
                     sa.Column("b", sa.String(5), primary_key=True), sa.Column("v", sa.Integer))
    sqlite_db.execute(create(sqlite_db, table).insert(), [{"a": i % 4, "b": f"k{i:03}", "v": i} for i in range(40)])
    cust = sqlite_db.table_name("cust")
    sqlite_db.execute(create(sqlite_db, customers_table(cust)).insert(), rows(30))
    cfg = SqlConnectorConfig.model_validate({
        "kind": "sql", "name": "crm", "url": sqlite_db.url, "batch_size": 10, "snapshot": {"workers": 3},
        "tables": [{"name": pair, "mode": "incrementing", "incrementing_column": "v"},
                   {"name": cust, "mode": "incrementing", "incrementing_column": "id",
                    "snapshot": {"workers": 2, "chunk_rows": 4}}]})
    batches = list(connector(cfg).snapshot({}))
    final = batches[-1].state["snapshot"]
    assert "chunks" not in final[pair] and final[pair]["done"]  # composite key: one pass, in key order
    pair_keys = [(e.key["a"], e.key["b"]) for b in batches for e in b.events if e.source.table == pair]
    assert pair_keys == sorted(pair_keys) and len(pair_keys) == 40
    assert len(final[cust]["chunks"]) == 8  # 30 rows in chunks of at most 4 keys
    assert sorted(e.key["id"] for b in batches for e in b.events if e.source.table == cust) == list(range(1, 31))


def test_string_keys_are_split_by_stepping_through_the_index(sql_db: SqlDb) -> None:
    name = sql_db.table_name("codes")
    table = sa.Table(name, sa.MetaData(), sa.Column("code", sa.String(12), primary_key=True),
                     sa.Column("n", sa.Integer, nullable=False))
    sql_db.execute(create(sql_db, table).insert(), [{"code": f"C{i * 7 % 101:05}", "n": i} for i in range(101)])
    cfg = SqlConnectorConfig.model_validate({
        "kind": "sql", "name": "crm", "url": sql_db.url_without_password, "password": sql_db.password,
        "batch_size": 6, "snapshot": {"workers": 3, "chunk_rows": 10},
        "tables": [{"name": name, "mode": "incrementing", "incrementing_column": "n"}]})
    batches = list(connector(cfg).snapshot({}))
    chunks = batches[-1].state["snapshot"][name]["chunks"]
    assert [c["upto"] for c in chunks] == [[f"C{i:05}"] for i in range(9, 100, 10)] + [None]
    assert sorted(e.key["code"] for b in batches for e in b.events) == sorted(f"C{i:05}" for i in range(101))


def test_a_saved_one_pass_position_is_continued_in_one_pass(sqlite_db: SqlDb) -> None:
    """A snapshot begun with one worker and resumed with several keeps its one-pass position."""
    name = sqlite_db.table_name("cust")
    sqlite_db.execute(create(sqlite_db, customers_table(name)).insert(), rows(25))
    first = next(iter(connector(make_config(sqlite_db, name)).snapshot({})))
    rest = list(connector(parallel_config(sqlite_db, name)).snapshot(first.state))
    assert keys(rest) == list(range(11, 26)) and "chunks" not in rest[-1].state["snapshot"][name]


def test_columns_added_mid_snapshot_are_in_every_later_row(sqlite_db: SqlDb) -> None:
    name = sqlite_db.table_name("cust")
    sqlite_db.execute(create(sqlite_db, customers_table(name)).insert(), rows(100))
    conn = connector(parallel_config(sqlite_db, name, workers=2, chunk_rows=10, batch_size=5))
    snap: Iterator[Batch] = conn.snapshot({})
    batches = [next(snap)]
    with sqlite_db.engine.begin() as db:
        db.execute(sa.text(f"ALTER TABLE {name} ADD COLUMN tier TEXT DEFAULT 'gold'"))
    batches += list(snap)
    conn.close()
    # the pages read before the column came are emitted without it, every one read after with it
    tiers = [e.after is not None and e.after.get("tier") == "gold" for b in batches for e in b.events]
    assert tiers[-1] and tiers == sorted(tiers)
    assert sorted(keys(batches)) == list(range(1, 101))


def test_changes_made_during_the_snapshot_are_streamed_afterwards(sql_db: SqlDb) -> None:
    name = sql_db.table_name("cust")
    table = create(sql_db, customers_table(name))
    sql_db.execute(table.insert(), rows(40, start=10))
    cfg = parallel_config(sql_db, name, workers=2, chunk_rows=10, batch_size=5)
    conn = connector(cfg)
    snap = opened(conn.snapshot({}))
    batches = [next(snap)]
    # while the snapshot runs: rows below and above the key range arrive, row 30 changes
    later = datetime.now().replace(microsecond=0) - timedelta(minutes=5)
    sql_db.execute(table.insert(), rows(3, start=1, ts=later) + rows(3, start=100, ts=later))
    sql_db.execute(table.update().where(table.c.id == 30).values(name="changed", changed=later))
    batches += list(snap)
    conn.close()
    got = keys(batches)
    assert len(got) == len(set(got)) and set(range(10, 50)) <= set(got)
    stream = [e for b in collect(connector(cfg).changes(batches[-1].state)) for e in b.events]
    assert {1, 2, 3, 30, 100, 101, 102} <= {e.key["id"] for e in stream}
    assert next(e for e in stream if e.key["id"] == 30).after["name"] == "changed"  # type: ignore[index]


def test_an_in_memory_sqlite_database_is_read_in_one_pass() -> None:
    """Each connection to ``sqlite://`` is a database of its own: workers would read empty tables."""
    cfg = SqlConnectorConfig.model_validate({
        "kind": "sql", "name": "crm", "url": "sqlite://", "batch_size": 10, "snapshot": {"workers": 3},
        "tables": [{"name": "cust", "mode": "incrementing", "incrementing_column": "id"}]})
    conn = connector(cfg)
    table = customers_table("cust")
    with conn._get_engine().begin() as db:
        table.metadata.create_all(db)
        db.execute(table.insert(), rows(25))
    batches = list(conn.snapshot({}))
    conn.close()
    assert keys(batches) == list(range(1, 26)) and "chunks" not in batches[-1].state["snapshot"]["cust"]


def test_a_workers_database_error_reaches_the_reader_and_every_worker_stops(sqlite_db: SqlDb) -> None:
    name = sqlite_db.table_name("cust")
    sqlite_db.execute(create(sqlite_db, customers_table(name)).insert(), rows(40))
    ref = table_ref(None, name, ["id", "name"])

    def page(after: Any, upto: Any) -> Any:
        if upto == [20]:  # the second chunk's query fails at the database
            return sa.select(sa.text("id FROM no_such_table"))
        return keyset_query(ref, ["id"], after, 3, "sqlite", upto=upto)

    reader = ChunkReader(sqlite_db.engine, page, ["id"], [(0, None, [10]), (1, [10], [20]), (2, [20], None)], 2, 2)
    with pytest.raises(sa.exc.OperationalError, match="no_such_table"):
        list(reader)
    reader.close()
    assert snapshot_threads() == []
    pool = sqlite_db.engine.pool
    assert isinstance(pool, sa.pool.QueuePool) and pool.checkedout() == 0
