"""Field comparators: each compares one field of two customers' :class:`Features` to a graded level.

A level is a short name (``"exact"``, ``"fuzzy"``, ``"phonetic"``, ..., ``"disagree"``); ``""`` means the field
cannot be compared (a side is missing), which is no evidence either way. The weight of each level lives in
:class:`~pipelines.identity.config.MatchConfig` under ``<field>.<level>``. Every comparator is pure and cheap;
the costlier ones (names, streets) try the exact and edit-distance cases first.

The levels, best first:

- given names: exact, nickname (a table, a short form or a pet name), fuzzy (a typo), phonetic (sounds alike),
  garbled (two slips: neighbouring keys, look-alike letters, swapped or doubled letters), initial (also a name cut
  to two letters), gendered (the male and female form of one name, e.g. giovanni/giovanna: usually two people,
  sometimes a typo), similar (Jaro-Winkler >= 0.8, e.g. several typos), disagree;
- family names: exact, fuzzy, phonetic, garbled, similar, disagree; not compared when cut to two letters (the scorer
  reads a disagreement as changed where the given name and a contact detail agree: see :mod:`.scoring`);
- birth dates: exact, transposed (day and month swapped), typo (one mistyped digit), year (one or ten years off), near
  (day and month swapped and a digit mistyped besides), disagree;
- ids (national, tax): exact, typo (one edit: a digit changed, added, dropped or two swapped), conflict;
- addresses, e-mail and phone: see :mod:`pipelines.identity.contact_levels`;
- organisation names: exact, fuzzy, partial (all words of one in the other), disagree.
"""

from __future__ import annotations

import re
from functools import lru_cache

import jellyfish
from nicknames import NickNamer
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler

from pipelines.identity.features import NICKNAMES, NICKNAMES_OF
from pipelines.identity.given_names import gender_of, gendered, opposite_genders

FUZZY_ORG = 90.0  # rapidfuzz ratio / token_sort_ratio of two organisation names that count as one
SIMILAR_NAME = 0.8  # Jaro-Winkler from which two names that are no typo, nickname or sound-alike are "similar"
_SINGLE = re.compile(r"(.)\1+")
_jw = JaroWinkler.similarity
_osa = OSA.distance


# --- names ------------------------------------------------------------------------------------------------------

def given_level(g: str, g1: str, gc: str, h: str, h1: str, hc: str) -> str:
    """Given names ``g`` (first ``g1``, nickname-canonical ``gc``) against ``h``/``h1``/``hc``."""
    if not g1 or not h1:
        return ""
    if g1 == h1:
        return "disagree" if _other_given_names_differ(g, h) else "exact"
    if gc == hc:
        return "nickname"
    if g.replace(" ", "") == h.replace(" ", ""):
        return "fuzzy"  # a stray or a missing space (soph ie / sophie, anne marie / annemarie)
    if len(g1) == 1 or len(h1) == 1:
        return "initial" if g1[0] == h1[0] else "disagree"
    if truncated(g1, h1, 3):
        return "initial"
    if (" " in g or " " in h) and _shared_token(g, h):
        return "fuzzy"  # a second given name used as the first, or in both
    if gendered(g1, h1):
        return "gendered"
    if similar(g1, h1):
        return "fuzzy"
    if _similar_nickname(g1, gc, h1, hc) or known_nickname(g1, h1) or diminutive(g1, h1):
        return "nickname"
    if sounds_alike(g1, h1):
        return "phonetic"
    if garbled(g1, h1):
        return "garbled"
    if _jw(g1, h1, score_cutoff=SIMILAR_NAME):
        # alike in their letters, but no typo, nickname or sound-alike: of two genders, a brother and a sister
        return "disagree" if opposite_genders(g1, h1) else "similar"
    return "disagree"


def middle_level(a: str, b: str) -> str:
    """Middle names: ``exact`` the same name, ``initial`` the same initial (an initial against a name, two equal
    initials, or a typo), ``disagree`` otherwise; "" when one side has none."""
    if not a or not b:
        return ""
    a1, b1 = a.split(" ", 1)[0], b.split(" ", 1)[0]
    if a1 == b1:
        return "exact" if len(a1) > 1 else "initial"
    if a1[0] == b1[0] and (len(a1) == 1 or len(b1) == 1 or similar(a1, b1)):
        return "initial"
    return "disagree"


@lru_cache(maxsize=1)
def _nicknamer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=1)
def _known_names() -> frozenset[str]:
    nn = _nicknamer()
    names = set(nn.nickname_lookup) | set(nn.canonical_lookup)
    return frozenset(names | set(NICKNAMES) | set(NICKNAMES.values()))


