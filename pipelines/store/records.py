"""Source records, the blocking index, match links, steward decisions and the review list.

Plain functions over one open transaction (``sqlalchemy.Connection``); the unify engine decides, these read
and write. A record reference is ``"<source>/<source_key>"``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, update

from pipelines.store.contacts import sync_contact_keys
from pipelines.store.raw import forget, in_params, jdump, jload, memo, raw, ref_chunks
from pipelines.store.tables import manual_pair, match_link, review


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


_SELECT = ("SELECT id, source, source_key, table_name, golden_id, data, features, version, source_ts_ms, deleted "
           "FROM source_record ")


def _row(r: Any) -> SourceRow:
    return SourceRow(r[0], r[1], r[2], r[3], r[4], jload(r[5]), jload(r[6]), r[7], r[8], bool(r[9]))


def split_ref(ref: str) -> tuple[str, str]:
    source, sep, key = ref.partition("/")
    if not sep or not source:
        raise ValueError(f"record reference {ref!r} is not <source>/<source_key>")
    return source, key


def get_record(conn: Connection, source: str, key: str) -> SourceRow | None:
    r = raw(conn).one(_SELECT + "WHERE source = :s AND source_key = :k", {"s": source, "k": key})
    return None if r is None else _row(r)


def get_records(conn: Connection, ids: Collection[int]) -> dict[int, SourceRow]:
    out: dict[int, SourceRow] = {}
    ids = list(ids)
    for i in range(0, len(ids), 500):
        marks, params = in_params("i", ids[i:i + 500])
        for r in raw(conn).rows(_SELECT + f"WHERE id IN ({marks})", params):
            out[r[0]] = _row(r)
    return out


def features_of(conn: Connection, ids: Collection[int]) -> list[tuple[int, str, dict[str, Any]]]:
    """``(id, ref, features)`` of the live records among ``ids`` (what scoring needs, nothing more)."""
    out = []
    ids = list(ids)
    for i in range(0, len(ids), 500):
        marks, params = in_params("i", ids[i:i + 500])
        q = f"SELECT id, source, source_key, features FROM source_record WHERE id IN ({marks}) AND deleted = :f"
        for r in raw(conn).rows(q, {**params, "f": False}):
            if r[3] is not None:
                out.append((r[0], f"{r[1]}/{r[2]}", jload(r[3])))
    return out


def live_features(conn: Connection) -> list[tuple[int, str, dict[str, Any]]]:
    """``(id, ref, features)`` of every live record, in id order (what training reads)."""
    q = "SELECT id, source, source_key, features FROM source_record WHERE deleted = :f ORDER BY id"
    return [(r[0], f"{r[1]}/{r[2]}", jload(r[3])) for r in raw(conn).rows(q, {"f": False}) if r[3] is not None]


def records_by_refs(conn: Connection, refs: Iterable[tuple[str, str]]) -> list[SourceRow]:
    out = []
    for source, key in refs:
        row = get_record(conn, source, key)
        if row is not None and not row.deleted:
            out.append(row)
    return out


def members(conn: Connection, golden_ids: Collection[str], *, features: bool = True) -> list[SourceRow]:
    """The live records of ``golden_ids`` in id order (``features=False``: without their match features, for
    survivorship, which does not read them)."""
    if not golden_ids:
        return []
    marks, params = in_params("g", list(golden_ids))
    select = _SELECT if features else _SELECT.replace(" features,", " NULL,")
    rows = raw(conn).rows(select + f"WHERE golden_id IN ({marks}) AND deleted = :f ORDER BY id",
                          {**params, "f": False})
    return [_row(r) for r in rows]


def save_record(conn: Connection, row: SourceRow | None, *, source: str, key: str, table: str,
                data: Mapping[str, Any] | None, features: Mapping[str, Any] | None, version: str,
                source_ts_ms: int, deleted: bool) -> int:
    """Insert (``row`` None) or update the record; its contact persons' names are indexed with it."""
    values = {"t": table, "d": jdump(data), "f": jdump(features), "v": version, "ts": source_ts_ms, "del": deleted}
    if row is None:
        r = raw(conn).one("INSERT INTO source_record (source, source_key, table_name, golden_id, data, features, "
                          "version, source_ts_ms, deleted) VALUES (:s, :k, :t, NULL, :d, :f, :v, :ts, :del) "
                          "RETURNING id", {"s": source, "k": key, **values})
        assert r is not None
        sync_contact_keys(conn, int(r[0]), None, data, fresh=True)
        return int(r[0])
    raw(conn).run("UPDATE source_record SET table_name = :t, data = :d, features = :f, version = :v, "
                  "source_ts_ms = :ts, deleted = :del WHERE id = :id", {**values, "id": row.id})
    sync_contact_keys(conn, row.id, row.data, data, fresh=False)
    return row.id


