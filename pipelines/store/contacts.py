"""The contact-name index: which source records have a contact person of a given name (table ``contact_key``).

An organisation customer's contact persons (``contacts`` of the canonical customer: given and family name)
are no match features, so the blocking index does not hold them; this index does, for the gateway's search by
name. A key is ``c:`` and the name's words, each normalised as the matcher normalises names
(:func:`pipelines.identity.features.person_name`: case, accents and punctuation folded, titles dropped),
sorted, so either order of given and family name gives the same key. A contact is indexed under its full
name and under its first given name with its family name (``Anna Maria Berger`` is found as ``Anna Berger``).

:func:`sync_contact_keys` keeps the index with the record; it writes only when the record's keys changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import Connection

from pipelines.identity.features import person_name
from pipelines.store.raw import in_params, raw

PREFIX = "c:"
MAX_KEY = 190  # the key column holds 200 characters: a longer name is indexed by its hash


def name_key(name: str) -> str | None:
    """The index key of a full name in either order (None for fewer than two words)."""
    words = sorted(person_name(name).split())
    if len(words) < 2:
        return None
    text = " ".join(words)
    if len(text) > MAX_KEY:
        text = hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
    return PREFIX + text


def _contact_names(contact: Mapping[str, Any]) -> list[str]:
    given = person_name(contact.get("given_name"))
    family = person_name(contact.get("family_name"))
    if not (given and family):
        return []
    return [f"{given} {family}", f"{given.split()[0]} {family}"]


def contact_keys(data: Mapping[str, Any] | None) -> list[str]:
    """The index keys of a canonical customer's contact persons (JSON or Python form), without duplicates."""
    contacts = (data or {}).get("contacts") or ()
    keys = (name_key(n) for c in contacts if isinstance(c, Mapping) for n in _contact_names(c))
    return list(dict.fromkeys(k for k in keys if k))


def sync_contact_keys(conn: Connection, record_id: int, old: Mapping[str, Any] | None,
                      new: Mapping[str, Any] | None, *, fresh: bool) -> None:
    """Index the record's contacts ``new`` in place of ``old`` (``fresh``: the record is new, nothing indexed)."""
    if not fresh and (new or {}).get("contacts") == (old or {}).get("contacts"):
        return  # the keys come from the contacts alone
    keys = contact_keys(new)
    if not fresh and keys == contact_keys(old):
        return
    db = raw(conn)
    if not fresh:
        db.run("DELETE FROM contact_key WHERE record_id = :r", {"r": record_id})
    if keys:
        db.many("INSERT INTO contact_key (key, record_id) VALUES (:k, :r)", [{"k": k, "r": record_id} for k in keys])


def records_with_contacts(conn: Connection, keys: Collection[str], limit: int) -> set[int]:
    """The records with a contact under one of ``keys`` (the first ``limit`` by record id)."""
    if not keys:
        return set()
    marks, params = in_params("k", list(keys))
    rows = raw(conn).rows(f"SELECT DISTINCT record_id FROM contact_key WHERE key IN ({marks}) "
                          "ORDER BY record_id LIMIT :n", {**params, "n": limit})
    return {int(r[0]) for r in rows}
