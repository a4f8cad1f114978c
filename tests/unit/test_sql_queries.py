"""connectors.sql.queries: the queries compile for every dialect, and the predicates mean what they say."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, Dialect

from connectors.sql.queries import (
    after,
    bind_upper,
    decode_value,
    encode_value,
    head_query,
    incremental_params,
    incremental_query,
    key_from_text,
    key_text,
    keyset_query,
    last_at_query,
    now_query,
    table_ref,
)
from connectors.sql.state import load_state, make_state
from schemas.columns import Column, ColumnType

# dialect URL name -> (regex the LIMIT form must match once rendered, regex it must not match)
DIALECTS: dict[str, tuple[str, str | None]] = {
    "sqlite": (r"\bLIMIT \? OFFSET \?$", None),
    "postgresql+psycopg2": (r"\bLIMIT %\(param_1\)s$", None),
    "mysql+pymysql": (r"\bLIMIT %s$", None),
    "mariadb+pymysql": (r"\bLIMIT %s$", None),
    "mssql+pyodbc": (r"^SELECT TOP 100 ", r"\bLIMIT\b"),
    "oracle+oracledb": (r"\bFETCH FIRST 100 ROWS ONLY$", r"\bLIMIT\b"),
    "db2+ibm_db": (r"\bFETCH FIRST 100 ROWS ONLY$", r"\bLIMIT\b"),
    "db2as400": (r"\bFETCH FIRST 100 ROWS ONLY$", r"\bLIMIT\b"),
    "db2+pyodbc400": (r"\bFETCH FIRST 100 ROWS ONLY$", r"\bLIMIT\b"),
}

def dialect(name: str) -> Dialect:
    if name.startswith("db2"):
        pytest.importorskip("ibm_db_sa", reason="ibm-db-sa (the Db2 / Db2 for i dialect) is not installed")
    return URL.create(name).get_dialect()()


def compiled(stmt: Any, d: Dialect) -> tuple[str, dict[str, Any]]:
    comp = stmt.compile(dialect=d, compile_kwargs={"render_postcompile": True})
    return " ".join(str(comp).split()), dict(comp.params)


TABLE = table_ref("CRMLIB", "CUSTMAST", ["CUST#", "CHANGED", "NAME", "REGION"])
TS = datetime(2024, 5, 1, 12, 0)


@pytest.mark.parametrize("name", list(DIALECTS))
def test_incremental_query_compiles_with_the_dialects_limit_and_binds(name: str) -> None:
    d = dialect(name)
    stmt = incremental_query(TABLE, ts_column="CHANGED", id_columns=["CUST#"], after_ts=TS,
                             after_ids=[Decimal("1042")], upper_ts=datetime(2024, 5, 2), limit=100,
                             dialect=d.name)
    sql, params = compiled(stmt, d)
    must, must_not = DIALECTS[name]
    assert re.search(must, sql), sql
    assert must_not is None or not re.search(must_not, sql), sql
    assert (params["ts"], params["id_0"], params["upper"]) == (TS, Decimal("1042"), datetime(2024, 5, 2))
    order = sql[sql.index("ORDER BY"):]
    assert order.index("CHANGED") < order.index("CUST#")
    where = sql[sql.index("WHERE"):sql.index("ORDER BY")]
    # ts >= (the index range's start), ts > , ts = , ts < upper ; id >
    assert where.count("CHANGED") == 4 and where.count("CUST#") == 1
    assert re.search(r'CHANGED["`\]]? >= ', where), where


@pytest.mark.parametrize("name", list(DIALECTS))
def test_keyset_head_last_and_now_queries_compile(name: str) -> None:
    d = dialect(name)
    sql, params = compiled(keyset_query(TABLE, ["REGION", "CUST#"], ["N", 7], 100, d.name), d)
    assert re.search(DIALECTS[name][0], sql), sql
    assert (params["key_0"], params["key_1"]) == ("N", 7)
    keys_sql, _ = compiled(keyset_query(TABLE, ["CUST#"], None, 100, d.name, keys_only=True), d)
    assert "NAME" not in keys_sql and "WHERE" not in keys_sql
    head, _ = compiled(head_query(TABLE, "CHANGED", "CUST#", d.name), d)
    # each column's newest value through its own one-row subquery, in the dialect's row limit
    one_row = "TOP 1 " if "mssql" in name else "FETCH FIRST 1 ROWS" if d.name in ("oracle", "ibm_db_sa") else "LIMIT "
    assert "max(" not in head.lower() and head.count("DESC") == 2 and head.count(one_row) == 2, head
    if d.name == "oracle":
        assert head.endswith("FROM DUAL")
    last, last_params = compiled(last_at_query(TABLE, "CHANGED", ["CUST#"], TS, d.name), d)
    assert "DESC" in last and last_params["ts"] == TS
    now, _ = compiled(now_query(d.name), d)
    if d.name == "sqlite":
        assert "strftime" in now and "%f" in str(now_query(d.name).compile(dialect=d).params)
    elif d.name in ("mysql", "mariadb"):
        assert "CURRENT_TIMESTAMP(6)" in now
    else:
        assert "CURRENT_TIMESTAMP" in now
    if d.name == "oracle":
        assert now.endswith("FROM DUAL")
    if d.name == "ibm_db_sa":
        assert now.endswith("FROM SYSIBM.SYSDUMMY1")


def test_sqlite_now_has_sub_second_precision() -> None:
    engine = sa.create_engine("sqlite://")
    with engine.connect() as conn:
        now = conn.execute(now_query("sqlite")).scalar_one()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", now), now
    assert datetime.fromisoformat(now)  # what the connector parses


def test_mode_shapes() -> None:
    d = dialect("postgresql+psycopg2")
    inc, p = compiled(incremental_query(TABLE, ts_column=None, id_columns=["CUST#"], after_ids=[5], limit=9,
                                        dialect=d.name), d)
    assert "CHANGED" not in inc.split("FROM")[1] and p["id_0"] == 5
    start, p = compiled(incremental_query(TABLE, ts_column="CHANGED", id_columns=["CUST#"], after_ts=TS,
                                          upper_ts=TS, limit=9, dialect=d.name), d)
    assert '"CHANGED" >= %(ts)s' in start and "CUST#\" >" not in start  # a start position is inclusive
    first, p = compiled(incremental_query(TABLE, ts_column="CHANGED", id_columns=["CUST#"], limit=9,
                                          dialect=d.name), d)
    assert '"CHANGED" IS NOT NULL' in first and "ts" not in p
    with pytest.raises(ValueError):
        after([TABLE.c.NAME], [], "k")


# --- the predicates, executed: the result must be exactly the rows after the position ----------------------


@pytest.fixture()
def rows_db() -> Any:
    engine = sa.create_engine("sqlite://")
    meta = sa.MetaData()
    table = sa.Table("t", meta, sa.Column("ts", sa.Integer), sa.Column("a", sa.Integer),
                     sa.Column("b", sa.String(2)))
    meta.create_all(engine)
    rng = random.Random(7)
    data = {(rng.randint(0, 4), rng.randint(0, 5), rng.choice("xyz")) for _ in range(120)}
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"ts": t, "a": a, "b": b} for t, a, b in data])
    yield engine, sorted(data)
    engine.dispose()


def test_incremental_predicate_is_exactly_the_rows_after_the_position(rows_db: Any) -> None:
    engine, data = rows_db
    ref = table_ref(None, "t", ["ts", "a", "b"])
    with engine.connect() as conn:
        for pos in [data[0], data[17], data[len(data) // 2], data[-1], (2, 3, "y"), (9, 0, "a")]:
            stmt = incremental_query(ref, ts_column="ts", id_columns=["a", "b"], after_ts=pos[0],
                                     after_ids=list(pos[1:]), upper_ts=4, limit=1000, dialect="sqlite")
            got = [tuple(r) for r in conn.execute(stmt)]
            assert got == [r for r in data if pos < r and r[0] < 4], pos


POSITIONS: list[dict[str, Any]] = [
    {"ts_column": None, "id_columns": ["a"], "after_ids": [3]},
    {"ts_column": None, "id_columns": ["a"]},
    {"ts_column": "ts", "id_columns": ["a", "b"]},
    {"ts_column": "ts", "id_columns": ["a", "b"], "after_ts": 2},
    {"ts_column": "ts", "id_columns": ["a", "b"], "after_ts": 2, "after_ids": [3, "y"], "upper_ts": 4},
    {"ts_column": "ts", "id_columns": ["a", "b"], "after_ts": 1, "after_ids": [0, "x"], "safe_below": 3},
    {"ts_column": "ts", "id_columns": [], "after_ts": 1, "after_ids": [], "upper_ts": 3},
]


@pytest.mark.parametrize("where", POSITIONS)
def test_incremental_params_are_the_values_the_query_binds(where: dict[str, Any]) -> None:
    ref = table_ref(None, "t", ["ts", "a", "b"])
    stmt = incremental_query(ref, limit=50, dialect="sqlite", **where)
    bound = {k: v for k, v in stmt.compile().params.items() if not k.startswith("param_")}  # LIMIT / OFFSET
    assert incremental_params(**where) == bound


def test_a_statement_built_once_runs_with_the_values_of_later_positions(rows_db: Any) -> None:
    """The connector builds a poll's statement once per set of bind names and runs it with each poll's values:
    the rows must be those a statement built for that position returns."""
    engine, data = rows_db
    ref = table_ref(None, "t", ["ts", "a", "b"])
    built: dict[Any, Any] = {}
    with engine.connect() as conn:
        for pos in [data[0], data[17], data[len(data) // 2], data[-1], (2, 3, "y"), (9, 0, "a")]:
            for safe in (None, 3):
                where = {"ts_column": "ts", "id_columns": ["a", "b"], "after_ts": pos[0],
                         "after_ids": list(pos[1:]), "safe_below": safe}
                params = incremental_params(**where)
                stmt = built.setdefault(frozenset(params), incremental_query(ref, limit=1000, dialect="sqlite",
                                                                             **where))
                fresh = incremental_query(ref, limit=1000, dialect="sqlite", **where)
                got = [tuple(r) for r in conn.execute(stmt, params)]
                assert got == [tuple(r) for r in conn.execute(fresh)], (pos, safe)
                assert [r[:3] for r in got] == [r for r in data if pos < r], (pos, safe)
    assert len(built) == 2  # one statement per shape, whatever the position


def test_paging_with_a_small_limit_reads_every_row_once(rows_db: Any) -> None:
    engine, data = rows_db
    ref = table_ref(None, "t", ["ts", "a", "b"])
    seen: list[tuple[Any, ...]] = []
    position: tuple[Any, ...] | None = None
    with engine.connect() as conn:
        while True:
            stmt = keyset_query(ref, ["ts", "a", "b"], position, 7, "sqlite")
            page = [tuple(r) for r in conn.execute(stmt)]
            if not page:
                break
            seen += page
            position = page[-1]
    assert seen == data


# --- values and state --------------------------------------------------------------------------------------


def test_positions_round_trip_through_json() -> None:
    cases = [
        (Decimal("1042"), Column("id", ColumnType.DECIMAL, precision=7, scale=0)),
        (123, Column("id", ColumnType.INT64)),
        (datetime(2024, 5, 1, 12, 0, 0, 5), Column("ts", ColumnType.TIMESTAMP)),
        (datetime(2024, 5, 1, 12, tzinfo=UTC), Column("ts", ColumnType.TIMESTAMP_TZ)),
        (date(2024, 5, 1), Column("d", ColumnType.DATE)),
        (b"\x00\x01", Column("b", ColumnType.BYTES)),
        ("ABC   ", Column("c", ColumnType.CHAR, length=6)),
    ]
    for raw, col in cases:
        encoded = json.loads(json.dumps(encode_value(raw)))
        assert decode_value(encoded, col, "postgresql") == raw
    # SQLite: the stored text goes back byte for byte
    assert decode_value(encode_value("2024-05-01 12:00:00"), cases[2][1], "sqlite") == "2024-05-01 12:00:00"


def test_upper_bound_in_the_columns_form() -> None:
    ts, tz = Column("ts", ColumnType.TIMESTAMP), Column("tz", ColumnType.TIMESTAMP_TZ)
    d = Column("d", ColumnType.DATE)
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert bind_upper(now, ts, "postgresql") == datetime(2024, 5, 1, 12)
    assert bind_upper(now.replace(tzinfo=None), tz, "postgresql") == now
    assert bind_upper(now, ts, "sqlite") == "2024-05-01 12:00:00.000000"
    assert bind_upper(now, d, "mysql") == date(2024, 5, 1) and bind_upper(now, d, "sqlite") == "2024-05-01"


def test_key_text_is_canonical_and_reversible() -> None:
    cols = [Column("CUST#", ColumnType.DECIMAL, precision=7, scale=0), Column("R", ColumnType.CHAR, length=2)]
    text = key_text({"R": "N ", "CUST#": Decimal("42"), "X": 1}, ["CUST#", "R"])
    assert text == '["42","N "]'
    assert key_from_text(text, cols) == {"CUST#": Decimal("42"), "R": "N "}


def test_state_shape() -> None:
    state = make_state(snapshot={"t": {"last_key": [10], "done": False, "junk": 1}},
                       stream={"t": {"ts": "2024-05-01T12:00:00", "id": [3], "max_id": 3}}, recon_gen=2)
    assert json.loads(json.dumps(state)) == state
    assert state == {"version": 1, "snapshot_done": False,
                     "snapshot": {"t": {"last_key": [10], "done": False, "rows": 0}},
                     "stream": {"t": {"ts": "2024-05-01T12:00:00", "id": [3], "max_id": 3}}, "recon_gen": 2}
    assert load_state(state) == state
    assert load_state(None) == make_state() == {"version": 1, "snapshot_done": False, "snapshot": {},
                                                 "stream": {}, "recon_gen": 0}
