"""Reconciliation of deletes (``reconcile_deletes_every_s``): the keys a table holds now, read in key order, and
the ``d`` events of the emitted keys (:mod:`connectors.sql.keystore`) that are no longer among them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from connectors.sql.catalog import SourceTable
from connectors.sql.queries import key_from_text, key_text, keyset_query
from connectors.sql.values import ValueProblem, normalise_row
from schemas.envelope import ChangeEvent, Op, SourceInfo

Fetch = Callable[[sa.Select[Any], str], list[dict[str, Any]]]


def table_keys(t: SourceTable, fetch: Fetch, batch_size: int, dialect: str) -> Iterator[str]:
    """Every key of ``t`` as the key store writes it, ``batch_size`` keys per query (keyset pagination)."""
    after_key: list[Any] | None = None
    while True:
        rows = fetch(keyset_query(t.ref, t.meta.key, after_key, batch_size, dialect, keys_only=True),
                     f"scanning the keys of {t.label}")
        for raw in rows:
            try:
                yield key_text(normalise_row(raw, t.meta.key_columns, trim_char=t.cfg.trim_char), t.meta.key)
            except ValueProblem:  # such a key was dead-lettered, never emitted: nothing to compare
                continue
        if len(rows) < batch_size:
            return
        after_key = [rows[-1][k] for k in t.meta.key]


def delete_events(t: SourceTable, keys: Sequence[str], source: SourceInfo, ts_ms: int) -> list[ChangeEvent]:
    """A key-only ``d`` for each vanished key."""
    return [ChangeEvent.create(key=key_from_text(k, t.meta.key_columns), before=None, after=None, op=Op.DELETE,
                               source=source, ts_ms=ts_ms) for k in keys]
