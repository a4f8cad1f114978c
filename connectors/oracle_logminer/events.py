"""Pure conversion of parsed redo (and snapshot rows) to change events, typed by the table's columns.

Values go through :func:`connectors.sql.values.normalise_value` (the SQL connector's rules): LogMiner's
quoted NUMBER text becomes an exact ``Decimal`` (a value that does not fit its column is a dead row, never
rounded), DATE/TIMESTAMP stay datetimes, RAW bytes. A column the statement does not carry is None in the
images: with supplemental logging of ALL COLUMNS that is only a LOB column (Oracle never logs LOBs in the
where clause); with primary-key logging only, an update's unchanged columns are None too (see
docs/connectors/oracle-logminer.md). A key column missing from a delete's or update's where clause is a dead row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from connectors.oracle_logminer.redo import Redo
from connectors.sql.values import ValueProblem, normalise_value
from schemas.columns import TableMeta
from schemas.envelope import ChangeEvent, Op, SourceInfo

__all__ = ["epoch_ms", "event_from_redo", "typed_row"]


def typed_row(values: Mapping[str, Any], meta: TableMeta) -> dict[str, Any]:
    """Every column of ``meta`` typed (absent ones None); ``ValueProblem`` for a value that does not fit or
    a column the table does not have (the dictionary changed under the connector)."""
    unknown = [k for k in values if not any(c.name == k for c in meta.columns)]
    if unknown:
        raise ValueProblem(f"column(s) {', '.join(unknown)} not in the table's description")
    row: dict[str, Any] = {}
    for col in meta.columns:
        try:
            row[col.name] = normalise_value(values.get(col.name), col)
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise ValueProblem(f"column {col.name}: {exc}") from exc
    return row


def epoch_ms(when: datetime | None, zone: str, default_ms: int) -> int:
    """A LogMiner wall-clock time (the database server's zone) as epoch milliseconds."""
    if when is None:
        return default_ms
    aware = when if when.tzinfo is not None else when.replace(tzinfo=ZoneInfo(zone))
    return max(0, int(aware.timestamp() * 1000))


def event_from_redo(redo: Redo, meta: TableMeta, source: SourceInfo, ts_ms: int) -> ChangeEvent:
    """The event of one parsed DML (``ValueProblem`` or ``SkippableError`` for a dead row)."""
    before = None if redo.before is None else typed_row(redo.before, meta)
    after = None if redo.after is None else typed_row(redo.after, meta)
    image = after if after is not None else before
    assert image is not None
    if redo.op != "c":
        present = redo.before or {}
        missing = [k for k in meta.key if k not in present]
        if missing:
            raise ValueProblem(f"key column(s) {', '.join(missing)} missing from the redo's where clause "
                               "(supplemental logging of the primary key is off?)")
    key = {k: image[k] for k in meta.key}
    op = {"c": Op.CREATE, "u": Op.UPDATE, "d": Op.DELETE}[redo.op]
    return ChangeEvent.create(key=key, before=before if op is not Op.CREATE else None,
                              after=after if op is not Op.DELETE else None, op=op, source=source, ts_ms=ts_ms)
