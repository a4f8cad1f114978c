"""Change events: validation, and the round trip through Avro binary with the generated schemas."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import fastavro
import pytest

from schemas.avro_gen import field_renames, key_schema, renames_from_schema, value_schema
from schemas.columns import Column, ColumnType
from schemas.envelope import ChangeEvent, Op, SourceInfo, from_avro, to_avro, topic_for
from schemas.errors import SkippableError
from tests.factories import make_table

TABLE = make_table()
KEY_SCHEMA = fastavro.parse_schema(key_schema(TABLE))
VALUE_SCHEMA = fastavro.parse_schema(value_schema(TABLE))
RENAMES = field_renames(TABLE)
CET = timezone(timedelta(hours=1))


def source(**changes: Any) -> SourceInfo:
    given: dict[str, Any] = {
        "connector": "db2i", "name": "as400", "db": "S1024A", "schema": "CRMLIB", "table": "CUSTMAST",
        "ts_ms": 1_700_000_000_123, "position": {"receiver": "QSQJRN0042", "sequence": "1234"},
        "tx_id": "0000000000001A2B",
    }
    return SourceInfo(**{**given, **changes})


def row(**changes: Any) -> dict[str, Any]:
    """A full CUSTMAST row keyed by the source's column names."""
    values: dict[str, Any] = {
        "CUST#": Decimal("4711"), "NAME": "Müller   ", "EMAIL": "anna@例え.jp", "NOTE": None,
        "ADDR@1": "Straße 1 · 東京", "CREDIT": Decimal("-123456789.05"), "BORN": date(1901, 12, 13),
        "OPENS": time(7, 30, 0, 250), "CHANGED": datetime(1969, 12, 31, 23, 59, 59, 999999),
        "SEEN_UTC": datetime(2024, 3, 1, 10, 0, 0, 123456, tzinfo=CET), "VIP": True, "ORDERS": -2_147_483_648,
        "LIFETIME": 2**62, "RATING": 2.5, "PHOTO": b"\x00\xff",
    }
    return {**values, **changes}


def event(op: Op, before: dict[str, Any] | None, after: dict[str, Any] | None, **src: Any) -> ChangeEvent:
    return ChangeEvent.create(key={"CUST#": Decimal("4711")}, before=before, after=after, op=op,
                              source=source(**src), ts_ms=1_700_000_000_456)


def through_avro(ev: ChangeEvent, renames: dict[str, str] = RENAMES) -> tuple[Any, Any]:
    """Encode key and value with the generated schemas and decode them again, as Kafka would carry them."""
    key_datum, value_datum = to_avro(ev, renames)
    decoded = []
    for schema, datum in ((KEY_SCHEMA, key_datum), (VALUE_SCHEMA, value_datum)):
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, schema, datum)
        buf.seek(0)
        decoded.append(fastavro.schemaless_reader(buf, schema, schema))
    return decoded[0], decoded[1]


ROUND_TRIP_EVENTS = {
    "create": lambda: event(Op.CREATE, None, row()),
    "read": lambda: event(Op.READ, None, row(CREDIT=Decimal("0.00")), snapshot="last", tx_id=None),
    "update": lambda: event(Op.UPDATE, row(), row(CREDIT=Decimal("999999999.99"), EMAIL=None, VIP=False)),
    "update-without-before": lambda: event(Op.UPDATE, None, row(NOTE="x" * 1000)),
    "delete": lambda: event(Op.DELETE, row(BORN=None, OPENS=None, SEEN_UTC=None), None, schema=None),
}


@pytest.mark.parametrize("build", ROUND_TRIP_EVENTS.values(), ids=ROUND_TRIP_EVENTS.keys())
def test_round_trip_through_avro_binary(build: Any) -> None:
    original: ChangeEvent = build()
    assert from_avro(*through_avro(original), renames=RENAMES) == original


def test_round_trip_keeps_decimal_scale_and_value_types() -> None:
    _, value = through_avro(event(Op.CREATE, None, row(CREDIT=Decimal("-0.50"))))
    back = from_avro(None, value, RENAMES).after
    assert back is not None
    assert back["CREDIT"].as_tuple() == Decimal("-0.50").as_tuple()
    assert back["CUST#"].as_tuple().exponent == 0
    assert back["CHANGED"].tzinfo is None  # wall-clock TIMESTAMP stays naive
    assert back["SEEN_UTC"].utcoffset() == timedelta(0)  # TIMESTAMP_TZ comes back in UTC, same instant
    assert back["SEEN_UTC"] == row()["SEEN_UTC"]


