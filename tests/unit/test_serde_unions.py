"""``AvroSerde.serialize`` hands top-level ``["null", record]`` fields to fastavro in tuple notation: the bytes
must be exactly what fastavro writes for the plain datum, and a value that does not fit must still be a
``SkippableError`` (to the dead-letter topic), never a silently wrong record."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import fastavro
import pytest

from hub.registry.serde import AvroSerde, record_unions
from schemas import wire
from schemas.canonical import event_schema
from schemas.errors import SkippableError
from schemas.unified import SCHEMAS, UNIFIED_TOPIC
from tests.factories import MemoryRegistry


def plain(schema: Any, datum: Any) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(schema), datum)
    return buf.getvalue()


CUSTOMER_EVENT = {
    "entity": "customer", "source": "ibmi", "table": "CUSTMAST", "source_key": "200017", "op": "upsert",
    "version": "v1", "source_ts_ms": 1, "ts_ms": 2, "origin": "src.ibmi.custmast/0/7", "warnings": [],
    "data": {"kind": "organisation", "org_name": "Müller GmbH", "addresses": [{"type": "main", "city": "Köln",
             "country": "DE"}], "phones": [], "emails": [{"type": "main", "address": "a@b.de"}]},
}


def test_the_canonical_and_unified_schemas_have_their_record_unions_found() -> None:
    assert record_unions(fastavro.parse_schema(event_schema("customer"))) == (("data", "crmhub.canon.Customer"),)
    assert ("customer", "crmhub.canon.Customer") in record_unions(fastavro.parse_schema(SCHEMAS[UNIFIED_TOPIC]()))
    assert record_unions(fastavro.parse_schema({"type": "long"})) == ()


@pytest.mark.parametrize("data", [CUSTOMER_EVENT["data"], None])
def test_tagged_bytes_equal_fastavro_plain_bytes_and_read_back(data: Any) -> None:
    schema = event_schema("customer")
    serde = AvroSerde(MemoryRegistry())  # type: ignore[arg-type]
    datum = {**CUSTOMER_EVENT, "data": data}
    encoded = serde.serialize("canon.customer", schema, datum)
    assert wire.split(encoded)[1] == plain(schema, datum)
    assert datum["data"] is data  # the caller's datum is not changed
    back = serde.deserialize(encoded)
    assert isinstance(back, dict) and back["source_key"] == "200017"
    assert back["data"] is None if data is None else back["data"]["org_name"] == "Müller GmbH"


def test_credit_event_with_decimals_round_trips() -> None:
    schema = event_schema("credit")
    serde = AvroSerde(MemoryRegistry())  # type: ignore[arg-type]
    datum = {**CUSTOMER_EVENT, "entity": "credit",
             "data": {"customer_source": "ibmi", "customer_key": "200017", "status": "frozen",
                      "limit": Decimal("1234.00"), "reason": None}}
    encoded = serde.serialize("canon.credit", schema, datum)
    assert wire.split(encoded)[1] == plain(schema, datum)
    back = serde.deserialize(encoded)
    assert isinstance(back, dict) and back["data"]["limit"] == Decimal("1234.00")


@pytest.mark.parametrize("bad", [{"kind": 5}, "not a record", {"addresses": [{"city": 7}]}])
def test_a_value_that_does_not_fit_the_record_is_still_skippable(bad: Any) -> None:
    serde = AvroSerde(MemoryRegistry())  # type: ignore[arg-type]
    with pytest.raises(SkippableError, match=r"cannot encode a record for canon\.customer"):
        serde.serialize("canon.customer", event_schema("customer"), {**CUSTOMER_EVENT, "data": bad})
