"""Write one of DupeHell's generated data sets as a CSV file (runs in the DupeHell virtualenv, not crmhub's).

DupeHell (https://github.com/vntoinekaio/DupeHell, MIT) generates record-linkage benchmark data for many
domains: master entities, fuzzy and exact duplicates of them with typos, OCR errors, homoglyphs, phonetic
variants, swapped or reformatted dates, blanks, and hard negatives (different entities made to look alike),
each record tagged with the ``master_id`` of its entity. :mod:`bench.bench_dupehell` calls this script with the
interpreter of the virtualenv it made for it.

Usage: ``<venv>/bin/python bench/dupehell_make.py OUT.csv DOMAIN ENTITY SIZE SEED DIFFICULTY``: the records of
``ENTITY`` only (every value as text, empty for a missing one), with the match type of each from the ground truth.
"""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

import dupehell
import pyarrow.parquet as pq


def main() -> None:
    out, domain, entity, size, seed, difficulty = sys.argv[1:7]
    with tempfile.TemporaryDirectory() as tmp:
        result = dupehell.generate(domain, int(size), seed=int(seed), difficulty=difficulty, output_dir=tmp,
                                   only_entity=entity)
        rows = pq.read_table(result.dataset).to_pylist()
        kinds = {r["record_id"]: r["match_type"] for r in pq.read_table(result.ground_truth).to_pylist()}
    columns = [c for c in rows[0] if any(r[c] is not None for r in rows)] + ["match_type"]
    part = Path(out).with_suffix(".partial")
    with part.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for r in rows:
            r["match_type"] = kinds.get(r["record_id"], "")
            writer.writerow(["" if r.get(c) is None else str(r[c]) for c in columns])
    part.rename(out)
    print(f"{domain}/{entity}: {len(rows)} rows")


if __name__ == "__main__":
    main()
