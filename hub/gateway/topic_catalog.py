"""Every Kafka topic crmhub writes for a configuration, with its key, its value and who writes it.

A pure function of the config (:func:`written_topics`): no broker, no registry, no files. The Avro schemas are
the ones crmhub registers (``schemas.canonical``, ``schemas.unified``); a source table's change-event envelope
depends on the table's columns, which only the running connector reads from the catalog, so a ``src.*`` topic
gets the envelope with an empty row record and names the registry subject that holds the real schema, unless
the caller passes the registered schemas by subject (``registered``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from hub.config import HubConfig
from hub.gateway import topic_payloads as payloads
from schemas import canonical, unified
from schemas.avro_gen import key_schema, value_schema
from schemas.columns import Column, ColumnType, TableMeta
from schemas.envelope import table_topic
from schemas.settings import ConnectorSettings

Schema = Any
Encoding = Literal["avro", "json", "text", "none"]
GROUPS = ("source", "canonical", "customer", "dead-letter", "internal")


@dataclass(frozen=True, slots=True)
class Part:
    """A message key or value: how it is encoded and its schema (Avro, or JSON Schema for JSON and text)."""

    encoding: Encoding
    schema: Schema = None
    name: str = ""  # what the reference page shows: the Avro record's full name, "string", ...
    subject: str | None = None  # the registry subject (TopicNameStrategy) of an Avro part
    placeholder: bool = False  # the Avro schema stands in for one only the running connector knows


@dataclass(frozen=True, slots=True)
class TopicInfo:
    topic: str
    group: str  # one of GROUPS
    writer: str
    summary: str
    description: str
    message: str  # the message's name
    key: Part
    value: Part
    compacted: bool = False
    headers: Schema = None
    key_columns: tuple[str, ...] = ()  # a source topic's configured key columns (empty: the primary key)


def avro(schema: Schema, subject: str, *, placeholder: bool = False) -> Part:
    return Part("avro", schema, avro_full_name(schema), subject, placeholder)


def avro_full_name(schema: Schema) -> str:
    if isinstance(schema, dict) and schema.get("type") == "record":
        return f"{schema['namespace']}.{schema['name']}" if schema.get("namespace") else str(schema["name"])
    return str(schema.get("type") if isinstance(schema, dict) else schema)


# --- source tables -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Captured:
    """One table or feed a connector captures, as its settings name it."""

    connector: str
    kind: str
    table: str  # the table part of the name, as the topic uses it
    configured: str  # the name as configured (``LIB.FILE``, ``dbo.Contacts``, a feed name)
    key_columns: tuple[str, ...]
    topic: str | None = None  # the table's ``topic`` setting, when it names one


def captured(conn: ConnectorSettings) -> list[Captured]:
    """The tables (or the file-drop feeds) of one connector's settings."""
    kind = str(getattr(conn, "kind", ""))
    items: Sequence[Any] = getattr(conn, "tables", None) or getattr(conn, "feeds", None) or ()
    out: list[Captured] = []
    for item in items:
        name = str(item.name)
        keys = tuple(str(k) for k in (getattr(item, "key_columns", None) or ()))
        out.append(Captured(conn.name, kind, name.split(".", 1)[-1], name, keys, getattr(item, "topic", None)))
    return out


def _placeholder_meta(table: Captured) -> TableMeta:
    # one stand-in column: the generator needs columns; they are removed again below
    return TableMeta(connector=table.connector, db="-", schema=None, name=table.table,
                     columns=(Column("_", ColumnType.STRING, nullable=False),), key=("_",))


ENVELOPE_DOCS = {
    "before": "The row before the change: null for c and r; for u and d when the source has it.",
    "after": "The row after the change: null for d.",
    "source": "Where and when the change happened at the source.",
    "op": "c create, u update, d delete, r snapshot read.",
    "ts_ms": "When crmhub saw the change (epoch ms).",
}


def envelope_placeholder(table: Captured, subject: str) -> Schema:
    """The change-event envelope as ``schemas.avro_gen`` generates it, with the row record left empty (and a
    doc on each envelope field)."""
    schema = value_schema(_placeholder_meta(table))
    for field in schema["fields"]:
        field.setdefault("doc", ENVELOPE_DOCS.get(field["name"], ""))
    row = schema["fields"][0]["type"][1]
    row["fields"] = []
    row["doc"] = (f"The columns of {table.configured} as the connector reads them from the source catalog; the "
                  f"registered schema (subject {subject}) has them.")
    schema["doc"] = "Change-event envelope (Debezium-compatible): before, after, source, op, ts_ms."
    return schema


