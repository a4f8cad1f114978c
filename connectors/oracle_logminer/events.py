"""Pure conversion of parsed redo (and snapshot rows) to change events, typed by the table's columns.

Values go through :func:`connectors.sql.values.normalise_value` (the SQL connector's rules): LogMiner's
quoted NUMBER text becomes an exact ``Decimal`` (a value that does not fit its column is a dead row, never
rounded), DATE/TIMESTAMP stay datetimes, RAW bytes; text LogMiner wrote as ``HEXTORAW`` into a
VARCHAR2/CHAR/CLOB column is decoded with the database character set (NCHAR types: the national one, see
:mod:`.charset`). ``"COL 1"``, ``"COL 2"`` (LogMiner's names when its dictionary does not know the table's
current shape) are the table's columns at those positions (1-based, ALL_TAB_COLUMNS.COLUMN_ID order).

A column the statement does not carry: a LOB column (CLOB, NCLOB, BLOB) in an update or delete is
:data:`UNAVAILABLE` (bytes of it for BLOB), never None, which would read as a real NULL (Oracle never
logs LOBs in the where clause, and an update carries only the LOBs it sets). Other columns are None: with
supplemental logging of ALL COLUMNS there are none; with primary-key logging only, an update's unchanged
columns (see docs/connectors/oracle-logminer.md). A key column missing from a delete's or update's where
clause is a dead row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from connectors.oracle_logminer.charset import Charsets
from connectors.oracle_logminer.redo import Redo
from connectors.sql.values import ValueProblem, normalise_value
from schemas.columns import Column, ColumnType, TableMeta
from schemas.envelope import ChangeEvent, Op, SourceInfo

__all__ = ["UNAVAILABLE", "epoch_ms", "event_from_redo", "typed_row"]

UNAVAILABLE = "__debezium_unavailable_value"
"""A LOB value the redo statement does not carry (Debezium's default ``unavailable.value.placeholder``, so
tools that know Debezium's Oracle events recognise it); a BLOB column holds its UTF-8 bytes."""

_LOBS = frozenset({"CLOB", "NCLOB", "BLOB"})
_TEXT = (ColumnType.STRING, ColumnType.CHAR)
_POSITIONAL = re.compile(r"COL (\d+)$")
_DEFAULT_CHARSETS = Charsets()


def typed_row(values: Mapping[str, Any], meta: TableMeta, charsets: Charsets = _DEFAULT_CHARSETS) -> dict[str, Any]:
    """Every column of ``meta`` typed (absent ones None); ``ValueProblem`` for a value that does not fit or
    a column the table does not have (the dictionary changed under the connector)."""
    unknown = [k for k in values if not any(c.name == k for c in meta.columns)]
    if unknown:
        raise ValueProblem(f"column(s) {', '.join(unknown)} not in the table's description")
    row: dict[str, Any] = {}
    for col in meta.columns:
        value = values.get(col.name)
        try:
            if isinstance(value, bytes) and col.type in _TEXT:
                value = charsets.decode(value, (col.source_type or "").startswith("N"))
            row[col.name] = normalise_value(value, col)
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise ValueProblem(f"column {col.name}: {exc}") from exc
    return row


def _by_position(values: dict[str, Any], meta: TableMeta) -> dict[str, Any]:
    """``"COL n"`` names that are not columns of the table, as the table's n-th column (1-based)."""
    if not any(k.startswith("COL ") for k in values):
        return values
    names = [c.name for c in meta.columns]
    out: dict[str, Any] = {}
    for key, value in values.items():
        m = _POSITIONAL.match(key)
        if m is not None and key not in names:
            n = int(m.group(1))
            if not 1 <= n <= len(names):
                raise ValueProblem(f"{key}: the table has {len(names)} columns")
            key = names[n - 1]
        out[key] = value
    return out


def _lob(col: Column) -> bool:
    return (col.source_type or "") in _LOBS


def _unavailable(values: dict[str, Any], meta: TableMeta) -> dict[str, Any]:
    """``values`` with :data:`UNAVAILABLE` for every LOB column it does not carry."""
    missing = [c for c in meta.columns if c.name not in values and _lob(c)]
    if not missing:
        return values
    out = dict(values)
    for col in missing:
        out[col.name] = UNAVAILABLE.encode() if col.type is ColumnType.BYTES else UNAVAILABLE
    return out


def epoch_ms(when: datetime | None, zone: str, default_ms: int) -> int:
    """A LogMiner wall-clock time (the database server's zone) as epoch milliseconds."""
    if when is None:
        return default_ms
    aware = when if when.tzinfo is not None else when.replace(tzinfo=ZoneInfo(zone))
    return max(0, int(aware.timestamp() * 1000))


def event_from_redo(redo: Redo, meta: TableMeta, source: SourceInfo, ts_ms: int,
                    charsets: Charsets = _DEFAULT_CHARSETS) -> ChangeEvent:
    """The event of one parsed DML (``ValueProblem`` or ``SkippableError`` for a dead row)."""
    raw_before = None if redo.before is None else _by_position(redo.before, meta)
    raw_after = None if redo.after is None else _by_position(redo.after, meta)
    if redo.op != "c":
        raw_before = _unavailable(raw_before or {}, meta)
        raw_after = None if raw_after is None else _unavailable(raw_after, meta)
    before = None if raw_before is None else typed_row(raw_before, meta, charsets)
    after = None if raw_after is None else typed_row(raw_after, meta, charsets)
    image = after if after is not None else before
    assert image is not None
    if redo.op != "c":
        present = raw_before or {}
        missing = [k for k in meta.key if k not in present]
        if missing:
            raise ValueProblem(f"key column(s) {', '.join(missing)} missing from the redo's where clause "
                               "(supplemental logging of the primary key is off?)")
    key = {k: image[k] for k in meta.key}
    op = {"c": Op.CREATE, "u": Op.UPDATE, "d": Op.DELETE}[redo.op]
    return ChangeEvent.create(key=key, before=before if op is not Op.CREATE else None,
                              after=after if op is not Op.DELETE else None, op=op, source=source, ts_ms=ts_ms)
