"""Dead letters: parsing the three bodies, ids, filters, top reasons; `crmhub load` then `crmhub dlq list|show`."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from hub.cli import app
from hub.cli import commands as cli_commands  # noqa: F401  (registers the commands)
from hub.runtime.dlq_read import (
    DEAD_ROW,
    OUTBOX,
    TOPIC,
    DeadLetter,
    decode_body,
    parse,
    parse_id,
    reason_pattern,
    select,
    top_reasons,
)
from tests.unit.test_canonicalize import event, row, run

# --- pure parts ----------------------------------------------------------------------------------------------


def rejected_body() -> dict[str, object]:
    [rejected] = [r for r in run(event("u", after=row(CRSTAT="Q"))).rejected if r.entity == "customer"]
    return rejected.to_json()


def test_a_mapping_reject_is_parsed_with_source_table_key_rule_and_reason() -> None:
    letter = parse(OUTBOX, "outbox/3", "dlq.canon", "ibmi/104711", rejected_body())
    assert (letter.where, letter.source, letter.table, letter.key, letter.rule) == (
        OUTBOX, "ibmi", "CUSTMAST", "104711", "transform:code")
    assert "unknown code 'Q'" in letter.reason
    assert letter.body["original"]["after"]["CRSTAT"] == "Q"


def test_a_connector_dead_row_and_an_undecodable_event_are_parsed() -> None:
    dead = parse(TOPIC, "dlq.ibmi/0/4", "dlq.ibmi", None,
                 {"connector": "ibmi", "table": "CUSTMAST", "reason": "bad packed decimal", "position": {"seq": 9},
                  "record": {"CUSNO": "x"}})
    assert (dead.source, dead.table, dead.key, dead.rule, dead.reason) == (
        "ibmi", "CUSTMAST", "seq=9", DEAD_ROW, "bad packed decimal")
    undecodable = parse(TOPIC, "dlq.canon/0/5", "dlq.canon", "k",
                        {"reason": "unknown schema id 7", "rule": "decode", "topic": "src.ar.AR_CUSTOMERS",
                         "partition": 0, "offset": 3, "value_hex": "00"})
    assert (undecodable.source, undecodable.table, undecodable.key, undecodable.rule) == (
        "ar", "AR_CUSTOMERS", "k", "decode")
    odd = parse(TOPIC, "dlq.canon/0/6", "dlq.canon", None, decode_body(b"\xff not json"))
    assert odd.reason == "(no reason given)" and odd.body == {"value_hex": b"\xff not json".hex()}


def test_ids_round_trip_and_bad_ones_say_what_an_id_is() -> None:
    assert parse_id("outbox/17").row == 17 and parse_id("outbox/17").where == OUTBOX
    ident = parse_id("dlq.canon/2/40")
    assert (ident.where, ident.topic, ident.partition, ident.offset) == (TOPIC, "dlq.canon", 2, 40)
    for bad in ("17", "outbox/x", "dlq.canon/1", "/0/1", "a/b/c"):
        with pytest.raises(ValueError, match="not a dead-letter id"):
            parse_id(bad)


def letter(source: str, table: str, rule: str, reason: str = "r") -> DeadLetter:
    return DeadLetter(f"outbox/{source}{table}{rule}", OUTBOX, "dlq.canon", source, table, "1", rule, reason, {})


def test_filters_by_source_table_and_rule_or_rule_kind() -> None:
    letters = [letter("ibmi", "CUSTMAST", "transform:code"), letter("ar", "AR_CUSTOMERS", "transform:email"),
               letter("ar", "AR_CUSTOMERS", "required:org_name")]
    assert select(letters, source="ar") == letters[1:]
    assert select(letters, table="custmast") == letters[:1]
    assert select(letters, rule="transform") == letters[:2]
    assert select(letters, rule="transform:email") == letters[1:2]
    assert select(letters, source="ar", rule="required") == letters[2:]
    assert select(letters, rule="trans") == []


def test_reason_pattern_masks_values_so_one_problem_counts_once() -> None:
    assert reason_pattern("birth_date: yyyymmdd: '19660091' is not a valid date") == (
        "birth_date: yyyymmdd: '…' is not a valid date")
    assert reason_pattern("range:credit_limit: credit_limit -10.00 is below 0") == (
        "range:credit_limit: credit_limit # is below #")
    assert reason_pattern("emails[0].address: email: \"x@y\" is no address; AGT07") == (
        "emails[#].address: email: '…' is no address; AGT07")


def test_top_reasons_counts_per_reason_most_first() -> None:
    counts = Counter({("transform:code", "a"): 2, ("required:x", "b"): 5, ("transform:code", "c"): 2,
                      ("schema", "d"): 1})
    assert top_reasons(counts, 3) == [(5, "required:x", "b"), (2, "transform:code", "a"), (2, "transform:code", "c")]
    assert top_reasons(Counter()) == []


# --- `crmhub load` then `crmhub dlq list|show` ---------------------------------------------------------------

MAPPING = """
source: crm
table: PEOPLE
key: [ID]
targets:
  - entity: customer
    fields:
      given_name: {from: FIRST, transforms: [trim, title]}
      family_name: {from: LAST, transforms: [trim, title]}
      birth_date: {from: DOB, transforms: [yyyymmdd]}
      account_status: {from: STATUS, transforms: [{code: {A: ACTIVE, I: INACTIVE}}], on_error: reject}
    rules:
      - {rule: required, field: family_name}
