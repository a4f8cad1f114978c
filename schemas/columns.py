"""Column metadata of a source table, as a connector reads it from the catalog.

These types are the input of Avro schema generation (``schemas.avro_gen``) and of topic naming
(``schemas.envelope.topic_for``). They carry the *logical* type of a column; the source's own
type name (``DECIMAL(11,2)``, ``CHAR(10) CCSID 37``, ``NUMBER``) is kept in ``source_type`` for people.

Invalid metadata raises :class:`~schemas.errors.ConfigError` naming the column, because it comes from a
catalog or from configuration and retrying cannot help.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from schemas.errors import ConfigError


class ColumnType(StrEnum):
    """The logical column types crmhub maps to Avro."""

    STRING = "string"
    CHAR = "char"
    INT16 = "int16"
    INT32 = "int32"
    INT64 = "int64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    TIME = "time"
    TIMESTAMP = "timestamp"
    TIMESTAMP_TZ = "timestamp_tz"
    BYTES = "bytes"


@dataclass(frozen=True, slots=True)
class Column:
    """One column. ``type`` may be given as its string value (``"decimal"``), e.g. from YAML.

    For ``DECIMAL`` a missing ``scale`` means 0 (``NUMERIC(7)`` is ``NUMERIC(7,0)``).
    """

    name: str
    type: ColumnType
    nullable: bool = True
    precision: int | None = None
    scale: int | None = None
    length: int | None = None
    primary_key: bool = False
    source_type: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError(f"column {self.name!r}: the name must be a non-empty string")
        try:
            object.__setattr__(self, "type", ColumnType(self.type))
        except ValueError:
            known = ", ".join(t.value for t in ColumnType)
            raise ConfigError(f"column {self.name}: unknown type {self.type!r} (known: {known})") from None
        if self.length is not None and self.length < 1:
            raise ConfigError(f"column {self.name}: length must be at least 1, got {self.length}")
        if self.type is ColumnType.DECIMAL:
            object.__setattr__(self, "scale", 0 if self.scale is None else self.scale)
            _check_decimal(self.name, self.precision, self.scale)


def _check_decimal(name: str, precision: int | None, scale: int | None) -> None:
    if precision is None or precision < 1:
        raise ConfigError(f"column {name}: DECIMAL needs a precision of at least 1, got {precision}")
    if scale is None or not 0 <= scale <= precision:
        raise ConfigError(f"column {name}: DECIMAL({precision},{scale}) needs 0 <= scale <= precision")


@dataclass(frozen=True, slots=True)
class TableMeta:
    """A source table: where it lives, its columns in catalog order, and its key columns in key order.

    ``connector`` is the configured connector name (the logical server name in Debezium's terms); it is
    part of the Avro record names and of the topic name. ``schema`` is ``None`` for sources without one
    (export files, SQLite). An empty ``key`` is filled from the columns marked ``primary_key``
    (in column order); a table may still end up without a key.
    """

    connector: str
    db: str
    schema: str | None
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        key = tuple(self.key) or tuple(c.name for c in self.columns if c.primary_key)
        object.__setattr__(self, "key", key)
        problems = _table_problems(self)
        if problems:
            raise ConfigError(problems)

    @property
    def qualified_name(self) -> str:
        """``connector.schema.table`` (schema left out when there is none), for messages and logs."""
        parts = [self.connector, self.schema, self.name]
        return ".".join(p for p in parts if p)

    def column(self, name: str) -> Column:
        """The column called ``name``; ``KeyError`` if there is none."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def key_columns(self) -> tuple[Column, ...]:
        """The key columns, in key order."""
        return tuple(self.column(k) for k in self.key)


def _table_problems(table: TableMeta) -> list[str]:
    where = f"table {table.qualified_name or '?'}"
    problems: list[str] = []
    for attr in ("connector", "name"):
        value = getattr(table, attr)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{where}: {attr} must be a non-empty string")
    if not table.columns:
        problems.append(f"{where}: has no columns")
    names = [c.name for c in table.columns]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{where}: column {dup} appears more than once")
    for k in table.key:
        if k not in names:
            problems.append(f"{where}: key column {k} is not one of the table's columns")
    for dup in sorted({k for k in table.key if table.key.count(k) > 1}):
        problems.append(f"{where}: key column {dup} appears more than once")
    return problems
