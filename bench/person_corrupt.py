"""Independent synthetic persons with corrupted duplicates, for evaluating identity resolution.

Written apart from crmhub's own identity code and test data. The corruption model follows the published
synthetic-person generators (FEBRL and GeCo by Christen et al.): a clean original, and duplicates that each carry
a few corruptions drawn by weight:

- character errors: keyboard typos (a QWERTY neighbour), edits (a character deleted, inserted or two swapped),
  OCR confusions (rn/m, 0/O, l/1, cl/d...), phonetic spellings (ph/f, ie/y, ei/ai/ay, tz/z, dt/t, sch/sh, c/k,
  umlaut and accent foldings);
- value errors: nicknames (William/Bill), a given name cut to its first name or initial, blank fields, given
  and family names swapped, a family name cut to one part (García López -> García), a new family name (marriage);
- dates: day and month transposed, one digit wrong, impossible dates kept as the source's raw text (19660091,
  31 April, month 13);
- ids: one digit changed or two adjacent digits transposed;
- life events: a move (new address in another city, often a new landline), a new e-mail address or phone.

Hard negatives come from the population itself: households (housemates sharing family name, address, mostly the
phone and often the e-mail address) and twins (same family, address and birth date, other given name). Family
names are drawn by rank with a long tail, so frequent names are frequent. Sources differ in how they write
a person (casing, code page, country and phone formats, abbreviations, which fields they captured).

Two tasks: :func:`linkage` (source A and source B, most B records a corrupted copy of an A person, with A-only
and B-only persons) and :func:`dedup` (one source, some persons entered 2-5 times). Everything is drawn from
one ``random.Random(seed)``: the same arguments give the same records.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from bench import person_make as M
from bench import person_words as W

_NEIGHBOURS: dict[str, str] = {}
for _r, _row in enumerate(W.QWERTY_ROWS):
    for _c, _ch in enumerate(_row):
        _near = [(_r, _c - 1), (_r, _c + 1), (_r - 1, _c), (_r - 1, _c + 1), (_r + 1, _c - 1), (_r + 1, _c)]
        _NEIGHBOURS[_ch] = "".join(W.QWERTY_ROWS[r][c] for r, c in _near
                                   if 0 <= r < len(W.QWERTY_ROWS) and 0 <= c < len(W.QWERTY_ROWS[r]))
_FORMAL: dict[str, str] = {nick: formal for formal, nicks in W.NICKNAMES.items() for nick in nicks}


def neighbours(ch: str) -> str:
    """The keys next to ``ch`` on a QWERTY keyboard (lower case; empty for other characters)."""
    return _NEIGHBOURS.get(ch.lower(), "")


def _same_case(model: str, ch: str) -> str:
    return ch.upper() if model.isupper() else ch


# --- text corruptions: each returns the changed text, or None when it cannot apply -----------------------------

def keyboard_typo(text: str, rng: random.Random) -> str | None:
    """One letter replaced by a neighbouring key."""
    spots = [i for i, ch in enumerate(text) if neighbours(ch)]
    if not spots:
        return None
    i = rng.choice(spots)
    return text[:i] + _same_case(text[i], rng.choice(neighbours(text[i]))) + text[i + 1:]


def edit_typo(text: str, rng: random.Random) -> str | None:
    """A letter deleted, a letter doubled, or two adjacent letters transposed."""
    spots = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(spots) < 3:
        return None
    i = rng.choice(spots[1:])
    how = rng.choice(("delete", "double", "swap"))
    if how == "double":
        return text[:i] + text[i] + text[i:]
    if how == "delete" or text[i - 1] == text[i]:
        return text[:i] + text[i + 1:]
    return text[:i - 1] + text[i] + text[i - 1] + text[i + 1:]


def _substitute(text: str, pairs: tuple[tuple[str, str], ...], rng: random.Random,
                oneway: tuple[tuple[str, str], ...] = ()) -> str | None:
    swaps = [*(p for x, y in pairs for p in ((x, y), (y, x))), *oneway]
    options = [(i, a, b) for a, b in swaps for i in range(len(text)) if text.startswith(a, i)]
    if text.isupper():  # MÜLLER
        options += [(i, a.upper(), b.upper()) for a, b in swaps if a.upper() != a
                    for i in range(len(text)) if text.startswith(a.upper(), i)]
    options += [(i, a.capitalize(), b.capitalize()) for a, b in swaps  # Philipp, never Lleone
                if a.capitalize() != a and not (len(b) > 1 and b[0] == b[1])
                for i in range(len(text)) if text.startswith(a.capitalize(), i) and (i == 0 or text[i - 1] == " ")]
    if not options:
        return None
    i, a, b = rng.choice(options)
    return text[:i] + b + text[i + len(a):]


def ocr_error(text: str, rng: random.Random) -> str | None:
    """One OCR confusion (rn/m, 0/O, l/1, cl/d, 5/S, 8/B, vv/w, li/h, I/l, e/c), either way."""
    return _substitute(text, W.OCR_PAIRS, rng)


def phonetic_variant(text: str, rng: random.Random) -> str | None:
    """One spelling that sounds the same (ph/f, ie/y, ei/ai/ay, tz/z, dt/t, mm/m, sch/sh, c/k), or an umlaut
    or accent folded (ü -> ue, é -> e)."""
    return _substitute(text, W.PHONETIC_PAIRS, rng, W.FOLDINGS)


def valid_date(text: str) -> bool:
    try:
        date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return False
    return True


def swap_day_month(text: str) -> str | None:
    """``YYYYMMDD`` with day and month transposed, when that is another valid date."""
    if len(text) != 8 or not text.isdigit() or not valid_date(text) or text[4:6] == text[6:]:
        return None
    swapped = text[:4] + text[6:] + text[4:6]
    return swapped if valid_date(swapped) else None


def impossible_date(text: str, rng: random.Random) -> str | None:
    """``YYYYMMDD`` turned into raw text that is no date: day and month transposed past 12, two middle digits
    transposed (19660901 -> 19660091), or a day the month does not have (31 April, 30 February)."""
    if len(text) != 8 or not text.isdigit() or not valid_date(text):
        return None
    year, month, day = text[:4], text[4:6], text[6:]
    options = [year + day + month, text[:5] + text[6] + text[5] + text[7], text[:6] + text[7] + text[6],
               year + rng.choice(("04", "06", "09", "11")) + "31", year + "02" + rng.choice(("30", "31"))]
    bad = [o for o in options if not valid_date(o)]
    return rng.choice(bad)


def date_typo(text: str, rng: random.Random) -> str | None:
    """One digit of the year's last two, the month or the day replaced by another digit."""
    if len(text) != 8 or not text.isdigit() or text == "00000000":
        return None
    i = rng.randrange(2, 8)
    return text[:i] + rng.choice([d for d in "0123456789" if d != text[i]]) + text[i + 1:]