"""
PEOPLE = [(1, "JOHN", "SMITH", "19800102", "A"), (2, "MARY", "JONES", "19660091", "A"),  # impossible date: nulled
          (3, "ANNA", "", "19900304", "A"),  # no family name: rejected
          (4, "PETER", "NOVAK", "19700101", "Q"), (5, "EVA", "BERG", "19750505", "X")]  # unknown codes: rejected


def _config(tmp: Path) -> Path:
    with sqlite3.connect(tmp / "a.db") as db:
        db.execute("CREATE TABLE PEOPLE (ID INTEGER PRIMARY KEY, FIRST TEXT, LAST TEXT, DOB TEXT, STATUS TEXT)")
        db.executemany("INSERT INTO PEOPLE VALUES (?, ?, ?, ?, ?)", PEOPLE)
    (tmp / "maps").mkdir()
    (tmp / "maps" / "crm.yaml").write_text(MAPPING)
    path = tmp / "hub.yaml"
    path.write_text(f"""\
kafka: {{bootstrap_servers: "127.0.0.1:1"}}
connectors:
  - kind: sql
    name: crm
    url: sqlite:///{tmp / 'a.db'}
    state_dir: {tmp / 'state'}
    tables: [{{name: PEOPLE, mode: incrementing, incrementing_column: ID}}]
pipelines:
  mappings: [{tmp / 'maps'}]
  store: {{url: 'sqlite:///{tmp / 'store.db'}'}}
