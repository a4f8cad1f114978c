"""canonicalize: change events -> canonical events and rejections, target by target."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from textwrap import dedent
from typing import Any

from pipelines.canonicalize import CanonResult, Rejected, canonicalize, json_safe, rule_counts
from pipelines.mapping import MappingSet, load_mappings, parse_mapping
from schemas.canonical import CanonicalEvent, make_version
from schemas.envelope import ChangeEvent, SourceInfo

CONFIG_MAPPINGS = Path(__file__).resolve().parents[2] / "config" / "mappings"

MAPPING = """\
source: ibmi
table: CUSTMAST
key: [CUSNO]
targets:
  - entity: customer
    fields:
      kind: organisation
      org_name: {from: CUSNAM, transforms: [trim, title]}
      credit_status: {from: CRSTAT, transforms: [trim, {code: {A: OK, H: HOLD, F: FROZEN}}], on_error: reject}
      credit_limit: {from: CRLIMIT}
      owning_agent: {from: AGENT}
    rules:
      - {rule: required, field: org_name}
      - {rule: range, field: credit_limit, min: 0}
      - {rule: check, name: frozen-needs-agent, expr: "credit_status != 'FROZEN' or owning_agent", level: warning}
  - entity: credit
    when: "CRSTAT != 'X'"
    fields:
      customer_key: {from: CUSNO, transforms: [string]}
      status: {from: CRSTAT, transforms: [trim, {code: {map: {A: OK, H: HOLD, F: FROZEN}, default: UNKNOWN}}]}
      limit: {from: CRLIMIT}
