"""`crmhub load` snapshots every source through the pipelines into the store; `crmhub export golden` writes it."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app
from hub.cli import commands as cli_commands  # noqa: F401  (registers the commands)

MAPPING_A = """
source: crm_a
table: PEOPLE
key: [ID]
targets:
  - entity: customer
    fields:
      given_name: {from: FIRST, transforms: [trim, title]}
      family_name: {from: LAST, transforms: [trim, title]}
      birth_date: {from: DOB, transforms: [yyyymmdd]}
      emails: [{address: {from: MAIL, transforms: [email]}}]
    rules:
      - {rule: required, field: family_name}
"""
MAPPING_B = MAPPING_A.replace("crm_a", "crm_b")
PEOPLE = [(1, "JOHN", "SMITH", 19800102, "john@example.com"), (2, "MARY", "JONES", 19750630, "mary@example.org"),
          (3, "ANNA", "", 19900304, "anna@example.net")]  # no family name: rejected
PEOPLE_B = [(10, "Jon", "Smith", 19800102, "JOHN@example.com"), (11, "Peter", "Novak", 19700101, "p@n.example")]


def _db(path: Path, rows: list[tuple[object, ...]]) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE PEOPLE (ID INTEGER PRIMARY KEY, FIRST TEXT, LAST TEXT, DOB INTEGER, MAIL TEXT)")
        db.executemany("INSERT INTO PEOPLE VALUES (?, ?, ?, ?, ?)", rows)


def _config(tmp: Path) -> Path:
    _db(tmp / "a.db", PEOPLE)
    _db(tmp / "b.db", PEOPLE_B)
    (tmp / "maps").mkdir()
    (tmp / "maps" / "a.yaml").write_text(MAPPING_A)
    (tmp / "maps" / "b.yaml").write_text(MAPPING_B)
    conn = """
  - kind: sql
    name: {name}
    url: sqlite:///{db}
    state_dir: {state}
    tables: [{{name: PEOPLE, mode: incrementing, incrementing_column: ID}}]
"""
    text = ("connectors:" + conn.format(name="crm_a", db=tmp / "a.db", state=tmp / "sa")
            + conn.format(name="crm_b", db=tmp / "b.db", state=tmp / "sb")
            + f"pipelines:\n  mappings: [{tmp / 'maps'}]\n  store: {{url: 'sqlite:///{tmp / 'store.db'}'}}\n"
            + "  unify: {survivorship: {default: source_priority, source_priority: [crm_a, crm_b]}}\n")
    path = tmp / "hub.yaml"
    path.write_text(text)
    return path


def test_load_then_export(tmp_path: Path) -> None:
    config = _config(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["load", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "5" in result.output and "crm_a: 3 records" in result.output and "crm_b: 2 records" in result.output
    # 4 good records, John in both sources: 3 golden records; 1 rejected row in the DLQ count
    summary = next(line for line in result.output.splitlines() if line.startswith("│"))
    assert [c.strip() for c in summary.strip("│").split("│")][:5] == ["5", "4", "3", "0", "1"]

    result = runner.invoke(app, ["export", "golden", "-c", str(config), "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {(r["source"], r["source_key"]) for r in rows} == {("crm_a", "1"), ("crm_a", "2"), ("crm_b", "10"),
                                                               ("crm_b", "11")}
    john = {r["golden_id"] for r in rows if r["family_name"] == "Smith"}
    assert len(john) == 1 and sum(r["golden_id"] in john for r in rows) == 2

    out = tmp_path / "golden.jsonl"
    result = runner.invoke(app, ["export", "golden", "-c", str(config), "--format", "jsonl", "-o", str(out)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 3
    smith = next(r for r in records if r["customer"]["family_name"] == "Smith")
    assert {m["source"] for m in smith["members"]} == {"crm_a", "crm_b"}
    assert smith["lineage"]["birth_date"]["source"] in ("crm_a", "crm_b")

    assert smith["customer"]["given_name"] == "John"  # crm_a first
    # loading again changes nothing: the rows are read again, but no golden field changes, so no new versions
    again = runner.invoke(app, ["load", "-c", str(config)])
    assert again.exit_code == 0, again.output
    result = runner.invoke(app, ["export", "golden", "-c", str(config), "--format", "jsonl"])
    assert [json.loads(x)["version"] for x in result.stdout.splitlines()] == [r["version"] for r in records]


def test_review_list_shows_possible_matches(tmp_path: Path) -> None:
    config = _config(tmp_path)
    runner = CliRunner()
    with sqlite3.connect(tmp_path / "b.db") as db:  # same name as Peter... in crm_a, nothing else in common
        db.execute("INSERT INTO PEOPLE VALUES (12, 'Mary', 'Jones', NULL, NULL)")
    assert runner.invoke(app, ["load", "-c", str(config)]).exit_code == 0
    result = runner.invoke(app, ["review", "list", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "crm_a/2" in result.output and "crm_b/12" in result.output
    review_id = next(line.split("│")[1].strip() for line in result.output.splitlines() if "crm_b/12" in line)
    accepted = runner.invoke(app, ["review", "accept", review_id, "-c", str(config), "--by", "ann"])
    assert accepted.exit_code == 0 and "1 merge(s)" in accepted.output
