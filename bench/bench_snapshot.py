"""Initial snapshot of one PostgreSQL table by the SQL connector: rows/s with 1 worker and with N workers.

A table of ``--rows`` customer rows (bigint key without gaps, text, CHAR(10), NUMERIC(11,2), DATE, TIMESTAMP)
is filled server-side with ``generate_series`` on the test server of ``scripts/services.sh`` (or
``--url``). Measured: ``SqlConnector.snapshot({})`` consumed to the end (rows read, normalised, turned into
``op`` = ``r`` events, states built) with ``snapshot.workers`` = 1 and = ``--workers``; no Kafka. Raw baseline
in the same run: psycopg2 reading the whole table through a server-side cursor in key order, rows as tuples.
The read side alone is measured too: the snapshot's chunk workers (``ChunkReader``) fetching the keyset pages
as the connector does, without turning rows into events.
Each run is repeated ``--repeat`` times, the best taken. Ratios: N workers / 1 worker, and each / raw.

``--link-rows-per-s R`` models a source whose link or server delivers R rows/s per connection (a remote
IBM i over ODBC, a busy server): after each statement the client waits rows returned / R seconds (the raw
baseline after each fetch of rows alike), a wait that holds no lock, as network I/O does not. Without it the
server is local and answers at once, which leaves the hub's own per-row work as the only cost.

Usage: ``.venv/bin/python bench/bench_snapshot.py [--rows 1000000] [--workers 4] [--chunk-rows 100000]
[--link-rows-per-s 10000]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.sql import SqlConnector, SqlConnectorConfig
from connectors.sql.queries import keyset_query, table_ref
from connectors.sql.snapshot import ChunkReader, integer_ends, new_chunks

ROOT = Path(__file__).resolve().parent.parent


def test_server_url() -> str:
    """The test PostgreSQL of ``scripts/services.sh`` (started if needed)."""
    url = os.environ.get("CRMHUB_TEST_PG_URL")
    if url:
        return url
    subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), "start"], check=True, capture_output=True)
    env = subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), "env"], check=True, capture_output=True,
                         text=True).stdout
    return next(line.split("=", 1)[1] for line in env.splitlines() if line.startswith("CRMHUB_TEST_PG_URL="))


def fill(engine: sa.Engine, table: str, rows: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {table} (id bigint PRIMARY KEY, name text NOT NULL, code char(10), "
                             "credit numeric(11,2), born date, changed timestamp NOT NULL)"))
        conn.execute(sa.text(f"INSERT INTO {table} SELECT i, 'customer ' || i, 'AB', 1000 + i % 100000 + 0.25, "
                             "DATE '1980-01-01' + (i % 10000), TIMESTAMP '2024-05-01 12:00' + i * INTERVAL '1 ms' "
                             "FROM generate_series(1, :n) AS i"), {"n": rows})
        conn.execute(sa.text(f"ANALYZE {table}"))


def model_link(rows_per_s: float) -> None:
    """Every engine's statements wait rows returned / ``rows_per_s`` after they ran (see the docstring)."""
    def wait(conn: Any, cursor: Any, *_: Any) -> None:
        time.sleep(max(0, cursor.rowcount) / rows_per_s)

    sa.event.listen(sa.Engine, "after_cursor_execute", wait)


def raw_read(url: str, table: str, rows_per_s: float | None) -> tuple[int, float]:
    engine = sa.create_engine(url)
    started = time.perf_counter()
    count = 0
    with engine.connect() as conn:
        dbapi: Any = conn.connection.dbapi_connection
        cur = dbapi.cursor(name="bench_raw")  # psycopg2's server-side cursor: rows stream in
        cur.execute(f"SELECT * FROM {table} ORDER BY id")
        while rows := cur.fetchmany(10_000):
            count += len(rows)
            if rows_per_s:
                time.sleep(len(rows) / rows_per_s)
        cur.close()
    seconds = time.perf_counter() - started
    engine.dispose()
    return count, seconds


