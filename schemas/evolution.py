"""Pure comparison of a table's column metadata before and after a change at the source."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.columns import Column, TableMeta


def column_type_text(col: Column) -> str:
    """``DECIMAL(11,2)``, ``CHAR(10)``, ``INT32 NOT NULL`` — for messages."""
    text = col.type.value.upper()
    if col.precision is not None:
        text += f"({col.precision},{col.scale or 0})"
    elif col.length is not None:
        text += f"({col.length})"
    return text + ("" if col.nullable else " NOT NULL")


@dataclass(frozen=True, slots=True)
class SchemaChange:
    table: str
    added: tuple[Column, ...] = ()
    dropped: tuple[Column, ...] = ()
    retyped: tuple[tuple[Column, Column], ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.dropped or self.retyped)

    @property
    def additive_only(self) -> bool:
        """Only nullable columns were added: old and new data both fit the new schema."""
        return not self.dropped and not self.retyped and all(c.nullable for c in self.added)

    def describe(self) -> str:
        parts = [f"column {c.name} added ({column_type_text(c)})" for c in self.added]
        parts += [f"column {c.name} dropped (was {column_type_text(c)})" for c in self.dropped]
        parts += [f"column {o.name} retyped from {column_type_text(o)} to {column_type_text(n)}"
                  for o, n in self.retyped]
        return f"{self.table}: " + ("; ".join(parts) if parts else "no change")


def _signature(col: Column) -> tuple[object, ...]:
    return (col.type, col.nullable, col.precision, col.scale, col.length)


def diff_tables(old: TableMeta, new: TableMeta) -> SchemaChange:
    """Columns added, dropped and retyped between two descriptions of the same table."""
    before = {c.name: c for c in old.columns}
    after = {c.name: c for c in new.columns}
    return SchemaChange(
        table=new.qualified_name,
        added=tuple(c for n, c in after.items() if n not in before),
        dropped=tuple(c for n, c in before.items() if n not in after),
        retyped=tuple((before[n], c) for n, c in after.items()
                      if n in before and _signature(before[n]) != _signature(c)),
    )
