"""Match attributes of one canonical customer, normalised once so that blocking and scoring stay cheap.

:func:`features` turns a canonical customer (Python or JSON form) into :class:`Features`: a JSON-safe dict the
golden-record store persists next to the source record. Strings are case-folded, ASCII-folded and stripped of
punctuation; a missing value is ``""`` (or an empty list), never ``None``, so comparisons need no null checks.
Bump :data:`FEATURES_VERSION` whenever the normalisation changes, so stored features can be recomputed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NotRequired, TypedDict

import jellyfish
from anyascii import anyascii

from pipelines.identity.stand_ins import TITLES, placeholder
from pipelines.transforms_contact import ContactError, country_code

FEATURES_VERSION = 14
#: The customer fields :func:`features` reads: records equal in these (and in source and key) have equal features.
FEATURE_FIELDS = ("kind", "given_name", "middle_name", "family_name", "org_name", "emails", "phones", "addresses",
                  "xrefs", "birth_date", "national_id", "tax_id")
PERSON = "person"
ORGANISATION = "organisation"


class Features(TypedDict):
    """Normalised match attributes of one customer record (JSON-safe; ``""`` = missing)."""

    v: int  # FEATURES_VERSION
    kind: str  # person | organisation
    given: str  # all given names, normalised ("hans peter")
    given1: str  # first given name
    gcanon: str  # first given name with nicknames mapped to one form (bill -> william)
    middle: str  # middle name(s) or initial, normalised ("" in features stored before it was kept)
    family: str  # family name(s), normalised ("meyer schulz")
    org: str  # organisation name without legal form ("muller bau")
    tokens: list[str]  # name tokens (persons: given + family; organisations: org name)
    sx_given: str  # soundex of the first given name (its canonical form for a nickname)
    sx_family: str  # soundex of the first family-name token
    sx_org: list[str]  # soundex of the first three org-name tokens
    dob: str  # birth date, ISO
    dob_raw: NotRequired[str]  # an impossible birth date's digits in ISO shape ("1966-00-91"), when dob is ""
    emails: list[str]  # sorted, case-folded
    phones: list[str]  # last 9 digits of each number, sorted
    addrs: list[list[str]]  # [normalised line1, postal code, city, house number] per address
    country: str  # ISO alpha-2 of the first address, lower case
    nid: str  # national id: upper-case letters and digits only
    tax: str  # tax id: likewise, a leading two-letter country prefix dropped
    ref: str  # this record itself as "source/key" ("" when not given)
    xrefs: list[str]  # the same customer in other sources, "source/key", sorted


# --- text normalisation -----------------------------------------------------------------------------------

_FOLD = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "æ": "ae", "Æ": "AE",
                       "œ": "oe", "Œ": "OE", "ß": "ss", "þ": "th", "\u0131": "i", "'": "", "\u2019": "", ".": ""})
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_NON_ALNUM_UPPER = re.compile(r"[^0-9A-Z]+")
_NON_DIGITS = re.compile(r"\D+")
# German umlauts spelled out (MUELLER) fold like the umlaut itself; not before a final l/la/ls or at the end
# (Michael, Manuel, Samuel, Joel, Michaela, Chloe, Zoe), where the letters are no umlaut
_DIGRAPHS = re.compile(r"([aou])e(?!(?:la?|ls)?\b)")

LEGAL_FORMS = frozenset({
    "gmbh", "mbh", "ag", "kg", "kgaa", "ohg", "gbr", "ug", "ev", "eg", "co", "cie", "ltd", "limited", "plc", "llp",
    "lp", "llc", "inc", "incorporated", "corp", "corporation", "company", "sa", "sas", "sarl", "eurl", "snc", "sasu",
    "spa", "srl", "sapa", "bv", "nv", "vof", "cv", "ab", "as", "asa", "oy", "oyj", "aps", "sl", "slu", "se",
    "kft", "sro", "zoo", "sp", "ek", "the", "and", "und", "et", "y",
})
NICKNAMES: dict[str, str] = {  # short or foreign form -> one canonical form; not names in their own right
    "bill": "william", "will": "william", "willy": "william", "bob": "robert", "rob": "robert", "bobby": "robert",
    "jim": "james", "jimmy": "james", "mike": "michael", "tom": "thomas", "tommy": "thomas", "dick": "richard",
    "rick": "richard", "kate": "katherine", "katie": "katherine", "cathy": "katherine", "catherine": "katherine",
    "katharina": "katherine", "kathi": "katherine", "liz": "elizabeth", "beth": "elizabeth", "betty": "elizabeth",
    "elisabeth": "elizabeth", "maggie": "margaret", "meg": "margaret", "peggy": "margaret", "hans": "johannes",
    "johann": "johannes", "sepp": "josef", "joseph": "josef", "joe": "josef", "beppe": "giuseppe",
    "pino": "giuseppe", "toni": "anthony", "tony": "anthony", "antonio": "anthony", "anton": "anthony",
    "fritz": "friedrich", "chris": "christopher", "christoph": "christopher", "alex": "alexander",
    "sasha": "alexander", "sandro": "alessandro", "nick": "nicholas", "nico": "nicholas", "nicolas": "nicholas",
    "nikolaus": "nicholas", "susi": "susanne", "sue": "susan", "jenny": "jennifer", "dave": "david",
    "steve": "stephen", "steven": "stephen", "stefan": "stephen", "ed": "edward", "ted": "edward",
    "andy": "andrew", "andreas": "andrew", "matt": "matthew", "pat": "patrick", "sam": "samuel",
    "ben": "benjamin", "dan": "daniel", "danny": "daniel", "greg": "gregory", "gabi": "gabriele", "uli": "ulrich",
    "wolf": "wolfgang", "gigi": "luigi", "franco": "francesco", "cesco": "francesco",
    # pet names of continental Europe that no spelling rule derives (compare.diminutive finds steffi / stefanie)
    "basti": "sebastian", "matze": "matthias", "hannes": "johannes", "manni": "manfred", "jupp": "josef",
    "resi": "theresia", "heinz": "heinrich", "kalle": "karl", "andi": "andreas", "michi": "michael",
    "conny": "cornelia", "biggi": "birgit", "babsi": "barbara", "sanne": "susanne", "rudi": "rudolf",
    "willi": "wilhelm", "olli": "oliver", "benni": "benjamin", "lotte": "charlotte", "gretel": "margaret",
    "margarete": "margaret", "toto": "salvatore", "checco": "francesco", "ciccio": "francesco",
    "peppe": "giuseppe", "peppino": "giuseppe", "gianni": "giovanni", "nanni": "giovanni", "lello": "raffaele",
    "enzo": "vincenzo", "pippo": "filippo", "pina": "giuseppina", "mimmo": "domenico", "elisabetta": "elizabeth",
    "betta": "elizabeth", "bice": "beatrice", "tonino": "anthony", "paco": "francisco", "pancho": "francisco",
    "curro": "francisco", "pepe": "jose", "pepa": "josefa", "manolo": "manuel", "lola": "dolores",
    "concha": "concepcion", "conchita": "concepcion", "charo": "rosario", "chelo": "consuelo", "nacho": "ignacio",
    "quique": "enrique", "kike": "enrique", "lupe": "guadalupe", "pili": "pilar", "rafa": "rafael",
    "santi": "santiago", "chus": "jesus", "chuy": "jesus", "chucho": "jesus", "memo": "guillermo",
    "merche": "mercedes", "nando": "fernando", "toño": "anthony", "fito": "adolfo", "dédé": "andre",
    "manu": "emmanuel", "zaza": "isabelle", "babette": "elizabeth", "jeannot": "jean", "pierrot": "pierre",
    "toinette": "antoinette", "kees": "cornelis", "henk": "hendrik", "koos": "jacobus", "wim": "william",
    "willem": "william", "piet": "pieter", "klaas": "nicholas", "joop": "johannes", "sjaak": "jacques",
    "bram": "abraham", "truus": "geertruida", "teun": "anthony", "zé": "jose", "chico": "francisco",
    "quim": "joaquim",
}
STREET_WORDS: dict[str, str] = {
    "street": "st", "st": "st", "strasse": "str", "str": "str", "road": "rd", "rd": "rd", "avenue": "ave",
    "av": "ave", "ave": "ave", "boulevard": "bd", "blvd": "bd", "bd": "bd", "lane": "ln", "ln": "ln",
    "drive": "dr", "dr": "dr", "place": "pl", "pl": "pl", "platz": "pl", "square": "sq", "sq": "sq",
    "court": "ct", "ct": "ct", "gasse": "g", "weg": "weg", "allee": "al", "piazza": "pza", "pza": "pza",
    "pzza": "pza", "corso": "cso", "cso": "cso",
    "viale": "vle", "vle": "vle", "via": "via", "rue": "rue", "route": "rte", "rte": "rte", "chemin": "ch",
    "ch": "ch", "straat": "str", "laan": "ln", "plein": "pl", "calle": "c", "c": "c", "north": "n", "south": "s",
    "east": "e", "west": "w", "saint": "st", "sankt": "st",
}
_STREET_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("strasse", "str"), ("straat", "str"), ("platz", "pl"), ("gasse", "g"), ("allee", "al"))


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Case-folded ASCII letters and digits, every other run of characters one space (dots just dropped);
    ae/oe/ue read as a/o/u, so MUELLER and Müller fold alike; letters of other scripts transliterated (Сергей
    Иванов as sergey ivanov), invisible characters (a zero-width space or joiner) dropped."""
    text = text.translate(_FOLD)
    if not text.isascii():
        text = "".join(c if c.isascii() else _ascii(c) for c in text)
    return _DIGRAPHS.sub(r"\1", _NON_ALNUM.sub(" ", text.lower())).strip()