def id_typo(natid: str, rng: random.Random) -> str | None:
    """One digit changed, or two adjacent different digits transposed."""
    digits = [i for i, ch in enumerate(natid) if ch.isdigit()]
    pairs = [(i, j) for i, j in pairwise(digits) if j == i + 1 and natid[i] != natid[j]]
    if not digits:
        return None
    if pairs and rng.random() < 0.4:
        i, j = rng.choice(pairs)
        return natid[:i] + natid[j] + natid[i] + natid[j + 1:]
    i = rng.choice(digits)
    return natid[:i] + rng.choice([d for d in "0123456789" if d != natid[i]]) + natid[i + 1:]


# --- record corruptions: change the row of one person in place, False when they cannot apply --------------------

Row = dict[str, str]
Kind = Callable[[Row, M.Person, M.SourceStyle, random.Random], bool]


def _styled(style: M.SourceStyle, name: str, value: str) -> str:
    value = M.ascii_fold(value) if style.ascii_only else value
    return value.upper() if style.upper_names and name in ("given", "family", "street", "city") else value


def _on_text(fn: Callable[[str, random.Random], str | None], fields: tuple[str, ...],
             weights: tuple[float, ...]) -> Kind:
    def run(row: Row, _p: M.Person, _s: M.SourceStyle, rng: random.Random) -> bool:
        name = rng.choices(fields, weights=weights)[0]
        changed = fn(row[name], rng) if len(row[name]) > 2 else None  # not on an initial ("H.")
        if changed is None or changed == row[name]:
            return False
        row[name] = changed
        return True
    return run


def _nickname(row: Row, _p: M.Person, style: M.SourceStyle, rng: random.Random) -> bool:
    given = row["given"].title()
    nicks = W.NICKNAMES.get(given) or ((_FORMAL[given],) if given in _FORMAL else ())
    if not nicks:
        return False
    row["given"] = _styled(style, "given", rng.choice(nicks))
    return True


def _initial(row: Row, _p: M.Person, _s: M.SourceStyle, _rng: random.Random) -> bool:
    given = row["given"]
    if len(given) < 2 or given.endswith("."):
        return False
    row["given"] = given.split()[0] if " " in given else given[0] + "."
    return True


def _missing(row: Row, _p: M.Person, style: M.SourceStyle, rng: random.Random) -> bool:
    name = rng.choices(("given", "dob", "natid", "email", "phone", "street", "zip"), weights=(1, 2, 3, 3, 3, 2, 1))[0]
    blank = style.missing_dob if name == "dob" else ""
    if row[name] in ("", blank):
        return False
    row[name] = blank
    return True


