"""What tells two people of one household apart, for :mod:`pipelines.identity.scoring`.

Housemates share an address, a phone and often an e-mail, a family name, sometimes an id (a spouse's social
security number on the other's form). These pure functions read a pair's contributions (keyed by weight name,
``"given.disagree"``) and say when the shared details are a household's rather than one person's: the cap on
what they add, a member the records cannot tell apart, a housemate's id, a garbled given name that is no twin.
"""

from __future__ import annotations

from typing import Literal

from pipelines.identity.compare import common_given
from pipelines.identity.features import Features, fold
from pipelines.identity.given_names import gender_of

HOUSEHOLD_SPLIT = ("given.disagree", "given.gendered", "given.similar", "dob.disagree", "middle.disagree")
PERSON_AGREE = ("given.exact", "given.nickname", "given.fuzzy", "given.phonetic", "given.garbled", "given.initial",
                "dob.exact", "dob.transposed", "dob.typo", "dob.year", "dob.near")
DOB_SLIPS = ("dob.typo", "dob.transposed", "dob.year", "dob.near")  # a birth date one or two slips apart
ID_TYPOS = ("national_id.typo", "tax_id.typo")
NAMES_DIFFER = ("given.disagree", "given.gendered", "family.disagree")
CONTACT_AGREE = ("address.exact", "address.fuzzy", "phone.agree", "email.agree")
SHARED = ("email.", "phone.", "address.")  # what a household shares


def shared_contacts(contrib: dict[str, float]) -> float:
    """What the contact details a household shares (e-mail, phone, address) add."""
    return sum(v for k, v in contrib.items() if v > 0 and k.startswith(SHARED))


def household_cap(contrib: dict[str, float], cap: float, notes: list[str]) -> None:
    """Two people of one household share address, phone and often e-mail: once given names, middle names or
    birth dates disagree (John A and John B Smith at one address: father and son), that shared evidence counts
    at most ``cap`` together."""
    shared = shared_contacts(contrib)
    if shared > cap:
        contrib["household.cap"] = cap - shared
        notes.append(f"different given name, middle name or birth date: shared contact details capped at {cap:+.1f} "
                     "(household)")


def personal_email(a: Features, b: Features) -> bool:
    """A shared e-mail address whose local part holds one side's given name (dirk_bauer@, guenter1950@): the
    person's own address, not a household's (familie.berg@, or peter1974@ shared by Florian and Lara)."""
    shared = set(a["emails"]).intersection(b["emails"])
    names = [n for n in (a["given1"], b["given1"]) if len(n) >= 3]
    users = {u for e in shared for u in (e.split("@", 1)[0], fold(e.split("@", 1)[0]))}  # guenter1950@: gunter
    return any(n in user for user in users for n in names)


def own_id_near(contrib: dict[str, float]) -> bool:
    """A personal id one keying error apart: housemates and twins share address, family name and birth date,
    but each has an id of their own, and two people's ids one edit apart are rare (a 7-digit id has about 70
    neighbours among ten million values)."""
    return any(k in contrib for k in ID_TYPOS) and not any(k.endswith(".conflict") for k in contrib)


def household_kind(a: Features, b: Features, contrib: dict[str, float]) -> Literal["split", "unknown"] | None:
    """Whether two persons may be two people of one household: ``split`` when their given names, middle names
    or birth dates disagree or the given names are only alike (similar); ``unknown`` when neither a given name
    nor a birth date agrees (one side blank: shared contact details name the household, not which of its
    members); None when a given name or birth date agrees, or the pair shares a personal e-mail address or an
    id one typo apart, or given names only alike sit beside birth dates one or two slips apart (Philipp /
    PHIHPP, 1968-04-26 / 1964-04-26: twins' dates are equal, and siblings' dates seldom one slip apart), or a
    given name that is no name sits beside the person's own e-mail address (:func:`garbled_beside_own_email`)."""
    if a["kind"] != "person" or b["kind"] != "person" or own_id_near(contrib):
        return None
    split = any(k in contrib for k in HOUSEHOLD_SPLIT)
    if not split and any(k in contrib for k in PERSON_AGREE):
        return None
    weak = not any(k in contrib for k in HOUSEHOLD_SPLIT if k != "given.similar")  # only alike, or unknown
    if weak and split and any(k in contrib for k in DOB_SLIPS):
        return None
    if weak and "email.agree" in contrib and personal_email(a, b):
        return None
    if garbled_beside_own_email(a, b, contrib):
        return None
    return "split" if split else "unknown"


