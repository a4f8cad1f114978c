"""Source records, the blocking index, match links, steward decisions and the review list.

Plain functions over one open transaction (``sqlalchemy.Connection``); the unify engine decides, these read
and write. A record reference is ``"<source>/<source_key>"``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from pipelines.store.tables import block_key, manual_pair, match_link, review, source_record


@dataclass(slots=True)
class SourceRow:
    id: int
    source: str
    source_key: str
    table: str
    golden_id: str | None
    data: dict[str, Any] | None
    features: dict[str, Any] | None
    version: str
    source_ts_ms: int
    deleted: bool

    @property
    def ref(self) -> str:
        return f"{self.source}/{self.source_key}"


_COLS = (source_record.c.id, source_record.c.source, source_record.c.source_key, source_record.c.table_name,
         source_record.c.golden_id, source_record.c.data, source_record.c.features, source_record.c.version,
         source_record.c.source_ts_ms, source_record.c.deleted)


def _row(r: Any) -> SourceRow:
    return SourceRow(*r)


def split_ref(ref: str) -> tuple[str, str]:
    source, sep, key = ref.partition("/")
    if not sep or not source:
        raise ValueError(f"record reference {ref!r} is not <source>/<source_key>")
    return source, key


def get_record(conn: Connection, source: str, key: str) -> SourceRow | None:
    r = conn.execute(select(*_COLS).where(source_record.c.source == source,
                                          source_record.c.source_key == key)).first()
    return None if r is None else _row(r)


def get_records(conn: Connection, ids: Collection[int]) -> dict[int, SourceRow]:
    out: dict[int, SourceRow] = {}
    ids = list(ids)
    for i in range(0, len(ids), 500):
        for r in conn.execute(select(*_COLS).where(source_record.c.id.in_(ids[i:i + 500]))):
            out[r[0]] = _row(r)
    return out


def records_by_refs(conn: Connection, refs: Iterable[tuple[str, str]]) -> list[SourceRow]:
    pairs = list(refs)
    if not pairs:
        return []
    cond = or_(*(and_(source_record.c.source == s, source_record.c.source_key == k) for s, k in pairs))
    return [_row(r) for r in conn.execute(select(*_COLS).where(cond, source_record.c.deleted.is_(False)))]


def members(conn: Connection, golden_ids: Collection[str]) -> list[SourceRow]:
    if not golden_ids:
        return []
    q = select(*_COLS).where(source_record.c.golden_id.in_(list(golden_ids)), source_record.c.deleted.is_(False))
    return [_row(r) for r in conn.execute(q.order_by(source_record.c.id))]


def save_record(conn: Connection, row: SourceRow | None, *, source: str, key: str, table: str,
                data: Mapping[str, Any] | None, features: Mapping[str, Any] | None, version: str,
                source_ts_ms: int, deleted: bool) -> int:
    values = {"table_name": table, "data": data, "features": features, "version": version,
              "source_ts_ms": source_ts_ms, "deleted": deleted}
    if row is None:
        res = conn.execute(insert(source_record).values(source=source, source_key=key, golden_id=None, **values))
        return int(res.inserted_primary_key[0])  # type: ignore[index]
    conn.execute(update(source_record).where(source_record.c.id == row.id).values(**values))
    return row.id


def set_golden(conn: Connection, record_ids: Collection[int], golden_id: str | None) -> None:
    ids = list(record_ids)
    for i in range(0, len(ids), 500):
        conn.execute(update(source_record).where(source_record.c.id.in_(ids[i:i + 500])).values(golden_id=golden_id))


# --- blocking index ---------------------------------------------------------------------------------------------

def replace_block_keys(conn: Connection, record_id: int, keys: Sequence[str]) -> None:
    conn.execute(delete(block_key).where(block_key.c.record_id == record_id))
    if keys:
        conn.execute(insert(block_key), [{"key": k, "record_id": record_id} for k in dict.fromkeys(keys)])


def candidates(conn: Connection, keys: Sequence[str], exclude: int, max_block: int) -> tuple[set[int], list[str]]:
    """Records sharing a block key with ``keys``; blocks larger than ``max_block`` are skipped (and named)."""
    if not keys:
        return set(), []
    sizes: dict[str, int] = dict(conn.execute(select(block_key.c.key, func.count()).where(block_key.c.key.in_(list(keys)))
                              .group_by(block_key.c.key)).tuples().all())
    usable = [k for k in keys if 0 < sizes.get(k, 0) <= max_block]
    skipped = [k for k in keys if sizes.get(k, 0) > max_block]
    if not usable:
        return set(), skipped
    found = {r[0] for r in conn.execute(select(block_key.c.record_id).where(block_key.c.key.in_(usable)).distinct())}
    found.discard(exclude)
    return found, skipped


# --- links --------------------------------------------------------------------------------------------------------

def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def drop_links(conn: Connection, record_id: int, *, keep_manual: bool = True) -> None:
    cond = or_(match_link.c.a == record_id, match_link.c.b == record_id)
    if keep_manual:
        cond = and_(cond, match_link.c.kind != "manual")
    conn.execute(delete(match_link).where(cond))


def add_link(conn: Connection, a: int, b: int, kind: str, score: float, detail: Mapping[str, Any]) -> None:
    lo, hi = _pair(a, b)
    conn.execute(delete(match_link).where(match_link.c.a == lo, match_link.c.b == hi))
    conn.execute(insert(match_link).values(a=lo, b=hi, kind=kind, score=score, detail=dict(detail)))


def neighbours(conn: Connection, ids: Collection[int]) -> dict[int, set[int]]:
    ids = list(ids)
    out: dict[int, set[int]] = {i: set() for i in ids}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        q = select(match_link.c.a, match_link.c.b).where(or_(match_link.c.a.in_(chunk), match_link.c.b.in_(chunk)))
        for a, b in conn.execute(q):
            out.setdefault(a, set()).add(b)
            out.setdefault(b, set()).add(a)
    return out


def links_of(conn: Connection, record_ids: Collection[int]) -> list[dict[str, Any]]:
    ids = list(record_ids)
    q = select(match_link).where(or_(match_link.c.a.in_(ids), match_link.c.b.in_(ids)))
    return [dict(r._mapping) for r in conn.execute(q)]


# --- steward decisions and reviews ----------------------------------------------------------------------------------

def manual_decisions(conn: Connection, ref: str) -> dict[str, str]:
    """``{other_ref: "must"|"cannot"}`` for one record."""
    q = select(manual_pair.c.a_ref, manual_pair.c.b_ref, manual_pair.c.kind).where(
        or_(manual_pair.c.a_ref == ref, manual_pair.c.b_ref == ref))
    return {(b if a == ref else a): kind for a, b, kind in conn.execute(q)}


def set_manual(conn: Connection, ref_a: str, ref_b: str, kind: str, by: str, ts_ms: int) -> None:
    a, b = sorted((ref_a, ref_b))
    conn.execute(delete(manual_pair).where(manual_pair.c.a_ref == a, manual_pair.c.b_ref == b))
    conn.execute(insert(manual_pair).values(a_ref=a, b_ref=b, kind=kind, by=by, ts_ms=ts_ms))


def open_review(conn: Connection, a: int, b: int, score: float, detail: Mapping[str, Any], now_ms: int) -> None:
    lo, hi = _pair(a, b)
    existing = conn.execute(select(review.c.id, review.c.status).where(review.c.a == lo, review.c.b == hi)).first()
    if existing is None:
        conn.execute(insert(review).values(a=lo, b=hi, score=score, detail=dict(detail), status="open",
                                           created_ms=now_ms))
    elif existing.status in ("open", "obsolete"):
        conn.execute(update(review).where(review.c.id == existing.id)
                     .values(score=score, detail=dict(detail), status="open"))


def obsolete_reviews(conn: Connection, record_id: int) -> None:
    conn.execute(update(review).where(or_(review.c.a == record_id, review.c.b == record_id),
                                      review.c.status == "open").values(status="obsolete"))


def list_reviews(conn: Connection, status: str = "open", limit: int = 100) -> list[dict[str, Any]]:
    q = select(review).where(review.c.status == status).order_by(review.c.score.desc(), review.c.id).limit(limit)
    return [dict(r._mapping) for r in conn.execute(q)]


def get_review(conn: Connection, review_id: int) -> dict[str, Any] | None:
    r = conn.execute(select(review).where(review.c.id == review_id)).first()
    return None if r is None else dict(r._mapping)


def decide_review(conn: Connection, review_id: int, status: str, by: str, now_ms: int) -> None:
    conn.execute(update(review).where(review.c.id == review_id)
                 .values(status=status, decided_by=by, decided_ms=now_ms))
