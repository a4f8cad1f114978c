"""Identity resolution on pseudopeople's simulated population, records crmhub did not make.

pseudopeople (IHME) simulates the people of a fictional US town and writes them as the records of several
agencies with realistic noise: typos, OCR and phonetic errors, nicknames, fake names, blank fields, month and
day swapped, wrong digits in dates, ids and house numbers, values copied from a household member. Every row
carries the ``simulant_id`` of its person: the truth. The bench makes a virtualenv for it once
(``<cache>/pseudopeople-1.3.1``, the cache folder of ``docs/operations.md``; pseudopeople pins its own
pandas and vivarium), writes its sample data sets with the generator's default noise as CSV
(:mod:`bench.pseudopeople_make`, seed ``--seed``), and runs crmhub as an integrator would: each data set in
SQLite, one text column per field, a customer mapping per data set, ``crmhub load``, ``crmhub export golden``
and, with ``--train``, ``crmhub unify train`` + ``relink``. Tasks:

- ``census-ssa``: the 2020 census (names, middle initial, birth date, address) against the Social Security
  records of when a number was issued (names, middle name, birth date, SSN): linkage on names and birth date;
- ``census-1040``: the census against the 1040 tax returns' filers (names, SSN, mailing address, which may be
  a PO box): linkage on names and address, no birth date;
- ``w2``: the W-2 and 1099 forms, one per job, so a person with several jobs has several records (names,
  SSN, mailing address): deduplication.

The sample town is one city with ZIP code ``00000`` everywhere, so postal codes tell nothing. Pairs are
scored with :func:`pipelines.identity.metrics.pairwise_prf` over all records of the task (a person's
duplicates within one data set count as pairs too); ``--show`` prints examples of missed and wrong pairs.

Usage: ``.venv/bin/python bench/bench_pseudopeople.py --task census-ssa census-1040 w2 --train``
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sqlite3
import subprocess
import sys
from collections import defaultdict
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_febrl import load_and_train, task_folders
from bench.bench_identity import cli_config
from schemas.cache import cache_root

PACKAGE = "pseudopeople==1.3.1"
HOME = cache_root() / "pseudopeople-1.3.1"

def text_field(column: str, *steps: str) -> str:
    """A mapping's field from a text column: ``steps``, then an empty text made null."""
    chain = ", ".join((*steps, '{null_if: [""]}'))
    return f"{{from: {column}, transforms: [{chain}]}}"


_NAMES = f"""\
      given_name: {text_field("first_name", "collapse_spaces", "title")}
      family_name: {text_field("last_name", "collapse_spaces", "title")}"""
_SSN = f"""\
      national_id: {text_field("ssn", '{regex_replace: {pattern: "[^0-9]"}}')}"""


def _address(prefix: str) -> str:
    return f"""\
      addresses:
        - type: home
          line1:
            expr: "concat({prefix}street_number, ' ', {prefix}street_name)"
            transforms: [collapse_spaces, title, {{null_if: [""]}}]
          line2: {text_field(prefix + "unit_number", "collapse_spaces", "title")}
          city: {text_field(prefix + "city", "collapse_spaces", "title")}
          region: {text_field(prefix + "state", "trim", "upper")}
          postal_code: {text_field(prefix + "zipcode", "trim")}
          country: US"""


_INITIAL = f"""\
      middle_name: {text_field("middle_initial", "trim", "upper")}"""
#: the customer mapping an integrator writes for each data set's columns (docs/pipelines/mapping.md)
MAPPINGS = {
    "decennial_census": "\n".join((_NAMES, _INITIAL, """\
      birth_date: {from: date_of_birth, transforms: [trim, {date: "%m/%d/%Y"}]}""", _address(""))),
    "social_security": "\n".join((_NAMES, f"""\
      middle_name: {text_field("middle_name", "collapse_spaces", "title")}
      birth_date: {{from: date_of_birth, transforms: [trim, yyyymmdd]}}""", _SSN)),
    "taxes_1040": "\n".join((_NAMES, _INITIAL, _SSN, _address("mailing_address_"))),
}
MAPPINGS["taxes_w2_and_1099"] = MAPPINGS["taxes_1040"]
HEADER = """\
source: {source}
table: ROWS
key: [ROWNO]
targets:
  - entity: customer
    fields:
      kind: person
"""
TASKS = {"census-ssa": ("decennial_census", "social_security"), "census-1040": ("decennial_census", "taxes_1040"),
         "w2": ("taxes_w2_and_1099",)}
SHOWN = ("first_name", "middle_initial", "middle_name", "last_name", "date_of_birth", "ssn", "street_number",
         "street_name", "mailing_address_street_number", "mailing_address_street_name", "unit_number")


def data_sets(seed: int) -> Path:
    """The CSV files for ``seed``, made once (a virtualenv with pseudopeople first, also once)."""
    out = HOME / f"seed-{seed}"
    if all((out / f"{name}.csv").exists() for names in TASKS.values() for name in names):
        return out
    python = tool_python(HOME / "venv", PACKAGE)
    subprocess.run([str(python), str(Path(__file__).with_name("pseudopeople_make.py")), str(out), str(seed)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


def tool_python(venv: Path, *packages: str) -> Path:
    """The interpreter of a virtualenv holding ``packages``, made once (a generator that pins its own libraries
    stays out of crmhub's)."""
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        print(f"installing {' '.join(packages)} into {venv} (once)")
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                        "--disable-pip-version-check", *packages], check=True)
        (venv / ".installed").touch()
    return python