def dob_agrees(contrib: dict[str, float]) -> bool:
    """The birth dates agree at some level (exact, or one or two slips apart)."""
    return any(k.startswith("dob.") and k != "dob.disagree" for k in contrib)


def housemates_sharing_id(a: Features, b: Features, contrib: dict[str, float]) -> bool:
    """No birth date that agrees, and the given names disagree and so do the middle names (two names of one's
    own, wherever the records live), or, at one address (or phone, or e-mail), neither the given nor the family
    name agrees (one or both disagree, the other missing or disagreeing) or the given names are a man's and a
    woman's: housemates (spouses, a parent and child), one entered under the other's id. Otherwise an agreeing
    name or birth date keeps the equal id a link (a given name replaced or keyed wrong, a family name changed
    by a marriage)."""
    if dob_agrees(contrib):
        return False
    if "given.disagree" in contrib and "middle.disagree" in contrib:
        return True
    if not any(k in contrib for k in CONTACT_AGREE):
        return False
    if "given.disagree" in contrib:
        genders = gender_of(a["given1"]), gender_of(b["given1"])
        if None not in genders and genders[0] != genders[1]:
            return True
    names = [k for k in contrib if k.startswith(("given.", "family."))]
    return bool(names) and all(k in NAMES_DIFFER for k in names)


def strangers_sharing_id(contrib: dict[str, float]) -> bool:
    """Nothing but the id agrees: the birth dates disagree, so do the given and the family names, and no
    address, phone or e-mail is shared. Two persons, one of them entered under the other's number (a keying
    error, a borrowed or a made-up one) more likely than one person whose every other detail was replaced."""
    return ("dob.disagree" in contrib and "given.disagree" in contrib and "family.disagree" in contrib
            and not any(k in contrib for k in CONTACT_AGREE))


def foreign_id(a: Features, b: Features, contrib: dict[str, float]) -> str | None:
    """Why an id two records share is not one person's (a possible match at most, not a link), or None."""
    if housemates_sharing_id(a, b, contrib):
        return "the names say two persons (of one household): a possible match at most (a housemate's id)"
    if strangers_sharing_id(contrib):
        return ("the names and birth dates disagree and nothing else is shared: a possible match at most (one "
                "person's number on another's record)")
    return None


def _one_given_no_name(a: Features, b: Features, contrib: dict[str, float]) -> bool:
    """Given names that disagree where one is a common given name and the other is none (a garbled or replaced
    entry: hrsjdw / brenda, a stray initial)."""
    return "given.disagree" in contrib and common_given(a["given1"]) != common_given(b["given1"])


def garbled_beside_own_email(a: Features, b: Features, contrib: dict[str, float]) -> bool:
    """A given name that is no name beside the other's common one (:func:`_one_given_no_name`), birth dates
    that agree (equal, or a slip apart) and a shared personal e-mail address holding the common name
    (leone.giuseppe@ beside Giuseppe / B., berger.juergen@ beside Jürgen / MERGEN): the person under a garbled
    name, not a housemate. Twins and spouses have names of their own, seldom one of them no name at all, and
    seldom give the other's own address; a birth date that does not agree (or an impossible one beside it, a
    housemate's often) leaves the pair to the household rules."""
    return (_one_given_no_name(a, b, contrib) and "email.agree" in contrib and personal_email(a, b)
            and any(k in contrib for k in ("dob.exact", *DOB_SLIPS)))


def garbled_given(a: Features, b: Features, contrib: dict[str, float]) -> bool:
    """A given name that is no name beside the other's common one, read as a typo and not as two persons:
    beside the same birth date and the same middle name or initial, or beside the person's own e-mail address
    (:func:`garbled_beside_own_email`)."""
    if not _one_given_no_name(a, b, contrib):
        return False
    if "dob.exact" in contrib and ("middle.exact" in contrib or "middle.initial" in contrib):
        return True
    return garbled_beside_own_email(a, b, contrib)