def _swap_names(row: Row, _p: M.Person, _s: M.SourceStyle, _rng: random.Random) -> bool:
    if not row["given"] or not row["family"]:
        return False
    row["given"], row["family"] = row["family"], row["given"]
    return True


def _date(fn: Callable[[str, random.Random], str | None]) -> Kind:
    return _on_text(fn, ("dob",), (1.0,))


def _moved(row: Row, person: M.Person, style: M.SourceStyle, rng: random.Random) -> bool:
    country = person.country if rng.random() < 0.92 else rng.choice([c for c in W.COUNTRIES if c != person.country])
    while True:
        street, zip_code, city, area = M.address(rng, country)
        if city != person.city:
            break
    row.update(street=_styled(style, "street", street), zip=zip_code, city=_styled(style, "city", city),
               country=W.COUNTRY_NAMES[country].upper() if style.country_names else country)
    if row["phone"] and rng.random() < 0.5:
        row["phone"] = M.format_phone(M.phone_number(rng, country, area, False), country, style.phone_style, style.home)
    return True


def _new_email(row: Row, person: M.Person, _s: M.SourceStyle, rng: random.Random) -> bool:
    email = M.e_mail(rng, person.given, person.family, person.country)
    if email == row["email"]:
        return False
    row["email"] = email
    return True


def _new_phone(row: Row, person: M.Person, style: M.SourceStyle, rng: random.Random) -> bool:
    number = M.phone_number(rng, person.country, "", True)
    row["phone"] = M.format_phone(number, person.country, style.phone_style, style.home)
    return True


def _surname_part(row: Row, person: M.Person, style: M.SourceStyle, _rng: random.Random) -> bool:
    parts = row["family"].replace("-", " ").split()
    if len(parts) < 2:
        return False
    particle = parts[0].lower() in ("van", "de", "der", "den", "di", "da", "del", "d'")
    short = "".join(parts).capitalize() if particle else parts[0]
    row["family"] = _styled(style, "family", short)
    return True


def _marriage(row: Row, person: M.Person, style: M.SourceStyle, rng: random.Random) -> bool:
    if person.sex != "F" or not row["family"]:
        return False
    row["family"] = _styled(style, "family", M.family_name(rng, person.country))
    return True


KINDS: dict[str, Kind] = {
    "keyboard": _on_text(keyboard_typo, ("given", "family", "street", "city", "email"), (3, 3, 1, 1, 1)),
    "edit": _on_text(edit_typo, ("given", "family", "street", "city"), (3, 3, 1, 1)),
    "ocr": _on_text(ocr_error, ("given", "family", "street", "natid", "email"), (2, 2, 1, 1, 1)),
    "phonetic": _on_text(phonetic_variant, ("given", "family", "street", "city"), (3, 3, 1, 1)),
    "nickname": _nickname, "initial": _initial, "missing": _missing, "swap_names": _swap_names,
    "surname_part": _surname_part, "marriage": _marriage,
    "dob_swap": _date(lambda text, _rng: swap_day_month(text)), "dob_typo": _date(date_typo),
    "dob_impossible": _date(impossible_date), "id_typo": _on_text(id_typo, ("natid",), (1.0,)),
    "moved": _moved, "new_email": _new_email, "new_phone": _new_phone,
}


@dataclass(frozen=True, slots=True)
class Level:
    """How hard a data set is: corruptions per duplicate (count -> probability), kind weights, the share of
    persons with a housemate or a twin, the share of persons entered more than once (dedup), and how many
    character errors one field may take (FEBRL's maximum modifications per field)."""
    name: str
    per_duplicate: tuple[tuple[int, float], ...]
    weights: tuple[tuple[str, float], ...]
    household: float
    twins: float
    duplicated: float
    per_field: int = 1


_BASE = {"keyboard": 4.0, "edit": 2.0, "ocr": 1.0, "phonetic": 2.0, "nickname": 1.0, "initial": 0.5, "missing": 4.0,
         "swap_names": 0.3, "surname_part": 0.5, "marriage": 0.2, "dob_swap": 0.4, "dob_typo": 0.5,
         "dob_impossible": 0.2, "id_typo": 0.5, "moved": 1.0, "new_email": 1.0, "new_phone": 0.5}
_LIFE = ("moved", "new_email", "new_phone", "marriage", "swap_names", "dob_swap", "dob_impossible", "id_typo")


def _weights(scale_life: float) -> tuple[tuple[str, float], ...]:
    return tuple((k, w * scale_life if k in _LIFE else w) for k, w in _BASE.items())


