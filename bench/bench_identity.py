"""Identity resolution on independently generated persons, run the way an integrator runs crmhub.

The records come from :mod:`bench.person_corrupt` (a generator written apart from crmhub's identity code). They
are written into SQLite databases shaped like a legacy CRM export (one table ``CUSTOMERS`` per source: CUSTNO,
FIRSTNAME, LASTNAME, BIRTHDATE as 'YYYYMMDD' text, NATID, EMAIL, PHONE, STREET, ZIP, CITY, COUNTRY); a crmhub
config with ``kind: sql`` connectors and a customer mapping per source is written next to them; then the
installed CLI runs ``crmhub load -c CFG`` and ``crmhub export golden -c CFG --format csv``. The export's
(source, source_key) -> golden_id is scored against the generator's truth: pairwise precision, recall and F1,
the records lost (rejected to the DLQ, absent from the export, counted as missed), recall per corruption kind,
false positives between housemates and twins, and the most alike missed pairs / least alike wrong merges.

Tasks: ``link`` (source A and source B, most B records a corrupted copy of an A person) and ``dedup`` (one
source with repeated entries). With ``--train`` and when the CLI has ``crmhub unify train``, the model it
learns from the loaded store is named in the config (``pipelines.unify.match.model``), ``crmhub unify relink``
re-scores, and the export is scored again ("trained" row beside "defaults").

Usage: ``.venv/bin/python bench/bench_identity.py --task both --level hard --n 5000``
(``--seed 1``, ``--show 5``, ``--train``, ``--keep DIR`` keeps the databases, configs and exports).
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.person_corrupt import LEVELS, Record, dedup, linkage
from bench.person_report import report
from pipelines.identity.metrics import PRF, pairwise_prf

COLUMNS = {"given": "FIRSTNAME", "family": "LASTNAME", "dob": "BIRTHDATE", "natid": "NATID", "email": "EMAIL",
           "phone": "PHONE", "street": "STREET", "zip": "ZIP", "city": "CITY", "country": "COUNTRY"}

#: the customer mapping, written from docs/pipelines/mapping.md; {source} is the connector name
MAPPING = """\
source: {source}
table: CUSTOMERS
key: [CUSTNO]
targets:
  - entity: customer
    fields:
      kind: person
      given_name: {{from: FIRSTNAME, transforms: [collapse_spaces, title, {{null_if: [""]}}]}}
      family_name: {{from: LASTNAME, transforms: [collapse_spaces, title, {{null_if: [""]}}]}}
      birth_date: {{from: BIRTHDATE, transforms: [trim, yyyymmdd]}}
      national_id: {{from: NATID, transforms: [upper, {{regex_replace: {{pattern: "[^0-9A-Z]"}}}}, {{null_if: [""]}}]}}
      emails:
        - {{type: home, address: {{from: EMAIL, transforms: [email]}}}}
      phones:
        - {{type: home, number: {{from: PHONE, transforms: [{{phone: {{default_region: DE}}}}]}}}}
      addresses:
        - type: home
          line1: {{from: STREET, transforms: [collapse_spaces, title, {{null_if: [""]}}]}}
          postal_code: {{from: ZIP, transforms: [collapse_spaces, upper, {{null_if: [""]}}]}}
          city: {{from: CITY, transforms: [collapse_spaces, title, {{null_if: [""]}}]}}
          country: {{from: COUNTRY, transforms: [country]}}
"""


def crmhub_cli() -> str:
    beside = Path(sys.executable).with_name("crmhub")
    found = str(beside) if beside.exists() else shutil.which("crmhub")
    if not found:
        raise SystemExit("crmhub is not installed in this environment (run make setup)")
    return found


def run(args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([crmhub_cli(), *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise SystemExit(f"crmhub {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def write_source(path: Path, records: list[Record]) -> None:
    cols = ", ".join(f"{c} TEXT" for c in COLUMNS.values())
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE CUSTOMERS (CUSTNO INTEGER PRIMARY KEY, {cols})")
        marks = ", ".join("?" * (len(COLUMNS) + 1))
        db.executemany(f"INSERT INTO CUSTOMERS VALUES ({marks})",
                       [(r.key, *(r.fields[f] for f in COLUMNS)) for r in records])
    db.close()


def cli_config(folder: Path, names: Sequence[str], table: str, incrementing: str, mapping: str,
               model: Path | None = None) -> Path:
    """A crmhub config over one SQLite database per source (``<name>.db`` holding ``table``), each with the
    customer mapping ``mapping`` (``{source}`` filled in), a match model when given."""
    (folder / "mappings").mkdir(exist_ok=True)
    connectors = []
    for name in names:
        (folder / "mappings" / f"{name}.{table}.yaml").write_text(mapping.format(source=name))
        connectors.append({"kind": "sql", "name": name, "url": f"sqlite:///{folder / f'{name}.db'}",
                           "state_dir": str(folder / "state" / name),
                           "tables": [{"name": table, "mode": "incrementing", "incrementing_column": incrementing}]})
    pipelines: dict[str, Any] = {"name": "canon", "mappings": [str(folder / "mappings")],
                                 "store": {"url": f"sqlite:///{folder / 'store.db'}"}}
    if model is not None:
        pipelines["unify"] = {"match": {"model": str(model)}}
    path = folder / "crmhub.yaml"
    path.write_text(yaml.safe_dump({"connectors": connectors, "pipelines": pipelines}, sort_keys=False))
    return path


def write_config(folder: Path, sources: dict[str, list[Record]], model: Path | None = None) -> Path:
    for name, records in sources.items():
        if not (folder / f"{name}.db").exists():
            write_source(folder / f"{name}.db", records)
    return cli_config(folder, list(sources), "CUSTOMERS", "CUSTNO", MAPPING, model)


def load_summary(output: str) -> dict[str, str]:
    """The numbers of ``crmhub load``'s summary table, by column name."""
    names = ("records", "canonical", "golden records", "merges", "DLQ", "seconds")
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("│┃|").split("│")]
        if len(cells) == len(names) and all(re.fullmatch(r"[\d.]+", c) for c in cells):
            return dict(zip(names, cells, strict=True))
    return {}