@lru_cache(maxsize=4096)
def _ascii(char: str) -> str:
    """A character in ASCII: a Latin letter without its accents (é, ñ), a letter of another script transliterated
    (anyascii: й as y), anything else (a mark, an invisible character) nothing."""
    base = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode("ascii")
    if base or not unicodedata.category(char).startswith("L"):
        return base
    return anyascii(char)


# the word tables in the form fold() gives their words; NICKNAMES_OF: canonical form -> its short forms
LEGAL_FORMS = frozenset(fold(t) for t in LEGAL_FORMS)
NICKNAMES = {fold(k): fold(NICKNAMES.get(v, v)) for k, v in NICKNAMES.items()}  # andi -> andreas -> andrew
NICKNAMES_OF: dict[str, tuple[str, ...]] = {
    canonical: tuple(short for short, full in NICKNAMES.items() if full == canonical)
    for canonical in set(NICKNAMES.values())
}
STREET_WORDS = {fold(k): fold(v) for k, v in STREET_WORDS.items()}
_STREET_SUFFIXES = tuple((fold(k), fold(v)) for k, v in _STREET_SUFFIXES)


def _tokens(text: Any) -> list[str]:
    return fold(text).split() if isinstance(text, str) and text else []


def _drop(tokens: list[str], words: frozenset[str]) -> list[str]:
    kept = [t for t in tokens if t not in words]
    return kept or tokens