def set_features(conn: Connection, record_id: int, features: Mapping[str, Any]) -> None:
    """Replace a record's stored match features (recomputed under a newer normalisation)."""
    raw(conn).run("UPDATE source_record SET features = :f WHERE id = :id", {"f": jdump(features), "id": record_id})


def set_golden(conn: Connection, record_ids: Collection[int], golden_id: str | None) -> None:
    ids = list(record_ids)
    for i in range(0, len(ids), 500):
        marks, params = in_params("i", ids[i:i + 500])
        raw(conn).run(f"UPDATE source_record SET golden_id = :g WHERE id IN ({marks})", {**params, "g": golden_id})


# --- blocking index ---------------------------------------------------------------------------------------------

def replace_block_keys(conn: Connection, record_id: int, keys: Sequence[str], *, fresh: bool = False) -> None:
    """Set the record's blocking keys (``fresh``: it is new and has none yet)."""
    replace_block_keys_many(conn, {record_id: keys}, fresh=[record_id] if fresh else [])


def replace_block_keys_many(conn: Connection, keys: Mapping[int, Sequence[str]], *,
                            fresh: Collection[int] = ()) -> None:
    """Set the blocking keys of several records in two statements (``fresh``: ids of new ones, with none)."""
    db = raw(conn)
    stale = [{"r": r} for r in keys if r not in fresh]
    if stale:
        db.many("DELETE FROM block_key WHERE record_id = :r", stale)
    rows = [{"k": k, "r": r} for r, ks in keys.items() for k in dict.fromkeys(ks)]
    if rows:
        db.many("INSERT INTO block_key (key, record_id) VALUES (:k, :r)", rows)


def blocks(conn: Connection, keys: Collection[str], max_block: int) -> tuple[dict[str, set[int]], list[str]]:
    """The records in each block of ``keys``; blocks larger than ``max_block`` are skipped (and named)."""
    members: dict[str, set[int]] = {}
    skipped: list[str] = []
    keys = list(dict.fromkeys(keys))
    for i in range(0, len(keys), 500):
        marks, params = in_params("k", keys[i:i + 500])
        q = (f"SELECT s.key, b.record_id FROM (SELECT key, COUNT(*) AS n FROM block_key WHERE key IN ({marks}) "
             "GROUP BY key) s LEFT JOIN block_key b ON b.key = s.key AND s.n <= :cap")
        for key, record_id in raw(conn).rows(q, {**params, "cap": max_block}):
            if record_id is None:
                skipped.append(key)
            else:
                members.setdefault(key, set()).add(record_id)
    return members, skipped


def candidates(conn: Connection, keys: Sequence[str], exclude: int, max_block: int) -> tuple[set[int], list[str]]:
    """Records sharing a block key with ``keys``; blocks larger than ``max_block`` are skipped (and named)."""
    members, skipped = blocks(conn, keys, max_block)
    found = set().union(*members.values()) if members else set()
    found.discard(exclude)
    return found, skipped


