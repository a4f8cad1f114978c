"""The golden-record store's tables (SQLAlchemy Core): SQLite by default, PostgreSQL for several workers.

- ``source_record``: one row per customer record of one source (``source`` + ``source_key``), its canonical
  data and match features, the version last applied, and the golden id it belongs to.
- ``block_key``: the blocking index (key → record), so candidates come from a few small blocks.
- ``contact_key``: the contact persons' names of each record (key → record), for the gateway's name search.
- ``match_link``: the evidence that joins two records (deterministic, probabilistic, manual); a golden record is
  a connected component of these links, split where a ``conflict`` row (two persons, found by scoring) or a
  steward's cannot-link pair lies inside it.
- ``manual_pair``: a data steward's decisions: ``must`` link or ``cannot`` link two records (by reference).
- ``review``: possible matches waiting for a steward.
- ``golden``: the golden records (data with per-field lineage, members, version, merged_into).
- ``credit`` / ``orders`` / ``inventory`` / ``cases``: the rest of the 360° view, each row versioned.
- ``alert_ack``: acknowledgements of alerts (by token name). ``timer``: durable alert timers.
  ``outbox``: output records written in the same transaction as the state
  they describe, deleted once Kafka acknowledged them. ``counter``: golden id sequence.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

source_record = Table(
    "source_record", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False),
    Column("source_key", String(300), nullable=False),
    Column("table_name", String(200), nullable=False),
    Column("golden_id", String(40), index=True),
    Column("data", JSON),
    Column("features", JSON),
    Column("version", String(60), nullable=False),
    Column("source_ts_ms", BigInteger, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    UniqueConstraint("source", "source_key", name="uq_source_record_ref"),
)

block_key = Table(
    "block_key", metadata,
    Column("key", String(200), nullable=False),
    Column("record_id", Integer, nullable=False),
    Index("ix_block_key_key_record", "key", "record_id"),  # covering: a block's members come from the index
    Index("ix_block_key_record", "record_id"),
)

contact_key = Table(  # written with the record (pipelines/store/contacts.py); not used for matching
    "contact_key", metadata,
    Column("key", String(200), nullable=False),
    Column("record_id", Integer, nullable=False),
    Index("ix_contact_key_key_record", "key", "record_id"),
    Index("ix_contact_key_record", "record_id"),
)

match_link = Table(
    "match_link", metadata,
    Column("a", Integer, primary_key=True),
    Column("b", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),  # deterministic | probabilistic | manual | conflict (joins nothing)
    Column("score", Float, nullable=False),
    Column("detail", JSON),
    Index("ix_match_link_b", "b"),
)

manual_pair = Table(
    "manual_pair", metadata,
    Column("a_ref", String(400), primary_key=True),
    Column("b_ref", String(400), primary_key=True),
    Column("kind", String(10), nullable=False),  # must | cannot
    Column("by", String(100)),
    Column("ts_ms", BigInteger, nullable=False),
)

review = Table(
    "review", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("a", Integer, nullable=False),
    Column("b", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("detail", JSON),
    Column("status", String(10), nullable=False, default="open"),  # open | accepted | rejected | obsolete
    Column("created_ms", BigInteger, nullable=False),
    Column("decided_ms", BigInteger),
    Column("decided_by", String(100)),
    UniqueConstraint("a", "b", name="uq_review_pair"),
)

golden = Table(
    "golden", metadata,
    Column("golden_id", String(40), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("status", String(10), nullable=False),  # active | merged | retired
    Column("merged_into", String(40)),
    Column("data", JSON),
    Column("lineage", JSON),
    Column("members", JSON),
    Column("version", Integer, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

credit = Table(
    "credit", metadata,
    Column("source", String(100), primary_key=True),
    Column("customer_key", String(300), primary_key=True),
    Column("table_name", String(200), nullable=False),
    Column("data", JSON, nullable=False),
    Column("version", String(60), nullable=False),
    Column("source_ts_ms", BigInteger, nullable=False),
)

orders = Table(
    "orders", metadata,
    Column("source", String(100), primary_key=True),
    Column("source_key", String(300), primary_key=True),
    Column("order_number", String(100), nullable=False),
    Column("customer_source", String(100), nullable=False),
    Column("customer_key", String(300), nullable=False),
    Column("status", String(30), nullable=False),
    Column("is_open", Boolean, nullable=False),
    Column("data", JSON, nullable=False),
    Column("version", String(60), nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Index("ix_orders_customer", "customer_source", "customer_key"),
)

inventory = Table(
    "inventory", metadata,
    Column("item", String(100), primary_key=True),
    Column("warehouse", String(100), primary_key=True),
    Column("source", String(100), nullable=False),
    Column("source_key", String(300), nullable=False),
    Column("data", JSON, nullable=False),
    Column("version", String(60), nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Index("ix_inventory_ref", "source", "source_key"),
)

cases = Table(  # service cases and tickets (canon.case), by the customer record they belong to
    "cases", metadata,
    Column("source", String(100), primary_key=True),
    Column("source_key", String(300), primary_key=True),
    Column("case_number", String(100), nullable=False),
    Column("customer_source", String(100), nullable=False),
    Column("customer_key", String(300), nullable=False),
    Column("status", String(30), nullable=False),
    Column("is_open", Boolean, nullable=False),
    Column("data", JSON, nullable=False),
    Column("version", String(60), nullable=False),
    Column("source_ts_ms", BigInteger, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Index("ix_cases_customer", "customer_source", "customer_key"),
)

timer = Table(
    "timer", metadata,
    Column("timer_id", String(100), primary_key=True),
    Column("rule", String(100), nullable=False),
    Column("subject", String(400), nullable=False),
    Column("due_ms", BigInteger, nullable=False, index=True),
    Column("payload", JSON, nullable=False),
    Column("version", String(80), nullable=False),
    Column("episode", String(120), nullable=False),
    Column("state", String(10), nullable=False),  # pending | fired | cancelled
)

change_log = Table(  # what customer.changes carried, queryable by golden id (the gateway's history)
    "change_log", metadata,
    Column("golden_id", String(40), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("ts_ms", BigInteger, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("body", Text, nullable=False),  # the change record as JSON
)

alert_log = Table(  # what customer.alerts carried, queryable by golden id and by agent
    "alert_log", metadata,
    Column("alert_id", String(200), primary_key=True),
    Column("golden_id", String(40)),
    Column("agent", String(100)),
    Column("rule", String(100), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("ts_ms", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_alert_log_golden", "golden_id"),
    Index("ix_alert_log_agent", "agent"),
)

alert_ack = Table(  # who acknowledged an alert, and when (the gateway's POST /alerts/{id}/ack; the first one counts)
    "alert_ack", metadata,
    Column("alert_id", String(200), primary_key=True),
    Column("acked_by", String(100), nullable=False),
    Column("acked_ms", BigInteger, nullable=False),
)

audit_log = Table(  # the gateway's audit trail: who (token name, role) asked what, when, with which outcome
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts_ms", BigInteger, nullable=False, index=True),
    Column("token_name", String(100), nullable=False),
    Column("role", String(40), nullable=False),
    Column("method", String(10), nullable=False),
    Column("path", String(500), nullable=False),
    Column("query", Text),
    Column("status", Integer, nullable=False),
    Column("golden_ids", JSON),
)

outbox = Table(
    "outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("topic", String(200), nullable=False),
    Column("key", Text),
    Column("value", Text),  # JSON; null = tombstone
)

counter = Table(
    "counter", metadata,
    Column("name", String(40), primary_key=True),
    Column("value", Integer, nullable=False),
)
