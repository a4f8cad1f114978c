"""The compiled codec (cavro) writes the bytes fastavro writes and reads the values fastavro reads, on every
schema crmhub writes and on random values of every column type; values it refuses, and schemas where the two
libraries could differ, are left to fastavro."""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import Decimal
from typing import Any

import fastavro
import pytest

from hub.registry.codec import compile_schema
from hub.registry.serde import AvroSerde
from schemas import wire
from schemas.avro_gen import key_schema, value_schema
from schemas.canonical import event_schema
from schemas.columns import Column, ColumnType, TableMeta
from schemas.errors import SkippableError
from schemas.unified import SCHEMAS
from tests.factories import MemoryRegistry

UTC = dt.UTC
TABLE = TableMeta("erp", "legacy", "LIB", "EVERY", (
    Column("ID", ColumnType.INT64, nullable=False, primary_key=True),
    *(Column(f"C_{t.name}", t, precision=9 if t is ColumnType.DECIMAL else None,
             scale=2 if t is ColumnType.DECIMAL else None) for t in ColumnType),
    Column("AMOUNT0", ColumnType.DECIMAL, nullable=False, precision=5, scale=0),
))


def fastavro_bytes(schema: Any, datum: Any) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(schema), datum)
    return buf.getvalue()


def fastavro_value(schema: Any, data: bytes) -> Any:
    return fastavro.schemaless_reader(io.BytesIO(data), fastavro.parse_schema(schema), None)


def random_value(rng: random.Random, column: Column) -> Any:
    if column.nullable and rng.random() < 0.2:
        return None
    t = column.type
    if t in (ColumnType.STRING, ColumnType.CHAR):
        return "".join(rng.choice("aZ09 äß€\u4e2d") for _ in range(rng.randint(0, 12)))
    if t in (ColumnType.INT16, ColumnType.INT32):
        return rng.randint(-(2**31), 2**31 - 1)
    if t is ColumnType.INT64:
        return rng.randint(-(2**63), 2**63 - 1)
    if t in (ColumnType.FLOAT32, ColumnType.FLOAT64):
        return rng.choice([rng.uniform(-1e9, 1e9), 0.0, -0.0, float("inf"), 1.5])
    if t is ColumnType.DECIMAL:
        scale = column.scale or 0
        digits = rng.randint(1, (column.precision or 1))
        unscaled = rng.randint(-(10**digits - 1), 10**digits - 1)
        return Decimal(unscaled).scaleb(-scale)
    if t is ColumnType.BOOLEAN:
        return rng.random() < 0.5
    if t is ColumnType.BYTES:
        return rng.randbytes(rng.randint(0, 10))
    moment = dt.datetime(1900, 1, 1) + dt.timedelta(microseconds=rng.randint(0, 200 * 365 * 86400 * 10**6))
    if t is ColumnType.DATE:
        return moment.date()
    if t is ColumnType.TIME:
        return moment.time()
    if t is ColumnType.TIMESTAMP:
        return moment
    return moment.replace(tzinfo=UTC)


def random_event(rng: random.Random) -> dict[str, Any]:
    def row() -> dict[str, Any]:
        return {c.name: random_value(rng, c) for c in TABLE.columns}

    return {"before": row() if rng.random() < 0.5 else None, "after": row(), "op": rng.choice("cudr"),
            "ts_ms": rng.randint(0, 2**41),
            "source": {"connector": "sql", "name": "erp", "db": "legacy", "schema": "LIB", "table": "EVERY",
                       "ts_ms": rng.randint(0, 2**41), "snapshot": "false", "position": {"id": "1"}, "tx_id": None}}


CANONICAL_CUSTOMER = {
    "entity": "customer", "source": "ibmi", "table": "CUSTMAST", "source_key": "200017", "op": "upsert",
    "version": "v1", "source_ts_ms": 1, "ts_ms": 2, "origin": "src.ibmi.custmast/0/7", "warnings": [],
    "data": {"kind": "person", "given_name": "Jürgen", "family_name": "Berger", "birth_date": dt.date(1957, 4, 23),
             "credit_limit": Decimal("2200.00"), "addresses": [{"type": "main", "city": "Köln", "country": "DE"}],
             "phones": [{"type": "mobile", "number": "+49 171 2014"}], "emails": []},
}


