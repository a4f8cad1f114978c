"""Builders for test data shared across test modules."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import Any

import fastavro

from hub.kafka.common import Ack
from schemas.columns import Column, ColumnType, TableMeta


class Future:
    """A produced record's acknowledgement, released (or failed) by the test: the ``get`` of a kafka-python
    future."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: Exception | None = None

    def get(self, timeout: float) -> Any:
        if not self.done.wait(timeout):
            raise TimeoutError("no ack")
        if self.error is not None:
            raise self.error
        return Ack("t", 0, 0)

    def ack(self) -> None:
        self.done.set()

    def fail(self, error: Exception) -> None:
        self.error = error
        self.done.set()


def make_table(
    columns: Iterable[Column] | None = None,
    *,
    key: Iterable[str] = (),
    connector: str = "as400",
    db: str = "S1024A",
    schema: str | None = "CRMLIB",
    name: str = "CUSTMAST",
) -> TableMeta:
    """A ``TableMeta``; by default an IBM i customer master with the column shapes the catalog returns."""
    cols = tuple(columns) if columns is not None else customer_columns()
    return TableMeta(connector=connector, db=db, schema=schema, name=name, columns=cols, key=tuple(key))


def customer_columns() -> tuple[Column, ...]:
    """CUSTMAST as QSYS2.SYSCOLUMNS describes it: DECIMAL, NUMERIC, CHAR, VARCHAR, DATE, TIME, TIMESTAMP."""
    return (
        Column("CUST#", ColumnType.DECIMAL, nullable=False, precision=7, scale=0, primary_key=True,
               source_type="NUMERIC(7,0)"),
        Column("NAME", ColumnType.CHAR, nullable=False, length=10, source_type="CHAR(10)"),
        Column("EMAIL", ColumnType.STRING, length=254, source_type="VARCHAR(254)"),
        Column("NOTE", ColumnType.STRING),
        Column("ADDR@1", ColumnType.STRING, length=40, source_type="VARCHAR(40)"),
        Column("CREDIT", ColumnType.DECIMAL, precision=11, scale=2, source_type="DECIMAL(11,2)"),
        Column("BORN", ColumnType.DATE, source_type="DATE"),
        Column("OPENS", ColumnType.TIME, source_type="TIME"),
        Column("CHANGED", ColumnType.TIMESTAMP, nullable=False, source_type="TIMESTAMP(6)"),
        Column("SEEN_UTC", ColumnType.TIMESTAMP_TZ),
        Column("VIP", ColumnType.BOOLEAN),
        Column("ORDERS", ColumnType.INT32),
        Column("LIFETIME", ColumnType.INT64),
        Column("RATING", ColumnType.FLOAT64),
        Column("PHOTO", ColumnType.BYTES),
    )


class MemoryRegistry:
    """The registry calls the serde and the change decoder make, answered from memory (the registry itself is
    tested on Kafka)."""

    def __init__(self) -> None:
        self.schemas: list[Any] = []

    def register(self, subject: str, schema: Any) -> int:
        self.schemas.append(schema)
        return len(self.schemas)

    def parsed(self, schema_id: int) -> Any:
        return fastavro.parse_schema(self.schemas[schema_id - 1])

    def get_by_id(self, schema_id: int) -> str:
        return json.dumps(self.schemas[schema_id - 1])