""")
    return path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def lines_with(output: str, text: str) -> list[str]:
    return [line for line in output.splitlines() if text in line]


@pytest.fixture()
def loaded(tmp_path: Path) -> tuple[Path, Result]:
    config = _config(tmp_path)
    return config, invoke("load", "-c", str(config))


def test_load_prints_the_top_reasons_and_the_warnings(loaded: tuple[Path, Result]) -> None:
    _, result = loaded
    assert result.exit_code == 0, result.output
    summary = next(line for line in result.output.splitlines() if line.startswith("│"))
    assert [c.strip() for c in summary.strip("│").split("│")][:5] == ["5", "2", "2", "0", "3"]
    assert "top reasons of rejects" in result.output
    [codes] = lines_with(result.output, "transform:code")
    assert codes.split("│")[1].strip() == "2" and "unknown code '…'" in codes
    [required] = lines_with(result.output, "required:family_name")
    assert required.split("│")[1].strip() == "1"
    assert "warnings on records kept: 1 (transform:yyyymmdd 1)" in result.output


def test_dlq_list_shows_the_rejects_waiting_in_the_outbox(loaded: tuple[Path, Result]) -> None:
    config, _ = loaded
    result = invoke("dlq", "list", "-c", str(config), "--from", "outbox")
    assert result.exit_code == 0, result.output
    assert "3 of 3 rejected record(s)" in result.output
    [anna] = lines_with(result.output, "required:family_name")
    assert "outbox" in anna and "crm" in anna and "PEOPLE" in anna and "family_name is required" in anna
    [peter] = lines_with(result.output, "unknown code 'Q'")
    assert "│ 4 " in peter
    assert "19660091" not in result.output  # the impossible birth date was nulled, not rejected

    only = invoke("dlq", "list", "-c", str(config), "--from", "outbox", "--rule", "transform", "--limit", "1")
    assert "1 of 2 rejected record(s)" in only.output and "unknown code 'X'" in only.output  # the last one
    assert "0 of 0" in invoke("dlq", "list", "-c", str(config), "--from", "outbox", "--source", "erp").output
    assert "3 of 3" in invoke("dlq", "list", "-c", str(config), "--from", "outbox", "--table", "people").output


def test_dlq_show_prints_one_reject_whole(loaded: tuple[Path, Result]) -> None:
    config, _ = loaded
    listed = invoke("dlq", "list", "-c", str(config), "--from", "outbox", "--rule", "required")
    [line] = lines_with(listed.output, "required:family_name")
    reject_id = line.split("│")[1].strip()
    assert reject_id.startswith("outbox/")
    result = invoke("dlq", "show", reject_id, "-c", str(config))
    assert result.exit_code == 0, result.output
    assert "rule:    required:family_name" in result.output and "reason:  required:family_name" in result.output
    body = json.loads(result.output[result.output.index("{"):])
    assert body["original"]["after"] == {"ID": 3, "FIRST": "ANNA", "LAST": "", "DOB": "19900304", "STATUS": "A"}

    missing = invoke("dlq", "show", "outbox/999", "-c", str(config))
    assert missing.exit_code == 1 and "no dead letter outbox/999" in missing.output
    assert invoke("dlq", "show", "nonsense", "-c", str(config)).exit_code == 2


def test_dlq_list_goes_on_without_kafka_and_says_so(loaded: tuple[Path, Result]) -> None:
    config, _ = loaded
    result = invoke("dlq", "list", "-c", str(config), "--timeout", "0.5")
    assert result.exit_code == 0, result.output
    assert "3 of 3 rejected record(s)" in result.output
    assert "note: the dead-letter topics were not read" in result.output


def test_dlq_list_before_any_load_finds_nothing(tmp_path: Path) -> None:
    config = _config(tmp_path)
    result = invoke("dlq", "list", "-c", str(config), "--from", "outbox")
    assert result.exit_code == 0 and "0 of 0 rejected record(s)" in result.output
    assert not (tmp_path / "store.db").exists()
    assert invoke("dlq", "list", "-c", str(config), "--from", "nowhere").exit_code == 2


def test_values_from_the_source_are_shown_as_text_not_markup() -> None:
    import io

    from rich.console import Console

    from hub.cli.dlq import render
    letter = DeadLetter("outbox/1", OUTBOX, "dlq.canon", "crm", "PEOPLE", "ID=[/b]", "code",
                        "code: unknown code '[/]' and '[red]ACME[/red]'", {})
    out = io.StringIO()
    Console(file=out, width=300).print(render([letter], "t"))  # rich read "[/]" as a closing tag and failed
    assert "ID=[/b]" in out.getvalue() and "'[red]ACME[/red]'" in out.getvalue()
