"""`crmhub mapping test` and `crmhub mapping transforms`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from hub.cli import app
from hub.cli import commands as cli_commands  # noqa: F401  (registers the commands, as `crmhub` does)
from hub.cli.mapping import RowsError, read_rows

MAPPINGS = Path(__file__).resolve().parents[2] / "config" / "mappings"
CUSTMAST = MAPPINGS / "ibmi.CUSTMAST.yaml"
SAMPLES = MAPPINGS / "samples"

SMALL = """\
source: ibmi
table: CUSTMAST
key: [CUSNO]
targets:
  - entity: customer
    fields:
      org_name: {from: CUSNAM, transforms: [trim, title]}
      credit_status: {from: CRSTAT, transforms: [{code: {A: OK, F: FROZEN}}], on_error: reject}
      owning_agent: {from: AGENT}
    rules:
      - {rule: check, name: frozen-needs-agent, expr: "credit_status != 'FROZEN' or owning_agent", level: warning}
"""
ROWS = [{"CUSNO": 1, "CUSNAM": "ACME LTD", "CRSTAT": "A", "AGENT": "AGT01"},
        {"CUSNO": 2, "CUSNAM": "ROSSI SPA", "CRSTAT": "F", "AGENT": None},
        {"CUSNO": 3, "CUSNAM": "BAD", "CRSTAT": "Z", "AGENT": "AGT02"}]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_shipped_sample_rows_run_through_the_shipped_mapping() -> None:
    result = invoke("mapping", "test", str(CUSTMAST), "--rows", str(SAMPLES / "ibmi.CUSTMAST.jsonl"))
    assert result.exit_code == 0, result.output
    assert "customer upsert ibmi/104711" in result.output and '"org_name": "Mueller GmbH"' in result.output
    assert "warning blocked-needs-agent" in result.output
    assert "customer REJECTED by transform:code at credit_status" in result.output
    assert 'values: {"CRSTAT": "X"}' in result.output
    assert "warning range:credit_limit" not in result.output  # the record with it is rejected anyway
    assert result.output.rstrip().endswith("5 rows: 3 mapped, 2 rejected, 1 warnings")
    strict = invoke("mapping", "test", str(CUSTMAST), "--rows", str(SAMPLES / "ibmi.CUSTMAST.jsonl"), "--strict")
    assert strict.exit_code == 1


def test_shipped_csv_sample_for_orders() -> None:
    result = invoke("mapping", "test", str(MAPPINGS / "ibmi.ORDHDR.yaml"), "--rows", str(SAMPLES / "ibmi.ORDHDR.csv"))
    assert result.exit_code == 0, result.output
    assert '"status": "SHIPPED"' in result.output and '"open_amount": "0.00"' in result.output
    assert result.output.rstrip().endswith("3 rows: 2 mapped, 1 rejected, 0 warnings")


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".yaml", ".csv"])
def test_every_rows_format(small: Path, tmp_path: Path, suffix: str) -> None:
    rows = tmp_path / f"rows{suffix}"
    if suffix == ".jsonl":
        rows.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n\n", encoding="utf-8")
    elif suffix == ".json":
        rows.write_text(json.dumps(ROWS), encoding="utf-8")
    elif suffix == ".yaml":
        rows.write_text("".join(f"- {json.dumps(r)}\n" for r in ROWS), encoding="utf-8")
    else:
        rows.write_text("CUSNO,CUSNAM,CRSTAT,AGENT\n1,ACME LTD,A,AGT01\n2,ROSSI SPA,F,\n3,BAD,Z,AGT02\n")
    result = invoke("mapping", "test", str(small), "--rows", str(rows))
    assert result.exit_code == 0, result.output
    assert "row 1 (CUSNO=1)" in result.output and '"org_name": "Acme Ltd"' in result.output
    assert "warning frozen-needs-agent" in result.output
    assert "REJECTED by transform:code" in result.output
    assert result.output.rstrip().endswith("3 rows: 2 mapped, 1 rejected, 1 warnings")


def test_full_shows_null_fields(small: Path, tmp_path: Path) -> None:
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps(ROWS[:1]), encoding="utf-8")
    assert '"tax_id"' not in invoke("mapping", "test", str(small), "--rows", str(rows)).output
    assert '"tax_id": null' in invoke("mapping", "test", str(small), "--rows", str(rows), "--full").output


def test_delete_op(small: Path, tmp_path: Path) -> None:
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps(ROWS[:1]), encoding="utf-8")
    result = invoke("mapping", "test", str(small), "--rows", str(rows), "--op", "d")
    assert result.exit_code == 0, result.output
    assert "customer delete ibmi/1" in result.output
    assert result.output.rstrip().endswith("1 rows: 1 mapped, 0 rejected, 0 warnings")
    assert invoke("mapping", "test", str(small), "--rows", str(rows), "--op", "x").exit_code == 2


def test_columns_missing_from_every_row_are_noted(small: Path, tmp_path: Path) -> None:
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([{"CUSNO": 1, "CUSNAM": "X", "CRSTAT": "A"}]), encoding="utf-8")
    result = invoke("mapping", "test", str(small), "--rows", str(rows))
    assert "note: column(s) AGENT are in no row" in result.output


def test_bad_mapping_prints_every_problem_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("org_name:", "org_nme:").replace("code:", "cod:"), encoding="utf-8")
    rows = tmp_path / "rows.json"
    rows.write_text("[]", encoding="utf-8")
    result = invoke("mapping", "test", str(bad), "--rows", str(rows))
    assert result.exit_code == 1
    assert f"{bad}: targets[0].fields.org_nme: unknown customer field 'org_nme'" in result.output
    assert f"{bad}: targets[0].fields.credit_status.transforms[0]: unknown transform 'cod'" in result.output
    assert invoke("mapping", "test", str(tmp_path / "nope.yaml"), "--rows", str(rows)).exit_code == 1


@pytest.mark.parametrize(("name", "text", "fragment"), [
    ("rows.txt", "x", "unknown rows format '.txt'"),
    ("rows.json", "{\"a\": 1}", "expected a list of rows"),
    ("rows.json", "[1, 2]", "expected a list of rows"),
    ("rows.jsonl", "{\"a\": 1}\n{oops\n", "line 1: invalid JSON"),
    ("rows.yaml", "- a: [\n", "YAML syntax error"),
])
def test_unreadable_rows(tmp_path: Path, small: Path, name: str, text: str, fragment: str) -> None:
    rows = tmp_path / name
    rows.write_text(text, encoding="utf-8")
    with pytest.raises(RowsError) as caught:
        read_rows(rows)
    assert fragment in str(caught.value)
    assert invoke("mapping", "test", str(small), "--rows", str(rows)).exit_code == 2
    with pytest.raises(RowsError, match="cannot read"):
        read_rows(tmp_path / "missing.jsonl")


def test_read_rows_turns_floats_into_decimals(tmp_path: Path) -> None:
    rows = tmp_path / "rows.yaml"
    rows.write_text("- {A: 1.10, B: N, C: 007}\n", encoding="utf-8")
    [row] = read_rows(rows)
    assert str(row["A"]) == "1.10" and row["B"] == "N" and row["C"] == "007"


def test_transforms_lists_names_and_parameters() -> None:
    result = invoke("mapping", "transforms")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "trim" in {line.split()[0] for line in lines}
    assert any(line.startswith("code  {map, default?, ignore_case?, passthrough?}") for line in lines)
    assert any(line.startswith("phone") and "(scalar: default_region)" in line for line in lines)