def pages_read(url: str, table: str, rows: int, workers: int, chunk_rows: int, batch_size: int) -> tuple[int, float]:
    """The read side alone: the snapshot's chunk workers fetching keyset pages (rows as dicts), no events."""
    engine = sa.create_engine(url, pool_size=workers + 1)
    ref = table_ref(None, table, ["id", "name", "code", "credit", "born", "changed"])
    plan = new_chunks(integer_ends(1, rows, rows, chunk_rows, workers))
    chunks = [(i, c["after"], c["upto"]) for i, c in enumerate(plan)]
    started = time.perf_counter()
    reader = ChunkReader(engine, lambda after, upto: keyset_query(ref, ["id"], after, batch_size + 1, "postgresql",
                                                                   upto=upto), ["id"], chunks, workers, batch_size)
    count = sum(len(page) for _, page, _ in reader)
    seconds = time.perf_counter() - started
    reader.close()
    engine.dispose()
    return count, seconds


def connector_read(url: str, table: str, workers: int, chunk_rows: int, batch_size: int) -> tuple[int, float]:
    parsed = sa.make_url(url)
    cfg = SqlConnectorConfig.model_validate({
        "kind": "sql", "name": "bench", "url": parsed.set(password=None).render_as_string(hide_password=False),
        "password": parsed.password, "batch_size": batch_size,
        "snapshot": {"workers": workers, "chunk_rows": chunk_rows},
        "tables": [{"name": table, "mode": "timestamp+incrementing", "timestamp_column": "changed",
                    "incrementing_column": "id"}]})
    conn = SqlConnector(cfg)
    conn.describe()
    started = time.perf_counter()
    count = sum(len(b.events) for b in conn.snapshot({}))
    seconds = time.perf_counter() - started
    conn.close()
    return count, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--link-rows-per-s", type=float, default=None)
    parser.add_argument("--url", default=None, help="a PostgreSQL URL (default: the scripts/services.sh server)")
    args = parser.parse_args()
    url = args.url or test_server_url()
    engine = sa.create_engine(url)
    table = f"bench_snap_{uuid.uuid4().hex[:8]}"
    try:
        fill(engine, table, args.rows)
        if args.link_rows_per_s:
            model_link(args.link_rows_per_s)
        results: dict[str, float] = {}
        for _ in range(args.repeat):
            runs = {"raw": raw_read(url, table, args.link_rows_per_s),
                    "1 worker": connector_read(url, table, 1, args.chunk_rows, args.batch_size),
                    f"{args.workers} workers": connector_read(url, table, args.workers, args.chunk_rows,
                                                              args.batch_size),
                    "pages, 1 worker": pages_read(url, table, args.rows, 1, args.chunk_rows, args.batch_size),
                    f"pages, {args.workers} workers": pages_read(url, table, args.rows, args.workers,
                                                                 args.chunk_rows, args.batch_size)}
            for name, (count, seconds) in runs.items():
                assert count == args.rows, (name, count)
                results[name] = max(results.get(name, 0.0), count / seconds)
        print(f"PostgreSQL table of {args.rows:,} rows, batch_size {args.batch_size}, chunk_rows {args.chunk_rows:,},"
              f" {os.cpu_count()} CPUs shared by the server and the reader; best of {args.repeat}")
        if args.link_rows_per_s:
            print(f"modelled link: {args.link_rows_per_s:,.0f} rows/s per connection")
        for name, rate in results.items():
            print(f"{name:>18}: {rate:12,.0f} rows/s")
        one, many, raw = results["1 worker"], results[f"{args.workers} workers"], results["raw"]
        print(f"ratio {args.workers} workers / 1 worker: {many / one:6.2f}")
        print(f"ratio 1 worker / raw psycopg2:  {one / raw:6.3f}")
        print(f"ratio {args.workers} workers / raw psycopg2: {many / raw:6.3f}")
        pages_one, pages_many = results["pages, 1 worker"], results[f"pages, {args.workers} workers"]
        print(f"read side alone, ratio {args.workers} workers / 1 worker: {pages_many / pages_one:6.2f}")
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()


if __name__ == "__main__":
    main()
