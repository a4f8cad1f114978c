"""Mapping files: loading, every problem with its place, YAML quirks, and applying a target to a row."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from textwrap import dedent

import pytest

from pipelines.mapping import ListMap, TableMapping, load_mappings, parse_mapping
from pipelines.yaml_text import parse_yaml
from schemas.errors import ConfigError

CONFIG_MAPPINGS = Path(__file__).resolve().parents[2] / "config" / "mappings"

GOOD = """\
source: ibmi
table: CUSTMAST
key: [CUSNO]
targets:
  - entity: customer
    fields:
      kind: organisation
      org_name: {from: CUSNAM, transforms: [trim, title]}
      credit_status: {from: CRSTAT, transforms: [trim, {code: {map: {A: OK, H: HOLD, F: FROZEN}}}]}
      credit_limit: {from: CRLIMIT, transforms: [number]}
      given_name: {expr: "concat(trim(FNAM), '')", transforms: [title]}
      addresses:
        - {type: main, country: {from: CNTRY, transforms: [country]}, city: {from: CITY}}
      phones:
        - {type: main, number: {from: PHONE1, transforms: [{phone: DE}]}}
        - {type: mobile, number: {from: PHONE2, transforms: [{phone: DE}]}}
    rules:
      - {rule: required, field: org_name}
  - entity: credit
    fields:
      customer_key: {from: CUSNO, transforms: [string]}
      status: {from: CRSTAT, transforms: [trim, {code: {A: OK, H: HOLD, F: FROZEN}}]}
