"""The unified customer record and what is published about it: ``customer.unified``, ``customer.changes``,
``customer.alerts`` (Avro value schemas; keys are the golden id as an Avro string).

Records are built in JSON form by the unify pipeline (see :func:`schemas.canonical.to_json`) and turned into
Avro datums by :func:`to_avro_datum` just before they are produced.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from schemas.canonical import entity_schema, from_json

UNIFIED_TOPIC = "customer.unified"
CHANGES_TOPIC = "customer.changes"
ALERTS_TOPIC = "customer.alerts"
KEY_SCHEMA: dict[str, Any] = {"type": "string"}

_LINEAGE = {"type": "record", "name": "Lineage", "fields": [
    {"name": "source", "type": "string"}, {"name": "source_key", "type": "string"},
    {"name": "table", "type": "string"}, {"name": "ts_ms", "type": "long"}]}
_MEMBER = {"type": "record", "name": "Member", "fields": [
    {"name": "source", "type": "string"}, {"name": "source_key", "type": "string"},
    {"name": "table", "type": "string"}]}


@cache
def unified_schema() -> dict[str, Any]:
    return {"type": "record", "name": "Unified", "namespace": "crmhub.customer",
            "doc": "The golden customer record: one per golden id, with each field's lineage.",
            "fields": [
                {"name": "golden_id", "type": "string"},
                {"name": "status", "type": "string", "doc": "active, merged (see merged_into) or retired."},
                {"name": "merged_into", "type": ["null", "string"], "default": None},
                {"name": "version", "type": "long"},
                {"name": "updated_ms", "type": "long"},
                {"name": "customer", "type": ["null", entity_schema("customer")], "default": None},
                {"name": "lineage", "type": {"type": "map", "values": _LINEAGE}, "default": {}},
                {"name": "members", "type": {"type": "array", "items": _MEMBER}, "default": []}]}


@cache
def changes_schema() -> dict[str, Any]:
    return {"type": "record", "name": "Change", "namespace": "crmhub.customer",
            "doc": "What changed in a golden record, field by field, and the source event that caused it.",
            "fields": [
                {"name": "golden_id", "type": "string"},
                {"name": "version", "type": "long"},
                {"name": "ts_ms", "type": "long"},
                {"name": "kind", "type": "string", "doc": "create, update, merge, split, retire, relink."},
                {"name": "fields", "type": {"type": "array", "items": {
                    "type": "record", "name": "FieldChange", "fields": [
                        {"name": "field", "type": "string"},
                        {"name": "old", "type": ["null", "string"], "default": None, "doc": "JSON-encoded."},
                        {"name": "new", "type": ["null", "string"], "default": None, "doc": "JSON-encoded."}]}}},
                {"name": "cause", "type": ["null", {"type": "record", "name": "Cause", "fields": [
                    {"name": "source", "type": "string"}, {"name": "table", "type": "string"},
                    {"name": "source_key", "type": "string"}, {"name": "version", "type": "string"},
                    {"name": "origin", "type": "string"}]}], "default": None},
                {"name": "related", "type": {"type": "array", "items": "string"}, "default": [],
                 "doc": "Golden ids merged into this one, or split off from it."}]}


@cache
def alerts_schema() -> dict[str, Any]:
    return {"type": "record", "name": "Alert", "namespace": "crmhub.customer", "fields": [
        {"name": "alert_id", "type": "string"}, {"name": "rule", "type": "string"},
        {"name": "severity", "type": "string"}, {"name": "golden_id", "type": ["null", "string"], "default": None},
        {"name": "agent", "type": ["null", "string"], "default": None}, {"name": "message", "type": "string"},
        {"name": "ts_ms", "type": "long"}, {"name": "subject", "type": "string"},
        {"name": "data", "type": {"type": "map", "values": "string"}, "default": {}}]}


SCHEMAS = {UNIFIED_TOPIC: unified_schema, CHANGES_TOPIC: changes_schema, ALERTS_TOPIC: alerts_schema}


def to_avro_datum(topic: str, value: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-form output record as the Avro datum of its topic's schema."""
    datum = dict(value)
    if topic == UNIFIED_TOPIC and datum.get("customer") is not None:
        datum["customer"] = from_json("customer", datum["customer"])
    if topic == ALERTS_TOPIC:
        datum["data"] = {str(k): str(v) for k, v in (datum.get("data") or {}).items()}
    return datum
