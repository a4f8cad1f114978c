"""Realistic company data for the demo's change generator, and the ways people mistype it.

Pure functions of a :class:`random.Random`, so a seeded generator makes the same data every run:

- :func:`company` invents a company of one of :data:`COUNTRIES` (name, city, postal code, phone, VAT number,
  mail domain) that the IBM i, AR and helpdesk each then hold in their own way;
- :func:`ar_spelling` is the name as an AR clerk keys it (the legal form written out or dotted, umlauts);
- :func:`typo` is the name as a support agent types it on the phone: one doubled, dropped or swapped letter,
  a lost accent, or another spelling of the legal form; always a different text, never a different company;
- :func:`phone_text` writes one number the way each system's users write numbers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    cc: str  # calling code
    nsn: int  # digits of a national number (area code included)
    forms: tuple[str, ...]  # legal forms
    tld: str
    currency: str
    surnames: tuple[str, ...]
    trades: tuple[str, ...]
    cities: tuple[tuple[str, str, str], ...]  # city, postal code, area code
    streets: tuple[str, ...]  # "{n}" is the house number


COUNTRIES: dict[str, Country] = {
    "DE": Country("49", 10, ("GmbH", "AG", "GmbH & Co. KG"), "de", "EUR",
                  ("Hoffmann", "Schneider", "Fischer", "Weber", "Becker", "Wagner", "Schäfer", "Koch", "Richter",
                   "Klein", "Wolf", "Schröder", "Neumann", "Krüger", "Zimmermann"),
                  ("Antriebstechnik", "Hydraulik", "Armaturen", "Maschinenbau", "Pumpen", "Industriebedarf"),
                  (("München", "80331", "89"), ("Stuttgart", "70173", "711"), ("Hamburg", "20095", "40"),
                   ("Köln", "50667", "221")), ("Industriestr. {n}", "Hauptstraße {n}", "Am Hafen {n}")),
    "FR": Country("33", 9, ("SARL", "SA", "SAS"), "fr", "EUR",
                  ("Lefebvre", "Moreau", "Girard", "Fournier", "Lambert", "Bonnet", "Rousseau", "Mercier"),
                  ("Hydraulique", "Robinetterie", "Mécanique", "Industrie", "Pompes"),
                  (("Lyon", "69002", "4"), ("Paris", "75011", "1"), ("Lille", "59000", "3")),
                  ("{n} rue de la République", "{n} avenue Jean Jaurès", "{n} boulevard Voltaire")),
    "IT": Country("39", 10, ("S.p.A.", "S.r.l."), "it", "EUR",
                  ("Bianchi", "Ferrari", "Esposito", "Colombo", "Ricci", "Marino", "Greco", "Conti"),
                  ("Valvole", "Meccanica", "Pompe", "Impianti", "Forniture"),
                  (("Milano", "20121", "02"), ("Torino", "10121", "011"), ("Bologna", "40121", "051")),
                  ("Via Roma {n}", "Corso Italia {n}", "Viale Europa {n}")),
    "GB": Country("44", 10, ("Ltd", "PLC"), "co.uk", "GBP",
                  ("Taylor", "Brown", "Wilson", "Evans", "Thomas", "Roberts", "Walker", "Wright"),
                  ("Engineering", "Pumps", "Valves", "Industrial Supplies", "Fluid Power"),
                  (("London", "EC1A 1BB", "20"), ("Manchester", "M1 1AE", "161"), ("Leeds", "LS1 4DY", "113")),
                  ("{n} High Street", "{n} Station Road", "Unit {n}, Dock Road")),
    "NL": Country("31", 9, ("BV", "NV"), "nl", "EUR",
                  ("de Jong", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "de Boer", "Bos"),
                  ("Techniek", "Pompen", "Installatie", "Industrie"),
                  (("Amsterdam", "1012 AB", "20"), ("Rotterdam", "3011 AA", "10"), ("Utrecht", "3511 AA", "30")),
                  ("Industrieweg {n}", "Havenstraat {n}", "Kerkstraat {n}")),
}
FIRST_NAMES = ("Anna", "Lukas", "Marie", "Paul", "Sophie", "Luca", "Emma", "Noah", "Giulia", "Thomas", "Claire",
               "Oliver", "Sanne", "Jan", "Chiara", "Pierre")
LEGAL_SPELLINGS: dict[str, tuple[str, ...]] = {  # how AR clerks and agents write the same legal form
    "GmbH": ("G.m.b.H.", "Gmbh"), "AG": ("A.G.",), "GmbH & Co. KG": ("GmbH & Co KG", "GmbH und Co. KG"),
    "SARL": ("S.A.R.L.", "Sàrl"), "SA": ("S.A.",), "SAS": ("S.A.S.",), "S.p.A.": ("SpA", "S.P.A."),
    "S.r.l.": ("Srl", "S.R.L."), "Ltd": ("Limited", "Ltd."), "PLC": ("plc", "P.L.C."), "BV": ("B.V.", "Bv"),
    "NV": ("N.V.",),
}
FOLDS = (("ü", "ue"), ("ö", "oe"), ("ä", "ae"), ("é", "e"), ("è", "e"), ("ß", "ss"))
VOWELS = frozenset("aeiouy")


@dataclass(frozen=True)
class Company:
    name: str  # as the company writes it: "Schröder Hydraulik GmbH"
    country: str
    street: str
    city: str
    postal: str
    phone: tuple[str, str, str]  # country code, area code, subscriber number
    vat: str
    domain: str
    currency: str


def company(rng: random.Random, taken: set[str] | frozenset[str] = frozenset()) -> Company:
    """A new company whose IBM i name (:func:`ibmi_name`) is not in ``taken``."""
    for _ in range(200):
        country = rng.choice(sorted(COUNTRIES))
        c = COUNTRIES[country]
        surname, trade, form = rng.choice(c.surnames), rng.choice(c.trades), rng.choice(c.forms)
        city, postal, area = rng.choice(c.cities)
        stem = _stem(rng, c, surname, trade, city)
        name = f"{stem} {form}"
        if ibmi_name(name) not in taken:
            break
    digits = c.nsn - len(area)
    local = str(rng.randrange(2 * 10 ** (digits - 1), 10**digits))
    # the company's own domain, from its whole name: two companies sharing a surname and a trade do not share
    # their mail addresses
    domain = "-".join(w for w in fold_accents(stem).lower().replace("&", " ").split() if w.isalnum()) + f".{c.tld}"
    vat = {"DE": f"DE{rng.randrange(10**8, 10**9)}", "FR": f"FR{rng.randrange(10, 99)}{rng.randrange(10**8, 10**9)}",
           "IT": f"IT{rng.randrange(10**10, 10**11)}", "GB": f"GB{rng.randrange(10**8, 10**9)}",
           "NL": f"NL{rng.randrange(10**8, 10**9)}B01"}[country]
    return Company(name, country, street(rng, country), city, postal, (c.cc, area, local), vat, domain,
                   c.currency)


def _stem(rng: random.Random, c: Country, surname: str, trade: str, city: str) -> str:
    """The name before the legal form: a founder's name and the trade, often with a partner, a first name or
    the home town (some 18,000 names in all, so thousands of new customers do not share one)."""
    roll = rng.random()
    if roll < 0.3:
        return f"{surname} {trade}"
    if roll < 0.55:
        return f"{surname} & {rng.choice([s for s in c.surnames if s != surname])} {trade}"
    if roll < 0.75:
        return f"{surname} {trade} {city}"
    return f"{rng.choice(FIRST_NAMES)} {surname} {trade}"


def street(rng: random.Random, country: str) -> str:
    """A street line of ``country`` (:data:`COUNTRIES`; others read as DE)."""
    return rng.choice(COUNTRIES.get(country, COUNTRIES["DE"]).streets).format(n=rng.randint(1, 180))


def fold_accents(text: str) -> str:
    for accented, plain in FOLDS:
        text = text.replace(accented, plain).replace(accented.upper(), plain.capitalize())
    return text


def ibmi_name(name: str) -> str:
    """The name in a CHAR(30) field of an IBM i file: upper case, no accents (EBCDIC 037), cut at 30."""
    return fold_accents(name).upper()[:30]


def _legal_form(name: str) -> tuple[str, str] | None:
    """(stem, legal form) when ``name`` ends with a known legal form."""
    for form in sorted(LEGAL_SPELLINGS, key=len, reverse=True):
        if name.endswith(" " + form):
            return name[: -len(form) - 1], form
    return None


def ar_spelling(name: str, rng: random.Random) -> str:
    """The name as keyed in AR: the legal form spelled another way, or accents written out."""
    split = _legal_form(name)
    if split is not None and rng.random() < 0.6:
        stem, form = split
        return f"{stem} {rng.choice(LEGAL_SPELLINGS[form])}"
    folded = fold_accents(name)
    return folded if folded != name else name


def typo(name: str, rng: random.Random) -> str:
    """``name`` with one slip a person makes typing it; always different from ``name``."""
    kinds = ["double", "drop", "swap", "legal", "accent"]
    rng.shuffle(kinds)
    for kind in kinds:
        out = _TYPOS[kind](name, rng)
        if out is not None and out != name:
            return out
    return name + "."  # unreachable for real names: every name has a letter to double


def _word_positions(name: str, rng: random.Random, min_len: int = 5) -> list[tuple[int, int]]:
    """Start and end of the letters-only words of ``name`` (the stem, not the legal form) of ``min_len``+."""
    split = _legal_form(name)
    stem = split[0] if split else name
    spans: list[tuple[int, int]] = []
    start = None
    for i, ch in enumerate(stem + " "):
        if ch.isalpha() and start is None:
            start = i
        elif not ch.isalpha() and start is not None:
            if i - start >= min_len:
                spans.append((start, i))
            start = None
    rng.shuffle(spans)
    return spans


def _double(name: str, rng: random.Random) -> str | None:
    for start, end in _word_positions(name, rng):
        i = rng.randrange(start + 1, end)
        return name[:i] + name[i] + name[i:]
    return None


def _drop(name: str, rng: random.Random) -> str | None:
    for start, end in _word_positions(name, rng, 6):
        doubled = [i for i in range(start + 1, end) if name[i] == name[i - 1]]
        i = rng.choice(doubled) if doubled else rng.randrange(start + 1, end)
        return name[:i] + name[i + 1:]
    return None


def _swap(name: str, rng: random.Random) -> str | None:
    for start, end in _word_positions(name, rng, 7):
        i = rng.randrange(start + 1, end - 1)
        if name[i] != name[i + 1]:
            return name[:i] + name[i + 1] + name[i] + name[i + 2:]
    return None


def _legal(name: str, rng: random.Random) -> str | None:
    split = _legal_form(name)
    if split is None:
        return None
    stem, form = split
    return f"{stem} {rng.choice(LEGAL_SPELLINGS[form])}"


def _accent(name: str, rng: random.Random) -> str | None:
    folded = fold_accents(name)
    return folded if folded != name else None


_TYPOS = {"double": _double, "drop": _drop, "swap": _swap, "legal": _legal, "accent": _accent}


def phone_text(phone: tuple[str, str, str], style: str) -> str:
    """One number as written in a system: ``intl`` +49 89 1234567, ``idd`` 0049 89 1234567, ``brackets``
    +49 (89) 1234567."""
    cc, area, local = phone
    if style == "idd":
        return f"00{cc} {area} {local}"
    if style == "brackets":
        return f"+{cc} ({area}) {local}"
    return f"+{cc} {area} {local}"


def person(rng: random.Random, domain: str) -> tuple[str, str, str]:
    """A contact person at ``domain``: first name, last name, e-mail."""
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(COUNTRIES[rng.choice(sorted(COUNTRIES))].surnames)
    local = f"{fold_accents(first)[0]}.{fold_accents(last)}".lower().replace(" ", "")
    return first, last, f"{local}@{domain}"
