"""The seven Confluent compatibility modes over avro.compatibility, and the de-duplication form."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hub.registry import compat


def record(*fields: dict[str, Any], name: str = "Customer") -> str:
    return json.dumps({"type": "record", "name": name, "namespace": "crm", "fields": list(fields)})


A = {"name": "id", "type": "long"}
B_DEFAULT = {"name": "email", "type": "string", "default": ""}
B_REQUIRED = {"name": "email", "type": "string"}
C_OPTIONAL = {"name": "phone", "type": ["null", "string"], "default": None}

V1 = record(A)
V1_WITH_REQUIRED = record(A, B_REQUIRED)
V1_WITH_DEFAULT = record(A, B_DEFAULT)


@pytest.mark.parametrize(
    ("mode", "new", "existing", "ok"),
    [
        # BACKWARD: the new schema reads old data
        ("BACKWARD", V1_WITH_DEFAULT, [V1], True),
        ("BACKWARD", V1_WITH_REQUIRED, [V1], False),
        ("BACKWARD", V1, [V1_WITH_REQUIRED], True),  # dropping a field: new reader ignores it
        # FORWARD: old schema reads new data
        ("FORWARD", V1_WITH_REQUIRED, [V1], True),
        ("FORWARD", V1, [V1_WITH_REQUIRED], False),  # old reader needs email, new data lacks it
        ("FORWARD", V1, [V1_WITH_DEFAULT], True),
        # FULL: both
        ("FULL", V1_WITH_REQUIRED, [V1], False),
        ("FULL", V1, [V1_WITH_REQUIRED], False),
        ("FULL", V1_WITH_DEFAULT, [V1], True),
        ("FULL", record(A, C_OPTIONAL), [V1], True),
        # NONE accepts anything, even a type change
        ("NONE", record({"name": "id", "type": "string"}), [V1], True),
        ("BACKWARD", record({"name": "id", "type": "string"}), [V1], False),
        # a type promotion int -> long is readable one way only
        ("BACKWARD", record({"name": "n", "type": "long"}), [record({"name": "n", "type": "int"})], True),
        ("FORWARD", record({"name": "n", "type": "long"}), [record({"name": "n", "type": "int"})], False),
    ],
)
def test_modes_against_one_previous_schema(mode: str, new: str, existing: list[str], ok: bool) -> None:
    messages = compat.check(mode, new, existing)
    assert (messages == []) is ok, messages


def test_first_schema_is_always_compatible() -> None:
    assert compat.check("FULL_TRANSITIVE", V1, []) == []


def test_backward_transitive_checks_every_version_backward_only_the_latest() -> None:
    # v2 gave email a default; v3 drops the default. v3 reads v2 data (email present) but not v1 data.
    history = [V1, V1_WITH_DEFAULT]
    assert compat.check("BACKWARD", V1_WITH_REQUIRED, history) == []
    messages = compat.check("BACKWARD_TRANSITIVE", V1_WITH_REQUIRED, history)
    assert len(messages) == 1
    assert "existing schema 1 of 2" in messages[0]
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in messages[0] and "email" in messages[0]


def test_forward_transitive_checks_every_version_forward_only_the_latest() -> None:
    # v1 requires email, v2 gives it a default, v3 removes it: v2 can read v3 data, v1 cannot.
    history = [V1_WITH_REQUIRED, V1_WITH_DEFAULT]
    assert compat.check("FORWARD", V1, history) == []
    messages = compat.check("FORWARD_TRANSITIVE", V1, history)
    assert len(messages) == 1 and "existing schema 1 of 2 cannot read" in messages[0]


def test_full_transitive_reports_each_failing_direction() -> None:
    history = [V1_WITH_REQUIRED, V1_WITH_DEFAULT]
    assert compat.check("FULL", V1, history) == []
    messages = compat.check("FULL_TRANSITIVE", V1, history)
    assert len(messages) == 1 and "FULL_TRANSITIVE" in messages[0]
    both = compat.check("FULL", record({"name": "id", "type": "string"}), [V1])
    assert len(both) == 2  # neither can read the other's data


def test_mode_is_case_insensitive_and_validated() -> None:
    assert compat.normalize_mode(" backward_transitive ") == "BACKWARD_TRANSITIVE"
    assert compat.check("forward", V1_WITH_REQUIRED, [V1]) == []
    with pytest.raises(compat.InvalidModeError, match="full_transitive"):
        compat.check("SIDEWAYS", V1, [V1])


@pytest.mark.parametrize("text", ["{not json", '{"type": "record", "name": "R"}', '"nosuchtype"',
                                  '{"type": "enum", "name": "E", "symbols": ["A", "A"]}'])
def test_invalid_schemas_raise(text: str) -> None:
    with pytest.raises(compat.InvalidSchemaError, match="Invalid schema"):
        compat.check("NONE", text, [])


def test_canonical_ignores_layout_but_keeps_defaults_docs_and_logical_types() -> None:
    spaced = json.dumps(json.loads(V1_WITH_DEFAULT), indent=4)
    reordered = json.dumps({"fields": [{"type": "long", "name": "id"}, {"default": "", "type": "string",
                                                                          "name": "email"}],
                            "namespace": "crm", "name": "Customer", "type": "record"})
    assert compat.canonical(spaced) == compat.canonical(V1_WITH_DEFAULT) == compat.canonical(reordered)
    assert compat.canonical(V1_WITH_DEFAULT) != compat.canonical(V1_WITH_REQUIRED)  # the default matters
    plain = record({"name": "amount", "type": "bytes"})
    decimal = record({"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9,
                                                  "scale": 2}})
    assert compat.canonical(plain) != compat.canonical(decimal)
    assert '"logicalType":"decimal"' in compat.canonical(decimal)
    assert compat.canonical('"string"') == compat.canonical('{"type": "string"}') == '"string"'