def _real(name: str, *, roles: bool = True) -> str:
    return "" if placeholder(name, roles=roles) else name


def person_name(text: Any) -> str:
    """A person's name part normalised: folded, titles dropped (``"Dr. Hans-Peter"`` -> ``"hans peter"``)."""
    return _person_name(text) if isinstance(text, str) else ""


@lru_cache(maxsize=65536)
def _person_name(text: str) -> str:
    return " ".join(_drop([_letters(t) for t in _tokens(text)], TITLES))


#: digits a scan or a keyer puts for the letter they look like (names hold no digits: "GD0RGE", "ESPO5ITO")
_DIGIT_LETTERS = str.maketrans("0123456789", "olzeasgtbg")


def _letters(token: str) -> str:
    """A name token with its digits read as the letters they look like, when it also has letters."""
    if token.isalpha() or token.isdigit():
        return token
    return token.translate(_DIGIT_LETTERS)


def org_name(text: Any) -> str:
    """An organisation name without legal forms and joining words (``"Müller Bau GmbH & Co. KG"`` ->
    ``"muller bau"``)."""
    return _org_name(text) if isinstance(text, str) else ""


@lru_cache(maxsize=65536)
def _org_name(text: str) -> str:
    return " ".join(_drop(_tokens(text), LEGAL_FORMS))


