"""Column metadata -> Avro key/value schemas: mapping, names, validity in both libraries, compatibility."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import avro.schema
import fastavro
import pytest
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType
from fastavro.schema import to_parsing_canonical_form

from schemas import avro_gen
from schemas.avro_gen import (
    field_renames,
    key_schema,
    renames_from_schema,
    schema_fingerprint,
    schema_json,
    value_schema,
)
from schemas.columns import Column, ColumnType, TableMeta
from schemas.errors import ConfigError
from tests.factories import customer_columns, make_table

SOURCE_AVSC = Path(avro_gen.__file__).parent / "avro" / "source.avsc"


def fields_of(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in record["fields"]}


def row_record(envelope: dict[str, Any]) -> dict[str, Any]:
    before = fields_of(envelope)["before"]["type"]
    assert before[0] == "null"
    record: dict[str, Any] = before[1]
    return record


def parse_with_avro(schema: dict[str, Any]) -> avro.schema.Schema:
    """Parse with the reference library; fail on any ignored logical type except local-timestamp-micros,
    which avro-python 1.12 does not know (it keeps the long; Java and fastavro know it)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parsed = avro.schema.parse(schema_json(schema))
    unexpected = [str(w.message) for w in caught if "local-timestamp-micros" not in str(w.message)]
    assert unexpected == []
    return parsed


def backward(new: dict[str, Any], old: dict[str, Any]) -> SchemaCompatibilityType:
    """BACKWARD as a registry checks it: a consumer with the new schema reads data written with the old."""
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    result = checker.get_compatibility(parse_with_avro(new), parse_with_avro(old))
    return result.compatibility


# ---- column metadata validation -------------------------------------------------------------------

@pytest.mark.parametrize(("precision", "scale"), [(0, 0), (None, 0), (5, 6), (5, -1)])
def test_invalid_decimal_is_a_config_error_naming_the_column(precision: int | None, scale: int) -> None:
    with pytest.raises(ConfigError) as err:
        Column("AMT$", ColumnType.DECIMAL, precision=precision, scale=scale)
    assert "AMT$" in str(err.value)


def test_decimal_without_scale_means_scale_zero_and_type_may_be_a_string() -> None:
    column = Column("QTY", "decimal", precision=7)  # type: ignore[arg-type]
    assert column.type is ColumnType.DECIMAL
    assert column.scale == 0


def test_unknown_type_names_the_column() -> None:
    with pytest.raises(ConfigError, match="ODD"):
        Column("ODD", "graphic")  # type: ignore[arg-type]


def test_table_lists_every_problem_at_once() -> None:
    cols = (Column("A", ColumnType.INT32), Column("A", ColumnType.INT32))
    with pytest.raises(ConfigError) as err:
        TableMeta("as400", "S1", "LIB", "T", cols, key=("NOPE",))
    assert len(err.value.problems) == 2
    assert any("NOPE" in p for p in err.value.problems)


def test_key_defaults_to_primary_key_columns_in_column_order() -> None:
    cols = (Column("B", ColumnType.INT32, primary_key=True), Column("X", ColumnType.STRING),
            Column("A", ColumnType.INT32, primary_key=True))
    assert make_table(cols).key == ("B", "A")
    assert make_table(cols, key=("A",)).key == ("A",)


# ---- names ------------------------------------------------------------------------------------------

def test_record_names_follow_debezium() -> None:
    table = make_table()
    value, key = value_schema(table), key_schema(table)
    assert (value["namespace"], value["name"]) == ("crmhub.as400.CRMLIB.CUSTMAST", "Envelope")
    assert row_record(value)["name"] == "Value"
    assert fields_of(value)["after"]["type"] == ["null", "crmhub.as400.CRMLIB.CUSTMAST.Value"]
    assert (key["namespace"], key["name"]) == ("crmhub.as400.CRMLIB.CUSTMAST", "Key")


