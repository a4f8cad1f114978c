"""Synthetic persons and how a source system writes them down (used by :mod:`bench.person_corrupt`).

A :class:`Person` holds the true attributes of one individual. :func:`new_person` draws one from the word
lists of :mod:`bench.person_words` (country by weight, names by rank so frequent names are frequent, a long tail
of rarer family names, cities by population); :func:`housemate` and :func:`twin` draw a different individual who
shares the family name, address and landline of another (the hard negatives). :func:`render` writes a person as
one source's raw row: its casing, its country and phone formats, its street abbreviations, and the fields it
did not capture left blank. National ids carry each country's check digit or check letter where it has one.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, timedelta
from itertools import accumulate

from bench import person_words as W

FIELDS = ("given", "family", "dob", "natid", "email", "phone", "street", "zip", "city", "country")
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


@dataclass(frozen=True, slots=True)
class Person:
    entity: str
    sex: str  # "F" or "M"
    given: str
    family: str
    dob: date
    natid: str
    email: str
    phone: str  # E.164 without the plus: country code + national number
    street: str  # street name and house number, in the country's order
    zip: str
    city: str
    country: str  # ISO alpha-2
    household: str  # shared by housemates and twins; the entity id of a person living alone


@dataclass(frozen=True, slots=True)
class SourceStyle:
    """How one source system writes a person down."""
    upper_names: bool = False
    ascii_only: bool = False  # an old code page: umlauts and accents folded (Müller -> MUELLER)
    country_names: bool = False  # "GERMANY" rather than "DE"
    phone_style: str = "plus"  # plus (+49 30 ...), idd (0049-30-...), national for the home country (030 ...)
    abbreviate: float = 0.0  # probability of abbreviating street words
    spaced_ids: bool = False
    missing_dob: str = ""  # how a blank birth date is written ("" or "00000000")
    home: str = "DE"
    #: probability that a field was captured at all
    presence: tuple[tuple[str, float], ...] = (("natid", 0.5), ("email", 0.75), ("phone", 0.85), ("dob", 0.95),
                                               ("street", 0.97))


def pick(rng: random.Random, items: tuple[str, ...], skew: float) -> str:
    """An item by rank: weight ``1 / (rank + 1) ** skew`` (the lists are sorted by frequency)."""
    cum = list(accumulate(1.0 / (i + 1) ** skew for i in range(len(items))))
    return rng.choices(items, cum_weights=cum)[0]


def ascii_fold(text: str) -> str:
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("Ä", "Ae"), ("Ö", "Oe"), ("Ü", "Ue"), ("ß", "ss")):
        text = text.replace(a, b)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def rare_family(rng: random.Random, country: str) -> str:
    stems, ends = W.RARE[country]
    name = rng.choice(stems) + rng.choice(ends)
    return rng.choice(W.NL_PARTICLES) + name if country == "NL" else name


def family_name(rng: random.Random, country: str) -> str:
    """A family name: a common one by rank 45 % of the time, otherwise from the long tail; in Spain two
    surnames (father's and mother's) most of the time, elsewhere now and then a double-barrelled one."""
    def one() -> str:
        return pick(rng, W.FAMILY[country], 0.9) if rng.random() < 0.45 else rare_family(rng, country)
    name = one()
    if country == "ES" and rng.random() < 0.7:
        return f"{name} {one()}"
    if country in ("DE", "GB", "FR") and rng.random() < 0.03:
        return f"{name}-{one()}"
    return name


def given_name(rng: random.Random, country: str, sex: str) -> str:
    return pick(rng, (W.FEMALE if sex == "F" else W.MALE)[country], 0.7)


def luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str(-total % 10)


def national_id(rng: random.Random, country: str, sex: str, dob: date) -> str:
    """A national id in the country's shape: DE tax id (11 digits, check digit), FR NIR (sex, year, month,
    place, order + 97-key), IT/GB/US formats, NL BSN (eleven test), ES DNI (8 digits + mod-23 letter)."""
    digits = "".join(rng.choice("0123456789") for _ in range(12))
    if country == "FR":
        body = f"{1 if sex == 'M' else 2}{dob.year % 100:02d}{dob.month:02d}{rng.randint(1, 95):02d}{digits[:6]}"
        return f"{body}{97 - int(body) % 97:02d}"
    if country == "NL":
        while True:
            body = str(rng.randint(10_000_000, 99_999_999))
            check = sum((9 - i) * int(d) for i, d in enumerate(body)) % 11
            if check < 10:
                return body + str(check)
    if country == "ES":
        number = rng.randint(10_000_000, 99_999_999)
        return f"{number}{_DNI_LETTERS[number % 23]}"
    if country == "GB":
        letters = "ABCEGHJKLMNPRSTWXYZ"
        return f"{rng.choice(letters)}{rng.choice(letters)}{digits[:6]}{rng.choice('ABCD')}"
    if country == "US":
        return f"{rng.randint(100, 665)}-{digits[:2]}-{digits[2:6]}"
    body = str(rng.randint(1, 9)) + digits[:9]  # DE, IT: ten digits and a check digit
    return body + luhn_digit(body)


def postal_code(rng: random.Random, country: str, city: W.City) -> str:
    if country == "GB":
        return f"{rng.choice(city.postal.split(','))}{rng.randint(1, 20)} {rng.randint(1, 9)}" \
               f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
    lo, hi = city.postal.split("-")
    code = str(rng.randint(int(lo), int(hi))).zfill(len(lo))
    return f"{code} {rng.choice('ABCDEFGHJKLMNPRSTVWXZ')}{rng.choice('ABCDEFGHJKLMNPRSTVWXZ')}" \
        if country == "NL" else code


def street_line(rng: random.Random, country: str) -> str:
    street, number = rng.choice(W.STREETS[country]), str(rng.randint(1, 180))
    if rng.random() < 0.06:
        number += rng.choice("abc")
    return f"{number} {street}" if country in ("FR", "GB", "US") else \
        f"{street}, {number}" if country == "ES" else f"{street} {number}"


def phone_number(rng: random.Random, country: str, area: str, mobile: bool) -> str:
    prefixes = W.MOBILE[country]
    lead = rng.choice(prefixes) if mobile and prefixes else area
    length = W.NSN_LENGTH[country] - (country == "DE" and len(lead) > 3)
    rest = "".join(rng.choice("0123456789") for _ in range(max(4, length - len(lead) - 1)))
    return W.DIAL[country] + lead + str(rng.randint(2, 9)) + rest


def e_mail(rng: random.Random, given: str, family: str, country: str) -> str:
    g, f = (ascii_fold(x).lower().replace(" ", "").replace("'", "") for x in (given, family))
    local = rng.choice((f"{g}.{f}", f"{g}.{f}", f"{g[0]}.{f}", f"{g}{f}{rng.randint(1, 99)}", f"{f}.{g}",
                        f"{g}_{f}", f"{g}{rng.randint(1950, 2005)}"))
    return f"{local}@{rng.choice(W.EMAIL_DOMAINS[country])}"


def address(rng: random.Random, country: str) -> tuple[str, str, str, str]:
    """(street line, postal code, city, area code) of a new address in ``country``."""
    cities = W.CITIES[country]
    city = rng.choices(cities, weights=[c.weight for c in cities])[0]
    return street_line(rng, country), postal_code(rng, country, city), city.name, city.area


def birth_date(rng: random.Random, youngest: int = 18, oldest: int = 90) -> date:
    return date(2024, 1, 1) - timedelta(days=rng.randint(youngest * 365, oldest * 365))


def new_person(rng: random.Random, entity: str) -> Person:
    country = rng.choices(list(W.COUNTRIES), weights=list(W.COUNTRIES.values()))[0]
    sex = rng.choice("FM")
    given, family, dob = given_name(rng, country, sex), family_name(rng, country), birth_date(rng)
    street, zip_code, city, area = address(rng, country)
    return Person(entity, sex, given, family, dob, national_id(rng, country, sex, dob),
                  e_mail(rng, given, family, country), phone_number(rng, country, area, rng.random() < 0.55),
                  street, zip_code, city, country, entity)


def _area_of(person: Person) -> str:
    return next((c.area for c in W.CITIES[person.country] if c.name == person.city), "")


def housemate(rng: random.Random, head: Person, entity: str) -> Person:
    """Another individual in ``head``'s household: same family name and address, mostly the same phone,
    often the same e-mail address; own given name, birth date (a partner's or a grown child's) and national id."""
    sex = rng.choice("FM")
    given = given_name(rng, head.country, sex)
    while given == head.given:
        given = given_name(rng, head.country, sex)
    offset = timedelta(days=(rng.randint(-8, 8) if rng.random() < 0.6 else rng.randint(20, 35)) * 365
                       + rng.randint(-180, 180))
    dob = head.dob + offset  # a partner, or a grown child; a parent when the head is too young for a child
    if not date(1925, 1, 1) <= dob <= date(2005, 12, 31):
        dob = head.dob - offset
    phone = head.phone if rng.random() < 0.75 else phone_number(rng, head.country, _area_of(head), True)
    email = head.email if rng.random() < 0.4 else e_mail(rng, given, head.family, head.country)
    return replace(head, entity=entity, sex=sex, given=given, dob=dob, phone=phone, email=email,
                   natid=national_id(rng, head.country, sex, dob))


def twin(rng: random.Random, sibling: Person, entity: str) -> Person:
    """A twin living with ``sibling``: same family name, address, landline and birth date; other given name,
    national id and e-mail address."""
    mate = housemate(rng, sibling, entity)
    return replace(mate, dob=sibling.dob, natid=national_id(rng, sibling.country, mate.sex, sibling.dob),
                   email=e_mail(rng, mate.given, sibling.family, sibling.country))


def population(rng: random.Random, count: int, household: float, twins: float, first: int = 0,
               mailboxes: dict[str, str] | None = None) -> list[Person]:
    """``count`` persons; a share ``household`` comes with a housemate (or two), a share ``twins`` with a twin.
    An e-mail address belongs to one household (``mailboxes``: address -> household, shared between calls that
    build one world): a second Patricia Smith at yahoo.com gets a number, as her provider would have made her."""
    boxes: dict[str, str] = {} if mailboxes is None else mailboxes
    people: list[Person] = []

    def own(person: Person) -> Person:
        while boxes.setdefault(person.email, person.household) != person.household:
            local, domain = person.email.split("@")
            person = replace(person, email=f"{local.rstrip('0123456789')}{rng.randint(2, 99)}@{domain}")
        people.append(person)
        return person

    while len(people) < count:
        head = own(new_person(rng, f"P{first + len(people):07d}"))
        if rng.random() < household:
            for _ in range(rng.choice((1, 1, 1, 2))):
                own(housemate(rng, head, f"P{first + len(people):07d}"))
        if rng.random() < twins:
            own(twin(rng, head, f"P{first + len(people):07d}"))
    return people[:count]


def format_phone(e164: str, country: str, style: str, home: str) -> str:
    """``e164`` (digits, no plus) as a source writes it: ``+49 30 1234567``, ``0049-30-1234567``, or for the
    source's home country the national form ``030 1234567``."""
    dial = W.DIAL[country]
    national = e164[len(dial):]
    leads = sorted(W.MOBILE[country] + tuple(c.area for c in W.CITIES[country]), key=len, reverse=True)
    cut = next((len(lead) for lead in leads if national.startswith(lead)), 3)
    head, tail = national[:cut], national[cut:]
    if style == "national" and country == home:
        trunk = "" if country == "IT" else ("1" if country == "US" else "0")
        return f"({trunk}{head}) {tail}" if country in ("DE", "US") else f"{trunk}{head} {tail}"
    if style == "idd":
        return f"00{dial}-{head}-{tail}"
    return f"+{dial} {head} {tail}"


