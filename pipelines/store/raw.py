"""Plain SQL on the DBAPI cursor of an open SQLAlchemy transaction, for the store's hot paths.

Resolving one record takes a dozen small statements; through SQLAlchemy Core each costs about 0.3 ms of
Python (statement construction, cache keys, result wrapping) against ~0.03 ms in SQLite itself, so the hot
statements are written once as text with ``:name`` parameters and run on the driver's cursor, inside the same
transaction. The SQL is the common subset of SQLite and PostgreSQL; ``:name`` becomes ``%(name)s`` for
drivers with the ``pyformat`` style (psycopg2). JSON values are written as text and read back from either a
string (SQLite) or an already decoded value (PostgreSQL ``json``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Connection

_PARAM = re.compile(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)")


@lru_cache(maxsize=512)
def _pyformat(sql: str) -> str:
    return _PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))


_SORTED = orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS


def jdump(value: Any, *, sort: bool = False) -> str | None:
    """Compact JSON text (``sort``: with sorted keys, for values compared as text); unknown types as ``str``."""
    if value is None:
        return None
    return orjson.dumps(value, default=str, option=_SORTED if sort else orjson.OPT_NON_STR_KEYS).decode()


def jload(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def in_params(prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """``":p0, :p1"`` and ``{"p0": .., "p1": ..}`` for an ``IN (...)`` list."""
    names = [f"{prefix}{i}" for i in range(len(values))]
    return ", ".join(":" + n for n in names), dict(zip(names, values, strict=True))


def ref_chunks(refs: Iterable[tuple[str, str]], size: int = 500) -> Iterator[tuple[str, list[str]]]:
    """``(source, keys)`` for ``refs`` grouped by source, at most ``size`` keys each: one ``IN`` query per chunk
    in place of one query per record."""
    by_source: dict[str, list[str]] = {}
    for source, key in refs:
        by_source.setdefault(source, []).append(key)
    for source, keys in by_source.items():
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), size):
            yield source, unique[i:i + size]


class Raw:
    """Run text SQL on ``conn``'s driver connection (same transaction)."""

    __slots__ = ("_cursor", "_pyformat")

    def __init__(self, conn: Connection) -> None:
        self._cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        self._pyformat = conn.dialect.paramstyle == "pyformat"

    def _sql(self, sql: str) -> str:
        return _pyformat(sql) if self._pyformat else sql

    def run(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._cursor.execute(self._sql(sql), params or {})

    def many(self, sql: str, rows: Iterable[Mapping[str, Any]]) -> None:
        rows = list(rows)
        if rows:
            self._cursor.executemany(self._sql(sql), rows)

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        self._cursor.execute(self._sql(sql), params or {})
        return list(self._cursor.fetchall())

    def one(self, sql: str, params: Mapping[str, Any] | None = None) -> tuple[Any, ...] | None:
        self._cursor.execute(self._sql(sql), params or {})
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)


def raw(conn: Connection) -> Raw:
    """The :class:`Raw` runner of ``conn`` (one per connection and transaction, kept on its ``info``)."""
    runner = conn.info.get("crmhub.raw")
    if runner is None:
        runner = conn.info["crmhub.raw"] = Raw(conn)
    return runner  # type: ignore[no-any-return,unused-ignore]


_MEMO = "crmhub.memo"


def memo(conn: Connection, name: str, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per transaction (see :func:`forget_all`); for questions like "any credit rows yet?"
    that every record of a batch would otherwise ask again. Writers call :func:`forget` for their name."""
    cache = conn.info.setdefault(_MEMO, {})
    if name not in cache:
        cache[name] = compute()
    return cache[name]


def forget(conn: Connection, name: str) -> None:
    conn.info.get(_MEMO, {}).pop(name, None)


def forget_all(conn: Connection) -> None:
    """At the start of a transaction: what other writers did since is visible again."""
    conn.info.pop(_MEMO, None)