def known_name(name: str) -> bool:
    """A given name or nickname of the English nickname table (or crmhub's own)."""
    return name in _known_names()


def common_given(name: str) -> bool:
    """A given name of the name data: the nickname table's, or a common one with a clear gender."""
    return bool(name) and (known_name(name) or gender_of(name) is not None)


@lru_cache(maxsize=65536)
def known_nickname(x: str, y: str) -> bool:
    """A nickname of the other name in the `nicknames` package's English table (mick / michael, tina /
    christina)."""
    nn = _nicknamer()
    return y in nn.nicknames_of(x) or x in nn.nicknames_of(y)


_DIMINUTIVE_ENDINGS = frozenset({"i", "y", "ie", "o", "e", "l", "le", "el", "chen", "tje", "ke", "s"})


def truncated(x: str, y: str, shortest: int = 4) -> bool:
    """One name cut to its first two letters (ma / matilda, ho / hoffman): a short field or a hurried entry; the
    other at least ``shortest`` letters long (li / lin are two family names, ki / kim one given name)."""
    short, long = (x, y) if len(x) <= len(y) else (y, x)
    return len(short) == 2 and len(long) >= shortest and long.startswith(short)


def diminutive(x: str, y: str) -> bool:
    """A short form of the other name: its start (jen / jennifer, alex / alexandra), its end (tina / christina,
    hanna / johanna), or its start with a pet-name ending (steffi / stefanie, kathi / katharina)."""
    short, long = (x, y) if len(x) <= len(y) else (y, x)
    if len(short) < 3 or len(long) - len(short) < 2:
        return False
    if long.startswith(short) or (len(short) >= 4 and long.endswith(short)):
        return True
    short, long = _SINGLE.sub(r"\1", short), _SINGLE.sub(r"\1", long)
    if len(short) >= 3 and len(long) - len(short) >= 2 and long.startswith(short):
        return True  # its start with a letter doubled (elli / elisabeth, emmi / emilia)
    stem = next((i for i in range(len(short), 3, -1) if long.startswith(short[:i])), 0)
    return stem >= 4 and short[stem:] in _DIMINUTIVE_ENDINGS  # 4: marie is no pet name of martine


def _other_given_names_differ(g: str, h: str) -> bool:
    """Compound given names that share the first and differ in the second: maria carmen / maria pilar are two
    people (a typo or an initial in the second name is not a difference)."""
    gs, hs = g.split(), h.split()
    if len(gs) < 2 or len(hs) < 2:
        return False
    x, y = gs[1], hs[1]
    return x != y and not (x[0] == y[0] and (len(x) == 1 or len(y) == 1)) and not similar(x, y)


def _shared_token(g: str, h: str) -> bool:
    return any(len(t) > 2 for t in set(g.split()).intersection(h.split()))


def _similar_nickname(g1: str, gc: str, h1: str, hc: str) -> bool:
    """A mistyped nickname or full name: mike / michale, mkie / michael, mat / matthew."""
    if gendered(gc, hc):
        return False
    if (gc != g1 or hc != h1) and (similar(gc, hc) or similar(gc, h1) or similar(g1, hc)):
        return True
    return any(similar(g1, nick) for nick in NICKNAMES_OF.get(hc, ())) or \
        any(similar(h1, nick) for nick in NICKNAMES_OF.get(gc, ())) or \
        _mistyped_english_nickname(g1, h1) or _mistyped_english_nickname(h1, g1)


@lru_cache(maxsize=65536)
def _mistyped_english_nickname(name: str, other: str) -> bool:
    """``other`` one slip from a nickname of ``name`` in the `nicknames` package's English table, and no common
    name of its own (jacc / john, rnick / michael; not jake / john or mara / carol: twins may be named so)."""
    return not common_given(other) and any(similar(other, nick) for nick in _nicknamer().nicknames_of(name))