def format_id(natid: str, spaced: bool) -> str:
    if not spaced:
        return natid
    if "-" in natid:
        return natid.replace("-", "")
    return " ".join(natid[i:i + 4] for i in range(0, len(natid), 4)) if len(natid) > 9 else natid


def render(person: Person, style: SourceStyle, rng: random.Random) -> dict[str, str]:
    """The raw row a source holds for ``person`` (every value text, blank when not captured)."""
    row = {"given": person.given, "family": person.family, "dob": person.dob.strftime("%Y%m%d"),
           "natid": format_id(person.natid, style.spaced_ids), "email": person.email,
           "phone": format_phone(person.phone, person.country, style.phone_style, style.home),
           "street": person.street, "zip": person.zip, "city": person.city,
           "country": W.COUNTRY_NAMES[person.country].upper() if style.country_names else person.country}
    if style.abbreviate and rng.random() < style.abbreviate:
        for long, short in W.ABBREVIATIONS:
            row["street"] = row["street"].replace(long, short)
    for name, share in style.presence:
        if rng.random() >= share:
            row[name] = style.missing_dob if name == "dob" else ""
    if style.ascii_only:
        row = {k: ascii_fold(v) for k, v in row.items()}
    if style.upper_names:
        for name in ("given", "family", "street", "city"):
            row[name] = row[name].upper()
    return row
