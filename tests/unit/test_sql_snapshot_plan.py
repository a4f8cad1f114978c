"""connectors.sql.snapshot's pure parts and queries: the split of an integer key range, the chunks' state
form, the chunk and split queries of every dialect, and the state keeping a chunked table's progress."""

from __future__ import annotations

import json
import random

import pytest

from connectors.sql.queries import key_range_query, key_step_query, keyset_query
from connectors.sql.snapshot import integer_ends, new_chunks
from connectors.sql.state import load_state, make_state
from tests.unit.test_sql_queries import DIALECTS, TABLE, compiled, dialect


def chunk_of(key: int, ends: list[int]) -> int:
    """The index of the chunk ``key`` falls in (chunk i holds the keys after ends[i-1] up to ends[i])."""
    return sum(1 for e in ends if key > e)


@pytest.mark.parametrize("seed", range(20))
def test_integer_ends_cut_the_range_into_increasing_chunks_of_near_equal_width(seed: int) -> None:
    rnd = random.Random(seed)
    lo = rnd.randint(-1000, 1000)
    hi = lo + rnd.randint(0, 5000)
    count = rnd.randint(1, hi - lo + 1)
    chunk_rows, workers = rnd.randint(1, 400), rnd.randint(1, 8)
    ends = integer_ends(lo, hi, count, chunk_rows, workers)
    n = len(ends) + 1
    assert ends == sorted(set(ends)) and all(lo <= e < hi for e in ends)
    assert n == min(hi - lo + 1, max(workers, -(-count // chunk_rows)))
    widths = [b - a for a, b in zip([lo - 1, *ends], [*ends, hi], strict=True)]
    assert max(widths) - min(widths) <= 1 and sum(widths) == hi - lo + 1


def test_integer_ends_for_small_and_single_key_ranges() -> None:
    assert integer_ends(5, 5, 1, 10, 4) == []  # one key: one chunk, whatever the workers
    assert integer_ends(1, 3, 3, 100, 8) == [1, 2]  # no more chunks than key values
    assert integer_ends(1, 1000, 1000, 100, 2) == [100, 200, 300, 400, 500, 600, 700, 800, 900]
    assert integer_ends(1, 100, 100, 1000, 4) == [25, 50, 75]  # at least one chunk per worker


def test_new_chunks_cover_every_key_once() -> None:
    chunks = new_chunks([10, 20])
    assert chunks == [
        {"after": None, "upto": [10], "last_key": None, "done": False},
        {"after": [10], "upto": [20], "last_key": None, "done": False},
        {"after": [20], "upto": None, "last_key": None, "done": False},
    ]
    assert [chunk_of(k, [10, 20]) for k in (-5, 10, 11, 20, 21, 10**9)] == [0, 0, 1, 1, 2, 2]
    assert new_chunks([]) == [{"after": None, "upto": None, "last_key": None, "done": False}]


def test_state_keeps_a_chunked_tables_progress() -> None:
    progress = {"last_key": None, "done": False, "rows": 12, "total": 40, "junk": 1,
                "chunks": [dict(c, last_key=[4] if i == 0 else None) for i, c in enumerate(new_chunks([7]))]}
    state = make_state(snapshot={"t": progress})
    assert json.loads(json.dumps(state)) == state and load_state(state) == state
    kept = state["snapshot"]["t"]
    assert kept["total"] == 40 and "junk" not in kept and kept["chunks"][0]["last_key"] == [4]
    assert "chunks" not in make_state(snapshot={"t": {"last_key": [3]}})["snapshot"]["t"]


@pytest.mark.parametrize("name", list(DIALECTS))
def test_chunk_and_split_queries_compile(name: str) -> None:
    d = dialect(name)
    page, params = compiled(keyset_query(TABLE, ["CUST#"], [5], 100, d.name, upto=[90]), d)
    assert params["key_0"] == 5 and params["upto_0"] == 90
    assert '> ' in page and '<= ' in page and "ORDER BY" in page
    step, step_params = compiled(key_step_query(TABLE, "CUST#", 5, 1000, d.name), d)
    assert step_params["key_0"] == 5 and ("999" in step or 999 in step_params.values())
    first, first_params = compiled(key_step_query(TABLE, "CUST#", None, 1000, d.name), d)
    assert "key_0" not in first_params and "WHERE" not in first.split("ORDER BY")[0].split("FROM")[-1]
    bounds, _ = compiled(key_range_query(TABLE, "CUST#"), d)
    assert "min(" in bounds.lower() and "max(" in bounds.lower() and "count(*)" in bounds.lower()