LEVELS: dict[str, Level] = {
    "easy": Level("easy", ((1, 0.7), (2, 0.3)), _weights(0.5), 0.05, 0.005, 0.2),
    "medium": Level("medium", ((1, 0.3), (2, 0.45), (3, 0.25)), _weights(1.0), 0.10, 0.01, 0.3),
    "hard": Level("hard", ((2, 0.35), (3, 0.4), (4, 0.25)), _weights(2.0), 0.15, 0.02, 0.35, per_field=2),
}
CHARACTER_ERRORS = ("keyboard", "edit", "ocr", "phonetic")


def corrupt(row: Row, person: M.Person, style: M.SourceStyle, level: Level,
            rng: random.Random) -> tuple[str, ...]:
    """Apply the level's number of corruptions to ``row`` in place; the kinds applied, in order."""
    counts, probs = zip(*level.per_duplicate, strict=True)
    wanted = rng.choices(counts, weights=probs)[0]
    names, weights = (list(x) for x in zip(*level.weights, strict=True))
    applied: list[str] = []
    hits: dict[str, int] = {}  # character errors per field
    while len(applied) < wanted and names:
        i = rng.choices(range(len(names)), weights=weights)[0]
        before = dict(row)
        if KINDS[names[i]](row, person, style, rng):
            changed = [f for f in row if row[f] != before[f]]
            if names[i] in CHARACTER_ERRORS and any(hits.get(f, 0) >= level.per_field for f in changed):
                row.update(before)
            else:
                applied.append(names[i])
                for f in changed if names[i] in CHARACTER_ERRORS else ():
                    hits[f] = hits.get(f, 0) + 1
        del names[i], weights[i]
    return tuple(applied)


# --- the two tasks -----------------------------------------------------------------------------------------------

STYLE_A = M.SourceStyle()
STYLE_B = M.SourceStyle(upper_names=True, ascii_only=True, country_names=True, phone_style="national",
                        abbreviate=0.5, spaced_ids=True, missing_dob="00000000",
                        presence=(("natid", 0.4), ("email", 0.6), ("phone", 0.9), ("dob", 0.97), ("street", 0.98)))
STYLE_DEDUP = M.SourceStyle(phone_style="idd", abbreviate=0.3)


@dataclass(frozen=True, slots=True)
class Record:
    """One source row and its truth: the person it stands for and the corruptions it carries."""
    source: str
    key: int
    entity: str
    household: str
    fields: dict[str, str]
    kinds: tuple[str, ...] = ()  # empty for an original


@dataclass(frozen=True, slots=True)
class Linkage:
    a: list[Record]
    b: list[Record]


def _record(source: str, person: M.Person, row: dict[str, str], kinds: tuple[str, ...] = ()) -> Record:
    return Record(source, 0, person.entity, person.household, row, kinds)


def _keyed(records: list[Record], rng: random.Random, start: int) -> list[Record]:
    rng.shuffle(records)
    return [Record(r.source, start + i, r.entity, r.household, r.fields, r.kinds) for i, r in enumerate(records)]


def linkage(n: int, level: str = "medium", seed: int = 1, overlap: float = 0.8) -> Linkage:
    """Source A: ``n`` clean persons. Source B: ``n`` records, a corrupted copy of an A person with
    probability ``overlap`` each, filled up with persons only B knows."""
    rng, lv = random.Random(seed), LEVELS[level]
    mailboxes: dict[str, str] = {}
    people = M.population(rng, n, lv.household, lv.twins, mailboxes=mailboxes)
    a = [_record("a", p, M.render(p, STYLE_A, rng)) for p in people]
    b: list[Record] = []
    for p in people:
        if rng.random() < overlap:
            row = M.render(p, STYLE_B, rng)
            b.append(_record("b", p, row, corrupt(row, p, STYLE_B, lv, rng)))
    only_b = M.population(rng, n - len(b), lv.household, lv.twins, n, mailboxes)
    b += [_record("b", p, M.render(p, STYLE_B, rng)) for p in only_b]
    return Linkage(_keyed(a, rng, 100_001), _keyed(b[:n], rng, 500_001))


def dedup(n: int, level: str = "medium", seed: int = 1) -> list[Record]:
    """``n`` records of one source; a share of the persons has 1-4 corrupted duplicates."""
    rng, lv = random.Random(seed), LEVELS[level]
    records: list[Record] = []
    for p in M.population(rng, n, lv.household, lv.twins):
        records.append(_record("crm", p, M.render(p, STYLE_DEDUP, rng)))
        if rng.random() < lv.duplicated:
            for _ in range(rng.choices((1, 2, 3, 4), weights=(0.6, 0.25, 0.1, 0.05))[0]):
                row = M.render(p, STYLE_DEDUP, rng)
                records.append(_record("crm", p, row, corrupt(row, p, STYLE_DEDUP, lv, rng)))
        if len(records) >= n:
            break
    return _keyed(records[:n], rng, 1)