"""


def mappings(text: str = MAPPING) -> MappingSet:
    return MappingSet([parse_mapping(dedent(text), "m.yaml")])


def row(**changes: Any) -> dict[str, Any]:
    base = {"CUSNO": Decimal("104711"), "CUSNAM": "MUELLER GMBH  ", "CRSTAT": "A", "CRLIMIT": Decimal("25000.00"),
            "AGENT": "AGT07"}
    return {**base, **changes}


def event(op: str = "u", after: dict[str, Any] | None = None, before: dict[str, Any] | None = None,
          key: dict[str, Any] | None = None, table: str = "CUSTMAST", name: str = "ibmi") -> ChangeEvent:
    source = SourceInfo(connector="sql", name=name, db="legacy", schema="LIB", table=table, ts_ms=1_700_000_000_000,
                        position={"seq": "42"})
    if key is None:
        key = {"CUSNO": (after or before or {}).get("CUSNO")}
    return ChangeEvent.create(key=key, before=before, after=after, op=op, source=source, ts_ms=1_700_000_000_500)


def run(ev: ChangeEvent, ms: MappingSet | None = None) -> CanonResult:
    return canonicalize(ms or mappings(), ev, partition=2, offset=17, topic="src.ibmi.custmast", now_ms=99)


def test_upsert_maps_every_target_with_event_metadata() -> None:
    result = run(event("u", after=row()))
    assert result.rejected == []
    customer, credit = result.events
    assert (customer.entity, customer.op, customer.source, customer.table, customer.source_key) == (
        "customer", "upsert", "ibmi", "CUSTMAST", "104711")
    assert customer.version == make_version(1_700_000_000_000, 2, 17)
    assert customer.origin == "src.ibmi.custmast/2/17"
    assert (customer.source_ts_ms, customer.ts_ms) == (1_700_000_000_000, 99)
    assert customer.data is not None
    assert customer.data["org_name"] == "Mueller GmbH" and customer.data["credit_status"] == "OK"
    assert customer.data["credit_limit"] == Decimal("25000.00") and customer.data["phones"] == []
    assert customer.warnings == ()
    assert credit.entity == "credit" and credit.data == {
        "customer_source": None, "customer_key": "104711", "status": "OK", "limit": Decimal("25000.00"),
        "currency": None, "reason": None, "changed_at_ms": None}


def test_creates_and_snapshot_reads_are_upserts() -> None:
    for op in ("c", "r"):
        assert {e.op for e in run(event(op, after=row())).events} == {"upsert"}


def test_a_snapshot_read_is_marked_as_one() -> None:
    assert {e.snapshot for e in run(event("r", after=row())).events} == {True}
    assert {e.snapshot for e in run(event("u", after=row())).events} == {False}
    read = run(event("r", after=row())).events[0]
    assert CanonicalEvent.from_avro(read.to_avro()) == read


def test_warning_rules_ride_on_the_event() -> None:
    customer = run(event("u", after=row(CRSTAT="F", AGENT=None))).events[0]
    [warning] = customer.warnings
    assert (warning.rule, warning.field) == ("frozen-needs-agent", None)
    assert warning.message.startswith("check failed")


def test_a_failing_transform_rejects_only_that_target() -> None:
    result = run(event("u", after=row(CRSTAT="Q")))
    assert [e.entity for e in result.events] == ["credit"]  # credit's code table has a default
    assert result.events[0].data is not None and result.events[0].data["status"] == "UNKNOWN"
    [rejected] = result.rejected
    assert (rejected.entity, rejected.rule, rejected.field, rejected.level) == (
        "customer", "transform:code", "credit_status", "error")
    assert rejected.values == {"CRSTAT": "Q"}
    assert "unknown code 'Q'" in rejected.reason
    assert (rejected.source, rejected.table, rejected.source_key) == ("ibmi", "CUSTMAST", "104711")


def test_schema_problems_reject_with_rule_schema() -> None:
    ms = mappings(MAPPING.replace("credit_limit: {from: CRLIMIT}", "credit_limit: {from: CRLIMIT, on_error: reject}"))
    result = run(event("u", after=row(CRLIMIT="lots")), ms)
    [customer] = result.rejected
    assert (customer.entity, customer.rule, customer.field) == ("customer", "schema", "credit_limit")
    assert customer.values == {"credit_limit": "lots"}
    assert "expected a number" in customer.reason


def test_schema_problems_on_an_optional_field_set_it_to_null() -> None:
    result = run(event("u", after=row(CRLIMIT="lots")))
    assert result.rejected == []
    customer, credit = result.events
    assert customer.data is not None and customer.data["credit_limit"] is None
    assert credit.data is not None and credit.data["limit"] is None
    [warning] = customer.warnings
    assert (warning.rule, warning.field) == ("schema", "credit_limit")
    assert "expected a number" in warning.message and "set to null" in warning.message


def test_error_rules_reject_and_report_every_failure() -> None:
    result = run(event("u", after=row(CUSNAM="  ", CRLIMIT=Decimal("-5"))))
    customer = next(r for r in result.rejected if r.entity == "customer")
    assert (customer.rule, customer.field) == ("required:org_name", "org_name")
    assert "range:credit_limit" in customer.reason and "org_name is required" in customer.reason
    assert customer.values == {"org_name": "", "credit_limit": Decimal("-5.00")}
    assert [e.entity for e in result.events] == ["credit"]


def test_delete_carries_the_mapped_before_image() -> None:
    result = run(event("d", before=row()))
    assert result.rejected == []
    assert [(e.entity, e.op) for e in result.events] == [("customer", "delete"), ("credit", "delete")]
    assert result.events[0].data is not None and result.events[0].data["org_name"] == "Mueller GmbH"


def test_delete_without_before_has_no_data_and_skips_rules() -> None:
    result = run(event("d", before=None, key={"CUSNO": 104711}))
    assert [(e.entity, e.source_key, e.data) for e in result.events] == [
        ("customer", "104711", None), ("credit", "104711", None)]
    bad = run(event("d", before=row(CUSNAM="", CRSTAT="Q")))  # rules do not apply to deletes
    assert bad.rejected == []
    assert bad.events[0].data is None  # the before image does not map: no data, still a delete


def test_update_that_leaves_a_target_deletes_it() -> None:
    result = run(event("u", before=row(), after=row(CRSTAT="X")))
    assert [(e.entity, e.op) for e in result.events if e.entity == "credit"] == [("credit", "delete")]
    assert run(event("c", after=row(CRSTAT="X"))).events == []  # customer rejected, credit not applicable


def test_missing_key_is_a_rejection() -> None:
    result = run(event("c", after=row(CUSNO=None), key={"CUSNO": None}))
    assert result.events == []
    assert {(r.rule, r.source_key) for r in result.rejected} == {("key", "")}


def test_event_key_is_used_without_key_columns() -> None:
    ms = mappings(MAPPING.replace("key: [CUSNO]\n", ""))
    result = run(event("c", after=row(), key={"LIB": "A", "NO": 7}), ms)
    assert {e.source_key for e in result.events} == {"A|7"}


def test_tables_without_mapping_give_nothing() -> None:
    assert run(event("c", after=row(), table="OTHER")) == CanonResult()
    assert run(event("c", after=row(), name="oracle")) == CanonResult()
    assert run(event("c", after=row(), table="custmast")).events  # table names match case-insensitively


def test_rejected_to_json_is_json_safe_and_keeps_the_original() -> None:
    after = row(CRSTAT="Q", CHGTS=datetime(2024, 1, 2, 3, 4, 5), BLOB=b"\x00\xff", T=time(1, 2), D=date(2024, 1, 1))
    rejected: Rejected = run(event("c", after=after)).rejected[0]
    body = rejected.to_json()
    text = json.dumps(body)
    assert json.loads(text) == body
    assert body["rule"] == "transform:code" and body["values"] == {"CRSTAT": "Q"}
    original = body["original"]
    assert original["op"] == "c" and original["before"] is None and original["key"] == {"CUSNO": "104711"}
    assert original["after"]["CHGTS"] == "2024-01-02T03:04:05" and original["after"]["BLOB"] == "AP8="
    assert original["after"]["T"] == "01:02:00" and original["after"]["CRLIMIT"] == "25000.00"
    assert original["source"]["position"] == {"seq": "42"} and original["source"]["schema"] == "LIB"
    assert original["ts_ms"] == 1_700_000_000_500


def test_json_safe() -> None:
    assert json_safe({"a": [Decimal("1.5"), {"b": date(2020, 1, 1)}], 1: object}) == {
        "a": ["1.5", {"b": "2020-01-01"}], "1": str(object)}


def test_rule_counts_counts_rejections_and_warnings() -> None:
    results = [run(event("u", after=row(CRSTAT="F", AGENT=None))), run(event("u", after=row(CRSTAT="Q"))),
               run(event("u", after=row(CRSTAT="Q")))]
    counts = rule_counts(results)
    assert counts == {("ibmi", "CUSTMAST", "frozen-needs-agent", "warning"): 1,
                      ("ibmi", "CUSTMAST", "transform:code", "error"): 2}
    assert rule_counts(results[1]) == {("ibmi", "CUSTMAST", "transform:code", "error"): 1}


def test_shipped_demo_mappings_map_the_demo_rows() -> None:
    ms = load_mappings([CONFIG_MAPPINGS])
    custmast = row(CNTRY="DE", CHGTS=datetime(2026, 11, 20, 8, 15))
    result = canonicalize(ms, event("r", after=custmast), partition=0, offset=1, topic="src.ibmi.custmast", now_ms=1)
    assert result.rejected == []
    customer, credit = result.events
    assert customer.data is not None and customer.data["addresses"][0]["country"] == "DE"
    assert credit.data is not None and credit.data["customer_source"] == "ibmi"
    assert credit.data["changed_at_ms"] == 1795162500000
    export_row = {"cus_no": 104712, "cus_name": "DUPONT SARL", "balance": Decimal("-120.00"), "overdue_days": 12,
                  "phones_1_phone": "+33 1 44556677", "phones_2_phone": ""}
    exported = canonicalize(ms, event("r", after=export_row, key={"cus_no": 104712}, name="exports",
                                      table="custexp"), partition=0, offset=2, topic="src.exports.custexp", now_ms=1)
    [cust] = exported.events
    assert cust.data is not None and cust.data["org_name"] == "Dupont SARL"
    assert cust.data["phones"] == [{"type": "main", "number": "+33144556677"}]
    assert cust.data["xrefs"] == [{"source": "ibmi", "key": "104712"}]
    order_row = {"ORDNO": 500001, "CUSNO": Decimal("104711"), "ORDSTS": "O", "ORDAMT": Decimal("1250.40"),
                 "ORDDAT": date(2026, 11, 20)}
    [order] = canonicalize(ms, event("c", after=order_row, key={"ORDNO": 500001}, table="ORDHDR"), partition=0,
                           offset=3, topic="src.ibmi.ordhdr", now_ms=1).events
    assert order.data is not None
    assert (order.data["status"], order.data["open_amount"], order.data["customer_key"]) == (
        "OPEN", Decimal("1250.40"), "104711")
