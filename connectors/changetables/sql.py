"""Pure construction of the keyset query a snapshot reads a source table with (both servers take it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from connectors.sql.queries import decode_all
from schemas.columns import Column

__all__ = ["keyset_select", "snapshot_params"]

Quote = Callable[[str], str]


def keyset_select(quote: Quote, table: str, columns: Sequence[str], key: Sequence[str], *, after: bool,
                  limit: int, style: Literal["top", "fetch"]) -> str:
    """``SELECT cols FROM table [WHERE key > (?, ...)] ORDER BY key`` limited to ``limit`` rows.

    The key comparison is written as ORs of ANDs (``a > ? OR (a = ? AND b > ?)``), which both servers
    take; its parameters are :func:`snapshot_params`. ``style`` ``top`` is SQL Server's ``TOP (n)``,
    ``fetch`` Db2's ``FETCH FIRST n ROWS ONLY``. ``table`` is already quoted."""
    cols = ", ".join(quote(c) for c in columns)
    head = f"SELECT TOP ({int(limit)}) {cols}" if style == "top" else f"SELECT {cols}"
    sql = f"{head} FROM {table}"
    if after:
        terms = []
        for i, k in enumerate(key):
            equal = [f"{quote(key[j])} = ?" for j in range(i)]
            terms.append("(" + " AND ".join([*equal, f"{quote(k)} > ?"]) + ")")
        sql += " WHERE " + " OR ".join(terms)
    sql += " ORDER BY " + ", ".join(quote(k) for k in key)
    if style == "fetch":
        sql += f" FETCH FIRST {int(limit)} ROWS ONLY"
    return sql


def snapshot_params(after_key: Sequence[Any] | None, key_columns: Sequence[Column], dialect: str) -> list[Any]:
    """The parameters of :func:`keyset_select` for a key saved in the state (JSON) or none."""
    values = decode_all(after_key, key_columns, dialect)
    if values is None:
        return []
    params: list[Any] = []
    for i in range(len(values)):
        params.extend(values[: i + 1])
    return params
