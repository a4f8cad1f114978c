"""Customer search through the matcher's own normalisation and blocking index (no table scan).

The query (name, phone, e-mail) becomes a canonical customer; its match features and blocking keys are
computed exactly as for a source record, the blocking index gives the candidate source records, each is
scored against the query with the matcher's weights, and the best score per golden record ranks it.

What finds a customer:

- **full name**: given and family name in either order (``John Smith``, ``Smith John``, ``Smith, John``),
  any case, accents and punctuation ignored, nicknames mapped (``Bill`` finds ``William``); middle names are
  fine (every split into given and family name is tried). A single word finds nothing on its own (its block
  would be too large), so it is rejected with 422.
- **phone**: any format; the last nine digits are compared (``+44 1234 567890`` = ``01234-567890``).
- **e-mail**: case-insensitive, exact address.

- **organisation name**: any name is also read as an organisation's (``Mueller GmbH``, ``mueller``): its
  phonetic org tokens are looked up among the organisation blocking keys of every country (an index range
  scan over the ``o:`` keys, not a table scan).

Combining parameters narrows the result: a candidate whose other given values disagree scores lower and is
dropped when its total is not positive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from pipelines.identity import Features, MatchConfig, block_keys, features, score
from pipelines.store import records as rec
from pipelines.store import views
from pipelines.store.raw import raw


@dataclass(frozen=True)
class Hit:
    golden_id: str
    score: float
    matched: list[str]  # the comparisons that agreed ("family.exact", "phone.agree", ...)
    record: views.GoldenRow


def _name_splits(name: str) -> list[tuple[str, str]]:
    if "," in name:
        family, _, given = name.partition(",")
        return [(given.strip(), family.strip())] if given.strip() and family.strip() else []
    words = name.split()
    return [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]


def query_features(name: str | None, phone: str | None, email: str | None) -> list[Features]:
    """One feature set per way of reading ``name`` (just one without a name)."""
    contact: dict[str, Any] = {}
    if phone:
        contact["phones"] = [{"number": phone}]
    if email:
        contact["emails"] = [{"address": email}]
    if not name:
        return [features(contact)]
    return [features({**contact, "given_name": g, "family_name": f}) for g, f in _name_splits(name)]


def org_query(name: str) -> Features | None:
    q = features({"kind": "organisation", "org_name": name})
    return q if q["sx_org"] else None


def org_candidates(conn: Connection, q: Features) -> set[int]:
    """Records whose organisation key (``o:<country>|<codes>``) carries ``q``'s phonetic org tokens."""
    suffix = "|" + "".join(q["sx_org"][:2])
    rows = raw(conn).rows("SELECT key, record_id FROM block_key WHERE key >= 'o:' AND key < 'o;'")
    return {rid for key, rid in rows if key.endswith(suffix)}


def search_keys(queries: list[Features]) -> list[str]:
    keys: list[str] = []
    for q in queries:
        keys.extend(block_keys(q))
    return list(dict.fromkeys(keys))


def search(conn: Connection, name: str | None, phone: str | None, email: str | None, cfg: MatchConfig,
           limit: int) -> list[Hit]:
    """Active golden records matching the query, best first (raises ValueError for a query without keys)."""
    queries = query_features(name, phone, email)
    keys = search_keys(queries)
    org = org_query(name) if name else None
    if not keys and org is None:
        raise ValueError("the query is too vague: give a full name (given and family name), an organisation "
                         "name, a phone number with at least 6 digits, or an e-mail address")
    found, _skipped = rec.candidates(conn, keys, -1, cfg.max_candidates) if keys else (set(), [])
    if org is not None:
        found |= org_candidates(conn, org)
        queries.append(org)
    best: dict[str, tuple[float, list[str]]] = {}
    for row in rec.get_records(conn, found).values():
        if row.deleted or row.features is None or not row.golden_id:
            continue
        stored: Features = row.features  # type: ignore[assignment]
        results = [score(q, stored, cfg) for q in queries]
        top = max(results, key=lambda r: r.total)
        if top.total <= 0:
            continue
        agreed = sorted(k for k, v in top.contributions.items() if v > 0)
        if row.golden_id not in best or best[row.golden_id][0] < top.total:
            best[row.golden_id] = (top.total, agreed)
    rows = views.get_golden(conn, best)
    hits = [Hit(gid, round(total, 2), agreed, rows[gid]) for gid, (total, agreed) in best.items()
            if gid in rows and rows[gid].status == "active"]
    hits.sort(key=lambda h: (-h.score, h.golden_id))
    return hits[:limit]

