"""Synthetic customers from two source systems with a known truth, for identity-resolution tests and benchmarks.

:func:`generate` draws people and organisations in Germany, France, Italy and the UK, then writes each one as
it would sit in an IBM i customer master (``ibmi``: mostly upper case with umlauts spelled out, landlines, tax
ids) and/or an Oracle AR system (``oracle``: mixed case, e-mails, some national ids). Most entities are in both
sources, some in one only, a few twice in the same source. Records carry the noise real masters have: typos
(substitution, deletion, insertion, transposition), swapped given/family names, nicknames, initials, missing
values, street abbreviations, phone and e-mail formats, people who moved (another address in one source), and
households (different people sharing family name, address and landline, now and then an e-mail). A small
share of ``oracle`` records carries an xref to the ``ibmi`` record of the same customer (``Noise.xref``).
Every record passes ``schemas.canonical.coerce("customer", ...)``; the output depends on the seed only.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from bench.identity_words import (
    ABBREVIATIONS,
    CITIES,
    FAMILY,
    GIVEN,
    LEGAL_FORMS,
    MAIL_PROVIDERS,
    NICKNAMES,
    ORG_WORDS,
    PHONE,
    STREETS,
    TRADES,
)

Row = tuple[str, str, dict[str, Any], str]  # source, source key, canonical customer, entity id
SOURCES = ("ibmi", "oracle")


_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})


def transliterate(text: str) -> str:
    """As an EBCDIC master without national characters writes it: umlauts spelled out, accents dropped."""
    text = text.translate(_GERMAN)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


@dataclass(frozen=True)
class Noise:
    """How often each kind of noise hits one record (or one entity, where it says so)."""

    in_both: float = 0.70  # entity: in both sources (the rest is split between the two)
    duplicate: float = 0.03  # entity: one more record in one of the sources
    organisation: float = 0.15  # entity: an organisation
    household: float = 0.12  # person: shares family name, address and landline with an earlier person
    household_email: float = 0.05  # household member: also shares that person's e-mail
    household_same_given: float = 0.02  # household member: may draw a given name already in it (senior/junior)
    moved: float = 0.06  # entity with 2+ records: one record has another address (and often landline)
    moved_contact: float = 0.8  # moved record: the move was reported with the customer's e-mail and mobile
    typo_given: float = 0.03
    typo_family: float = 0.04
    typo_street: float = 0.04
    typo_org: float = 0.04
    typo_email: float = 0.01
    swapped: float = 0.02
    nickname: float = 0.3  # when the given name has a nickname
    initial_only: float = 0.01
    dob_typo: float = 0.02
    missing_postal: float = 0.03
    upper_ibmi: float = 0.8
    xref: float = 0.02  # oracle record: carries the ibmi key of the same customer
    presence: dict[str, dict[str, float]] = field(default_factory=lambda: {
        "ibmi": {"dob": 0.7, "email": 0.5, "landline": 0.9, "mobile": 0.5, "tax": 0.5, "nid": 0.0},
        "oracle": {"dob": 0.6, "email": 0.85, "landline": 0.4, "mobile": 0.7, "tax": 0.8, "nid": 0.2},
    })


HARD = Noise(household=0.2, household_email=0.1, household_same_given=0.05, moved=0.12, moved_contact=0.5,
             typo_given=0.06, typo_family=0.08, typo_street=0.08, typo_org=0.08, typo_email=0.02, swapped=0.04,
             initial_only=0.03, dob_typo=0.04, missing_postal=0.06)
"""About twice the default noise: more households, moves without contact details, typos."""


@dataclass(frozen=True)
class Entity:
    eid: str
    kind: str
    country: str
    given: str = ""
    middle: str = ""
    family: str = ""
    org: str = ""
    legal: int = 0
    dob: date | None = None
    address: dict[str, str] = field(default_factory=dict)  # street, number, postal, city
    landline: str = ""
    mobile: str = ""
    email: str = ""
    national_id: str = ""
    tax_id: str = ""


# --- the true entities --------------------------------------------------------------------------------------

def _pick(rng: random.Random, items: list[str]) -> str:
    """Earlier items are more common, as with real name frequencies."""
    return items[min(int(len(items) * rng.random() ** 1.8), len(items) - 1)]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _address(rng: random.Random, country: str) -> dict[str, str]:
    city, prefix = rng.choice(CITIES[country])
    if country == "GB":
        postal = f"{prefix} {rng.randint(1, 9)}{''.join(rng.choices('ABDEFGHJLNPQRSTUWXYZ', k=2))}"
    else:
        postal = prefix + _digits(rng, 5 - len(prefix))
    number = str(rng.randint(1, 180)) + (rng.choice("abc") if rng.random() < 0.05 else "")
    return {"street": _pick(rng, STREETS[country]), "number": number, "postal": postal, "city": city}


def _phone(rng: random.Random, country: str, mobile: bool) -> str:
    """A national significant number of 9 to 11 digits."""
    spec = PHONE[country]
    prefix: str = rng.choice(spec["mobile"] if mobile else spec["landline"])
    return prefix + _digits(rng, rng.randint(*spec["length"]) - len(prefix))


def _unique(seen: set[str], rng: random.Random, make: Callable[[int], str]) -> str:
    """E-mail addresses and ids are unique per holder, as providers and authorities make them."""
    value, tries = make(0), 1
    while value in seen:
        value, tries = make(rng.randint(1, 99 * tries)), tries + 1
    seen.add(value)
    return value


def _slug(text: str) -> str:
    return "".join(c for c in transliterate(text).lower() if c.isalnum())


def _person(rng: random.Random, seen: set[str], eid: str, head: Entity | None, taken: set[str]) -> Entity:
    country = head.country if head else rng.choice(("DE", "DE", "FR", "IT", "GB"))
    names = GIVEN[country][rng.random() < 0.5]
    given = _pick(rng, names)
    while given in taken:
        given = rng.choice(names)
    middle = rng.choice(names) if rng.random() < 0.08 else ""
    if head:
        family, address, landline = head.family, head.address, head.landline
        base = head.dob or date(1970, 1, 1)
        step = rng.choice((rng.randint(-2500, 2500), rng.randint(7000, 13000)))
        dob = base + timedelta(days=step if base.year < 1985 else -abs(step))
    else:
        family, address = _pick(rng, FAMILY[country]), _address(rng, country)
        landline = _phone(rng, country, False) if rng.random() < 0.6 else ""
        dob = date(1935, 1, 1) + timedelta(days=rng.randint(0, 365 * 70))
    g, f = _slug(given), _slug(family)
    local = rng.choice((f"{g}.{f}", f"{g[0]}.{f}", f"{g}{f}", f"{f}.{g}"))
    domain = rng.choice(MAIL_PROVIDERS[country])
    email = _unique(seen, rng, lambda n: f"{local}{n or ''}@{domain}")
    return Entity(eid=eid, kind="person", country=country, given=given, middle=middle, family=family, dob=dob,
                  address=address, landline=landline, email=email,
                  mobile=_phone(rng, country, True) if rng.random() < 0.8 else "",
                  national_id=_unique(seen, rng, lambda n: _digits(rng, 11)))


def _organisation(rng: random.Random, seen: set[str], eid: str) -> Entity:
    country = rng.choice(("DE", "DE", "FR", "IT", "GB"))
    base = _pick(rng, FAMILY[country]) if rng.random() < 0.6 else rng.choice(ORG_WORDS)
    words = [base, rng.choice(TRADES[country])] + ([rng.choice(ORG_WORDS)] if rng.random() < 0.25 else [])
    local, tld = rng.choice(("info", "office", "accounts", "contact")), "co.uk" if country == "GB" else country.lower()
    email = _unique(seen, rng, lambda n: f"{local}@{_slug(words[0])}{_slug(words[1])}{n or ''}.{tld}")
    return Entity(eid=eid, kind="organisation", country=country, org=" ".join(words),
                  legal=rng.randrange(len(LEGAL_FORMS[country])), address=_address(rng, country),
                  landline=_phone(rng, country, False), email=email,
                  tax_id=_unique(seen, rng, lambda n: country + _digits(rng, 9)))


def entities(n: int, rng: random.Random, noise: Noise) -> list[Entity]:
    """The true customers; a household (at most four people) shares its first member's family name, address
    and landline, and its members' given names differ (but for ``household_same_given``: senior and junior)."""
    seen: set[str] = set()
    out: list[Entity] = []
    households: list[list[Entity]] = []
    for i in range(n):
        eid = f"E{i:06d}"
        if rng.random() < noise.organisation:
            out.append(_organisation(rng, seen, eid))
            continue
        home = rng.choice(households) if households and rng.random() < noise.household else None
        if home is not None and len(home) >= 4:
            home = None
        taken = set() if home is None or rng.random() < noise.household_same_given else {p.given for p in home}
        person = _person(rng, seen, eid, home[0] if home else None, taken)
        if home is not None and rng.random() < noise.household_email:
            person = replace(person, email=home[0].email)
        if home is None:
            households.append([person])
        else:
            home.append(person)
        out.append(person)
    return out