def key_placeholder(table: Captured, subject: str) -> Schema:
    schema = key_schema(_placeholder_meta(table))
    schema["fields"] = []
    keys = ", ".join(table.key_columns) if table.key_columns else "the primary key of the table"
    schema["doc"] = f"The key columns ({keys}); the registered schema (subject {subject}) has their types."
    return schema


def _source_topic(table: Captured, registered: Mapping[str, Schema]) -> TopicInfo:
    topic = table.topic or table_topic(table.connector, table.table)
    vsub, ksub = f"{topic}-value", f"{topic}-key"
    value = registered.get(vsub)
    key = registered.get(ksub)
    desc = (f"Every change of {table.configured}, captured by the {table.kind} connector {table.connector}: "
            "key = the key columns, value = the change-event envelope (before, after, op c/u/d/r, source with "
            "the commit time and the position, ts_ms).")
    if value is None:
        desc += (f" The row record's fields are the table's columns, known once the connector has described the "
                 f"table: the schema registered under {vsub} has them.")
    return TopicInfo(
        topic, "source", f"connector {table.connector}", f"Change events of {table.configured}", desc, "ChangeEvent",
        avro(key, ksub) if key is not None else avro(key_placeholder(table, ksub), ksub, placeholder=True),
        avro(value, vsub) if value is not None else avro(envelope_placeholder(table, vsub), vsub, placeholder=True),
        key_columns=table.key_columns)


def source_topics(cfg: HubConfig, registered: Mapping[str, Schema] | None = None) -> list[TopicInfo]:
    """One topic per captured table; tables whose names give the same topic share it (the first describes it)."""
    found: dict[str, TopicInfo] = {}
    for conn in cfg.connectors:
        for table in captured(conn):
            info = _source_topic(table, registered or {})
            found.setdefault(info.topic, info)
    return list(found.values())


# --- pipelines -----------------------------------------------------------------------------------------------

_ENTITY_TEXT = {"customer": "customers (persons and organisations)", "credit": "credit status and limits",
                "inventory": "stock per item and warehouse", "order": "orders with their lines",
                "case": "service cases and tickets"}


def _canonical(entity: str) -> TopicInfo:
    topic = f"canon.{entity}"
    text = _ENTITY_TEXT.get(entity, entity)
    return TopicInfo(
        topic, "canonical", "pipeline canonicalize", f"Canonical {entity} records",
        f"Source records mapped to the canonical {entity} ({text}): key = <source>/<source_key>, so one source "
        "record stays on one partition; value = the event metadata (op upsert or delete, version, source commit "
        "time, origin) and the record in data (null for a delete).", "CanonicalEvent",
        avro(copy.deepcopy(canonical.KEY_SCHEMA), f"{topic}-key"),
        avro(copy.deepcopy(canonical.event_schema(entity)), f"{topic}-value"))


def _customer(topic: str, summary: str, description: str, message: str, schema: Callable[[], Schema],
              compacted: bool = False) -> TopicInfo:
    return TopicInfo(topic, "customer", "pipeline unify", summary, description, message,
                     avro(copy.deepcopy(unified.KEY_SCHEMA), f"{topic}-key"),
                     avro(copy.deepcopy(schema()), f"{topic}-value"), compacted)