def similar(x: str, y: str) -> bool:
    """A likely typo: one edit (adjacent transposition included) in names of 4+ letters (for 3 letters a
    dropped, added or swapped letter, or a neighbouring key or a look-alike letter when one of the two is no
    known name: jan/jwn, eva/cva, not tom/tim), two in names of 7+; letter pairs an OCR pass reads as one
    letter count as that letter (rnonika/monika). (Jaro-Winkler alone rates sibling names like martine/marie as
    close as typos, so it is not used for this.)"""
    shorter = min(len(x), len(y))
    if shorter == 3 and len(x) == len(y) and not _anagram(x, y):
        diff = [(c, d) for c, d in zip(x, y, strict=True) if c != d]
        return len(diff) == 1 and diff[0] in _SLIPS and not (known_name(x) and known_name(y))
    edits = 2 if shorter >= 7 else 1 if shorter >= 3 else 0
    if bool(edits) and _osa(x, y, score_cutoff=edits) <= edits:
        return True
    ox, oy = _OCR.sub(_ocr_letter, x), _OCR.sub(_ocr_letter, y)  # a scanned form: rn read for m, cl for d, li for h
    return shorter >= 4 and (ox, oy) != (x, y) and _osa(ox, oy, score_cutoff=edits) <= edits


_OCR_PAIRS = {"rn": "m", "cl": "d", "vv": "w", "ii": "u", "li": "h"}
_OCR = re.compile("|".join(_OCR_PAIRS))


def _ocr_letter(m: re.Match[str]) -> str:
    return _OCR_PAIRS[m.group(0)]


_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_LOOK_ALIKE = ("ec", "il", "ij", "uv", "nm", "hb", "rn")


def _slips() -> frozenset[tuple[str, str]]:
    """Pairs of letters one slip apart: neighbours on a QWERTY keyboard (same row or the row below/above),
    or letters an OCR pass confuses."""
    pos = {c: (r, i) for r, row in enumerate(_KEYBOARD_ROWS) for i, c in enumerate(row)}
    out = {(a, b) for a, (ra, ia) in pos.items() for b, (rb, ib) in pos.items()
           if a != b and abs(ra - rb) <= 1 and abs(ia - ib) <= 1}
    out |= {(pair[0], pair[1]) for pair in _LOOK_ALIKE} | {(pair[1], pair[0]) for pair in _LOOK_ALIKE}
    return frozenset(out)


_SLIPS = _slips()
GARBLED = 1.0  # the most a "garbled" pair of names may cost, a slip costing half an edit


@lru_cache(maxsize=65536)
def garbled(x: str, y: str) -> bool:
    """Two slips in one name of 5+ letters: each a neighbouring key or look-alike letter typed for another, two
    neighbouring letters swapped, or a letter typed twice (tcreaa / teresa, lctra / petra, matic / marie, aarha
    / sarah). Costs half an edit each, any other edit a whole one, at most :data:`GARBLED` in all; two names
    that are both in the nickname tables are never garbled forms of each other."""
    if min(len(x), len(y)) < 5 or abs(len(x) - len(y)) > 1 or (known_name(x) and known_name(y)):
        return False
    ox, oy = _OCR.sub(_ocr_letter, x), _OCR.sub(_ocr_letter, y)
    # each edit costs at least half: more than two plain edits apart (a quick test) is never garbled
    return _osa(ox, oy, score_cutoff=2) <= 2 and _slip_distance(ox, oy) <= GARBLED


def _slip_distance(x: str, y: str) -> float:
    """Optimal-string-alignment distance where a slip (see :data:`_SLIPS`), a swap of neighbours and a doubled
    letter cost 0.5, every other substitution, insertion or deletion 1."""
    prev2: list[float] = []
    prev = [float(j) for j in range(len(y) + 1)]
    for i in range(1, len(x) + 1):
        row = [float(i)] + [0.0] * len(y)
        for j in range(1, len(y) + 1):
            a, b = x[i - 1], y[j - 1]
            sub = 0.0 if a == b else 0.5 if (a, b) in _SLIPS else 1.0
            dele = 0.5 if i > 1 and a == x[i - 2] else 1.0
            ins = 0.5 if j > 1 and b == y[j - 2] else 1.0
            best = min(prev[j - 1] + sub, prev[j] + dele, row[j - 1] + ins)
            if i > 1 and j > 1 and a == y[j - 2] and b == x[i - 2] and a != b:
                best = min(best, prev2[j - 2] + 0.5)
            row[j] = best
        prev2, prev = prev, row
    return prev[-1]


def _anagram(x: str, y: str) -> bool:
    return sorted(x) == sorted(y)


_SOUND_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), r) for p, r in (
    (r"sch", "s"), (r"sh", "s"), (r"ph", "f"), (r"th", "t"), (r"dt", "t"), (r"ck", "k"), (r"tz", "z"),
    (r"ch", "k"), (r"c(?=[aou]|$)", "k"), (r"qu", "kw"), (r"x", "ks"), (r"(?<=[aeiou])h", ""), (r"^h", ""),
    (r"w", "v"), (r"(ei|ai|ay|ey)", "A"), (r"ie", "i"), (r"y", "i"), (r"(ee|ea)", "i"), (r"oo", "u"),
    (r"A", "ai"), (r"(.)\1+", r"\1"), (r"(?<=.)[aeiou]+$", ""),
))