def exported(config: Path, folder: Path, label: str) -> dict[str, str]:
    """``source/key`` -> golden id, from ``crmhub export golden --format csv``."""
    out = folder / f"golden.{label}.csv"
    run(["export", "golden", "-c", str(config), "--format", "csv", "-o", str(out)])
    with out.open(newline="") as f:
        return {f"{row['source']}/{row['source_key']}": row["golden_id"] for row in csv.DictReader(f)}


def find_model(output: str, default: Path) -> Path | None:
    for token in re.findall(r"[\w./~-]+\.(?:json|ya?ml|pkl|bin)", output):
        if Path(token).expanduser().is_file():
            return Path(token).expanduser()
    return default if default.is_file() else None


def has_command(group: str) -> bool:
    return run([group, "--help"], check=False).returncode == 0


def train_and_relink(config: Path, folder: Path, sources: dict[str, list[Record]]) -> tuple[Path, float] | None:
    if not has_command("unify"):
        print("  trained: `crmhub unify train` is not available in this crmhub; skipped")
        return None
    started = time.perf_counter()
    done = run(["unify", "train", "-c", str(config)], check=False)
    if done.returncode != 0:
        print(f"  trained: `crmhub unify train` failed ({done.returncode}): {(done.stderr or done.stdout)[-400:]}")
        return None
    model = find_model(done.stdout + done.stderr, config.with_name(f"{config.stem}.model.json"))
    if model is None:
        print(f"  trained: no model file named in the output of `crmhub unify train`:\n{done.stdout[-400:]}")
        return None
    config = write_config(folder, sources, model)
    relinked = run(["unify", "relink", "-c", str(config)], check=False)
    if relinked.returncode != 0:
        print(f"  trained: `crmhub unify relink` failed ({relinked.returncode}): "
              f"{(relinked.stderr or relinked.stdout)[-400:]}")
        return None
    return model, time.perf_counter() - started


def score_row(label: str, prf: PRF, lost: int, golden: int, seconds: float, what: str) -> None:
    print(f"  {label:<9} precision {prf.precision:.4f}  recall {prf.recall:.4f}  F1 {prf.f1:.4f}  "
          f"(tp {prf.true_pos}, fp {prf.false_pos}, fn {prf.false_neg})  lost {lost}  golden {golden}  "
          f"{what} {seconds:.1f} s")


def bench_task(task: str, sources: dict[str, list[Record]], folder: Path, show: int, train: bool) -> None:
    records = [r for rs in sources.values() for r in rs]
    truth = {f"{r.source}/{r.key}": r.entity for r in records}
    pairs = pairwise_prf({}, truth).false_neg
    sizes = ", ".join(f"{name} {len(rs)}" for name, rs in sources.items())
    print(f"\ntask {task}: {sizes} records, {len(set(truth.values()))} persons, {pairs} true pairs")
    config = write_config(folder, sources)
    started = time.perf_counter()
    done = run(["load", "-c", str(config)])
    seconds = time.perf_counter() - started
    summary = load_summary(done.stdout)
    print(f"  load: {summary or done.stdout.strip()}")
    predicted = exported(config, folder, "defaults")
    prf = pairwise_prf(predicted, truth)
    lost = len(truth) - len(predicted.keys() & truth.keys())
    score_row("defaults", prf, lost, len(set(predicted.values())), seconds, "load")
    rows = [("defaults", predicted)]
    if train:
        trained = train_and_relink(config, folder, sources)
        if trained is not None:
            model, seconds = trained
            predicted = exported(config, folder, "trained")
            prf = pairwise_prf(predicted, truth)
            lost = len(truth) - len(predicted.keys() & truth.keys())
            score_row("trained", prf, lost, len(set(predicted.values())), seconds, "train+relink")
            print(f"  model: {model}")
            rows.append(("trained", predicted))
    for label, assignment in rows:
        report(label, records, assignment, show)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=("link", "dedup", "both"), default="both")
    parser.add_argument("--level", choices=tuple(LEVELS), default="medium")
    parser.add_argument("--n", type=int, default=5000, help="records per source")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show", type=int, default=5, help="worst false negatives / positives to print")
    parser.add_argument("--train", action="store_true", help="also run `crmhub unify train` + `relink`")
    parser.add_argument("--keep", type=Path, help="keep databases, configs and exports in this folder")
    args = parser.parse_args()
    print(f"identity bench: level {args.level}, n {args.n}, seed {args.seed} (records from bench/person_corrupt.py)")
    with tempfile.TemporaryDirectory(prefix="crmhub-identity-") as tmp:
        root = args.keep or Path(tmp)
        for task in (("link", "dedup") if args.task == "both" else (args.task,)):
            folder = root / f"{task}-{args.level}-{args.n}-{args.seed}"
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            if task == "link":
                data = linkage(args.n, args.level, args.seed)
                sources = {"crm_a": data.a, "crm_b": data.b}
            else:
                sources = {"crm": dedup(args.n, args.level, args.seed)}
            sources = {name: [_renamed(r, name) for r in rs] for name, rs in sources.items()}
            bench_task(task, sources, folder, args.show, args.train)


def _renamed(record: Record, source: str) -> Record:
    return Record(source, record.key, record.entity, record.household, record.fields, record.kinds)


if __name__ == "__main__":
    main()