def test_datums_use_avro_field_names_and_the_source_block() -> None:
    key_datum, value_datum = to_avro(event(Op.CREATE, None, row()), RENAMES)
    assert key_datum == {"CUST_": Decimal("4711")}
    assert value_datum["after"]["ADDR_1"] == "Straße 1 · 東京"
    assert "ADDR@1" not in value_datum["after"]
    assert value_datum["op"] == "c"
    assert value_datum["source"]["position"] == {"receiver": "QSQJRN0042", "sequence": "1234"}


def test_consumer_recovers_column_names_from_the_writer_schema() -> None:
    original = event(Op.CREATE, None, row())
    key, value = through_avro(original)
    assert from_avro(key, value, renames_from_schema(value_schema(TABLE))) == original


def test_event_without_key_has_a_null_kafka_key() -> None:
    ev = ChangeEvent.create(key={}, before=None, after={"X": 1}, op="c", source=source(), ts_ms=1)
    key_datum, value_datum = to_avro(ev)
    assert key_datum is None
    assert from_avro(None, value_datum) == ev


# ---- validation ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("op", "key", "before", "after"),
    [
        ("c", {"K": 1}, None, None),
        ("r", {"K": 1}, None, None),
        ("u", {"K": 1}, {"K": 1}, None),
        ("c", {"K": 1}, {"K": 1}, {"K": 1}),
        ("r", {"K": 1}, {"K": 1}, {"K": 1}),
        ("d", {}, None, None),
        ("d", {"K": 1}, {"K": 1}, {"K": 1}),
        ("x", {"K": 1}, None, {"K": 1}),
    ],
)
def test_invalid_events_are_skippable(op: str, key: dict[str, Any], before: Any, after: Any) -> None:
    with pytest.raises(SkippableError) as err:
        ChangeEvent.create(key=key, before=before, after=after, op=op, source=source(), ts_ms=1)
    assert err.value.reason
    assert isinstance(err.value.record, dict) and err.value.record["op"] == op


@pytest.mark.parametrize(
    ("op", "key", "before", "after"),
    [("c", {"K": 1}, None, {"K": 1}), ("u", {"K": 1}, None, {"K": 1}), ("d", {"K": 1}, None, None),
     ("d", {}, {"K": 1}, None), ("r", {}, None, {"K": 1})],
)
def test_valid_events(op: str, key: dict[str, Any], before: Any, after: Any) -> None:
    ev = ChangeEvent.create(key=key, before=before, after=after, op=op, source=source(), ts_ms=1)
    assert ev.op is Op(op)


def test_negative_ts_is_rejected() -> None:
    with pytest.raises(SkippableError, match="ts_ms"):
        ChangeEvent.create(key={"K": 1}, before=None, after={"K": 1}, op=Op.CREATE, source=source(), ts_ms=-1)


@pytest.mark.parametrize(
    "changes",
    [{"snapshot": "yes"}, {"position": {"scn": 42}}, {"ts_ms": -5}, {"ts_ms": True}, {"table": None}],
)
def test_invalid_source_info_is_skippable(changes: dict[str, Any]) -> None:
    with pytest.raises(SkippableError):
        source(**changes)


def test_source_position_is_a_read_only_copy() -> None:
    given = {"lsn": "0000002A:00000100:0001"}
    info = source(position=given)
    given["lsn"] = "changed"
    assert info.position == {"lsn": "0000002A:00000100:0001"}
    with pytest.raises(TypeError):
        info.position["lsn"] = "x"  # type: ignore[index]
    assert hash(info) == hash(source(position={"other": "position"}))


def test_malformed_datum_is_skippable() -> None:
    _, value = to_avro(event(Op.CREATE, None, row()), RENAMES)
    del value["source"]
    with pytest.raises(SkippableError, match="not a change-event datum"):
        from_avro(None, value)


def test_datum_breaking_the_rules_is_skippable() -> None:
    _, value = to_avro(event(Op.CREATE, None, row()), RENAMES)
    value["after"] = None
    with pytest.raises(SkippableError, match="after"):
        from_avro(None, value)


# ---- topics -------------------------------------------------------------------------------------------

def test_topic_is_prefix_connector_table_in_lower_case() -> None:
    assert topic_for(TABLE) == "src.as400.custmast"
    assert topic_for(TABLE, include_schema=True) == "src.as400.crmlib.custmast"
    assert topic_for(TABLE, prefix="test") == "test.as400.custmast"


def test_topic_replaces_characters_kafka_rejects() -> None:
    table = make_table((Column("X", ColumnType.STRING),), connector="ERP 400", schema=None, name="ORD#HDR")
    assert topic_for(table, include_schema=True) == "src.erp_400.ord_hdr"
