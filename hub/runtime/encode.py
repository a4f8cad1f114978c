"""A connector's batch as Kafka records: every event Avro-encoded with its table's schemas (parsed once per
route), malformed events and the connector's dead rows as dead letters on ``dlq.<connector>`` with the reason.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from connectors.base import Batch, DeadRow
from hub.kafka.clients import Record
from hub.registry.serde import AvroSerde
from schemas.avro_logical import Converter, convert_row, row_converters
from schemas.columns import TableMeta
from schemas.envelope import ChangeEvent, to_avro
from schemas.errors import SkippableError


@dataclass
class TableRoute:
    """Where one table's events go, with its schemas parsed once."""

    table: TableMeta
    topic: str
    key_schema: dict[str, Any]
    value_schema: dict[str, Any]
    renames: dict[str, str]
    # 0 when the topic has one partition: the producer then skips hashing every key for the same answer. A
    # topic given more partitions later is hashed again from the connector's next (re)start.
    partition: int | None = None
    key_converters: dict[str, Converter] = field(init=False)
    row_converters: dict[str, Converter] = field(init=False)

    def __post_init__(self) -> None:
        self.key_converters = row_converters(self.key_schema)
        before = next((f["type"] for f in self.value_schema.get("fields", ()) if f["name"] == "before"), None)
        row = next((t for t in before if isinstance(t, dict)), {}) if isinstance(before, list) else {}
        self.row_converters = row_converters(row)


@dataclass(frozen=True, slots=True)
class Encoded:
    """One batch ready to produce: the events' records first, then the dead letters."""

    records: list[Record]
    produced: int  # events among ``records``
    dead: int  # dead letters among ``records``
    nbytes: int  # keys and values, for the bound on what is in flight


def dlq_record(connector: str, dead: DeadRow) -> Record:
    """A dead-letter message: the original record, the reason and where it came from (JSON)."""
    body = {"connector": connector, "table": dead.table, "reason": dead.reason,
            "position": dict(dead.position), "record": dead.raw, "ts_ms": int(time.time() * 1000)}
    value = json.dumps(body, default=str, sort_keys=True).encode()
    return Record(f"dlq.{connector}", None, value, (("crmhub.reason", dead.reason.encode()[:500]),))


def encode_event(serde: AvroSerde, routes: dict[tuple[str | None, str], TableRoute],
                 event: ChangeEvent) -> Record | DeadRow:
    """The event's record, or the dead row saying why it cannot be one."""
    route = routes.get((event.source.schema, event.source.table))
    if route is None:
        return DeadRow(event.source.table, "event for a table that was not described", {"key": event.key})
    try:
        key, value = to_avro(event, route.renames)
        convert_row(key, route.key_converters)
        convert_row(value["before"], route.row_converters)
        convert_row(value["after"], route.row_converters)
        kbytes = serde.serialize(route.topic, route.key_schema, key, is_key=True) if key else None
        vbytes = serde.serialize(route.topic, route.value_schema, value)
    except SkippableError as exc:
        return DeadRow(event.source.table, exc.reason, {"key": event.key, "after": event.after},
                       dict(event.source.position))
    except (ValueError, TypeError) as exc:
        return DeadRow(event.source.table, f"does not fit the table's schema: {exc}",
                       {"key": event.key, "after": event.after}, dict(event.source.position))
    return Record(route.topic, kbytes, vbytes, (), route.partition)


def encode_batch(connector: str, serde: AvroSerde, routes: dict[tuple[str | None, str], TableRoute],
                 batch: Batch) -> Encoded:
    """Every event of ``batch`` encoded, then the dead letters (the batch's own and the events that failed)."""
    records: list[Record] = []
    dead: list[DeadRow] = list(batch.dead)
    nbytes = 0
    for event in batch.events:
        rec = encode_event(serde, routes, event)
        if isinstance(rec, DeadRow):
            dead.append(rec)
        else:
            records.append(rec)
            nbytes += len(rec.value or b"") + len(rec.key or b"")
    produced = len(records)
    for d in dead:
        letter = dlq_record(connector, d)
        records.append(letter)
        nbytes += len(letter.value or b"")
    return Encoded(records, produced, len(dead), nbytes)
