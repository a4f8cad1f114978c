"""Write pseudopeople's noised sample data sets as CSV files (runs in the pseudopeople virtualenv, not crmhub's).

pseudopeople (IHME, https://pseudopeople.readthedocs.io) simulates the population of a fictional US town and
writes it as the records of several agencies, with the noise its documentation describes (typos, OCR and
phonetic errors, nicknames and fake names, blanks, swapped month and day, wrong digits, values copied from a
household member, wrong ZIP digits, ...), each row tagged with the ``simulant_id`` of the person it is about.
:mod:`bench.bench_pseudopeople` calls this script with the interpreter of the virtualenv it made for it, since
pseudopeople pins its own pandas and vivarium.

Usage: ``<venv>/bin/python bench/pseudopeople_make.py OUT_DIR SEED``: one ``<data set>.csv`` per data set
(every value as text, empty for a missing one) with the generator's default noise, seed ``SEED``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pseudopeople

DATASETS = {
    "decennial_census": pseudopeople.generate_decennial_census,
    "social_security": pseudopeople.generate_social_security,
    "taxes_w2_and_1099": pseudopeople.generate_taxes_w2_and_1099,
    "taxes_1040": pseudopeople.generate_taxes_1040,
}


def main() -> None:
    out, seed = Path(sys.argv[1]), int(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for name, generate in DATASETS.items():
        frame = generate(seed=seed, verbose=False).astype("string").fillna("")
        frame.to_csv(out / f"{name}.partial", index=False)
        (out / f"{name}.partial").rename(out / f"{name}.csv")
        print(f"{name}: {len(frame)} rows")


if __name__ == "__main__":
    main()