def test_invalid_characters_in_names_are_replaced_and_schema_may_be_absent() -> None:
    table = make_table(connector="erp-400", schema=None, name="ORD$HDR")
    assert value_schema(table, namespace="acme.cdc")["namespace"] == "acme.cdc.erp_400.ORD_HDR"


def test_column_names_are_sanitised_and_keep_the_original() -> None:
    cols = (*customer_columns(), Column("1ST", ColumnType.STRING))
    fields = fields_of(row_record(value_schema(make_table(cols))))
    assert fields["CUST_"]["crmhub.column"] == "CUST#"
    assert fields["ADDR_1"]["crmhub.column"] == "ADDR@1"
    assert fields["_1ST"]["crmhub.column"] == "1ST"
    assert "crmhub.column" not in fields["NAME"]
    assert "CUST#" not in fields and "ADDR@1" not in fields


def test_colliding_sanitised_names_are_a_config_error_naming_both() -> None:
    cols = (Column("CUST#", ColumnType.INT32), Column("CUST@", ColumnType.INT32))
    with pytest.raises(ConfigError) as err:
        value_schema(make_table(cols))
    assert "CUST#" in str(err.value) and "CUST@" in str(err.value)


def test_renames_from_schema_match_the_table_renames() -> None:
    table = make_table()
    assert field_renames(table) == {"CUST#": "CUST_", "ADDR@1": "ADDR_1"}
    assert renames_from_schema(value_schema(table)) == field_renames(table)
    assert renames_from_schema(key_schema(table)) == {"CUST#": "CUST_"}


# ---- types ------------------------------------------------------------------------------------------

DECIMAL_11_2 = {"type": "bytes", "logicalType": "decimal", "precision": 11, "scale": 2}
EXPECTED_TYPES: dict[str, Any] = {
    "CUST_": {"type": "bytes", "logicalType": "decimal", "precision": 7, "scale": 0},
    "NAME": {"type": "string", "crmhub.length": 10},
    "EMAIL": ["null", {"type": "string", "crmhub.length": 254}],
    "NOTE": ["null", "string"],
    "CREDIT": ["null", DECIMAL_11_2],
    "BORN": ["null", {"type": "int", "logicalType": "date"}],
    "OPENS": ["null", {"type": "long", "logicalType": "time-micros"}],
    "CHANGED": {"type": "long", "logicalType": "local-timestamp-micros"},
    "SEEN_UTC": ["null", {"type": "long", "logicalType": "timestamp-micros", "crmhub.timezone": "UTC"}],
    "VIP": ["null", "boolean"],
    "ORDERS": ["null", "int"],
    "LIFETIME": ["null", "long"],
    "RATING": ["null", "double"],
    "PHOTO": ["null", "bytes"],
}


@pytest.mark.parametrize(("field", "expected"), EXPECTED_TYPES.items())
def test_column_types_map_to_avro(field: str, expected: Any) -> None:
    got = fields_of(row_record(value_schema(make_table())))[field]
    assert got["type"] == expected
    if isinstance(expected, list):
        assert "default" in got and got["default"] is None
    else:
        assert "default" not in got


@pytest.mark.parametrize(("ctype", "avro_type"), [(ColumnType.INT16, "int"), (ColumnType.FLOAT32, "float")])
def test_narrow_numeric_types(ctype: ColumnType, avro_type: str) -> None:
    table = make_table((Column("N", ctype, nullable=False),))
    assert fields_of(row_record(value_schema(table)))["N"]["type"] == avro_type


def test_source_type_is_kept_as_a_field_property() -> None:
    fields = fields_of(row_record(value_schema(make_table())))
    assert fields["CREDIT"]["crmhub.source_type"] == "DECIMAL(11,2)"
    assert "crmhub.source_type" not in fields["NOTE"]


def test_envelope_fields_and_source_block_from_the_avsc_file() -> None:
    fields = fields_of(value_schema(make_table()))
    assert list(fields) == ["before", "after", "source", "op", "ts_ms"]
    assert (fields["op"]["type"], fields["ts_ms"]["type"]) == ("string", "long")
    assert fields["source"]["type"] == json.loads(SOURCE_AVSC.read_text(encoding="utf-8"))
    source = fields_of(fields["source"]["type"])
    assert source["position"]["type"] == {"type": "map", "values": "string"}
    assert source["schema"]["type"] == source["tx_id"]["type"] == ["null", "string"]


