"""Blocking keys: which stored records are worth scoring against a new one.

Two records become a candidate pair when they share at least one key. The keys are chosen so that a true
pair shares one even when a few fields are mistyped, missing, swapped or outdated (a typo in the family name
still leaves the e-mail, phone, date-of-birth and address keys; a move still leaves the name keys), while each
block stays small on a store of 100k customers: no key is built from one weak field alone (no "country",
no "birth year"; a full birth date is one of some 30,000, so its block stays small). A key whose block grows
past ``MatchConfig.max_candidates`` is skipped by the caller.

Keys are short strings, prefixed by their kind: ``e:`` e-mail, ``p:`` phone, ``n:`` national id, ``t:`` tax id,
``n~:`` / ``t~:`` the id itself and the id with one character left out (each position in turn: two ids one
substitution, insertion, deletion or swap of neighbours apart share one, so a mistyped id still finds its record),
``x:`` source record, ``gf:`` given (nicknames mapped) + family name, order-independent so swapped names share it,
``d:`` birth date (of a record with a name), ``ny:`` phonetic given or family name + birth year and month (the
family name also with the day as the month, so day and month written in the other order still meet; from an
impossible date whose month is one, 1967-02-42, its year and month), ``pf:`` postal
code + phonetic family name, ``dp:`` birth date + postal code, ``a:`` postal code + street + house number, ``ac:``
the same with the city, ``an:`` postal code + house number + the street's last three letters (a typo in the first
letters of the street, which ``a:`` and ``ac:`` take, still meets its record), ``o:`` country + phonetic org tokens,
``op:`` postal code + phonetic first org token, ``ga:`` given name (nicknames mapped) + postal code (or city) +
house number + the street's first three letters: a person whose family name is blank, replaced or changed still
meets their record at home, also in a building whose ``a:`` block is too large (a dormitory, a care home).
"""

from __future__ import annotations

import hashlib

from pipelines.identity.compare import TYPO_ID
from pipelines.identity.features import ORGANISATION, Features

MAX_KEY = 40


def _id_keys(prefix: str, value: str) -> list[str]:
    keys = [f"{prefix}:{_short(value)}"]
    if TYPO_ID <= len(value) <= MAX_KEY:
        keys.append(f"{prefix}~:{value}")  # meets the other id with the extra character left out
        keys.extend(f"{prefix}~:{value[:i]}{value[i + 1:]}" for i in range(len(value)))
    return keys


def _short(text: str) -> str:
    if len(text) <= MAX_KEY:
        return text
    return hashlib.blake2b(text.encode("utf-8"), digest_size=10).hexdigest()


def _swapped_month(dob: str, raw: str) -> str:
    """The year and month of the birth date with day and month exchanged, where that is a date too: 1981-11 for
    1981-09-11, 2003-08 for the impossible 2003-22-08; "" otherwise."""
    if dob:
        day = dob[8:10]
        return f"{dob[:5]}{day}" if "01" <= day <= "12" and day != dob[5:7] else ""
    if len(raw) == 10 and raw[5:7] > "12" and "01" <= raw[8:10] <= "12":
        return f"{raw[:5]}{raw[8:10]}"
    return ""


def _raw_month(raw: str) -> str:
    """The year and month of an impossible birth date whose month is one (1967-02 for 1967-02-42), else ""."""
    return raw[:7] if len(raw) == 10 and "01" <= raw[5:7] <= "12" else ""


def _person_keys(f: Features, postals: list[str], keys: list[str]) -> None:
    sg, sf, dob, raw = f["sx_given"], f["sx_family"], f["dob"], f.get("dob_raw", "")
    given, family = f["gcanon"], f["family"].split(" ", 1)[0]
    if given and family:
        keys.append("gf:" + _short("|".join(sorted((given, family)))))
    if dob and (given or family):
        keys.append(f"d:{dob}")  # both names mistyped or swapped and the person moved: the date is left
        keys.extend(f"ny:{code}{dob[:7]}" for code in (sg, sf) if code)
    elif month := _raw_month(raw):  # a mistyped day (1967-02-42): its year and month still meet
        keys.extend(f"ny:{code}{month}" for code in (sg, sf) if code)
    if sf and (swapped := _swapped_month(dob, raw)):
        keys.append(f"ny:{sf}{swapped}")  # day and month in the other order; the family name only: one block more
    for code in postals:
        if sf:
            keys.append(f"pf:{code}|{sf}")
        if dob:
            keys.append(f"dp:{dob}|{code}")


def _org_keys(f: Features, postals: list[str], keys: list[str]) -> None:
    codes = f["sx_org"]
    if codes:
        keys.append(f"o:{f['country']}|{''.join(codes[:2])}")
        keys.extend(f"op:{code}|{codes[0]}" for code in postals)


def block_keys(f: Features) -> list[str]:
    """The blocking keys of one record, without duplicates, in a stable order."""
    keys = [f"e:{_short(e)}" for e in f["emails"]]
    keys.extend(f"p:{p}" for p in f["phones"])
    if f["nid"]:
        keys.extend(_id_keys("n", f["nid"]))
    if f["tax"]:
        keys.extend(_id_keys("t", f["tax"]))
    if f["ref"]:
        keys.append(f"x:{_short(f['ref'])}")
    keys.extend(f"x:{_short(x)}" for x in f["xrefs"])
    postals = sorted({a[1] for a in f["addrs"] if a[1]})
    if f["kind"] == ORGANISATION:
        _org_keys(f, postals, keys)
    else:
        _person_keys(f, postals, keys)
    given = f["gcanon"] if f["kind"] != ORGANISATION else ""
    for line, code, city, number in f["addrs"]:
        letters = "".join(t for t in line.split() if t.isalpha())
        street = letters[:6]
        if code and number:  # with the last letters of the street: one building, not one number on every street
            keys.append(f"an:{code}|{number[:8]}|{letters[-3:]}")
        if given and number and (code or city):  # a family name blank, replaced or changed, in a large building
            keys.append(f"ga:{given[:12]}|{code or city[:12]}|{number[:8]}|{letters[:3]}")
        if street and number:
            if code:
                keys.append(f"a:{code}|{street}|{number[:8]}")
            if city:  # also when the postal code is there: the other record may lack it
                keys.append(f"ac:{city[:12]}|{street}|{number[:8]}")
    return list(dict.fromkeys(keys))
