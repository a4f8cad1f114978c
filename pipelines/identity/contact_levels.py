"""Comparators of addresses, e-mail addresses and phone numbers (lists of a customer's values, see
:mod:`pipelines.identity.compare` for the other fields). The levels, best first:

- addresses: exact, fuzzy (street typo, same number, one area; or a long house number one slip off), postcode
  (:func:`fine_postcode`, no street on one side), area (:func:`same_area`), disagree;
- e-mail: agree, fuzzy (one edit), user (the same user name, one edit off or its words otherwise arranged, at
  another domain), disagree;
- phone: agree, fuzzy (one digit wrong or two swapped), disagree.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler

from pipelines.identity.compare import FUZZY_ORG, similar
from pipelines.identity.features import fine_postcode

FUZZY_STREET = 0.9  # Jaro-Winkler of two street lines (same house number, same area) that count as one
_NUMBERING = re.compile(r"[\d._-]+")
_SEPARATORS = re.compile(r"[._-]+")
_osa = OSA.distance
_jw = JaroWinkler.similarity


def overlap_level(a: list[str], b: list[str]) -> str:
    if not a or not b:
        return ""
    return "agree" if any(x in b for x in a) else "disagree"


#: role mailboxes (RFC 2142's, and common ones): the same one at two domains says nothing about a person
_ROLE_USERS = frozenset({"info", "marketing", "sales", "support", "abuse", "noc", "security", "postmaster",
                         "hostmaster", "usenet", "news", "webmaster", "www", "uucp", "ftp", "office", "contact",
                         "admin", "mail", "hello", "service", "billing", "accounts", "kontakt", "bureau"})


def _one_slip(x: str, y: str) -> bool:
    """One edit apart, and not only in digits or separators (anna.rossi1 / anna.rossi2 are namesakes)."""
    return _osa(x, y, score_cutoff=1) <= 1 and _NUMBERING.sub("", x) != _NUMBERING.sub("", y)


def _same_user(x: str, y: str) -> bool:
    """The same user name at two domains: equal, one slip apart, or the same words in another order or with
    other separators (anna.rossi / anna_rossi / rossi.anna). A user name spelling the name is chosen anew at each
    provider, so another arrangement of the same words at another domain is no evidence against."""
    ux, _, dx = x.rpartition("@")
    uy, _, dy = y.rpartition("@")
    if dx == dy or ux in _ROLE_USERS:
        return False
    if ux == uy or _one_slip(ux, uy):
        return True
    wx, wy = _SEPARATORS.split(ux), _SEPARATORS.split(uy)
    return "".join(wx) == "".join(wy) or sorted(wx) == sorted(wy)


def email_level(a: list[str], b: list[str]) -> str:
    """E-mail addresses: one shared, one a typo of the other (one edit), the same user name (or one edit off, or
    its words otherwise arranged) at another domain (a change of provider; the user name mostly spells the
    name, so it is no evidence either way), or none. At one domain, addresses that differ only in digits or
    separators are not typos: that is how namesakes get addresses of their own there (anna.rossi1 / anna.rossi2,
    anna.rossi / annarossi)."""
    level = overlap_level(a, b)
    if level != "disagree":
        return level
    if any(_one_slip(x, y) for x in a for y in b):
        return "fuzzy"
    if any(_same_user(x, y) for x in a for y in b):
        return "user"
    return level


def phone_level(a: list[str], b: list[str]) -> str:
    """Phone numbers (last digits): one shared, one with a wrong digit or two digits swapped, or none."""
    level = overlap_level(a, b)
    if level == "disagree" and any(len(x) == len(y) and _osa(x, y, score_cutoff=1) <= 1 for x in a for y in b):
        return "fuzzy"
    return level


def address_level(a: list[list[str]], b: list[list[str]]) -> str:
    """Best agreement over all address pairs: exact/fuzzy street line in one area (:func:`same_area`), one street
    line missing under one fine-grained postal code, area, none."""
    if not a or not b:
        return ""
    best = "disagree"
    for la, pa, ca, na in a:
        for lb, pb, cb, nb in b:
            if not same_area(pa, ca, pb, cb):
                continue
            if la and la == lb:
                return "exact"
            if la and lb and (na == nb or _number_typo(na, nb)) and similar_street(la, lb):
                best = "fuzzy"
            elif not (la and lb) and pa == pb and fine_postcode(pa) and best != "fuzzy":
                best = "postcode"
            elif best == "disagree":
                best = "area"
    return best


def same_area(pa: str, ca: str, pb: str, cb: str) -> bool:
    """Postal codes ``pa``/``pb`` and cities ``ca``/``cb`` name one area: the same postal code; the same city with
    no or a mistyped postal code (one edit); or a mistyped city (a typo as :func:`similar` reads it) beside a
    mistyped postal code, or where neither side has one (Nw York, Prtsmouth: a contact's city alone). A city
    typo beside one side's postal code is no more than a near city; else another district."""
    if pa and pa == pb:
        return True
    typo = bool(pa and pb) and _osa(pa, pb, score_cutoff=1) <= 1
    if ca and ca == cb:
        return typo or not (pa and pb)
    near_city = bool(ca and cb) and similar(ca.replace(" ", ""), cb.replace(" ", ""))
    return near_city and (typo or not (pa or pb))


def similar_street(a: str, b: str) -> bool:
    """Street lines with one house number that differ by a typo or an unknown abbreviation."""
    return _jw(a, b, score_cutoff=FUZZY_STREET) > 0 or fuzz.token_set_ratio(a, b, score_cutoff=FUZZY_ORG) > 0


def _number_typo(x: str, y: str) -> bool:
    """House numbers of three digits or more one edit apart (8161 / 811, 1780 / 1708): a slip, where a neighbour's
    number is a short one's next (12 / 14)."""
    return bool(x and y) and min(len(x), len(y)) >= 3 and _osa(x, y, score_cutoff=1) <= 1