@pytest.mark.parametrize("schema", [
    value_schema(TABLE), key_schema(TABLE), *(event_schema(e) for e in ("customer", "credit", "order",
                                                                        "inventory", "case")),
    *(make() for make in SCHEMAS.values()),
], ids=lambda s: str(s.get("name")))
def test_every_schema_crmhub_writes_is_compiled(schema: dict[str, Any]) -> None:
    assert compile_schema(schema) is not None


@pytest.mark.parametrize("seed", range(40))
def test_random_rows_of_every_column_type_give_fastavros_bytes_and_values(seed: int) -> None:
    schema = value_schema(TABLE)
    codec = compile_schema(schema)
    datum = random_event(random.Random(seed))
    data = codec.binary_encode(datum)
    assert data == fastavro_bytes(schema, datum)
    decoded = codec.binary_decode(data)
    expected = fastavro_value(schema, data)
    assert decoded == expected
    for image in ("before", "after"):  # the same Python types too (a date is no datetime, a Decimal no float)
        for name, value in (expected[image] or {}).items():
            assert type(decoded[image][name]) is type(value), name


def test_a_canonical_event_through_the_serde_is_fastavros_and_reads_back_alike() -> None:
    schema = event_schema("customer")
    serde = AvroSerde(MemoryRegistry())  # type: ignore[arg-type]
    encoded = serde.serialize("canon.customer", schema, CANONICAL_CUSTOMER)
    assert wire.split(encoded)[1] == fastavro_bytes(schema, CANONICAL_CUSTOMER)
    back = serde.deserialize(memoryview(encoded))  # what the consumer hands over
    assert back == fastavro_value(schema, bytes(wire.split(encoded)[1]))
    assert back["data"]["birth_date"] == dt.date(1957, 4, 23)
    assert back["data"]["credit_limit"] == Decimal("2200.00")


@pytest.mark.parametrize("schema", [
    {"type": "record", "name": "R", "fields": [{"name": "x", "type": ["int", "string"]}]},  # a choice to make
    {"type": "record", "name": "R", "fields": [{"name": "x", "type": ["null", "long", "double"]}]},
    {"type": "record", "name": "R", "fields": [{"name": "x", "type": {"type": "string", "logicalType": "uuid"}}]},
    {"type": "record", "name": "R", "fields": [{"name": "x", "type": {"type": "long", "logicalType": "mine"}}]},
])
def test_schemas_where_the_libraries_could_differ_are_left_to_fastavro(schema: dict[str, Any]) -> None:
    assert compile_schema(schema) is None


RECORD = {"type": "record", "name": "R", "fields": [
    {"name": "name", "type": ["null", "string"]},  # no default
    {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 5, "scale": 2}},
]}


def test_a_value_cavro_refuses_is_written_by_fastavro() -> None:
    """A missing field without a default: fastavro writes null, cavro refuses; the serde writes fastavro's."""
    datum = {"amount": Decimal("1.50")}
    with pytest.raises(ValueError, match="missing"):
        compile_schema(RECORD).binary_encode(datum)
    serde = AvroSerde(MemoryRegistry())  # type: ignore[arg-type]
    assert wire.split(serde.serialize("t", RECORD, datum))[1] == fastavro_bytes(RECORD, datum)


@pytest.mark.parametrize("amount", [7, 1.5, "1.50", Decimal("1.505"), Decimal("12345.00")])
def test_a_value_neither_library_writes_is_still_a_skippable_error(amount: Any) -> None:
    """A decimal field given a non-Decimal, more decimals than its scale or more digits than its precision."""
    serde = AvroSerde(MemoryRegistry())  # type: ignore[arg-type]
    try:
        expected: bytes | None = fastavro_bytes(RECORD, {"name": None, "amount": amount})
    except (ValueError, TypeError, AttributeError):
        expected = None
    if expected is None:
        with pytest.raises(SkippableError, match="cannot encode"):
            serde.serialize("t", RECORD, {"name": None, "amount": amount})
    else:  # fastavro writes it (more digits than the precision): so does the serde, byte for byte
        assert wire.split(serde.serialize("t", RECORD, {"name": None, "amount": amount}))[1] == expected
