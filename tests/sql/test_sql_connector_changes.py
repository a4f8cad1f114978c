"""SqlConnector against real databases (SQLite, PostgreSQL, MariaDB): streaming changes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.base import Batch
from connectors.sql import SqlConnector, make_state
from schemas.envelope import Op
from tests.sqlservers import (
    T0,
    TIMESTAMP6,
    SqlDb,
    collect,
    connector,
    create,
    customers_table,
    events_of,
    is_heartbeat,
    make_config,
    rows,
)

RECENT = datetime.now().replace(microsecond=0) - timedelta(minutes=10)  # old enough for the safety delay


def test_inserts_and_updates_after_the_snapshot_are_c_and_u(sql_db: SqlDb) -> None:
    name = sql_db.table_name("cust")
    table = create(sql_db, customers_table(name))
    sql_db.execute(table.insert(), rows(5))
    cfg = make_config(sql_db, name)
    state = list(connector(cfg).snapshot({}))[-1].state
    sql_db.execute(table.insert(), rows(2, start=6, ts=RECENT))
    sql_db.execute(table.update().where(table.c.id == 2).values(name="renamed", changed=RECENT))
    events = events_of(collect(connector(cfg).changes(state)))
    by_id = {e.key["id"]: e for e in events}
    assert {i: e.op for i, e in by_id.items()} == {2: Op.UPDATE, 6: Op.CREATE, 7: Op.CREATE}
    assert by_id[2].before is None and by_id[2].after is not None and by_id[2].after["name"] == "renamed"
    # commit time at the source = the row's timestamp column (age at the database subtracted from poll time)
    assert by_id[6].source.ts_ms < by_id[6].ts_ms - 9 * 60 * 1000
    assert by_id[6].source.position["table"] == name and by_id[6].source.position["id"] == "6"


@pytest.mark.parametrize("mode", ["timestamp+incrementing", "timestamp"])
def test_500_rows_sharing_one_timestamp_survive_a_stop_mid_way(sql_db: SqlDb, mode: str) -> None:
    name = sql_db.table_name("same")
    table = create(sql_db, customers_table(name))
    sql_db.execute(table.insert(), rows(500, step=timedelta(0)))  # every row: changed = T0
    extra = {"incrementing_column": None} if mode == "timestamp" else {}
    cfg = make_config(sql_db, name, batch_size=37, mode=mode, **extra)
    stream = connector(cfg).changes({})
    first = [next(stream) for _ in range(5)]  # the hub stops after acknowledging 5 batches (185 rows)
    stream.close()
    assert {b.state["stream"][name]["ts"] is not None for b in first} == {True}
    rest = collect(connector(cfg).changes(first[-1].state))
    ids = [e.key["id"] for e in events_of(first + rest)]
    assert sorted(ids) == list(range(1, 501))
    assert len(ids) == 500  # resumed exactly after the last acknowledged row: no loss, no duplicate


def test_a_row_committed_late_with_an_earlier_timestamp_is_captured(sql_db: SqlDb) -> None:
    name = sql_db.table_name("late")
    table = create(sql_db, customers_table(name))

    def run(delay_ms: int) -> tuple[list[int], list[Any]]:
        sql_db.execute(table.delete())
        clock = {"now": T0 + timedelta(seconds=10)}
        cfg = make_config(sql_db, name, safety_delay_ms=delay_ms)
        stream = connector(cfg, db_now=lambda: clock["now"]).changes({})
        sql_db.execute(table.insert(), rows(1, start=1, ts=T0 - timedelta(seconds=1)))
        seen = [e.key["id"] for e in events_of(collect(stream))]
        sql_db.execute(table.insert(), rows(1, start=3, ts=T0 + timedelta(seconds=17)))  # ts = T0+20s
        clock["now"] = T0 + timedelta(seconds=21)
        batches = collect(stream)
        seen += [e.key["id"] for e in events_of(batches)]
        positions = [b.state["stream"][name]["id"] for b in batches]
        # a transaction that stamped its row at T0+19.5s commits only now
        sql_db.execute(table.insert(), rows(1, start=2, ts=T0 + timedelta(seconds=17.5)))
        clock["now"] = T0 + timedelta(seconds=30)
        seen += [e.key["id"] for e in events_of(collect(stream))]
        stream.close()
        return seen, positions

    # row 3 is emitted when first seen, but the position stays on row 1 until row 3 is older than the delay,
    # so row 2, committed late behind it, is read too, and row 3 is not emitted a second time
    assert run(2000) == ([1, 3, 2], [[1]])
    assert run(0) == ([1, 3], [[3]])  # without the delay the position passes row 3: the late row is lost


def test_a_row_changed_faster_than_the_safety_delay_is_emitted_at_each_change(sql_db: SqlDb) -> None:
    name = sql_db.table_name("hot")
    table = create(sql_db, customers_table(name))
    clock = {"now": T0}
    cfg = make_config(sql_db, name, safety_delay_ms=2000)
    stream = connector(cfg, db_now=lambda: clock["now"]).changes({})
    sql_db.execute(table.insert(), rows(1, start=1, ts=T0 - timedelta(seconds=2)))  # changed = T0 - 1 s
    names = []
    for i in range(4):  # changed every second, so it is never older than the 2 s delay while it stays hot
        names += [e.after["name"] for e in events_of(collect(stream)) if e.after]
        clock["now"] += timedelta(seconds=1)
        sql_db.execute(table.update().values(name=f"change {i}", changed=clock["now"] - timedelta(seconds=1)))
    names += [e.after["name"] for e in events_of(collect(stream)) if e.after]
    assert names == ["customer 1", "change 0", "change 1", "change 2", "change 3"]
    clock["now"] += timedelta(seconds=5)  # at rest: the position passes it, nothing is emitted again
    batches = collect(stream)
    stream.close()
    assert events_of(batches) == [] and batches[-1].state["stream"][name]["id"] == [1]


def test_more_rows_inside_the_delay_than_a_batch_come_once_each_when_safe(sql_db: SqlDb) -> None:
    name = sql_db.table_name("burst")
    table = create(sql_db, customers_table(name))
    clock = {"now": T0 + timedelta(seconds=26)}
    cfg = make_config(sql_db, name, safety_delay_ms=60_000, batch_size=10)  # every row is inside the delay
    stream = connector(cfg, db_now=lambda: clock["now"]).changes({})
    sql_db.execute(table.insert(), rows(25, start=1, ts=T0))
    first = [e.key["id"] for e in events_of(collect(stream))]
    assert first == list(range(1, 11))  # one page read ahead; the rest waits for the position to move
    clock["now"] += timedelta(minutes=5)  # all of them safe now: the position passes the first page
    rest = [e.key["id"] for e in events_of(collect(stream))]
    stream.close()
    assert first + rest == list(range(1, 26))  # each once, none lost


def test_a_restart_emits_again_what_was_read_ahead_of_the_saved_position(sql_db: SqlDb) -> None:
    name = sql_db.table_name("restart")
    table = create(sql_db, customers_table(name))
    cfg = make_config(sql_db, name, safety_delay_ms=2000)
    sql_db.execute(table.insert(), rows(2, start=1, ts=T0))  # changed = T0 + 1 s, T0 + 2 s
    clock = {"now": T0 + timedelta(seconds=3.5)}  # row 1 is safe, row 2 is not
    first = collect(connector(cfg, db_now=lambda: clock["now"]).changes({}))
    assert [e.key["id"] for e in events_of(first)] == [1, 2]
    assert first[-1].state["stream"][name]["id"] == [1]
    again = collect(connector(cfg, db_now=lambda: clock["now"]).changes(first[-1].state))
    assert [e.key["id"] for e in events_of(again)] == [2]  # a duplicate, as at-least-once allows; no loss


def test_soft_delete_column_gives_d_events(sql_db: SqlDb) -> None:
    name = sql_db.table_name("soft")
    table = create(sql_db, customers_table(name, with_deleted=True))
    sql_db.execute(table.insert(), rows(4))
    sql_db.execute(table.update().where(table.c.id == 4).values(deleted="Y"))
    cfg = make_config(sql_db, name, soft_delete={"column": "deleted", "deleted_values": ["Y"]})
    snap = list(connector(cfg).snapshot({}))
    assert [e.key["id"] for e in events_of(snap)] == [1, 2, 3]  # a deleted row is not read
    sql_db.execute(table.update().where(table.c.id == 2).values(deleted="Y", changed=RECENT))
    (event,) = events_of(collect(connector(cfg).changes(snap[-1].state)))
    assert (event.op, event.key, event.after) == (Op.DELETE, {"id": 2}, None)
    assert event.before is not None and event.before["deleted"] == "Y"


def test_reconciliation_emits_d_for_a_vanished_key_until_acknowledged(sql_db: SqlDb, tmp_path: Path) -> None:
    name = sql_db.table_name("recon")
    table = create(sql_db, customers_table(name))
    sql_db.execute(table.insert(), rows(5))
    cfg = make_config(sql_db, name, state_dir=tmp_path, reconcile_deletes_every_s=0)
    snap = list(connector(cfg).snapshot({}))
    quiet = connector(cfg)
    assert events_of(collect(quiet.changes(snap[-1].state))) == []  # every key still there
    quiet.close()
    sql_db.execute(table.delete().where(table.c.id == 4))
    first = connector(cfg)
    batches = collect(first.changes(snap[-1].state))
    first.close()
    (event,) = events_of(batches)
    assert (event.op, event.key, event.before, event.after) == (Op.DELETE, {"id": 4}, None, None)
    assert batches[-1].state["recon_gen"] == 1
    # the hub crashed before Kafka acknowledged the delete: from the older state it comes again
    again = connector(cfg)
    assert [e.key for e in events_of(collect(again.changes(snap[-1].state)))] == [{"id": 4}]
    again.close()
    done = connector(cfg)
    assert events_of(collect(done.changes(batches[-1].state))) == []  # acknowledged: never again
    done.close()


def test_incrementing_mode_emits_creates_only(sql_db: SqlDb) -> None:
    name = sql_db.table_name("inc")
    table = create(sql_db, customers_table(name))
    sql_db.execute(table.insert(), rows(3))
    cfg = make_config(sql_db, name, mode="incrementing", timestamp_column=None)
    state = list(connector(cfg).snapshot({}))[-1].state
    assert state["stream"][name]["id"] == [3]
    sql_db.execute(table.insert(), rows(2, start=4))
    events = events_of(collect(connector(cfg).changes(state)))
    assert [(e.key["id"], e.op) for e in events] == [(4, Op.CREATE), (5, Op.CREATE)]


@pytest.mark.parametrize("with_store", [True, False])
def test_timestamp_mode_tells_new_keys_only_with_a_key_store(sql_db: SqlDb, tmp_path: Path, with_store: bool
                                                             ) -> None:
    name = sql_db.table_name("ts")
    table = create(sql_db, customers_table(name))
    sql_db.execute(table.insert(), rows(3))
    cfg = make_config(sql_db, name, mode="timestamp", incrementing_column=None,
                      state_dir=tmp_path if with_store else None)
    state = list(connector(cfg).snapshot({}))[-1].state
    sql_db.execute(table.update().where(table.c.id == 1).values(changed=RECENT))
    sql_db.execute(table.insert(), rows(1, start=10, ts=RECENT))
    events = events_of(collect(connector(cfg).changes(state)))
    new_key_op = Op.CREATE if with_store else Op.UPDATE  # without the store: insert and update look alike
    assert [(e.key["id"], e.op) for e in events] == [(1, Op.UPDATE), (10, new_key_op)]


def test_quiet_source_yields_heartbeats_and_a_resumable_state(sql_db: SqlDb) -> None:
    name = sql_db.table_name("quiet")
    create(sql_db, customers_table(name))
    state = make_state(snapshot_done=True, stream={name: {"ts": None, "id": None, "max_id": None}})
    stream = connector(make_config(sql_db, name)).changes(state)
    beats = [next(stream) for _ in range(3)]
    stream.close()
    assert all(is_heartbeat(b) for b in beats)
    assert beats[-1].state == state


def test_composite_char_key_pages_and_resumes_in_snapshot_and_stream(sql_db: SqlDb) -> None:
    name = sql_db.table_name("comp")
    table = create(sql_db, sa.Table(name, sa.MetaData(), sa.Column("region", sa.CHAR(2), primary_key=True),
                                    sa.Column("num", sa.Integer, primary_key=True, autoincrement=False),
                                    sa.Column("changed", TIMESTAMP6, nullable=False)))
    keys = [(r, n) for r in ("E", "N", "SW") for n in range(20)]
    sql_db.execute(table.insert(), [{"region": r, "num": n, "changed": T0} for r, n in keys])
    cfg = make_config(sql_db, name, batch_size=7, mode="timestamp", incrementing_column=None, trim_char=True)
    snap = iter(connector(cfg).snapshot({}))
    first = [next(snap), next(snap)]
    rest = list(connector(cfg).snapshot(first[-1].state))
    assert [(e.key["region"], e.key["num"]) for e in events_of(first + rest)] == keys
    assert first[-1].state["snapshot"][name]["last_key"][1] == 13
    sql_db.execute(table.update().values(changed=RECENT))  # 60 rows now share one new timestamp
    stream = connector(cfg).changes(rest[-1].state)
    head = [next(stream) for _ in range(4)]
    stream.close()
    tail = collect(connector(cfg).changes(head[-1].state))
    streamed = [(e.key["region"], e.key["num"]) for e in events_of(head + tail)]
    assert streamed == keys and {e.op for e in events_of(head + tail)} == {Op.UPDATE}


def test_describe_sees_a_new_column_and_a_disabled_table_is_not_polled(sql_db: SqlDb) -> None:
    name = sql_db.table_name("evo")
    table = create(sql_db, customers_table(name))
    sql_db.execute(table.insert(), rows(2))
    conn = connector(make_config(sql_db, name))
    state = list(conn.snapshot({}))[-1].state
    with sql_db.engine.begin() as c:
        c.execute(sa.text(f"ALTER TABLE {name} ADD COLUMN vip INTEGER"))
    (meta,) = conn.describe()
    assert meta.columns[-1].name == "vip"
    sql_db.execute(table.insert(), rows(1, start=3, ts=RECENT))
    stream = conn.changes(state)
    (event,) = events_of(collect(stream))
    assert event.after is not None and "vip" in event.after and event.key == {"id": 3}
    conn.disable_table(name, "incompatible change")
    sql_db.execute(table.insert(), rows(1, start=4, ts=RECENT))
    assert events_of(collect(stream)) == []  # the table is skipped; its position stays for later
    stream.close()
    conn.close()


@contextmanager
def streaming(sql_db: SqlDb, prefix: str) -> Iterator[tuple[sa.Table, str, SqlConnector, Iterator[Batch]]]:
    """A table of two rows, snapshotted, and its change stream caught up (its first poll found nothing new)."""
    name = sql_db.table_name(prefix)
    table = create(sql_db, customers_table(name))
    sql_db.execute(table.insert(), rows(2))
    conn = connector(make_config(sql_db, name))
    stream = conn.changes(list(conn.snapshot({}))[-1].state)
    assert events_of(collect(stream)) == []
    try:
        yield table, name, conn, stream
    finally:
        stream.close()
        conn.close()


def test_a_poll_takes_one_connection_and_sees_a_column_added_since(sql_db: SqlDb) -> None:
    with streaming(sql_db, "probe") as (table, name, conn, stream):
        checkouts: list[object] = []
        sa.event.listen(conn._get_engine(), "checkout", lambda *_a: checkouts.append(1))
        sql_db.execute(table.insert(), rows(1, start=3, ts=RECENT))
        (event,) = events_of(collect(stream))
        assert event.key == {"id": 3}
        # the poll's query, its column check and the table's head on one connection (the database's clock, read
        # once a second, may take one more): the catalog is not asked while the columns stay as they were
        assert 1 <= len(checkouts) <= 2
        with sql_db.engine.begin() as c:
            c.execute(sa.text(f"ALTER TABLE {name} ADD COLUMN tier INTEGER"))
        with sql_db.engine.begin() as c:
            c.execute(table.insert().values(**rows(1, start=4, ts=RECENT)[0]))
        (event,) = events_of(collect(stream))  # not described again by hand: the poll saw the new column
        assert event.key == {"id": 4} and event.after is not None and "tier" in event.after


def test_a_column_dropped_between_polls_is_read_again_without_it(sql_db: SqlDb) -> None:
    with streaming(sql_db, "dropped") as (_table, name, _conn, stream):
        with sql_db.engine.begin() as c:
            c.execute(sa.text(f"ALTER TABLE {name} DROP COLUMN code"))
        with sql_db.engine.begin() as c:
            c.execute(sa.text(f"UPDATE {name} SET name = 'renamed', changed = :ts WHERE id = 2"), {"ts": RECENT})
        # the poll's query names the dropped column and fails; the column check on the same connection still runs
        # (a failed statement ends the transaction first) and the table is read again with its columns of now
        (event,) = events_of(collect(stream))
        assert event.key == {"id": 2} and event.after is not None
        assert event.after["name"] == "renamed" and "code" not in event.after


def test_a_dialect_that_cannot_run_the_column_check_asks_the_catalog(sql_db: SqlDb,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.sql.catalog import SourceTable

    def cannot(self: SourceTable, conn: sa.Connection) -> bool:
        raise sa.exc.CompileError("no row-less SELECT * in this dialect")
    monkeypatch.setattr(SourceTable, "same_columns", cannot)
    with streaming(sql_db, "nostar") as (table, name, _conn, stream):
        with sql_db.engine.begin() as c:
            c.execute(sa.text(f"ALTER TABLE {name} ADD COLUMN tier INTEGER"))
        sql_db.execute(table.insert(), rows(1, start=3, ts=RECENT))
        (event,) = events_of(collect(stream))
        assert event.key == {"id": 3} and event.after is not None and "tier" in event.after