def read_rows(path: Path, name: str) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if name == "social_security":  # one row per number issued; later events (deaths) repeat the person
        rows = [r for r in rows if r["event_type"] == "creation"]
    return rows


def write_source(path: Path, rows: list[dict[str, str]]) -> None:
    """One data set as a table ``ROWS``: ``ROWNO`` (the rows' own numbering) and a text column per field."""
    columns = [c for c in rows[0] if c != "ROWNO"]
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE ROWS (ROWNO INTEGER PRIMARY KEY, {', '.join(f'{c} TEXT' for c in columns)})")
        marks = ", ".join("?" * (len(columns) + 1))
        db.executemany(f"INSERT INTO ROWS VALUES ({marks})", [(int(r["ROWNO"]), *(r[c] for c in columns))
                                                              for r in rows])
    db.close()


def write_sources(folder: Path, rows: dict[str, list[dict[str, str]]]) -> None:
    """Each data set's database in ``folder`` (``<name>.db``), unless it is there already."""
    for name, rs in rows.items():
        if not (folder / f"{name}.db").exists():
            write_source(folder / f"{name}.db", rs)


def mapping(name: str) -> str:
    """The customer mapping of data set ``name`` (its connector has the same name)."""
    return HEADER.format(source=name) + MAPPINGS[name] + "\n"


def write_config(folder: Path, names: tuple[str, ...], model: Path | None = None) -> Path:
    config = cli_config(folder, names, "ROWS", "ROWNO", "", model)
    for name in names:  # one mapping per data set: their columns differ
        (folder / "mappings" / f"{name}.ROWS.yaml").write_text(mapping(name))
    return config


def task_rows(task: str, csvs: Path) -> tuple[dict[str, list[dict[str, str]]], dict[str, str]]:
    """Per data set of ``task`` its rows (``ROWNO`` numbered from 1, the source key), and source/key -> person."""
    rows = {name: [{"ROWNO": str(i + 1), **row} for i, row in enumerate(read_rows(csvs / f"{name}.csv", name))]
            for name in TASKS[task]}
    return rows, {f"{name}/{row['ROWNO']}": row["simulant_id"] for name, rs in rows.items() for row in rs}


def show_pairs(title: str, pairs: list[tuple[str, str]], rows: dict[str, dict[str, str]], show: int,
               shown: tuple[str, ...] = SHOWN) -> None:
    if not pairs or not show:
        return
    print(f"  {title} ({len(pairs)}), e.g.:")
    for a, b in pairs[:show]:
        for ref in (a, b):
            values = " | ".join(v for c in shown if (v := rows[ref].get(c)))
            print(f"    {ref:<24} {values}")
        print()


def examples(predicted: dict[str, str], truth: dict[str, str], rows: dict[str, dict[str, str]], show: int,
             shown: tuple[str, ...] = SHOWN) -> None:
    by_person: dict[str, list[str]] = defaultdict(list)
    by_golden: dict[str, list[str]] = defaultdict(list)
    for ref, person in truth.items():
        by_person[person].append(ref)
    for ref, golden in predicted.items():
        by_golden[golden].append(ref)
    missed = [(a, b) for refs in by_person.values() for a, b in combinations(sorted(refs), 2)
              if predicted.get(a) is None or predicted.get(a) != predicted.get(b)]
    wrong = [(a, b) for refs in by_golden.values() if len(refs) < 50 for a, b in combinations(sorted(refs), 2)
             if truth[a] != truth[b]]
    show_pairs("missed pairs", missed, rows, show, shown)
    show_pairs("wrong pairs", wrong, rows, show, shown)


def bench_task(task: str, csvs: Path, folder: Path, train: bool, show: int) -> None:
    names = TASKS[task]
    data, truth = task_rows(task, csvs)
    write_sources(folder, data)
    rows = {f"{name}/{r['ROWNO']}": r for name, rs in data.items() for r in rs}
    results = load_and_train(f"{task}: {' + '.join(names)}", truth, folder,
                             lambda model: write_config(folder, names, model), train)
    label, predicted = results[-1]
    print(f"  {label}:")
    examples(predicted, truth, rows, show)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", nargs="+", choices=tuple(TASKS), default=list(TASKS))
    parser.add_argument("--seed", type=int, default=1, help="pseudopeople's seed for the noise")
    parser.add_argument("--train", action="store_true", help="also run `crmhub unify train` + `relink`")
    parser.add_argument("--show", type=int, default=3, help="examples of missed and wrong pairs")
    parser.add_argument("--keep", type=Path, help="keep databases, configs and exports in this folder")
    args = parser.parse_args()
    csvs = data_sets(args.seed)
    print(f"identity bench on pseudopeople ({PACKAGE}, default noise, seed {args.seed}, {csvs})")
    for task, folder in task_folders(args.keep, "crmhub-pseudopeople-", args.task):
        bench_task(task, csvs, folder, args.train, args.show)


if __name__ == "__main__":
    main()