def records_of_refs(conn: Connection, refs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], SourceRow]:
    """The stored records of those ``refs`` that have one (deleted ones too), in one query per source and
    500 keys: for a batch, in place of a look-up per record."""
    out: dict[tuple[str, str], SourceRow] = {}
    for source, keys in ref_chunks(refs):
        marks, params = in_params("k", keys)
        for r in raw(conn).rows(_SELECT + f"WHERE source = :s AND source_key IN ({marks})", {**params, "s": source}):
            out[(source, r[2])] = _row(r)
    return out


# --- links --------------------------------------------------------------------------------------------------------

def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def drop_links(conn: Connection, record_ids: Collection[int], *, keep_manual: bool = True) -> None:
    extra = " AND kind <> 'manual'" if keep_manual else ""
    ids = list(record_ids)
    for i in range(0, len(ids), 400):
        marks, params = in_params("i", ids[i:i + 400])
        raw(conn).run(f"DELETE FROM match_link WHERE (a IN ({marks}) OR b IN ({marks})){extra}", params)


Link = tuple[int, int, str, float, Mapping[str, Any]]
"""(record a, record b, kind, score, detail)."""

CONFLICT = "conflict"
"""The kind of a row that joins nothing: scoring found the two records to be two persons (:attr:`MatchScore.apart`),
so no chain of links may put them in one golden record. Dropped and recomputed with the automatic links."""


def add_links(conn: Connection, links: Sequence[Link], *, fresh: Collection[int] = ()) -> None:
    """Link pairs of records, replacing their link unless an end is ``fresh`` (new: it has none yet)."""
    rows = [{"a": lo, "b": hi, "k": kind, "s": score, "d": jdump(dict(detail))}
            for a, b, kind, score, detail in links for lo, hi in (_pair(a, b),)]
    db = raw(conn)
    stale = [{"a": r["a"], "b": r["b"]} for r in rows if r["a"] not in fresh and r["b"] not in fresh]
    if stale:
        db.many("DELETE FROM match_link WHERE a = :a AND b = :b", stale)
    if rows:
        db.many("INSERT INTO match_link (a, b, kind, score, detail) VALUES (:a, :b, :k, :s, :d)", rows)


def add_link(conn: Connection, a: int, b: int, kind: str, score: float, detail: Mapping[str, Any], *,
             fresh: bool = False) -> None:
    """Link two records (replacing their link; ``fresh``: there is none)."""
    add_links(conn, [(a, b, kind, score, detail)], fresh=(a,) if fresh else ())


def neighbours(conn: Connection, ids: Collection[int],
               conflicts: set[tuple[int, int]] | None = None) -> dict[int, set[int]]:
    """The records linked to each of ``ids``; the :data:`CONFLICT` pairs among the rows read join no one, they
    are added to ``conflicts`` (when given) as ``(lower id, higher id)``."""
    ids = list(ids)
    out: dict[int, set[int]] = {i: set() for i in ids}
    for i in range(0, len(ids), 400):
        marks, params = in_params("i", ids[i:i + 400])
        q = (f"SELECT a, b, kind FROM match_link WHERE a IN ({marks}) "
             f"UNION SELECT a, b, kind FROM match_link WHERE b IN ({marks})")
        for a, b, kind in raw(conn).rows(q, params):
            if kind == CONFLICT:
                if conflicts is not None:
                    conflicts.add((a, b))
                continue
            out.setdefault(a, set()).add(b)
            out.setdefault(b, set()).add(a)
    return out


def links_among(conn: Connection, ids: Collection[int]) -> list[tuple[int, int, str, float]]:
    """``(a, b, kind, score)`` of the links (not the conflicts) whose both ends are among ``ids``."""
    wanted = set(ids)
    ordered = sorted(wanted)
    out: list[tuple[int, int, str, float]] = []
    for i in range(0, len(ordered), 400):
        marks, params = in_params("i", ordered[i:i + 400])
        q = f"SELECT a, b, kind, score FROM match_link WHERE a IN ({marks}) AND kind <> :c"
        out.extend((a, b, kind, score) for a, b, kind, score in raw(conn).rows(q, {**params, "c": CONFLICT})
                   if b in wanted)
    return out