"""


def problems(text: str, name: str = "m.yaml") -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_mapping(dedent(text), name)
    return caught.value.problems


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(dedent(text), encoding="utf-8")
    return path


def test_a_good_mapping_compiles() -> None:
    m = parse_mapping(GOOD, "good.yaml")
    assert (m.source, m.table, m.key, m.path) == ("ibmi", "CUSTMAST", ("CUSNO",), "good.yaml")
    assert [t.entity for t in m.targets] == ["customer", "credit"]
    assert [t.index for t in m.targets] == [0, 1]
    assert m.columns == {"CUSNO", "CUSNAM", "CRSTAT", "CRLIMIT", "FNAM", "CNTRY", "CITY", "PHONE1", "PHONE2"}
    assert [r.name for r in m.targets[0].rules] == ["required:org_name"]


def test_applying_a_target_maps_transforms_and_lists() -> None:
    target = parse_mapping(GOOD, "good.yaml").targets[0]
    row = {"CUSNO": 7, "CUSNAM": " MUELLER GMBH ", "CRSTAT": "F", "CRLIMIT": Decimal("10.00"), "FNAM": "ANNA ",
           "CNTRY": "Germany", "CITY": None, "PHONE1": "089 1234567", "PHONE2": "   "}
    record, failures = target.apply(row)
    assert failures == []
    assert record["kind"] == "organisation" and record["org_name"] == "Mueller GmbH"
    assert record["credit_status"] == "FROZEN" and record["credit_limit"] == Decimal("10.00")
    assert record["given_name"] == "Anna"
    assert record["addresses"] == [{"type": "main", "country": "DE", "city": None}]
    assert record["phones"] == [{"type": "main", "number": "+49891234567"}]  # the blank second phone is dropped


def test_an_element_with_only_null_mapped_values_is_dropped() -> None:
    target = parse_mapping(GOOD, "good.yaml").targets[0]
    record, failures = target.apply({"CUSNAM": "X", "CRSTAT": "A"})
    assert failures == []
    assert record["addresses"] == [] and record["phones"] == []


def test_failures_name_field_transform_column_and_value() -> None:
    target = parse_mapping(GOOD, "good.yaml").targets[0]
    record, failures = target.apply({"CUSNAM": "X", "CRSTAT": "Q", "CNTRY": "Atlantis"})
    assert [(f.field, f.transform, f.column, f.value) for f in failures] == [
        ("credit_status", "code", "CRSTAT", "Q"), ("addresses[0].country", "country", "CNTRY", "Atlantis")]
    assert "unknown code 'Q'" in failures[0].message
    assert record["credit_status"] is None


def test_expression_failures_are_field_failures() -> None:
    m = parse_mapping(dedent("""\
        source: s
        table: t
        targets:
          - entity: customer
            fields: {credit_limit: {expr: "A - 1"}}
        """), "e.yaml")
    _, failures = m.targets[0].apply({"A": "x"})
    assert [(f.field, f.transform) for f in failures] == [("credit_limit", "expr")]


def test_when_selects_rows() -> None:
    m = parse_mapping(dedent("""\
        source: s
        table: t
        targets:
          - entity: customer
            when: "TYPE == 'P'"
            fields: {kind: person, family_name: {from: NAME}}
        """), "w.yaml")
    target = m.targets[0]
    assert target.applies({"TYPE": "P"}) and not target.applies({"TYPE": "C"})
    assert "TYPE" in m.columns


def test_every_problem_is_listed_with_its_place() -> None:
    found = problems("""\
        source: ibmi
        table: CUSTMAST
        targets:
          - entity: customer
            fields:
              org_nme: {from: CUSNAM}
              credit_status: {from: CRSTAT, transforms: [trim, {cod: {map: {A: OK}}}]}
              credit_limit: {form: CRLIMIT}
              addresses: {country: CNTRY}
              phones: [{typ: main, number: {from: PHONE}}, {type: other}]
              birth_date: {from: X, expr: "1"}
              tax_id: [1, 2]
            rules:
              - {rule: requird, field: org_name}
          - entity: custmer
            fields: {x: 1}
          - entity: credit
            fields: {customer_key: {expr: "__import__('os')"}}
            when: "a.b"
        """)
    assert found == [
        "m.yaml: targets[0].fields.org_nme: unknown customer field 'org_nme' (did you mean 'org_name'?)",
        "m.yaml: targets[0].fields.credit_status.transforms[1]: unknown transform 'cod' (did you mean 'code'?)",
        "m.yaml: targets[0].fields.credit_limit.form: unknown key 'form' (did you mean 'from'?)",
        "m.yaml: targets[0].fields.addresses: 'addresses' is a list of records: give a list of element maps "
        "like [{type: ..., ...}]",
        "m.yaml: targets[0].fields.phones[0].typ: unknown phones field 'typ' (did you mean 'type'?)",
        "m.yaml: targets[0].fields.phones[1]: required field 'number' of phones is not mapped",
        "m.yaml: targets[0].fields.birth_date: give exactly one of from, value or expr (found from, expr)",
        "m.yaml: targets[0].fields.tax_id: expected {from: COLUMN}, {value: CONSTANT} or {expr: EXPRESSION}",
        "m.yaml: targets[0].rules[0].rule: unknown rule 'requird' (did you mean 'required'?)",
        "m.yaml: targets[1].entity: unknown entity 'custmer' (did you mean 'customer'?)",
        "m.yaml: targets[2].fields.customer_key.expr: unknown function '__import__' (known: abs, coalesce, concat, "
        "endswith, int, is_null, len, lower, matches, max, min, round, startswith, str, trim, upper)",
        "m.yaml: targets[2].fields: required field 'status' of credit is not mapped",
        "m.yaml: targets[2].when: attribute access is not allowed",
    ]


@pytest.mark.parametrize(("text", "expected"), [
    ("", "m.yaml: (root): expected a mapping (key: value pairs)"),
    ("source: s\ntable: t\n", "m.yaml: targets: field required"),
    ("source: s\ntable: t\ntargets: []\n", "m.yaml: targets: list should have at least 1 item"),
    ("source: 'bad name'\ntable: t\ntargets: [{entity: case, fields: {status: {value: x}}}]\n",
     "m.yaml: source: string should match pattern"),
    ("source: s\ntable: t\ntargt: 1\ntargets: [{entity: case, fields: {status: {value: x}}}]\n",
     "m.yaml: targt: unknown key (did you mean 'targets'?)"),
    ("source: s\ntable: t\nkey: []\ntargets: [{entity: case, fields: {status: {value: x}}}]\n",
     "m.yaml: key: list should have at least 1 item"),
    ("source: s\ntable: t\ntargets: [{entity: case, fields: {status: x}, rules: 5}]\n",
     "m.yaml: targets[0].rules: input should be a valid list"),
    ("source: s\ntable: t\ntargets: [{entity: case, fields: {status: {from: ''}}}]\n",
     "m.yaml: targets[0].fields.status.from: expected a column name"),
    ("source: s\ntable: t\ntargets: [{entity: case, fields: {status: {value: x}}, whn: x}]\n",
     "m.yaml: targets[0].whn: unknown key (did you mean 'when'?)"),
    ("source: s\ntable: t\ntargets: [{entity: case, fields: {status: x}}]\ntable: u\n",
     "m.yaml: line 4, column 1: duplicate key 'table'"),
    ("source: [\n", "m.yaml: line 2, column 1: YAML syntax error"),
])
def test_file_level_problems(text: str, expected: str) -> None:
    found = problems(text)
    assert any(p.startswith(expected) for p in found), found


def test_yaml_keeps_legacy_codes_as_text() -> None:
    data, found = parse_yaml("map: {Y: YES, N: NO, NO: Norway, ON: x, 01: first, 1: one, 1.5: f}\nok: true\n", "x")
    assert found == []
    assert data["map"] == {"Y": "YES", "N": "NO", "NO": "Norway", "ON": "x", "01": "first", 1: "one", 1.5: "f"}
    assert data["ok"] is True
    assert isinstance(data["map"][Decimal("1.5")], str)
    amounts, _ = parse_yaml("[0.10, -2.50, .inf]", "x")
    assert [str(a) for a in amounts[:2]] == ["0.10", "-2.50"] and amounts[2] == float("inf")


def test_code_tables_with_yes_no_codes_work() -> None:
    m = parse_mapping(dedent("""\
        source: s
        table: t
        targets:
          - entity: customer
            fields: {account_status: {from: ACTIVE, transforms: [{code: {Y: active, N: closed}}]}}
        """), "yn.yaml")
    assert m.targets[0].apply({"ACTIVE": "N"})[0]["account_status"] == "closed"


CASE = "targets: [{entity: case, fields: {case_number: {from: NO}, status: open}}]\n"


def test_load_mappings_reads_folders_globs_and_files(tmp_path: Path) -> None:
    one = write(tmp_path, "a.yaml", "source: s\ntable: A\n" + CASE)
    sub = tmp_path / "more"
    sub.mkdir()
    write(sub, "b.yml", "source: s\ntable: B\n" + CASE)
    write(sub, "notes.txt", "not a mapping")
    write(tmp_path, "c.yaml", "source: t\ntable: C\n" + CASE)
    ms = load_mappings([one, sub, str(tmp_path / "c*.yaml"), one])
    assert sorted((m.source, m.table) for m in ms) == [("s", "A"), ("s", "B"), ("t", "C")]
    assert len(ms) == 3
    assert [m.table for m in ms.for_table("s", "a")] == ["A"]  # table names match case-insensitively
    assert ms.for_table("S", "A") == [] and ms.for_table("s", "Z") == []


def test_load_mappings_lists_problems_of_every_file(tmp_path: Path) -> None:
    good = "source: s\ntable: A\n" + CASE
    write(tmp_path, "1.yaml", good)
    write(tmp_path, "2.yaml", good.replace("table: A", "table: a"))
    write(tmp_path, "3.yaml", "source: s\ntable: C\n" + CASE.replace("case,", "cas,"))
    write(tmp_path, "4.yaml", "source: [")
    with pytest.raises(ConfigError) as caught:
        load_mappings([tmp_path, tmp_path / "missing.yaml"])
    found = caught.value.problems
    assert f"{tmp_path / 'missing.yaml'}: no such file or directory" in found
    assert f"{tmp_path / '2.yaml'}: source 's' table 'a' is already mapped by {tmp_path / '1.yaml'}" in found
    assert any(p.startswith(f"{tmp_path / '3.yaml'}: targets[0].entity: unknown entity 'cas'") for p in found)
    assert any(p.startswith(f"{tmp_path / '4.yaml'}: line 1") for p in found)
    assert len(found) == 4


def test_every_shipped_mapping_loads() -> None:
    files = sorted(CONFIG_MAPPINGS.glob("*.yaml"))
    assert len(files) >= 3
    ms = load_mappings([CONFIG_MAPPINGS])
    assert len(ms) == len(files)
    custmast: TableMapping = ms.for_table("ibmi", "CUSTMAST")[0]
    assert [t.entity for t in custmast.targets] == ["customer", "credit"]
    assert [t.entity for t in ms.for_table("ibmi", "ORDHDR")[0].targets] == ["order"]
    export = ms.for_table("exports", "custexp")[0]
    phones = next(f for f in export.targets[0].fields if f.name == "phones")
    assert isinstance(phones, ListMap) and len(phones.elements) == 2
