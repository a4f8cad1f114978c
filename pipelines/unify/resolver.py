"""Incremental identity resolution: link one record to its candidates, then re-cluster what it touched.

A golden record is a connected component of match links. When a record arrives, changes or goes away, its
automatic links are recomputed (deterministic evidence first, then probabilistic scores over the candidates
the blocking index gives; a score in the review band opens a review instead; a pair scoring found to be two
persons is kept as a ``conflict``), and the components around it are recomputed. A component holding a
cannot-link pair (a conflict, or a steward's ``cannot``) is split so that no cluster holds both
(:mod:`pipelines.unify.clusters`). Golden ids are then handed out so they stay stable:

- each old golden id goes to the new component holding most of its former members (ties: the older id);
- a component without an old id gets a new one (a **split** off the id its members came from);
- an old id that lost all its members to another component is **merged** into that component's id; one
  whose members are all gone is **retired**.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection

from pipelines.identity import Features, MatchConfig, MatchScore, block_keys, cannot_reach, features, score, vetoed
from pipelines.identity.features import FEATURE_FIELDS
from pipelines.identity.scoring import birth_level
from pipelines.store import records as rec
from pipelines.store.raw import jdump, jload
from pipelines.store.views import new_golden_id
from pipelines.unify.clusters import birth_conflicts, constrained, split_components


@dataclass
class Reclustered:
    """Golden ids whose membership changed, and how."""

    touched: set[str] = field(default_factory=set)
    created: set[str] = field(default_factory=set)
    merges: list[tuple[str, str]] = field(default_factory=list)  # (loser, survivor)
    splits: list[tuple[str, str]] = field(default_factory=list)  # (from, new)
    retired: list[str] = field(default_factory=list)
    members: dict[str, list[rec.SourceRow]] | None = None  # live members of each touched id, when known


_FEATURE_TEXTS: dict[str, str] = {}  # the JSON text of recent records' features, by their feature inputs
_FEATURE_TEXTS_MAX = 16384
_FEATURE_TEXTS_LOCK = threading.Lock()


def stored_features(data: Mapping[str, Any], source: str, key: str, dob_raw: str | None = None) -> dict[str, Any]:
    """A record's match features in the form the store keeps (and gives back): JSON-safe. A record whose
    feature inputs (:data:`FEATURE_FIELDS`, source and key, an impossible birth date's text) are those of a
    recent call reuses that result: a change of a credit limit or a status leaves them as they were."""
    inputs = repr((source, key, dob_raw, [data.get(f) for f in FEATURE_FIELDS]))
    text = _FEATURE_TEXTS.get(inputs)
    if text is None:
        text = jdump(dict(features(data, source, key, dob_raw)))
        assert text is not None
        with _FEATURE_TEXTS_LOCK:
            if len(_FEATURE_TEXTS) >= _FEATURE_TEXTS_MAX:
                del _FEATURE_TEXTS[next(iter(_FEATURE_TEXTS))]  # the oldest entry
            _FEATURE_TEXTS[inputs] = text
    return cast(dict[str, Any], jload(text))


def record_block_keys(features: dict[str, Any], ref: str) -> list[str]:
    """The blocking keys of a record, plus its own reference and its cross-references (deterministic)."""
    keys = [*block_keys(cast(Features, features)), f"ref:{ref}"]
    keys.extend(f"ref:{x}" for x in features.get("xrefs") or ())
    return keys


def link_records(conn: Connection, rows: Sequence[rec.SourceRow], cfg: MatchConfig, now_ms: int, *,
                 fresh: Collection[int] = (), keys: Mapping[int, list[str]] | None = None) -> list[str]:
    """Recompute the automatic links, conflicts and reviews of ``rows`` together (``fresh``: ids of new
    records, they have none yet; ``keys``: blocking keys of some, when the caller has them): one blocking query,
    one features read, each pair scored once. A pair that does not link and that scoring finds to be two persons
    (:attr:`MatchScore.apart`) is stored as a ``conflict``, unless a steward decided that pair. Returns notes
    (skipped over-large blocks)."""
    stale = [r.id for r in rows if r.id not in fresh]
    rec.drop_links(conn, stale, keep_manual=True)
    rec.obsolete_reviews(conn, stale)
    rec.drop_links(conn, [r.id for r in rows if r.deleted or r.features is None], keep_manual=False)
    live = [r for r in rows if not r.deleted and r.features is not None]
    known = keys or {}
    mine = {r.id: known[r.id] if r.id in known else record_block_keys(cast(dict[str, Any], r.features), r.ref)
            for r in live}
    members, skipped = rec.blocks(conn, {k for ks in mine.values() for k in ks}, cfg.max_candidates)
    found = {r.id: set().union(*(members.get(k, ()) for k in mine[r.id])) - {r.id} for r in live}
    wanted = {i for c in found.values() for i in c}
    others = {i: (ref, cast(Features, f)) for i, ref, f in rec.features_of(conn, wanted)}
    manual = rec.any_manual(conn)
    links: list[rec.Link] = []
    scored: set[tuple[int, int]] = set()
    for row in live:
        decisions = rec.manual_decisions(conn, row.ref) if manual else {}
        features = cast(Features, row.features)
        for other_id in sorted(found[row.id]):
            pair = (min(row.id, other_id), max(row.id, other_id))
            if pair in scored or other_id not in others:
                continue
            scored.add(pair)
            other_ref, other_features = others[other_id]
            if decisions.get(other_ref) == "cannot":
                continue
            if cannot_reach(features, other_features, cfg):  # a "new": no need for the names or an explanation
                veto = vetoed(features, other_features, cfg) if cfg.authoritative else None
                if veto is not None and other_ref not in decisions:  # two persons, whatever else agrees
                    links.append((row.id, other_id, rec.CONFLICT, cfg.weight(f"{veto}.conflict"),
                                  {"apart": f"{veto} conflict"}))
                continue
            result = score(features, other_features, cfg)
            if result.decision == "link":
                kind = "deterministic" if result.deterministic else "probabilistic"
                links.append((row.id, other_id, kind, result.total, _detail(result)))
                continue
            if result.decision == "review":
                rec.open_review(conn, row.id, other_id, result.total, _detail(result), now_ms)
            if result.apart is not None and other_ref not in decisions:
                links.append((row.id, other_id, rec.CONFLICT, result.total, {**_detail(result), "apart": result.apart}))
        must = [rec.split_ref(ref) for ref, kind in decisions.items() if kind == "must"]
        links.extend((row.id, other.id, "manual", 1e9, {"manual": "must"})
                     for other in (rec.records_by_refs(conn, must) if must else ()))
    rec.add_links(conn, _last_per_pair(links), fresh=set(fresh))
    return [f"block {k} skipped (too large)" for k in dict.fromkeys(skipped)]


def _detail(result: MatchScore) -> dict[str, Any]:
    """What a link or review keeps of its score (the explanation)."""
    return {"total": round(result.total, 3), "contributions": result.contributions,
            "deterministic": result.deterministic, "notes": result.notes}


def _last_per_pair(links: list[rec.Link]) -> list[rec.Link]:
    """One link per pair (a steward's must-link of a pair also scored wins, as it was written last)."""
    out: dict[tuple[int, int], rec.Link] = {}
    for link in links:
        out[(min(link[0], link[1]), max(link[0], link[1]))] = link
    return list(out.values())


def _components(conn: Connection, seeds: Collection[int], conflicts: set[tuple[int, int]],
                adjacent: dict[int, set[int]]) -> list[set[int]]:
    """The connected components around ``seeds``: the link graph is read breadth-first for all seeds at once
    (one query per step), then split into components in memory. The conflict pairs met on the way (every row
    of every member is read) are added to ``conflicts``, each member's linked records to ``adjacent``."""
    seen = set(seeds)
    frontier = set(seeds)
    while frontier:
        found = rec.neighbours(conn, frontier, conflicts)
        for node, ns in found.items():
            adjacent.setdefault(node, set()).update(ns)
        frontier = {n for ns in found.values() for n in ns} - seen
        seen |= frontier
    done: set[int] = set()
    comps: list[set[int]] = []
    for seed in seeds:
        if seed in done:
            continue
        comp = {seed}
        stack = [seed]
        while stack:
            for n in adjacent.get(stack.pop(), ()):
                if n not in comp:
                    comp.add(n)
                    stack.append(n)
        done |= comp
        comps.append(comp)
    return comps


def recluster(conn: Connection, seeds: Collection[int], old_goldens: Collection[str], cfg: MatchConfig,
              known: Iterable[rec.SourceRow] = ()) -> Reclustered:
    """Recompute the components around ``seeds`` (live records; ``known``: rows of some already read) and
    the former ``old_goldens``."""
    out = Reclustered()
    involved = {g for g in old_goldens if g}
    rows = {r.id: r for r in known if r.id in seeds}
    rows.update(rec.get_records(conn, set(seeds) - rows.keys()))
    live = [i for i in seeds if i in rows and not rows[i].deleted]
    conflicts: set[tuple[int, int]] = set()
    adjacent: dict[int, set[int]] = {}
    comps = _components(conn, live, conflicts, adjacent)
    rows.update(rec.get_records(conn, {i for c in comps for i in c} - rows.keys()))
    involved |= _goldens(rows[i] for c in comps for i in c)
    while True:  # every live member of every involved golden id must be in a component
        covered = {i for c in comps for i in c}
        missing = [m for m in rec.members(conn, involved) if m.id not in covered]
        if not missing:
            break
        for m in missing:
            rows[m.id] = m
        new = _components(conn, [m.id for m in missing], conflicts, adjacent)
        rows.update(rec.get_records(conn, {i for c in new for i in c} - rows.keys()))
        involved |= _goldens(rows[i] for c in new for i in c)
        comps.extend(new)
    for comp in comps:
        conflicts |= _birth_conflicts(comp, adjacent, rows, cfg)
    _assign(conn, _kept_apart(conn, comps, rows, conflicts), rows, sorted(involved), out)
    return out


def _birth_conflicts(comp: set[int], adjacent: Mapping[int, set[int]], rows: Mapping[int, rec.SourceRow],
                     cfg: MatchConfig) -> set[tuple[int, int]]:
    """The pairs of a component kept apart for their birth dates (:func:`birth_conflicts`)."""
    if len(comp) < 3:
        return set()
    feats = {i: cast(Features, f) for i in comp if (f := rows[i].features) is not None and f.get("kind") == "person"}
    dated = [i for i, f in feats.items() if f["dob"] or f.get("dob_raw")]
    levels: dict[tuple[str, str, str, str], bool] = {}

    def disagree(a: int, b: int) -> bool:
        fa, fb = feats[a], feats[b]
        key = (fa["dob"], fa.get("dob_raw", ""), fb["dob"], fb.get("dob_raw", ""))
        if key not in levels:
            levels[key] = birth_level(fa, fb) == "disagree"
        return levels[key]

    return birth_conflicts(comp, adjacent, dated, disagree,
                           lambda a, b: score(feats[a], feats[b], cfg).decision != "link")


def _kept_apart(conn: Connection, comps: list[set[int]], rows: Mapping[int, rec.SourceRow],
                conflicts: set[tuple[int, int]]) -> list[set[int]]:
    """``comps`` with each one that holds a cannot-link pair (a conflict, or a steward's ``cannot`` between
    two of its records) split by :func:`split_components`. Reads the steward's pairs only when the store has
    decisions, and the links with their scores only for components that are split."""
    cannot = set(conflicts)
    if rec.any_manual(conn):
        ids = {rows[i].ref: i for c in comps if len(c) > 1 for i in c}
        cannot.update((ids[a], ids[b]) for a, b in rec.cannot_pairs(conn, ids))
    held = constrained(comps, cannot) if cannot else set()
    if not held:
        return comps
    return split_components(comps, rec.links_among(conn, held), cannot)


def _goldens(rows: Iterable[rec.SourceRow]) -> set[str]:
    return {r.golden_id for r in rows if r.golden_id is not None}


def _assign(conn: Connection, comps: list[set[int]], rows: dict[int, rec.SourceRow], involved: list[str],
            out: Reclustered) -> None:
    overlap = [Counter(g for i in c if (g := rows[i].golden_id) is not None) for c in comps]
    oldest = [min(c) for c in comps]  # ties go to the component holding the oldest record
    pairs = sorted(((n, g, ci) for ci, cnt in enumerate(overlap) for g, n in cnt.items()),
                   key=lambda p: (-p[0], p[1], oldest[p[2]]))
    assigned: dict[int, str] = {}
    used: set[str] = set()
    for _n, g, ci in pairs:
        if ci not in assigned and g not in used:
            assigned[ci] = g
            used.add(g)
    for ci, comp in enumerate(comps):
        if ci not in assigned:
            gid, _seq = new_golden_id(conn)
            assigned[ci] = gid
            out.created.add(gid)
            origins = [g for g, _n in overlap[ci].most_common()]
            if origins:
                out.splits.append((origins[0], gid))
        gid = assigned[ci]
        changed = [i for i in comp if rows[i].golden_id != gid]
        if changed:
            rec.set_golden(conn, changed, gid)
            for i in changed:
                rows[i].golden_id = gid
        out.touched.add(gid)
    out.members = {g: [] for g in involved}
    for ci, comp in enumerate(comps):
        out.members[assigned[ci]] = sorted((rows[i] for i in comp), key=lambda r: r.id)
    for g in involved:
        if g in used:
            continue
        homes = [(cnt[g], assigned[ci]) for ci, cnt in enumerate(overlap) if cnt.get(g)]
        if homes:
            out.merges.append((g, max(homes)[1]))
        else:
            out.retired.append(g)
        out.touched.add(g)
    for g in involved:
        out.touched.add(g)


def resolve_many(conn: Connection, rows: Sequence[rec.SourceRow], old_goldens: Collection[str], cfg: MatchConfig,
                 now: Callable[[], int], *, fresh: Collection[int] = (),
                 keys: Mapping[int, list[str]] | None = None) -> Reclustered:
    """Link ``rows`` (already saved, with their blocking keys; ``fresh``: ids of the new ones; ``keys``: those
    keys, when known) and re-cluster around them and the golden ids they belonged to (``old_goldens``)."""
    link_records(conn, rows, cfg, now(), fresh=fresh, keys=keys)
    gone = [r.id for r in rows if r.deleted]
    if gone:
        rec.set_golden(conn, gone, None)
    return recluster(conn, [r.id for r in rows if not r.deleted], old_goldens, cfg, known=rows)


def resolve(conn: Connection, row: rec.SourceRow, cfg: MatchConfig, now: Callable[[], int], *,
            fresh: bool = False) -> Reclustered:
    """Link ``row`` (already saved; ``fresh`` if it is new) and re-cluster around it."""
    return resolve_many(conn, [row], [row.golden_id] if row.golden_id else [], cfg, now,
                        fresh=[row.id] if fresh else [])
