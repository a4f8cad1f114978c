"""Building canonical events and reading a store, for the unify tests (SQLite here, PostgreSQL in tests/pg)."""

from __future__ import annotations

import itertools
from typing import Any

from pipelines.store import views
from pipelines.store.engine import Store
from pipelines.unify.engine import OutRecord, Unifier
from schemas.canonical import DELETE, UPSERT, CanonicalEvent, coerce, make_version

_offsets = itertools.count()


def event(source: str, key: str, data: dict[str, Any] | None, ts: int, *, entity: str = "customer",
          table: str = "T", offset: int | None = None) -> CanonicalEvent:
    """A canonical event; ``data`` None makes a delete. Offsets increase per call unless given."""
    off = next(_offsets) if offset is None else offset
    record = None
    if data is not None:
        record, problems = coerce(entity, data)
        assert not problems, problems
    return CanonicalEvent(entity, source, table, key, UPSERT if data is not None else DELETE,
                          make_version(ts, 0, off), ts, ts, f"canon/0/{off}", record)


def person(given: str, family: str, dob: str, email: str | None = None, **more: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"given_name": given, "family_name": family, "birth_date": dob, **more}
    if email:
        data["emails"] = [{"address": email}]
    return data


def golden_of(store: Store, source: str, key: str) -> str | None:
    with store.tx() as conn:
        return views.golden_of_refs(conn, [(source, key)]).get((source, key))


def golden_row(store: Store, gid: str) -> views.GoldenRow:
    with store.tx() as conn:
        return views.get_golden(conn, [gid])[gid]


def drain(unifier: Unifier) -> list[OutRecord]:
    out: list[OutRecord] = []
    unifier.flush(out.extend)
    return out
