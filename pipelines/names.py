"""Person and company names as legacy systems store them (upper case, ``LAST, FIRST``), made readable.

:func:`name_case` turns ``MCDONALD`` into ``McDonald``, ``O'BRIEN`` into ``O'Brien``, ``JAN VAN DER BERG``
into ``Jan van der Berg`` and ``SMITH & SONS LTD`` into ``Smith & Sons Ltd``; text that already mixes upper and
lower case is left alone (someone typed it with care). :func:`split_name` splits a full name into title,
given, middle and family parts from either ``LAST, FIRST MIDDLE`` or ``[TITLE] FIRST [MIDDLE] [PARTICLES] LAST``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: words written in a fixed way whatever the input case (legal forms, titles, roman numerals)
FIXED_WORDS: dict[str, str] = {w.upper(): w for w in (
    "GmbH", "AG", "KG", "OHG", "SE", "SA", "SARL", "SAS", "SpA", "Srl", "BV", "NV", "LLC", "LLP", "PLC", "Ltd",
    "Inc", "Corp", "Co", "AB", "AS", "ASA", "Oy", "ApS", "KK", "Pty", "II", "III", "IV", "VI", "VII", "VIII",
    "Mr", "Mrs", "Ms", "Dr", "Prof", "St",
)}
#: family-name particles, lower case inside a name ("Jan van der Berg"), capitalised when they start it
PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "la", "le", "dos", "das",
                       "ten", "ter", "zu", "bin", "al", "y"})
TITLES: dict[str, str] = {
    "MR": "Mr", "MRS": "Mrs", "MS": "Ms", "MISS": "Miss", "DR": "Dr", "PROF": "Prof", "HERR": "Herr",
    "FRAU": "Frau", "SIR": "Sir", "MME": "Mme", "MLLE": "Mlle", "SIG": "Sig", "SIGRA": "Sig.ra",
}
_VOWELS = set("AEIOUYÄÖÜÀÁÂÉÈÊÍÓÔÚ")
_SPACES = re.compile(r"\s+")
_RSQUO = "\u2019"  # typographic apostrophe (O\u2019Brien)


def _cap(part: str) -> str:
    """One alphabetic run: ``mcdonald`` -> ``McDonald``, ``o'brien`` -> ``O'Brien``."""
    lower = part.lower()
    if len(lower) > 3 and lower.startswith("mc"):
        return "Mc" + lower[2].upper() + lower[3:]
    if "'" in lower or _RSQUO in lower:
        quote = "'" if "'" in lower else _RSQUO
        head, _, tail = lower.partition(quote)
        if len(head) == 1 and tail:
            return head.upper() + quote + _cap(tail)
        return head.capitalize() + quote + tail  # d'Artagnan-style stays simple
    return lower.capitalize()


def _word(word: str, first: bool) -> str:
    upper = word.upper()
    plain = upper.strip(".")
    if plain in FIXED_WORDS:
        return FIXED_WORDS[plain] + word[len(plain):]
    if word.lower() in PARTICLES:
        return word.capitalize() if first else word.lower()
    letters = [c for c in upper if c.isalpha()]
    if 2 <= len(letters) <= 4 and not _VOWELS.intersection(letters):
        return upper  # an acronym (IBM, BMW, KPN)
    return "-".join(_cap(p) for p in word.split("-"))


def name_case(text: str, *, force: bool = False) -> str:
    """Readable casing of a shouted (or all-lower-case) name; mixed-case text is returned as given."""
    if not force and any(c.isupper() for c in text) and any(c.islower() for c in text):
        return text
    out: list[str] = []
    first = True
    for token in re.split(r"(\s+)", text):
        if not token or token.isspace():
            out.append(token)
            continue
        out.append(_word(token, first))
        first = False
    return "".join(out)


@dataclass(frozen=True, slots=True)
class NameParts:
    title: str | None
    given: str | None
    middle: str | None
    family: str | None

    def part(self, name: str) -> str | None:
        return {"title": self.title, "given": self.given, "middle": self.middle, "family": self.family}[name]


def _none_if_empty(words: list[str]) -> str | None:
    return " ".join(words) or None


def split_name(text: str) -> NameParts:
    """Split ``LAST, FIRST [MIDDLE]`` or ``[TITLE] FIRST [MIDDLE] [PARTICLES] LAST`` into parts."""
    text = _SPACES.sub(" ", text.strip())
    if "," in text:
        family, _, given_part = (p.strip() for p in text.partition(","))
        title, words = _title(given_part.split())
        return NameParts(title, words[0] if words else None, _none_if_empty(words[1:]), family or None)
    words = text.split()
    title, words = _title(words)
    if len(words) <= 1:
        return NameParts(title, None, None, _none_if_empty(words))
    given, rest = words[0], words[1:]
    start = next((i for i, w in enumerate(rest) if w.lower() in PARTICLES and i < len(rest) - 1), len(rest) - 1)
    return NameParts(title, given, _none_if_empty(rest[:start]), _none_if_empty(rest[start:]))


def _title(words: list[str]) -> tuple[str | None, list[str]]:
    if len(words) > 1 and words[0].upper().rstrip(".") in TITLES:
        return TITLES[words[0].upper().rstrip(".")], words[1:]
    return None, words
