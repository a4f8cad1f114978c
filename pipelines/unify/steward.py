"""What a data steward does by hand: accept or reject a possible match, link two records, detach one, and
re-evaluate every automatic link under new match settings (a trained model).

Decisions are stored as ``must``/``cannot`` pairs of record references, so they outlive later changes of
the records: a record that changes is re-linked with the steward's decisions applied first. A ``cannot`` pair
never shares a golden record, not even through a third record that links to both (:mod:`pipelines.unify.clusters`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from pipelines.identity import FEATURES_VERSION
from pipelines.store import records as rec
from pipelines.store.contacts import sync_contact_keys
from pipelines.unify.engine import ApplyStats, Unifier
from pipelines.unify.resolver import (
    Reclustered,
    recluster,
    record_block_keys,
    resolve,
    resolve_many,
    stored_features,
)
from schemas.errors import ConfigError


def _cause(action: str, ref: str, by: str) -> dict[str, Any]:
    return {"source": "steward", "table": action, "source_key": ref, "version": "", "origin": f"steward:{by}"}


def _record(conn: Connection, ref: str) -> rec.SourceRow:
    source, key = rec.split_ref(ref)
    row = rec.get_record(conn, source, key)
    if row is None or row.deleted:
        raise ConfigError(f"no live source record {ref!r}")
    return row


def link(unifier: Unifier, ref_a: str, ref_b: str, by: str) -> ApplyStats:
    """Put two records in the same golden record, and keep them together."""
    def work(conn: Connection) -> tuple[Reclustered, dict[str, Any]]:
        a, _b = _record(conn, ref_a), _record(conn, ref_b)
        rec.set_manual(conn, ref_a, ref_b, "must", by, unifier.now_ms())
        return resolve(conn, a, unifier.cfg.match, unifier.now_ms), _cause("link", f"{ref_a}+{ref_b}", by)
    return unifier.run_in_batch(work)


def unlink(unifier: Unifier, ref: str, by: str) -> ApplyStats:
    """Detach a record from its golden record: it must not link to any of the current other members."""
    def work(conn: Connection) -> tuple[Reclustered, dict[str, Any]]:
        row = _record(conn, ref)
        for other in rec.members(conn, [row.golden_id] if row.golden_id else []):
            if other.id != row.id:
                rec.set_manual(conn, ref, other.ref, "cannot", by, unifier.now_ms())
        rec.drop_links(conn, [row.id], keep_manual=False)
        old = row.golden_id
        result = resolve(conn, row, unifier.cfg.match, unifier.now_ms)
        if old:
            more = recluster(conn, [], [old], unifier.cfg.match)
            result.touched |= more.touched
        return result, _cause("unlink", ref, by)
    return unifier.run_in_batch(work)


def decide(unifier: Unifier, review_id: int, accept: bool, by: str) -> ApplyStats:
    """Accept (link) or reject (never link) a possible match from the review list. A rejected pair that shares a
    golden record through other records is split (each keeps the records it links best to)."""
    def work(conn: Connection) -> tuple[Reclustered, dict[str, Any]]:
        item = rec.get_review(conn, review_id)
        if item is None or item["status"] != "open":
            raise ConfigError(f"review {review_id} is not open")
        rows = rec.get_records(conn, [item["a"], item["b"]])
        a, b = rows[item["a"]], rows[item["b"]]
        rec.set_manual(conn, a.ref, b.ref, "must" if accept else "cannot", by, unifier.now_ms())
        rec.decide_review(conn, review_id, "accepted" if accept else "rejected", by, unifier.now_ms())
        cause = _cause("accept" if accept else "reject", f"{a.ref}+{b.ref}", by)
        if not accept:
            together = a.golden_id is not None and a.golden_id == b.golden_id
            if not together:
                return Reclustered(), cause
            return recluster(conn, [a.id, b.id], [a.golden_id or ""], unifier.cfg.match), cause
        return resolve(conn, a, unifier.cfg.match, unifier.now_ms), cause
    return unifier.run_in_batch(work)


def refresh_features(conn: Connection, rows: list[rec.SourceRow]) -> dict[int, list[str]]:
    """Recompute the match features, blocking keys and contact-name keys of the rows stored under an older
    normalisation (``FEATURES_VERSION``); returns the new blocking keys by record id."""
    keys: dict[int, list[str]] = {}
    for row in rows:
        if row.deleted or row.data is None or row.features is None or row.features.get("v") == FEATURES_VERSION:
            continue
        row.features = stored_features(row.data, row.source, row.source_key, row.features.get("dob_raw"))
        rec.set_features(conn, row.id, row.features)
        sync_contact_keys(conn, row.id, None, row.data, fresh=False)
        keys[row.id] = record_block_keys(row.features, row.ref)
    if keys:
        rec.replace_block_keys_many(conn, keys)
    return keys


def relink(unifier: Unifier, chunk: int = 500, progress: Callable[[int, int], None] | None = None) -> ApplyStats:
    """Score every live record against its candidates again under the unifier's match settings (a new model),
    its features recomputed first when they were stored under an older normalisation:
    automatic links and open reviews are recomputed, manual decisions kept, and the golden records that gain
    or lose members are rebuilt and published (merges and splits); a golden id stays where its members stay.
    Works in transactions of ``chunk`` records."""
    with unifier.store.tx() as conn:
        ids = [i for i, _ref, _f in rec.live_features(conn)]
    for start in range(0, len(ids), chunk):  # every record's features first: no chunk scores against stale ones
        with unifier.store.tx() as conn:
            refresh_features(conn, list(rec.get_records(conn, ids[start:start + chunk]).values()))
    total = ApplyStats()
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]

        def work(conn: Connection, part: list[int] = part) -> tuple[Reclustered, dict[str, Any]]:
            rows = list(rec.get_records(conn, part).values())
            old = {r.golden_id for r in rows if r.golden_id}
            result = resolve_many(conn, rows, old, unifier.cfg.match, unifier.now_ms)
            return result, _cause("relink", f"{len(rows)} records", "relink")
        total.add(unifier.run_in_batch(work))
        if progress is not None:
            progress(min(start + chunk, len(ids)), len(ids))
    return total
