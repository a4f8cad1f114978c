"""Customer search through the matcher's own normalisation and blocking index (no table scan).

The query (name, phone, e-mail) becomes a canonical customer; its match features and blocking keys are
computed exactly as for a source record, the blocking index gives the candidate source records, each is
scored against the query with the matcher's weights, and the best score per golden record ranks it.

What finds a customer:

- **full name**: given and family name in either order (``John Smith``, ``Smith John``, ``Smith, John``),
  any case, accents and punctuation ignored, nicknames mapped (``Bill`` finds ``William``); middle names are
  fine (every split into given and family name is tried). A single word is no person's name (its block would
  be too large): it is read as an organisation's name only.
- **phone**: any format, with or without the country prefix; the last nine digits are compared
  (``+33144556677`` = ``01 44 55 66 77`` = ``0033 1 44-55-66-77``). One with fewer than six digits is rejected.
- **e-mail**: any case, surrounding blanks ignored, otherwise the exact address; one without ``@`` is rejected.
  A phone or e-mail alone finds persons and organisations alike (the query has no kind of its own).
- **contact person**: a full name also finds the organisations that have a contact person of that name
  (given and family name in either order, case, accents and titles ignored), through the contact-name index
  (:mod:`pipelines.store.contacts`); such a hit scores as an exact given and family name.
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

from pipelines.identity import Features, MatchConfig, MatchScore, block_keys, features, score
from pipelines.identity.features import phone_digits
from pipelines.store import records as rec
from pipelines.store import views
from pipelines.store.contacts import name_key, records_with_contacts
from pipelines.store.raw import raw


@dataclass(frozen=True)
class Hit:
    golden_id: str
    score: float
    matched: list[str]  # the comparisons that agreed ("family.exact", "phone.agree", ...)
    record: views.GoldenRow


@dataclass(frozen=True)
class Query:
    """A search as the matcher sees it: ``contact`` (phones, e-mails) as a canonical customer, the readings of
    the name as a person and as an organisation, and the name's contact-index key."""

    contact: dict[str, Any]
    people: list[Features]
    org: Features | None
    contact_name: str | None

    @property
    def readings(self) -> list[Features]:
        return [*self.people, *([self.org] if self.org is not None else [])]


def _name_splits(name: str) -> list[tuple[str, str]]:
    if "," in name:
        family, _, given = name.partition(",")
        return [(given.strip(), family.strip())] if given.strip() and family.strip() else []
    words = name.split()
    return [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]


def contact_query(phone: str | None, email: str | None) -> dict[str, Any]:
    """Phone and e-mail as a canonical customer's (raises ValueError for one the matcher cannot compare)."""
    contact: dict[str, Any] = {}
    if phone:
        if not phone_digits(phone):
            raise ValueError(f"the phone number {phone!r} has fewer than 6 digits")
        contact["phones"] = [{"number": phone}]
    if email:
        if "@" not in email:
            raise ValueError(f"{email!r} is no e-mail address")
        contact["emails"] = [{"address": email}]
    return contact


def person_readings(name: str, contact: dict[str, Any]) -> list[Features]:
    """One feature set per way of reading ``name`` as a person's given and family name."""
    return [features({**contact, "given_name": g, "family_name": f}) for g, f in _name_splits(name)]


def org_query(name: str) -> Features | None:
    q = features({"kind": "organisation", "org_name": name})
    return q if q["sx_org"] else None


def parse_query(name: str | None, phone: str | None, email: str | None) -> Query:
    contact = contact_query(phone, email)
    if not name:
        return Query(contact, [], None, None)
    return Query(contact, person_readings(name, contact), org_query(name), name_key(name))


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


def _as_kind(contact: dict[str, Any], kind: str) -> Features:
    """The contact details as a customer of ``kind``: no kind disagreement, only the details compare."""
    return features({**contact, "kind": kind})


def _contact_person(q: Query, stored: Features, cfg: MatchConfig) -> MatchScore:
    """``stored`` has a contact person of the name asked for: the details compare, the name counts as equal."""
    result = score(_as_kind(q.contact, stored["kind"]), stored, cfg)
    named = {"contact.given.exact": cfg.table["given.exact"], "contact.family.exact": cfg.table["family.exact"]}
    return MatchScore(result.total + sum(named.values()), result.decision, {**result.contributions, **named})


def best_score(q: Query, stored: Features, has_contact: bool, cfg: MatchConfig) -> MatchScore:
    """The best of the query's readings against one stored record."""
    results = [score(f, stored, cfg) for f in q.readings]
    if not q.people and q.org is None:
        results.append(score(_as_kind(q.contact, stored["kind"]), stored, cfg))
    if has_contact:
        results.append(_contact_person(q, stored, cfg))
    return max(results, key=lambda r: r.total)


def _candidates(conn: Connection, q: Query, cfg: MatchConfig) -> tuple[set[int], set[int]]:
    """The records worth scoring, and those among them with a contact person of the name asked for."""
    keys = search_keys(q.people or [features(q.contact)])
    if not keys and q.org is None and q.contact_name is None:
        raise ValueError("the query is too vague: give a full name (given and family name), an organisation "
                         "name, a phone number with at least 6 digits, or an e-mail address")
    found, _skipped = rec.candidates(conn, keys, -1, cfg.max_candidates) if keys else (set(), [])
    if q.org is not None:
        found |= org_candidates(conn, q.org)
    named = records_with_contacts(conn, [q.contact_name], cfg.max_candidates) if q.contact_name else set()
    return found | named, named


def search(conn: Connection, name: str | None, phone: str | None, email: str | None, cfg: MatchConfig,
           limit: int) -> list[Hit]:
    """Active golden records matching the query, best first (raises ValueError for a query without keys)."""
    q = parse_query(name, phone, email)
    found, named = _candidates(conn, q, cfg)
    best: dict[str, tuple[float, list[str]]] = {}
    for row in rec.get_records(conn, found).values():
        if row.deleted or row.features is None or not row.golden_id:
            continue
        top = best_score(q, row.features, row.id in named, cfg)  # type: ignore[arg-type]
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
