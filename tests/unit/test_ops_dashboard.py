"""The dashboard's pure parts: the history ring and its series, message decoding and key matching, the schema
diff, and a dead letter's original record turned back into Avro datums."""

from __future__ import annotations

import io
import itertools
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import fastavro
import pytest

from hub.gateway.ops_browse import decode_payload, json_safe, key_matches, schema_diff, schema_fields
from hub.gateway.ops_history import OpsHistory, Ring, sample_of, series
from hub.metrics import bucket_quantile
from hub.runtime.dlq_resend import avro_value, event_datums
from pipelines.canonicalize import json_safe as canon_json_safe
from schemas import wire
from schemas.avro_gen import key_schema, value_schema
from schemas.columns import Column, ColumnType, TableMeta

INF = float("inf")


def test_the_ring_keeps_the_newest_items_in_order() -> None:
    ring: Ring[int] = Ring(3)
    for i in range(5):
        ring.append(i)
    assert ring.items() == [2, 3, 4] and len(ring) == 3
    with pytest.raises(ValueError):
        Ring(0)


def _sample(t: float, events: int, fresh: list[tuple[float, float]], lag: int) -> dict[str, Any]:
    snap = {"connectors": [{"events": events}], "pipelines": [{"extra": {"golden_changed": events // 2}}],
            "lag": {"groups": [{"group": "g", "sum_lag": lag, "max_lag_seconds": lag / 10}]}}
    return sample_of(snap, {"ibmi": fresh}, t)


def test_series_rates_and_quantiles_cover_each_step_and_the_window() -> None:
    b1 = [(0.1, 0.0), (1.0, 0.0), (INF, 0.0)]
    b2 = [(0.1, 10.0), (1.0, 10.0), (INF, 10.0)]  # ten changes under 100 ms
    b3 = [(0.1, 10.0), (1.0, 30.0), (INF, 30.0)]  # then twenty between 100 ms and 1 s
    samples = [_sample(100.0, 0, b1, 5), _sample(102.0, 40, b2, 3), _sample(104.0, 50, b3, 0)]
    out = series(samples, 300, now=104.0)
    assert out["t"] == [102.0, 104.0]
    assert out["events_per_s"] == [20.0, 5.0] and out["golden_per_s"] == [10.0, 2.5]
    fresh = out["freshness"]["ibmi"]
    assert fresh["count"] == [10.0, 20.0]
    assert fresh["p50_s"] == [bucket_quantile([(0.1, 10.0), (1.0, 10.0), (INF, 10.0)], 0.5),
                              bucket_quantile([(0.1, 0.0), (1.0, 20.0), (INF, 20.0)], 0.5)]
    assert out["lag"] == {"g": [3, 0]} and out["lag_s"] == {"g": [0.3, 0.0]}
    whole = out["window_freshness"]["ibmi"]
    assert whole["count"] == 30.0
    assert whole["p99_s"] == bucket_quantile([(0.1, 10.0), (1.0, 30.0), (INF, 30.0)], 0.99)
    assert series(samples, 3, now=104.0)["t"] == [104.0]  # only the samples inside the window


def test_a_long_window_is_thinned_and_keeps_the_newest_point() -> None:
    flat = [(INF, 0.0)]
    samples = [_sample(float(t), t * 3, flat, 0) for t in range(0, 1001)]
    out = series(samples, 5000, now=1000.0, max_points=100)
    assert len(out["t"]) <= 101 and out["t"][-1] == 1000.0
    assert all(r == pytest.approx(3.0) for r in out["events_per_s"])  # the rate survives thinning


def test_a_source_appearing_later_is_padded() -> None:
    s1 = sample_of({"connectors": [{"events": 1}]}, {}, 1.0)
    s2 = sample_of({"connectors": [{"events": 2}]}, {}, 2.0)
    s3 = sample_of({"connectors": [{"events": 3}]}, {"x": [(1.0, 1.0), (INF, 1.0)]}, 3.0)
    out = series([s1, s2, s3], 60, now=3.0)
    assert out["freshness"]["x"]["p50_s"][0] is None and out["freshness"]["x"]["count"] == [0.0, 1.0]


SCHEMA = {"type": "record", "name": "K", "fields": [{"name": "CUSNO", "type": "long"}]}


def _avro(schema_id: int, schema: dict[str, Any], datum: Any) -> bytes:
    buf = io.BytesIO()
    buf.write(wire.header(schema_id))
    fastavro.schemaless_writer(buf, fastavro.parse_schema(schema), datum)
    return buf.getvalue()


def _reader(data: bytes) -> object:
    return fastavro.schemaless_reader(io.BytesIO(data[5:]), fastavro.parse_schema(SCHEMA), None)


def test_payloads_decode_as_avro_json_text_or_hex() -> None:
    assert decode_payload(_avro(7, SCHEMA, {"CUSNO": 104711}), _reader) == \
        {"format": "avro", "schema_id": 7, "value": {"CUSNO": 104711}}
    assert decode_payload(b'{"reason": "x"}', _reader) == {"format": "json", "value": {"reason": "x"}}
    assert decode_payload(b"ibmi", _reader) == {"format": "text", "value": "ibmi"}
    assert decode_payload(b"\xff\xfe", _reader) == {"format": "bytes", "value": "fffe"}
    assert decode_payload(None, _reader) == {"format": "null", "value": None}

    def refuse(_: bytes) -> object:
        raise ValueError("unknown schema id")

    assert decode_payload(b"\x00\x00\x00\x00\x07\xff", refuse)["format"] == "bytes"
    assert json_safe({"d": Decimal("1.50"), "t": date(2026, 1, 2), "b": b"\x01"}) == \
        {"d": "1.50", "t": "2026-01-02", "b": "AQ=="}


def test_a_key_matches_by_value_json_or_field_pairs() -> None:
    one = {"format": "avro", "value": {"CUSNO": 104711}}
    two = {"format": "avro", "value": {"CO": "01", "CUSNO": 104711}}
    assert key_matches(one, "104711") and key_matches(one, '{"CUSNO": 104711}') and key_matches(one, "CUSNO=104711")
    assert not key_matches(one, "104712") and not key_matches(two, "104711")
    assert key_matches(two, "CO=01, CUSNO=104711") and not key_matches(two, "CO=02,CUSNO=104711")
    assert key_matches({"format": "text", "value": "ibmi"}, "ibmi")
    assert not key_matches({"format": "null", "value": None}, "x")


def test_the_schema_diff_names_added_removed_and_changed_fields() -> None:
    old = {"type": "record", "name": "V", "fields": [
        {"name": "after", "type": ["null", {"type": "record", "name": "Row", "fields": [
            {"name": "CUSNO", "type": "long"}, {"name": "CRSTAT", "type": "string"},
            {"name": "FAX", "type": ["null", "string"], "default": None}]}], "default": None}]}
    new = json.loads(json.dumps(old))
    row = new["fields"][0]["type"][1]["fields"]
    row[1]["type"] = ["null", "string"]
    row[1]["default"] = None
    del row[2]
    row.append({"name": "EMAIL", "type": ["null", "string"], "default": None})
    changes, lines = schema_diff(old, new)
    assert [(c.path, c.change) for c in changes] == [("after.CRSTAT", "changed"), ("after.EMAIL", "added"),
                                                     ("after.FAX", "removed")]
    assert changes[0].old == "string" and changes[0].new == "null | string = null"
    assert any(line.startswith("+") and "EMAIL" in line for line in lines)
    assert schema_fields(old)["after"] == "null | Row = null"
    assert schema_diff(old, old) == ([], [])


def _table() -> TableMeta:
    cols = (Column("CUSNO", ColumnType.INT64, nullable=False), Column("NAME", ColumnType.STRING),
            Column("LIMIT", ColumnType.DECIMAL, precision=11, scale=2), Column("CHGTS", ColumnType.TIMESTAMP),
            Column("BORN", ColumnType.DATE))
    return TableMeta(connector="ibmi", db="legacy", schema="LIB", name="CUSTMAST", columns=cols, key=("CUSNO",))


def test_a_dead_letters_original_goes_back_to_the_same_avro_datums() -> None:
    table = _table()
    after = {"CUSNO": 104711, "NAME": "Mueller GmbH", "LIMIT": Decimal("25000.00"),
             "CHGTS": datetime(2026, 12, 1, 12, 0, 32, 250000), "BORN": date(1990, 5, 17)}
    original = {"op": "u", "key": {"CUSNO": 104711}, "before": None, "after": canon_json_safe(after),
                "ts_ms": 1_700_000_000_000,
                "source": {"connector": "sql", "name": "ibmi", "db": "legacy", "schema": "LIB", "table": "CUSTMAST",
                           "ts_ms": 1_700_000_000_000, "snapshot": "false", "position": {"table": "CUSTMAST"},
                           "tx_id": None}}
    ks, vs = key_schema(table), value_schema(table)
    key, value = event_datums(original, ks, vs)
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(vs), value)
    back = fastavro.schemaless_reader(io.BytesIO(buf.getvalue()), fastavro.parse_schema(vs), None)
    assert isinstance(back, dict)
    got = back["after"]
    assert got["CUSNO"] == 104711 and got["NAME"] == "Mueller GmbH" and got["LIMIT"] == Decimal("25000.00")
    assert got["BORN"] == date(1990, 5, 17)
    assert got["CHGTS"].replace(tzinfo=None) == after["CHGTS"] or got["CHGTS"] == after["CHGTS"].replace(tzinfo=UTC)
    assert back["op"] == "u" and back["source"]["name"] == "ibmi" and key == {"CUSNO": 104711}
    assert avro_value(["null", "bytes"], "AQI=") == b"\x01\x02"


def test_the_history_keeps_five_minutes_of_samples_and_an_hour_of_coarser_ones(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("hub.gateway.ops_history.time.time", lambda: clock[0])
    events = [0]

    def snapshot() -> dict[str, Any]:
        events[0] += 30
        return {"connectors": [{"events": events[0]}]}

    history = OpsHistory(snapshot, lambda: (), every_s=2.0, coarse_s=15.0)
    for _ in range(400):  # 800 s of samples
        history.sample()
        clock[0] += 2.0
    clock[0] -= 2.0
    fine, coarse = history.ring.items(), history.coarse.items()
    assert fine[-1]["t"] == clock[0] and clock[0] - fine[0]["t"] >= 300 and len(fine) == history.ring._items.maxlen
    assert all(b["t"] - a["t"] == 14.0 for a, b in itertools.pairwise(coarse))  # every 15 s, on the 2 s grid
    five, hour = history.series("5m"), history.series("1h")
    assert five["t"][-1] == hour["t"][-1] == clock[0]  # the hour's series ends with the newest sample
    assert all(r == pytest.approx(15.0) for r in five["events_per_s"] + hour["events_per_s"])
    assert hour["t"][0] - 1000.0 <= 14.0 + 2.0 and len(hour["t"]) < len(five["t"])