@lru_cache(maxsize=65536)
def phonetic(token: str) -> str:
    """Soundex of one folded token ("" for none): coarse, so small typos usually keep the code."""
    return jellyfish.soundex(token) if token and token[0].isalpha() else token[:4]


def street(text: Any) -> str:
    """An address line normalised: folded, street words abbreviated (``"Hauptstraße 12"`` -> ``"hauptstr 12"``,
    ``"12 Baker Street"`` -> ``"12 baker st"``)."""
    return _street(text) if isinstance(text, str) else ""


@lru_cache(maxsize=65536)
def _street(text: str) -> str:
    out: list[str] = []
    for token in _tokens(text):
        short = STREET_WORDS.get(token)
        if short is None:
            for long, abbr in _STREET_SUFFIXES:
                if token.endswith(long) and len(token) > len(long):
                    short = token[: -len(long)] + abbr
                    break
        out.append(short or token)
    return " ".join(out)


@lru_cache(maxsize=65536)
def house_number(line: str) -> str:
    """The tokens of a normalised address line that hold digits (``"hauptstr 12 a"`` -> ``"12"``)."""
    return " ".join([t for t in line.split() if not t.isalpha()])


def postal(text: Any) -> str:
    """Postal code letters and digits, an ``D-`` style country prefix dropped (``"D-80331"`` -> ``"80331"``)."""
    if not isinstance(text, str):
        return ""
    code = text.strip().lower()
    if len(code) > 3 and code[1:3].startswith("-") and code[0].isalpha() and code[2].isdigit():
        code = code[2:]
    elif len(code) > 4 and code[2] == "-" and code[:2].isalpha() and code[3].isdigit():
        code = code[3:]
    return _NON_ALNUM.sub("", code)


def fine_postcode(code: str) -> bool:
    """A postal code (as :func:`postal` gives it) that names a few streets' worth of homes, not a district: letters
    and digits, five or more (a British, Dutch, Canadian or Irish code: about 15-25 addresses each), or seven
    digits or more (a US ZIP+4, a Brazilian CEP). Five digits (Germany, France, the US ZIP) cover thousands."""
    return (len(code) >= 5 and not code.isdigit() and not code.isalpha()) or (len(code) >= 7 and code.isdigit())


def phone_digits(text: Any, keep: int = 9) -> str:
    """The last ``keep`` digits of a phone number ("" when it has fewer than 6 digits)."""
    digits = _NON_DIGITS.sub("", text) if isinstance(text, str) else ""
    return digits[-keep:] if len(digits) >= 6 else ""


def identifier(text: Any, *, drop_country: bool = False) -> str:
    """An id upper-cased with separators dropped; ``drop_country`` drops a leading two-letter prefix before
    digits (VAT ``DE123456789`` and ``123456789`` compare equal)."""
    if not isinstance(text, str):
        return ""
    ident = _NON_ALNUM_UPPER.sub("", text.upper())
    if drop_country and len(ident) >= 8 and ident[:2].isalpha() and ident[2:].isdigit():
        ident = ident[2:]
    return ident


def iso_date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            return ""
    return ""


EARLIEST_BIRTH = "1900-01-01"  # no one alive was born before (the oldest person known lived to 122)


def birth_date(value: Any, today: date | None = None) -> str:
    """A birth date as :func:`iso_date` reads it, or "" when no one alive can have it: in the future (03/30/4005,
    a year mistyped) or before :data:`EARLIEST_BIRTH`. An impossible date is no evidence either way, so it is
    compared as a missing one, not as a date that disagrees."""
    text = iso_date(value)
    return text if text and EARLIEST_BIRTH <= text <= (today or date.today()).isoformat() else ""