def pipeline_topics(cfg: HubConfig) -> list[TopicInfo]:
    """``canon.*``, ``customer.*`` and ``dlq.<pipeline>``: written only when the config has ``pipelines``."""
    if cfg.pipelines is None:
        return []
    topics = [_canonical(e) for e in canonical.ENTITIES]
    topics.append(_customer(
        unified.UNIFIED_TOPIC, "Golden customer records",
        "The full golden record after every change, key = golden id; compacted, so the latest record of every "
        "golden id stays. A merged record says so (status merged, merged_into).", "GoldenRecord",
        unified.unified_schema, compacted=True))
    topics.append(_customer(
        unified.CHANGES_TOPIC, "Changes of golden records",
        "What changed in a golden record, field by field (old and new values as JSON text), and the source event "
        "that caused it; merges and splits name the related golden ids.", "CustomerChange", unified.changes_schema))
    topics.append(_customer(
        unified.ALERTS_TOPIC, "Alerts", "Alerts raised by the alert rules (credit freeze, unanswered cases, SLA "
                                        "steps), key = golden id.", "Alert", unified.alerts_schema))
    dlq = f"dlq.{cfg.pipelines.name}"
    topics.append(TopicInfo(
        dlq, "dead-letter", f"pipelines ({cfg.pipelines.name})", "Records the pipelines rejected",
        "A source record a mapping or data-quality rule rejected (with the rule, the reason and the original "
        "change event), or a message the pipeline could not decode. JSON; never silently dropped.", "DeadLetter",
        Part("text", {"type": "string", "description": "<source>/<source_key> (UTF-8); an undecodable message "
                                                       "keeps its original key"}, "string"),
        Part("json", payloads.pipeline_dead_letter(), "JSON"), headers=payloads.reason_header("crmhub.reason")))
    return topics


# --- dead letters, positions, the registry -------------------------------------------------------------------


def _connector_dlq(name: str) -> TopicInfo:
    return TopicInfo(
        f"dlq.{name}", "dead-letter", f"connector {name}", f"Records connector {name} could not read",
        "A source record the connector could not turn into a change event (malformed row, value that does not fit "
        "the table's schema), with the reason and its position. JSON, no key.", "DeadLetter",
        Part("none", None, "none"), Part("json", payloads.connector_dead_letter(), "JSON"),
        headers=payloads.reason_header("crmhub.reason"))


def internal_topics(cfg: HubConfig) -> list[TopicInfo]:
    """Connector dead letters, the webhooks' dead letters, the positions and the registry's own topic."""
    topics = [_connector_dlq(c.name) for c in cfg.connectors]
    hooks = cfg.gateway.webhooks
    if cfg.pipelines is not None and hooks.enabled:
        topics.append(TopicInfo(
            hooks.dlq_topic, "dead-letter", "gateway webhooks", "Events a webhook did not take",
            f"An event a webhook subscription still failed to take after {hooks.max_attempts} attempts. JSON.",
            "WebhookDeadLetter", Part("text", {"type": "string", "description": "the subscription id (UTF-8)"},
                                      "string"),
            Part("json", payloads.webhook_dead_letter(), "JSON"), headers=payloads.reason_header("reason")))
    if cfg.connectors:
        topics.append(TopicInfo(
            cfg.offsets.topic, "internal", "connectors", "Connector positions",
            "The position of every connector (journal sequence, SCN, LSN, watermark), written only after Kafka "
            "acknowledged the events it covers; compacted, key = connector name. A restarted hub resumes from "
            "here.", "Position", Part("text", {"type": "string", "description": "the connector name (UTF-8)"},
                                      "string"),
            Part("json", payloads.connector_position(), "JSON"), compacted=True))
    reg = cfg.registry
    if reg.url is None and reg.serve.enabled:
        topics.append(TopicInfo(
            reg.serve.topic, "internal", "schema registry", "Registered schemas",
            "The schema registry's state (subjects, versions, ids, compatibility levels), keyed like the "
            "Confluent registry's own topic; compacted.", "SchemaRecord",
            Part("json", payloads.schema_record_key(), "JSON"), Part("json", payloads.schema_record_value(), "JSON"),
            compacted=True))
    return topics


def written_topics(cfg: HubConfig, registered: Mapping[str, Schema] | None = None) -> list[TopicInfo]:
    """Every topic crmhub writes for ``cfg``, grouped (source, canonical, customer, dead letters, internal) and
    sorted by name within a group. ``registered``: schemas by registry subject, used for the ``src.*`` topics
    instead of their placeholders."""
    unique: dict[str, TopicInfo] = {}
    for info in [*source_topics(cfg, registered), *pipeline_topics(cfg), *internal_topics(cfg)]:
        unique.setdefault(info.topic, info)  # a connector named like the pipeline shares its dead-letter topic
    return sorted(unique.values(), key=lambda t: (GROUPS.index(t.group), t.topic))
