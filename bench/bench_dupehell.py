"""Identity resolution on DupeHell's generated persons, records crmhub did not make.

DupeHell (https://github.com/vntoinekaio/DupeHell, MIT, on PyPI) is a record-linkage benchmark generator
written apart from crmhub and its own generators. Its KYC domain's ``natural_person`` records carry names,
middle name, birth date (written as ``YYYY-MM-DD``, ``DD-MM-YYYY``, ``MM-DD-YYYY`` or with day and month
exchanged), e-mail, mobile phone, administrative and tax numbers and a residential address; its duplicates add
typos, OCR errors, phonetic variants, abbreviations, blanks, case changes and moved dates, at three
difficulties (``light``, ``medium``, ``hell``), and its hard negatives are different persons made to look alike.
Its CRM domain's ``contact`` records (``--data crm``) carry first and last name, e-mail, phone, city, state
and country, company and job title, but no birth date or id: what a CRM holds of its contacts. Every record
carries the ``master_id`` of its person: the truth. The ``party_id`` and ``contact_id`` columns repeat that
truth (one per master) and are left out of the mappings.

The bench makes a virtualenv for DupeHell once (``<cache>/dupehell-0.5.5``, the cache folder of
``docs/operations.md``), writes the data set as CSV (:mod:`bench.dupehell_make`) and runs crmhub as an
integrator would: the records in SQLite, one text column per field, a customer mapping written from
[Mapping](docs/pipelines/mapping.md), ``crmhub load``, ``crmhub export golden`` and, with ``--train``,
``crmhub unify train`` + ``relink``. One source holds all records, so the task is deduplication; pairs are
scored with :func:`pipelines.identity.metrics.pairwise_prf`.

Usage: ``.venv/bin/python bench/bench_dupehell.py --data kyc crm --difficulty light medium hell --train``
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_febrl import load_and_train, task_folders
from bench.bench_identity import cli_config
from bench.bench_pseudopeople import HEADER, examples, text_field, tool_python, write_source
from schemas.cache import cache_root

PACKAGES = ("dupehell==0.5.5", "pyarrow")
HOME = cache_root() / "dupehell-0.5.5"
DIFFICULTIES = ("light", "medium", "hell")

#: per data set (named as DupeHell's domain): its entity, and the customer mapping an integrator writes for its
#: columns (docs/pipelines/mapping.md); the columns that repeat the truth (``party_id``, ``contact_id``) are left out
SETS: dict[str, tuple[str, str]] = {
    "kyc": ("natural_person", f"""\
      given_name: {text_field("given_name", "collapse_spaces", "title")}
      middle_name: {text_field("middle_name", "collapse_spaces", "title")}
      family_name: {text_field("family_name", "collapse_spaces", "title")}
      birth_date: {{from: birth_date, transforms: [trim, {{date: ["%Y-%m-%d", "%d-%m-%Y", "%m-%d-%Y"]}}]}}
      national_id: {text_field("personal_administrative_number", '{regex_replace: {pattern: "[^0-9A-Za-z]"}}')}
      tax_id: {text_field("tax_id", '{regex_replace: {pattern: "[^0-9A-Za-z]"}}')}
      emails:
        - {{type: home, address: {text_field("email_address", "trim", "email")}}}
      phones:
        - {{type: mobile, number: {text_field("mobile_phone", "trim", "phone")}}}
      addresses:
        - type: home
          line1: {text_field("residential_address_line1", "collapse_spaces", "title")}
          city: {text_field("residential_city", "collapse_spaces", "title")}
          region: {text_field("residential_state", "trim", "upper")}
          postal_code: {text_field("residential_postal_code", "trim")}
          country: {text_field("residential_country", "trim", "country")}
"""),
    "crm": ("contact", f"""\
      given_name: {text_field("first_name", "collapse_spaces", "title")}
      family_name: {text_field("last_name", "collapse_spaces", "title")}
      emails:
        - {{type: work, address: {text_field("email", "trim", "email")}}}
      phones:
        - {{type: work, number: {text_field("phone", "trim", "phone")}}}
      addresses:
        - type: work
          city: {text_field("city", "collapse_spaces", "title")}
          region: {text_field("state_code", "trim", "upper")}
          country: {text_field("country_code", "trim", "country")}
"""),
}
SHOWN = ("given_name", "first_name", "middle_name", "family_name", "last_name", "birth_date", "email_address",
         "email", "mobile_phone", "phone", "personal_administrative_number", "tax_id", "residential_address_line1",
         "residential_city", "residential_postal_code", "company_name", "city", "match_type")


def data_set(name: str, difficulty: str, size: int, seed: int) -> Path:
    """The CSV file of data set ``name`` for these settings, made once."""
    entity = SETS[name][0]
    out = HOME / f"{name}-{entity}-{difficulty}-{size}-{seed}.csv"
    if not out.exists():
        python = tool_python(HOME / "venv", *PACKAGES)
        subprocess.run([str(python), str(Path(__file__).with_name("dupehell_make.py")), str(out), name, entity,
                        str(size), str(seed), difficulty], check=True, stdout=subprocess.DEVNULL,
                       cwd=HOME)  # not a folder with a ./schemas of its own: DupeHell would read it
    return out


def bench_level(name: str, difficulty: str, csv_file: Path, folder: Path, train: bool, show: int) -> None:
    with csv_file.open(newline="") as f:
        rows = [{"ROWNO": str(i + 1), **row} for i, row in enumerate(csv.DictReader(f))]
    write_source(folder / f"{name}.db", rows)
    truth = {f"{name}/{r['ROWNO']}": r["master_id"] for r in rows}

    def configure(model: Path | None) -> Path:
        config = cli_config(folder, [name], "ROWS", "ROWNO", "", model)
        (folder / "mappings" / f"{name}.ROWS.yaml").write_text(HEADER.format(source=name) + SETS[name][1])
        return config

    results = load_and_train(f"{name} {difficulty}: {csv_file.name}", truth, folder, configure, train)
    label, predicted = results[-1]
    print(f"  {label}:")
    examples(predicted, truth, {f"{name}/{r['ROWNO']}": r for r in rows}, show, SHOWN)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", nargs="+", choices=tuple(SETS), default=["kyc"],
                        help="kyc: KYC natural persons; crm: CRM contacts (no birth date or ids)")
    parser.add_argument("--difficulty", nargs="+", choices=DIFFICULTIES, default=["medium"])
    parser.add_argument("--size", type=int, default=5000, help="DupeHell's base records (masters and uniques)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--train", action="store_true", help="also run `crmhub unify train` + `relink`")
    parser.add_argument("--show", type=int, default=3, help="examples of missed and wrong pairs")
    parser.add_argument("--keep", type=Path, help="keep databases, configs and exports in this folder")
    args = parser.parse_args()
    print(f"identity bench on DupeHell ({PACKAGES[0]}, {args.size} base records, seed {args.seed})")
    tasks = {f"{name}-{difficulty}": (name, difficulty) for name in args.data for difficulty in args.difficulty}
    for task, folder in task_folders(args.keep, "crmhub-dupehell-", list(tasks)):
        name, difficulty = tasks[task]
        bench_level(name, difficulty, data_set(name, difficulty, args.size, args.seed), folder, args.train,
                    args.show)


if __name__ == "__main__":
    main()
