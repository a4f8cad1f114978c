"""Pure SQLAlchemy Core construction of the connector's queries, and the coding of the values they bind.

**Incremental query** (Kafka Connect JDBC's predicate, so no row is lost when many rows share one timestamp
and the hub stops between two of them)::

    WHERE (ts > :ts OR (ts = :ts AND id > :id)) AND ts < :upper  ORDER BY ts, id  LIMIT n

``id`` is the incrementing column (mode ``timestamp+incrementing``) or the key columns (mode ``timestamp``,
compared lexicographically: ``(a > :a) OR (a = :a AND b > :b)``, which every dialect takes, unlike row
values). Mode ``incrementing`` is ``WHERE id > :id ORDER BY id``. A position holding only ``ts`` (the
stream start recorded by a snapshot) is inclusive: ``ts >= :ts``.

**Upper bound.** ``:upper`` is the database's own current time read once per poll (``SELECT
CURRENT_TIMESTAMP``, one round trip per poll rather than an interval expression per dialect) minus the
table's safety delay, computed in Python. A transaction that stamped its rows at T and commits within the
delay is therefore still read: the high-water mark never passes a timestamp that could still appear. The
streaming poll reads past it (``safe_below``): the rows come back flagged ``crmhub_safe`` = 1 below the bound
(the database compares, as the predicate would) and 0 above it, so they can be emitted at once while the
saved position stops at the last safe row (:mod:`connectors.sql.ahead`).
Caveats: the delay must exceed the longest transaction; the timestamp column must be written with the
database's clock in the same zone as ``CURRENT_TIMESTAMP`` returns (SQLite returns UTC; PostgreSQL's
timestamptz is made naive in the session's zone for a ``timestamp`` column); an application that stamps rows
with its own clock adds that clock's skew to what the delay must cover.

**Snapshot / reconciliation**: keyset pagination on the (possibly composite) key, resumable from the last
key: ``WHERE key > :last ORDER BY key LIMIT n``; a chunk of a parallel snapshot adds ``AND key <= :upto``.

**Limits**: ``LIMIT`` for SQLite, PostgreSQL, MySQL/MariaDB; ``TOP`` for SQL Server; ``FETCH FIRST n ROWS
ONLY`` for Oracle (12c+) and, with a literal count, for Db2 LUW and Db2 for i (``ibm_db_sa``), where it works
on every release (``LIMIT`` needs IBM i 7.1 TR11 / Db2 LUW 11.1).

Columns are untyped (``NullType``) so rows come back exactly as the driver returns them (no rounding by
SQLAlchemy's result processors; :mod:`connectors.sql.types` normalises them) and bound values pass untouched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.elements import BindParameter

from schemas.columns import Column, ColumnType

JsonScalar = str | int | float | bool | None
SAFE_FLAG = "crmhub_safe"  # the column ``safe_below`` adds: 1 below the bound, 0 at or above it
_DB2_DIALECTS = frozenset({"ibm_db_sa", "db2", "ibm_db"})


@dataclass(frozen=True, slots=True)
class Bound:
    """A statement built once and the values to run it with this time (``conn.execute(stmt, params)``)."""

    stmt: Select[Any]
    params: dict[str, Any]


def table_ref(schema: str | None, name: str, columns: Sequence[str]) -> sa.Table:
    """An untyped ``Table`` for building queries (no reflection, no types)."""
    return sa.Table(name, sa.MetaData(), *(sa.Column(c, sa.types.NullType()) for c in columns), schema=schema)


def limit_rows(stmt: Select[Any], count: int, dialect: str) -> Select[Any]:
    """``stmt`` limited to ``count`` rows in the form ``dialect`` takes best (see module docstring)."""
    if dialect in _DB2_DIALECTS:
        return stmt.fetch(sa.literal_column(str(int(count))))
    return stmt.limit(int(count))


def after(columns: Sequence[ColumnElement[Any]], values: Sequence[Any], prefix: str) -> ColumnElement[bool]:
    """Lexicographic ``(c1, c2, ...) > (:v1, :v2, ...)`` as ORs of ANDs; binds are named ``prefix_0``..."""
    if not columns or len(columns) != len(values):
        raise ValueError("after() needs as many values as columns, at least one")
    binds: list[BindParameter[Any]] = [sa.bindparam(f"{prefix}_{i}", v) for i, v in enumerate(values)]
    terms: list[ColumnElement[bool]] = []
    for i, col in enumerate(columns):
        equal = [columns[j] == binds[j] for j in range(i)]
        terms.append(sa.and_(*equal, col > binds[i]))
    return sa.or_(*terms)


def incremental_query(
    table: sa.Table,
    *,
    ts_column: str | None,
    id_columns: Sequence[str],
    after_ts: Any = None,
    after_ids: Sequence[Any] | None = None,
    upper_ts: Any = None,
    safe_below: Any = None,
    limit: int,
    dialect: str,
) -> Select[Any]:
    """The next ``limit`` changed rows after the position (``after_ts``, ``after_ids``), below ``upper_ts``
    (or all of them, each flagged ``SAFE_FLAG`` = 1 when below ``safe_below``).

    ``ts_column`` None is mode ``incrementing``. With ``after_ts`` and no ``after_ids`` the lower bound is
    inclusive (``ts >= :ts``); with neither there is no lower bound."""
    ids = [table.c[c] for c in id_columns]
    extra: list[ColumnElement[Any]] = []
    conds: list[ColumnElement[bool]] = []
    order: list[ColumnElement[Any]] = list(ids)
    if ts_column is None:
        if not ids:
            raise ValueError("mode incrementing needs an incrementing column")
        if after_ids is not None:
            conds.append(after(ids, after_ids, "id"))
    else:
        ts = table.c[ts_column]
        order.insert(0, ts)
        if after_ts is not None:
            ts_bind: BindParameter[Any] = sa.bindparam("ts", after_ts)
            if after_ids is None or not ids:
                conds.append(ts >= ts_bind)
            else:
                # ts >= :ts first: without it, "ts > :ts OR (ts = :ts AND id > :id)" is no range of the (ts, id)
                # index, and PostgreSQL walked the index from its start, filtering every row already read
                # (a 1,000-row page: 19 ms after 150,000 rows instead of 0.25 ms)
                conds.append(ts >= ts_bind)
                conds.append(sa.or_(ts > ts_bind, sa.and_(ts == ts_bind, after(ids, after_ids, "id"))))
        if upper_ts is not None:
            conds.append(ts < sa.bindparam("upper", upper_ts))
        else:
            conds.append(ts.is_not(None))
        if safe_below is not None:
            extra.append(sa.case((ts < sa.bindparam("safe", safe_below), 1), else_=0).label(SAFE_FLAG))
    stmt = sa.select(table, *extra).order_by(*order)
    if conds:
        stmt = stmt.where(*conds)
    return limit_rows(stmt, limit, dialect)


def incremental_params(*, ts_column: str | None, id_columns: Sequence[str], after_ts: Any = None,
                       after_ids: Sequence[Any] | None = None, upper_ts: Any = None,
                       safe_below: Any = None) -> dict[str, Any]:
    """The values :func:`incremental_query` binds for these arguments, by bind name. The names alone decide the
    statement's form for a table (which bounds are set, how many key values), so a statement built once for a
    set of names runs with the values of any later position (``conn.execute(stmt, params)``): a poll builds no
    expression and computes no cache key."""
    ids = {f"id_{i}": v for i, v in enumerate(after_ids or ())} if after_ids is not None and id_columns else {}
    if ts_column is None:
        return ids
    params: dict[str, Any] = {}
    if after_ts is not None:
        params["ts"] = after_ts
        params.update(ids)
    if upper_ts is not None:
        params["upper"] = upper_ts
    if safe_below is not None:
        params["safe"] = safe_below
    return params


def keyset_query(
    table: sa.Table, key_columns: Sequence[str], after_key: Sequence[Any] | None, limit: int, dialect: str,
    *, keys_only: bool = False, upto: Sequence[Any] | None = None,
) -> Select[Any]:
    """Rows (or only their keys, for delete reconciliation) in key order after ``after_key`` and, with ``upto``,
    at or below that key (a snapshot chunk)."""
    keys = [table.c[k] for k in key_columns]
    stmt = sa.select(*keys) if keys_only else sa.select(table)
    if after_key is not None:
        stmt = stmt.where(after(keys, after_key, "key"))
    if upto is not None:
        stmt = stmt.where(sa.not_(after(keys, upto, "upto")))
    return limit_rows(stmt.order_by(*keys), limit, dialect)


def key_range_query(table: sa.Table, key_column: str) -> Select[Any]:
    """The smallest and greatest key and the row count (``lo``, ``hi``, ``n``), for splitting a snapshot."""
    key = table.c[key_column]
    count: ColumnElement[Any] = sa.func.count().label("n")
    return sa.select(sa.func.min(key).label("lo"), sa.func.max(key).label("hi"), count).select_from(table)


def key_step_query(table: sa.Table, key_column: str, after_key: Any, step: int, dialect: str) -> Select[Any]:
    """The key ``step`` rows after ``after_key`` (after none: the ``step``-th key): the end of a snapshot chunk
    of ``step`` rows. An index on the key answers it by reading ``step`` index entries."""
    key = table.c[key_column]
    stmt = sa.select(key.label("k")).order_by(key).offset(step - 1)
    if after_key is not None:
        stmt = stmt.where(key > sa.bindparam("key_0", after_key))
    return limit_rows(stmt, 1, dialect)


def head_query(table: sa.Table, ts_column: str | None, id_column: str | None, dialect: str) -> Select[Any]:
    """The source's newest position: the greatest ts and the greatest id (NULL for the part a mode lacks), each
    as ``ORDER BY c DESC`` limited to one row, which an index answers at once, where ``MAX(c)`` over a view
    (``ORDHDRV``: a header joined to its lines) may read every row of it."""
    def newest(column: str | None) -> Any:
        if column is None:
            return sa.null()
        c = table.c[column]
        return limit_rows(sa.select(c).where(c.is_not(None)).order_by(c.desc()), 1, dialect).scalar_subquery()

    return sa.select(newest(ts_column).label("head_ts"), newest(id_column).label("head_id"))


def last_at_query(table: sa.Table, ts_column: str, id_columns: Sequence[str], ts_value: Any, dialect: str
                  ) -> Select[Any]:
    """The greatest ``id_columns`` among the rows stamped exactly ``ts_value`` (where a stream starts)."""
    ids = [table.c[c] for c in id_columns]
    stmt = sa.select(*ids).where(table.c[ts_column] == sa.bindparam("ts", ts_value))
    return limit_rows(stmt.order_by(*(c.desc() for c in ids)), 1, dialect)


def now_query(dialect: str = "") -> Select[Any]:
    """The database's current time (``FROM DUAL`` / ``SYSIBM.SYSDUMMY1`` added by the dialect), with
    sub-second precision: SQLite's and MariaDB's ``CURRENT_TIMESTAMP`` have whole seconds only, which would
    hold every change back until the next second."""
    if dialect == "sqlite":
        return sa.select(sa.func.strftime("%Y-%m-%d %H:%M:%f", "now").label("now"))
    if dialect in ("mysql", "mariadb"):
        return sa.select(sa.literal_column("CURRENT_TIMESTAMP(6)").label("now"))
    return sa.select(sa.func.current_timestamp().label("now"))


# --- values bound to the queries, as kept in the JSON state ---------------------------------------------


def encode_value(raw: Any) -> JsonScalar:
    """A raw driver value (a position) in JSON: ints, floats and strings as they are (so SQLite's text
    timestamps are bound back byte for byte), Decimal exactly as text, dates ISO, bytes hex."""
    if raw is None or isinstance(raw, bool | int | float | str):
        return raw
    if isinstance(raw, datetime | date | time):
        return raw.isoformat()
    if isinstance(raw, timedelta):
        return raw.total_seconds()
    if isinstance(raw, bytes | bytearray | memoryview):
        return bytes(raw).hex()
    return str(raw)


def decode_value(value: JsonScalar, column: Column, dialect: str) -> Any:
    """The driver value to bind for a position saved with :func:`encode_value` (SQLite: unchanged)."""
    if value is None or dialect == "sqlite":
        return value
    kind = column.type
    if kind is ColumnType.DECIMAL:
        return Decimal(str(value))
    if kind in (ColumnType.INT16, ColumnType.INT32, ColumnType.INT64):
        return int(Decimal(str(value)))
    if kind in (ColumnType.FLOAT32, ColumnType.FLOAT64):
        return float(value)
    if kind in (ColumnType.TIMESTAMP, ColumnType.TIMESTAMP_TZ):
        return datetime.fromisoformat(str(value))
    if kind is ColumnType.DATE:
        return date.fromisoformat(str(value)[:10])
    if kind is ColumnType.TIME:
        return timedelta(seconds=value) if isinstance(value, int | float) else time.fromisoformat(str(value))
    if kind is ColumnType.BYTES:
        return bytes.fromhex(str(value))
    return value


def bind_upper(upper: datetime, column: Column, dialect: str) -> Any:
    """The upper time bound as the column compares it: a date for DATE columns, SQLite's stored text form
    (``YYYY-MM-DD HH:MM:SS.ffffff``, as SQLAlchemy writes it) on SQLite, naive or aware as the column is."""
    if column.type is ColumnType.DATE:
        return upper.date().isoformat() if dialect == "sqlite" else upper.date()
    if column.type is ColumnType.TIMESTAMP_TZ:
        stamp = upper if upper.tzinfo else upper.replace(tzinfo=UTC)
    else:
        stamp = upper.replace(tzinfo=None)
    if dialect == "sqlite":
        return stamp.strftime("%Y-%m-%d %H:%M:%S.%f")
    return stamp


def decode_all(values: Sequence[Any] | None, columns: Sequence[Column], dialect: str) -> list[Any] | None:
    """:func:`decode_value` for each column (None stays None)."""
    if values is None:
        return None
    return [decode_value(v, c, dialect) for v, c in zip(values, columns, strict=True)]


def key_text(row: Mapping[str, Any], key: Sequence[str]) -> str:
    """A key as canonical JSON text (for the key store): normalised values, encoded."""
    return json.dumps([encode_value(row.get(k)) for k in key], separators=(",", ":"))


def key_from_text(text: str, columns: Sequence[Column]) -> dict[str, Any]:
    """The key values (typed as the envelope wants them) back from :func:`key_text`."""
    values = json.loads(text)
    return {c.name: decode_value(v, c, "") for v, c in zip(values, columns, strict=True)}