def raw_birth_date(text: Any, today: date | None = None) -> str:
    """A birth date no calendar has (19660091, 1989-27-01) in ISO shape ("1966-00-91"), for :func:`dob_level` to
    tell one slip from a valid one: year first, eight digits, a year someone alive may be born in; else ""."""
    digits = _NON_DIGITS.sub("", text) if isinstance(text, str) else ""
    if len(digits) != 8 or not EARLIEST_BIRTH[:4] <= digits[:4] <= str((today or date.today()).year):
        return ""
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"


# --- the record --------------------------------------------------------------------------------------------

def _items(customer: Mapping[str, Any], name: str) -> Iterable[Mapping[str, Any]]:
    value = customer.get(name)
    if not value or not isinstance(value, (list, tuple)):
        return ()
    return [v for v in value if type(v) is dict or isinstance(v, Mapping)]


def _addresses(customer: Mapping[str, Any]) -> tuple[list[list[str]], str]:
    addrs: list[list[str]] = []
    country = ""
    for item in _items(customer, "addresses"):
        line = street(item.get("line1")) or street(item.get("line2"))
        entry = [line, postal(item.get("postal_code")), fold(item.get("city") or ""), house_number(line)]
        if any(entry) and entry not in addrs:
            addrs.append(entry)
        if not country and isinstance(item.get("country"), str):
            country = country_of(item["country"])
    return addrs, country


@lru_cache(maxsize=4096)
def country_of(text: str) -> str:
    """ISO alpha-2 (lower case) of a country code or name ("DE", "Germany", "Deutschland"); "" when unknown."""
    code = fold(text)
    if len(code) == 2:
        return code
    try:
        return country_code(text, {}).lower() if code else ""
    except ContactError:
        return ""


def _kind(value: Any) -> str:
    text = fold(value) if isinstance(value, str) else ""
    return ORGANISATION if text.startswith("org") or text in ("company", "business", "b2b") else PERSON


def _contact(customer: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    emails = {str(e.get("address", "")).strip().casefold() for e in _items(customer, "emails")}
    phones = {phone_digits(p.get("number")) for p in _items(customer, "phones")}
    return sorted(e for e in emails if "@" in e), sorted(p for p in phones if p)


def features(customer: Mapping[str, Any], source: str | None = None, key: str | None = None,
             dob_raw: str | None = None) -> Features:
    """The match attributes of one canonical customer; ``source``/``key`` name the record itself, so another
    record's xref to it is a deterministic link. ``dob_raw``: the birth date the source wrote when it was no
    date (canonicalize set the field to null and kept the text in a warning)."""
    kind = _kind(customer.get("kind"))
    given = _real(person_name(customer.get("given_name")))
    family = _real(person_name(customer.get("family_name")), roles=False)
    family = "" if len(family) == 1 else family  # an initial says too little to tell families apart
    org = org_name(customer.get("org_name")) if kind == ORGANISATION or not (given or family) else ""
    given1 = given.split(" ", 1)[0]
    family1 = family.split(" ", 1)[0]
    org_tokens = org.split()
    emails, phones = _contact(customer)
    addrs, country = _addresses(customer)
    xrefs = sorted({f"{x.get('source')}/{x.get('key')}" for x in _items(customer, "xrefs") if x.get("key")})
    feats = Features(
        v=FEATURES_VERSION, kind=kind, given=given, given1=given1, gcanon=NICKNAMES.get(given1, given1),
        middle=_real(person_name(customer.get("middle_name"))), family=family, org=org,
        tokens=org_tokens if kind == ORGANISATION else (given + " " + family).split(),
        sx_given=phonetic(NICKNAMES.get(given1, given1)), sx_family=phonetic(family1),
        sx_org=[phonetic(t) for t in org_tokens[:3]],
        dob=birth_date(customer.get("birth_date")), emails=emails, phones=phones, addrs=addrs, country=country,
        nid=identifier(customer.get("national_id")), tax=identifier(customer.get("tax_id"), drop_country=True),
        ref=f"{source}/{key}" if source and key is not None else "", xrefs=xrefs,
    )
    if not feats["dob"] and (raw := raw_birth_date(dob_raw)):
        feats["dob_raw"] = raw
    return feats
