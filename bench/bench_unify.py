"""Unify benchmark: matching quality through the real engine and store, and incremental speed at scale.

1. Quality: generated customers from two sources with known truth (typos, transpositions, missing values,
   swapped names, moved addresses, shared family addresses; see bench/identity_data.py) are applied through
   :class:`pipelines.unify.engine.Unifier` into an SQLite store, in batches as the hub does; the store's
   golden ids are compared with the truth as pairwise precision, recall and F1.
2. Incremental: a store already holding ``--preload`` golden records (100,000 by default, bulk-loaded through
   the same store functions, one record each) receives ``--incremental`` new records (about half of them
   copies of preloaded customers from the other source); records/s, against a raw ``sqlite3`` insert of the
   same records as JSON in the same run (the floor any store-backed step pays).

Usage: ``.venv/bin/python bench/bench_unify.py [--entities 6000] [--preload 100000] [--incremental 3000]``
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.identity_data import generate
from hub.runtime.gctune import tune_gc
from pipelines.identity import features, pairwise_prf
from pipelines.store import records as rec
from pipelines.store import views
from pipelines.store.engine import Store
from pipelines.store.tables import source_record
from pipelines.unify.engine import Unifier
from pipelines.unify.resolver import record_block_keys
from schemas.canonical import UPSERT, CanonicalEvent, coerce, make_version, to_json


def events_for(rows: list[tuple[str, str, dict[str, object], str]], start_ts: int) -> list[CanonicalEvent]:
    out = []
    for i, (source, key, data, _eid) in enumerate(rows):
        record, problems = coerce("customer", data)
        assert not problems, problems
        out.append(CanonicalEvent("customer", source, "CUSTOMER", key, UPSERT, make_version(start_ts + i, 0, i),
                                  start_ts + i, start_ts + i, f"bench/0/{i}", record))
    return out


def assignments(store: Store) -> dict[str, str]:
    with store.tx() as conn:
        rows = conn.execute(source_record.select()).mappings().all()
    return {f"{r['source']}/{r['source_key']}": str(r["golden_id"]) for r in rows if not r["deleted"]}


def quality(entities: int, seed: int, batch: int, folder: Path) -> None:
    rows = generate(entities, seed)
    truth = {f"{s}/{k}": eid for s, k, _d, eid in rows}
    store = Store(f"sqlite:///{folder / 'quality.db'}")
    unifier = Unifier(store)
    events = events_for(rows, 1_700_000_000_000)
    started = time.perf_counter()
    for i in range(0, len(events), batch):
        unifier.apply(events[i:i + batch])
    elapsed = time.perf_counter() - started
    prf = pairwise_prf(assignments(store), truth)
    with store.tx() as conn:
        golden, reviews = views.count_golden(conn), len(rec.list_reviews(conn, limit=1_000_000))
    print(f"quality: {len(rows)} records ({entities} customers, 2 sources) through the unify engine, "
          f"batches of {batch}")
    print(f"  pairwise precision {prf.precision:.4f}  recall {prf.recall:.4f}  F1 {prf.f1:.4f}  "
          f"(tp {prf.true_pos}, fp {prf.false_pos}, fn {prf.false_neg})")
    print(f"  golden records {golden} (true customers {len(set(truth.values()))}), open reviews {reviews}")
    print(f"  {len(rows) / elapsed:,.0f} records/s into an empty store ({elapsed:.1f} s)")
    store.dispose()


def preload(store: Store, rows: list[tuple[str, str, dict[str, object], str]]) -> None:
    """One golden record per row, written through the store functions in large transactions."""
    for i in range(0, len(rows), 5000):
        with store.tx() as conn:
            for source, key, data, _eid in rows[i:i + 5000]:
                record, _ = coerce("customer", data)
                feats = dict(features(record, source, key))
                rid = rec.save_record(conn, None, source=source, key=key, table="CUSTOMER", data=to_json(record),
                                      features=feats, version=make_version(1, 0, 0), source_ts_ms=1,
                                      deleted=False)
                rec.replace_block_keys(conn, rid, record_block_keys(feats, f"{source}/{key}"))
                gid, seq = views.new_golden_id(conn)
                rec.set_golden(conn, [rid], gid)
                views.save_golden(conn, views.GoldenRow(gid, seq, "active", None, to_json(record), {},
                                                        [{"source": source, "source_key": key, "table": "CUSTOMER"}],
                                                        1, 1, 1), is_new=True)


def settle_wal(store: Store) -> None:
    """Copy the preload's WAL (hundreds of MB) into the database file before measuring: a store that has
    run a while holds its records in the file, not in a WAL its checkpointer is still working through."""
    conn = sqlite3.connect(str(store.engine.url.database), timeout=60)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def incremental(n_preload: int, n_new: int, seed: int, batch: int, folder: Path, profile: bool = False) -> None:
    rows = generate(n_preload, seed)  # about 1.6 records per customer: take one source's records
    rng = random.Random(seed)
    first = [r for r in rows if r[0] == "ibmi"]
    second = [r for r in rows if r[0] == "oracle"]
    base = first[:n_preload] if len(first) >= n_preload else first + second[:n_preload - len(first)]
    base_refs = {(s, k) for s, k, _d, _e in base}
    new_rows = [r for r in rows if (r[0], r[1]) not in base_refs]
    rng.shuffle(new_rows)
    new_rows = new_rows[:n_new]
    store = Store(f"sqlite:///{folder / 'incremental.db'}")
    started = time.perf_counter()
    preload(store, base)
    print(f"incremental: preloaded {len(base):,} golden records in {time.perf_counter() - started:.1f} s")
    settle_wal(store)
    unifier = Unifier(store)
    events = events_for(new_rows, 1_800_000_000_000)
    n_base = len(base)
    # the generated 100k customers are the bench's, not the hub's: a hub process does not hold them, and
    # Python's cyclic GC would scan them at every collection of the timed part
    del rows, first, second, base, base_refs, new_rows
    tune_gc()  # what `crmhub run` does after start-up
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    for i in range(0, len(events), batch):
        unifier.apply(events[i:i + batch])
    elapsed = time.perf_counter() - started
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
    raw = sqlite3.connect(folder / "raw.db")
    raw.execute("CREATE TABLE r (source TEXT, key TEXT, data TEXT, PRIMARY KEY (source, key))")
    raw_started = time.perf_counter()
    for i in range(0, len(events), batch):
        with raw:
            raw.executemany("INSERT INTO r VALUES (?, ?, ?)", [(e.source, e.source_key, json.dumps(to_json(e.data)))
                                                                for e in events[i:i + batch]])
    raw_elapsed = time.perf_counter() - raw_started
    rate, raw_rate = len(events) / elapsed, len(events) / raw_elapsed
    print(f"  {len(events):,} new records resolved against {n_base:,} golden records: {rate:,.0f} records/s "
          f"({elapsed:.1f} s)")
    print(f"  raw sqlite3 insert of the same records as JSON: {raw_rate:,.0f} records/s; ratio {rate / raw_rate:.3f}")
    store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=6000, help="customers for the quality run")
    parser.add_argument("--preload", type=int, default=100_000, help="golden records already in the store")
    parser.add_argument("--incremental", type=int, default=3000, help="new records applied to that store")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip", choices=["quality", "incremental"], action="append", default=[])
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the incremental part")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if "quality" not in args.skip:
            quality(args.entities, args.seed, args.batch, Path(tmp))
        if "incremental" not in args.skip:
            incremental(args.preload, args.incremental, args.seed + 1, args.batch, Path(tmp), args.profile)


if __name__ == "__main__":
    main()