def links_of(conn: Connection, record_ids: Collection[int]) -> list[dict[str, Any]]:
    ids = list(record_ids)
    q = select(match_link).where(or_(match_link.c.a.in_(ids), match_link.c.b.in_(ids)))
    return [dict(r._mapping) for r in conn.execute(q)]


# --- steward decisions and reviews ----------------------------------------------------------------------------------

def any_manual(conn: Connection) -> bool:
    return bool(memo(conn, "manual", lambda: raw(conn).one("SELECT a_ref FROM manual_pair LIMIT 1") is not None))


def manual_decisions(conn: Connection, ref: str) -> dict[str, str]:
    """``{other_ref: "must"|"cannot"}`` for one record."""
    q = select(manual_pair.c.a_ref, manual_pair.c.b_ref, manual_pair.c.kind).where(
        or_(manual_pair.c.a_ref == ref, manual_pair.c.b_ref == ref))
    return {(b if a == ref else a): kind for a, b, kind in conn.execute(q)}


def cannot_pairs(conn: Connection, refs: Collection[str]) -> list[tuple[str, str]]:
    """The steward's cannot-link pairs whose both records are among ``refs``."""
    wanted = set(refs)
    ordered = sorted(wanted)
    out: list[tuple[str, str]] = []
    for i in range(0, len(ordered), 500):
        marks, params = in_params("r", ordered[i:i + 500])
        q = f"SELECT a_ref, b_ref FROM manual_pair WHERE a_ref IN ({marks}) AND kind = :k"
        out.extend((a, b) for a, b in raw(conn).rows(q, {**params, "k": "cannot"}) if b in wanted)
    return out


def set_manual(conn: Connection, ref_a: str, ref_b: str, kind: str, by: str, ts_ms: int) -> None:
    a, b = sorted((ref_a, ref_b))
    forget(conn, "manual")
    conn.execute(delete(manual_pair).where(manual_pair.c.a_ref == a, manual_pair.c.b_ref == b))
    conn.execute(insert(manual_pair).values(a_ref=a, b_ref=b, kind=kind, by=by, ts_ms=ts_ms))


def open_review(conn: Connection, a: int, b: int, score: float, detail: Mapping[str, Any], now_ms: int) -> None:
    """Open the review of a possible match, or re-open it with the new score; a decided one stays decided."""
    lo, hi = _pair(a, b)
    raw(conn).run("INSERT INTO review (a, b, score, detail, status, created_ms) VALUES (:a, :b, :s, :d, 'open', :c) "
                  "ON CONFLICT (a, b) DO UPDATE SET score = excluded.score, detail = excluded.detail, status = 'open' "
                  "WHERE review.status IN ('open', 'obsolete')",
                  {"a": lo, "b": hi, "s": score, "d": jdump(dict(detail)), "c": now_ms})


def obsolete_reviews(conn: Connection, record_ids: Collection[int]) -> None:
    ids = list(record_ids)
    for i in range(0, len(ids), 400):
        marks, params = in_params("i", ids[i:i + 400])
        raw(conn).run(f"UPDATE review SET status = 'obsolete' WHERE (a IN ({marks}) OR b IN ({marks})) "
                      "AND status = 'open'", params)


def list_reviews(conn: Connection, status: str = "open", limit: int = 100) -> list[dict[str, Any]]:
    q = select(review).where(review.c.status == status).order_by(review.c.score.desc(), review.c.id).limit(limit)
    return [dict(r._mapping) for r in conn.execute(q)]


def get_review(conn: Connection, review_id: int) -> dict[str, Any] | None:
    r = conn.execute(select(review).where(review.c.id == review_id)).first()
    return None if r is None else dict(r._mapping)


def decide_review(conn: Connection, review_id: int, status: str, by: str, now_ms: int) -> None:
    conn.execute(update(review).where(review.c.id == review_id)
                 .values(status=status, decided_by=by, decided_ms=now_ms))