# --- one entity as one source writes it ------------------------------------------------------------------------

def typo(text: str, rng: random.Random) -> str:
    """One substitution, deletion, insertion or transposition at a random position."""
    if len(text) < 3:
        return text
    i = rng.randrange(len(text))
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    letter = letter.upper() if text[i].isupper() else letter
    op = rng.random()
    if op < 0.3:
        return text[:i] + letter + text[i + 1:]
    if op < 0.55:
        return text[:i] + text[i + 1:]
    if op < 0.8:
        return text[:i] + letter + text[i:]
    i = min(i, len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def phone_text(nsn: str, country: str, rng: random.Random) -> str:
    """A national number in one of the ways people and systems write it."""
    code, trunk = PHONE[country]["code"], PHONE[country]["trunk"]
    head, tail = nsn[:3], nsn[3:]
    return rng.choice((f"+{code}{nsn}", f"+{code} {head} {tail}", f"{trunk}{head} {tail}", f"{trunk}{head}/{tail}",
                       f"({trunk}{head}) {tail[:3]}-{tail[3:]}", f"00{code} {head} {tail}", f"{trunk}{nsn}"))


def _street_line(e: Entity, address: dict[str, str], rng: random.Random, noise: Noise) -> str:
    street = address["street"]
    for long, variants in ABBREVIATIONS.items():
        if long in street:
            street = street.replace(long, rng.choice(variants))
    if rng.random() < noise.typo_street:
        street = typo(street, rng)
    number = address["number"]
    if e.country in ("FR", "GB"):
        return f"{number}{rng.choice((' ', ', '))}{street}"
    return f"{street} {number}"


def _dob(dob: date, rng: random.Random) -> date:
    """A keying error: day and month swapped, or one digit of the year or of the day mistyped."""
    if dob.day <= 12 and dob.day != dob.month and rng.random() < 0.4:
        return date(dob.year, dob.day, dob.month)
    text = dob.isoformat()
    for _ in range(20):
        i = rng.choice((2, 3, 8, 9))  # decade, year, day digits
        try:
            return date.fromisoformat(text[:i] + rng.choice([d for d in "0123456789" if d != text[i]]) + text[i + 1:])
        except ValueError:
            continue
    return dob


def _names(e: Entity, rng: random.Random, noise: Noise) -> tuple[str, str, str | None]:
    given, family, middle = e.given, e.family, e.middle or None
    if given in NICKNAMES and rng.random() < noise.nickname:
        given = rng.choice(NICKNAMES[given])
    if middle and rng.random() < 0.5:
        given, middle = f"{given} {middle}", None
    if rng.random() < noise.typo_given:
        given = typo(given, rng)
    if rng.random() < noise.typo_family:
        family = typo(family, rng)
    if rng.random() < noise.initial_only:
        given = given[0] + "."
    if rng.random() < noise.swapped:
        given, family = family, given
    return given, family, middle


def _person_fields(e: Entity, source: str, rng: random.Random, noise: Noise, upper: bool) -> dict[str, Any]:
    has = noise.presence[source]
    given, family, middle = _names(e, rng, noise)
    dob = e.dob if e.dob and rng.random() < has["dob"] else None
    if dob and rng.random() < noise.dob_typo:
        dob = _dob(dob, rng)
    nid = None
    if rng.random() < has["nid"]:
        nid = rng.choice((e.national_id, f"{e.national_id[:3]} {e.national_id[3:7]} {e.national_id[7:]}"))
    title = rng.choice(("Dr.", "Mr", "Mrs", "Prof.")) if rng.random() < 0.05 else None
    return {"kind": "person", "title": title, "given_name": _text(given, upper), "middle_name": middle,
            "family_name": _text(family, upper), "birth_date": dob, "national_id": nid}


def _org_fields(e: Entity, source: str, rng: random.Random, noise: Noise, upper: bool) -> dict[str, Any]:
    name = e.org if rng.random() >= noise.typo_org else typo(e.org, rng)
    if rng.random() < 0.85:
        name = f"{name} {rng.choice(LEGAL_FORMS[e.country][e.legal])}"
    tax = None
    if rng.random() < noise.presence[source]["tax"]:
        tax = rng.choice((e.tax_id, e.tax_id[2:], f"{e.tax_id[:2]} {e.tax_id[2:5]} {e.tax_id[5:]}"))
    return {"kind": "organisation", "org_name": _text(name, upper), "tax_id": tax}


def _text(value: str, upper: bool) -> str:
    return transliterate(value).upper() if upper else value


def _contacts(e: Entity, source: str, rng: random.Random, noise: Noise, landline: str,
              moved: bool) -> dict[str, Any]:
    has = noise.presence[source]
    if moved and rng.random() < noise.moved_contact:
        has = {**has, "email": 1.0, "mobile": 1.0}
    phones = []
    if landline and rng.random() < has["landline"]:
        phones.append({"type": "main", "number": phone_text(landline, e.country, rng)})
    if e.mobile and rng.random() < has["mobile"]:
        phones.append({"type": "mobile", "number": phone_text(e.mobile, e.country, rng)})
    emails = []
    if rng.random() < has["email"] or (e.kind == "organisation" and rng.random() < 0.5):
        email = e.email if rng.random() >= noise.typo_email else typo(e.email, rng)
        email = email.upper() if rng.random() < 0.1 else email.capitalize() if rng.random() < 0.2 else email
        emails.append({"type": "main", "address": rng.choice((email, f" {email}"))})
    return {"phones": phones, "emails": emails}


def record(e: Entity, source: str, rng: random.Random, noise: Noise, moved: bool) -> dict[str, Any]:
    """One canonical customer as ``source`` holds ``e`` (``moved``: at an address the other records lack)."""
    upper = source == "ibmi" and rng.random() < noise.upper_ibmi
    address, landline = e.address, e.landline
    if moved:
        address = _address(rng, e.country)
        landline = _phone(rng, e.country, False) if landline and rng.random() < 0.7 else landline
    rec = (_person_fields if e.kind == "person" else _org_fields)(e, source, rng, noise, upper)
    postal = None if rng.random() < noise.missing_postal else address["postal"]
    rec["addresses"] = [{"type": "main", "line1": _text(_street_line(e, address, rng, noise), upper), "line2": None,
                         "city": _text(address["city"], upper), "region": None, "postal_code": postal,
                         "country": e.country}]
    rec.update(_contacts(e, source, rng, noise, landline, moved))
    rec.update(account_status="ACTIVE", credit_status=rng.choice(("OK", "OK", "OK", "HOLD")),
               credit_limit=Decimal(rng.randrange(0, 50000, 500)), owning_agent=f"agent{rng.randint(1, 40):02d}")
    return rec


def generate(n_entities: int, seed: int, noise: Noise | None = None) -> list[Row]:
    """Records of ``n_entities`` customers from ``ibmi`` and ``oracle``, shuffled: (source, source key,
    canonical customer, entity id)."""
    noise = noise or Noise()
    rng = random.Random(seed)
    plan: list[tuple[Entity, str, bool]] = []
    for e in entities(n_entities, rng, noise):
        r = rng.random()
        sources = list(SOURCES) if r < noise.in_both else [SOURCES[r < (1 + noise.in_both) / 2]]
        if rng.random() < noise.duplicate:
            sources.append(rng.choice(SOURCES))
        moved = rng.randrange(len(sources)) if len(sources) > 1 and rng.random() < noise.moved else -1
        plan.extend((e, source, i == moved) for i, source in enumerate(sources))
    rng.shuffle(plan)
    rows: list[Row] = []
    ibmi_keys: dict[str, str] = {}
    for n, (e, source, moved) in enumerate(plan):
        key = f"{100000 + n:07d}" if source == "ibmi" else f"C-{500000 + n}"
        if source == "ibmi":
            ibmi_keys.setdefault(e.eid, key)
        rows.append((source, key, record(e, source, rng, noise, moved), e.eid))
    for source, _key, rec, eid in rows:
        if source == "oracle" and eid in ibmi_keys and rng.random() < noise.xref:
            rec["xrefs"] = [{"source": "ibmi", "key": ibmi_keys[eid]}]
    return rows