def test_key_schema_has_key_columns_in_key_order() -> None:
    cols = (Column("B", ColumnType.INT32, nullable=False), Column("X", ColumnType.STRING),
            Column("A#", ColumnType.STRING, nullable=False))
    key = key_schema(make_table(cols, key=("A#", "B")))
    assert [f["name"] for f in key["fields"]] == ["A_", "B"]


def test_table_without_key_has_no_key_schema() -> None:
    with pytest.raises(ConfigError, match="no key"):
        key_schema(make_table((Column("X", ColumnType.STRING),)))


# ---- validity, determinism, fingerprint ----------------------------------------------------------------

@pytest.mark.parametrize("which", ["value", "key"])
def test_both_avro_libraries_accept_the_schemas(which: str) -> None:
    table = make_table()
    schema = value_schema(table) if which == "value" else key_schema(table)
    fastavro.parse_schema(schema)
    parsed = parse_with_avro(schema)
    assert isinstance(parsed, avro.schema.RecordSchema)
    assert parsed.fullname == f"crmhub.as400.CRMLIB.CUSTMAST.{'Envelope' if which == 'value' else 'Key'}"


def test_output_is_deterministic() -> None:
    first = schema_json(value_schema(make_table()))
    second = schema_json(value_schema(make_table(customer_columns())))
    assert first == second
    assert schema_json(key_schema(make_table())) == schema_json(key_schema(make_table()))


def test_returned_schemas_are_independent_copies() -> None:
    first = value_schema(make_table())
    fields_of(first)["source"]["type"]["fields"].clear()
    assert fields_of(value_schema(make_table()))["source"]["type"]["fields"]


def test_fingerprint_is_sha256_of_the_parsing_canonical_form() -> None:
    schema = value_schema(make_table())
    canonical = to_parsing_canonical_form(fastavro.parse_schema(schema))
    assert schema_fingerprint(schema) == hashlib.sha256(canonical.encode()).hexdigest()
    # avro-python agrees where its canonical form is the spec's (no annotated primitives)
    source = avro_gen.source_schema()
    assert schema_fingerprint(source) == parse_with_avro(source).fingerprint("sha256").hex()


def test_fingerprint_ignores_properties_but_not_types() -> None:
    base = customer_columns()
    relabelled = tuple(dataclasses.replace(c, source_type="X") for c in base)
    retyped = tuple(dataclasses.replace(c, type=ColumnType.INT64) if c.name == "ORDERS" else c for c in base)
    fp = schema_fingerprint(value_schema(make_table(base)))
    assert schema_fingerprint(value_schema(make_table(relabelled))) == fp
    assert schema_fingerprint(value_schema(make_table(retyped))) != fp


# ---- compatibility, as the registry will enforce it ------------------------------------------------------

def test_adding_a_nullable_column_is_backward_compatible() -> None:
    old = value_schema(make_table())
    new = value_schema(make_table((*customer_columns(), Column("PHONE#", ColumnType.STRING, length=20))))
    assert backward(new, old) is SchemaCompatibilityType.compatible


def test_adding_a_not_null_column_is_not_backward_compatible() -> None:
    old = value_schema(make_table())
    new = value_schema(make_table((*customer_columns(), Column("REGION", ColumnType.CHAR, nullable=False))))
    assert backward(new, old) is SchemaCompatibilityType.incompatible


def test_retyping_a_column_is_not_backward_compatible() -> None:
    old = value_schema(make_table())
    retyped = tuple(dataclasses.replace(c, type=ColumnType.INT32, length=None) if c.name == "NAME" else c
                    for c in customer_columns())
    assert backward(value_schema(make_table(retyped)), old) is SchemaCompatibilityType.incompatible