@lru_cache(maxsize=65536)
def sound_key(name: str) -> str:
    """A spelling-independent key of one folded name: the usual European spelling variants written one way
    (meyer/maier, schmidt/schmitt, philipp/filip, fischer/fisher, kathryn/katherin)."""
    key = name
    for pattern, repl in _SOUND_RULES:
        key = pattern.sub(repl, key)
    return key


@lru_cache(maxsize=65536)
def _metaphone(name: str) -> str:
    return jellyfish.metaphone(name) if name.isalpha() else name


def sounds_alike(x: str, y: str) -> bool:
    """Two different spellings of one name: equal sound keys, or equal metaphone codes of 3+ sounds."""
    if len(x) < 3 or len(y) < 3:
        return False
    if sound_key(x) == sound_key(y):
        return True
    mx = _metaphone(x)
    return len(mx) >= 3 and mx == _metaphone(y)


def family_level(f: str, h: str) -> str:
    if not f or not h:
        return ""
    if f == h or f.replace(" ", "") == h.replace(" ", ""):
        return "exact"  # also a particle written apart or joined (de groot / degroot)
    if truncated(f, h):
        return ""  # as little evidence as an initial, which features() drops (an initial says too little)
    if similar(f, h):
        return "fuzzy"
    if (" " in f or " " in h) and not set(f.split()).isdisjoint(h.split()):
        return "fuzzy"  # double names: "meyer schulz" / "meyer"
    if sounds_alike(f.split(" ", 1)[0], h.split(" ", 1)[0]):
        return "phonetic"
    if garbled(f, h):
        return "garbled"
    if _jw(f, h, score_cutoff=SIMILAR_NAME):
        return "similar"
    return "disagree"


def names_as_given(x: str, y: str) -> str:
    """The given-name level of two name strings read as given names (for the swapped reading)."""
    x1, y1 = x.split(" ", 1)[0], y.split(" ", 1)[0]
    return given_level(x, x1, NICKNAMES.get(x1, x1), y, y1, NICKNAMES.get(y1, y1))


def org_level(a: str, b: str) -> str:
    if not a or not b:
        return ""
    if a == b:
        return "exact"
    if fuzz.ratio(a, b, score_cutoff=FUZZY_ORG) or fuzz.token_sort_ratio(a, b, score_cutoff=FUZZY_ORG):
        return "fuzzy"  # a typo, or the same words in another order
    ta, tb = set(a.split()), set(b.split())
    return "partial" if ta <= tb or tb <= ta else "disagree"


# --- dates and ids ------------------------------------------------------------------------------------------------

def dob_level(a: str, b: str) -> str:
    """Birth dates (ISO): equal, day and month swapped, one mistyped digit or two neighbouring digits swapped,
    the year one or ten off (a decade misread: 1995 / 2005, as date comparisons "within 10 years" allow for),
    day and month swapped with one digit mistyped besides (``near``: two keying errors), or disagree."""
    if not a or not b:
        return ""
    if a == b:
        return "exact"
    ay, am, ad, by, bm, bd = a[:4], a[5:7], a[8:10], b[:4], b[5:7], b[8:10]
    if ay == by and am == bd and ad == bm:
        return "transposed"
    if _one_digit(a, b) or _osa(a.replace("-", ""), b.replace("-", ""), score_cutoff=1) <= 1:
        return "typo"  # one digit mistyped, or two neighbouring digits swapped (19571024 / 19571204)
    if am == bm and ad == bd and abs(int(ay) - int(by)) in (1, 10):
        return "year"
    if _one_digit(ay + ad + am, by + bm + bd):
        return "near"  # 1986-08-05 / 1986-04-08: read as 1986-05-08, then one digit mistyped
    return "disagree"


def _one_digit(x: str, y: str) -> bool:
    return len(x) == len(y) and sum(c != d for c, d in zip(x, y, strict=True)) == 1


TYPO_ID = 5  # ids this long or longer are compared for typos (shorter ones are too often one edit apart)


def id_level(a: str, b: str) -> str:
    """Two normalised ids: equal, one edit apart (a keying error in ids of 5+ characters), or in conflict."""
    if not a or not b:
        return ""
    if a == b:
        return "exact"
    if min(len(a), len(b)) >= TYPO_ID and _osa(a, b, score_cutoff=1) <= 1:
        return "typo"
    return "conflict"
