"""Pairwise comparison of two customers' :class:`Features` (Fellegi-Sunter style).

Each field is compared to one agreement level (exact, fuzzy, ..., disagree; a missing side gives nothing) and
the level's log2 likelihood weight from :class:`MatchConfig` is added to the total. Person names are compared
both as given and with given/family swapped on one side; the better reading counts (and is noted). A shared
cross-reference or an equal national/tax id is a deterministic link; different national ids are strong
evidence against. ``contributions`` is keyed by the weight name (``"dob.exact"``), so an explanation says
both the field and the level that decided it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler

from pipelines.identity.config import MatchConfig
from pipelines.identity.features import NICKNAMES, NICKNAMES_OF, Features

Decision = Literal["link", "review", "new"]
FUZZY_STREET = 0.9  # Jaro-Winkler of two street lines (same house number, same area) that count as one
FUZZY_ORG = 90.0  # rapidfuzz ratio / token_sort_ratio of two organisation names that count as one
_jw = JaroWinkler.similarity
_osa = OSA.distance


@dataclass(frozen=True, slots=True)
class MatchScore:
    total: float
    decision: Decision
    contributions: dict[str, float]
    deterministic: str | None = None  # why the pair is a link whatever the total ("xref ibmi/42", "national_id")
    notes: list[str] = field(default_factory=list)


# --- field comparators: each returns a level ("" = not comparable) ------------------------------------------

def given_level(g: str, g1: str, gc: str, h: str, h1: str, hc: str) -> str:
    """Given names ``g`` (first ``g1``, nickname-canonical ``gc``) against ``h``/``h1``/``hc``."""
    if not g1 or not h1:
        return ""
    if g1 == h1:
        return "exact"
    if gc == hc:
        return "nickname"
    if len(g1) == 1 or len(h1) == 1:
        return "initial" if g1[0] == h1[0] else "disagree"
    if (" " in g or " " in h) and _shared_token(g, h):
        return "fuzzy"  # a second given name used as the first, or in both
    if gendered(g1, h1):
        return "disagree"
    if similar(g1, h1):
        return "fuzzy"
    if _similar_nickname(g1, gc, h1, hc):
        return "nickname"
    return "disagree"


def _shared_token(g: str, h: str) -> bool:
    return any(len(t) > 2 for t in set(g.split()).intersection(h.split()))


def _similar_nickname(g1: str, gc: str, h1: str, hc: str) -> bool:
    """A mistyped nickname or full name: mike / michale, mkie / michael, mat / matthew."""
    if gendered(gc, hc):
        return False
    if (gc != g1 or hc != h1) and (similar(gc, hc) or similar(gc, h1) or similar(g1, hc)):
        return True
    return any(similar(g1, nick) for nick in NICKNAMES_OF.get(hc, ())) or \
        any(similar(h1, nick) for nick in NICKNAMES_OF.get(gc, ()))


def similar(x: str, y: str) -> bool:
    """A likely typo: one edit (adjacent transposition included) in names of 4+ letters (a dropped, added or
    swapped letter for 3), two in names of 7+. (Jaro-Winkler was tried and dropped: it rates sibling names
    like martine/marie as close as typos.)"""
    shorter = min(len(x), len(y))
    edits = 2 if shorter >= 7 else 1 if shorter >= 4 or (shorter == 3 and (len(x) != len(y) or _anagram(x, y))) else 0
    return bool(edits) and _osa(x, y, score_cutoff=edits) <= edits


def _anagram(x: str, y: str) -> bool:
    return sorted(x) == sorted(y)


_MALE_ENDINGS = ("", "o", "i", "e", "s", "us", "as")
_FEMALE_SUFFIXES = ("a", "e", "ie", "ine", "ina", "le", "ne", "ette")


def gendered(x: str, y: str) -> bool:
    """The male and female form of one name: two people, not a typo (giovanni/giovanna, andreas/andrea,
    jan/jana, stefan/stefanie, michel/michelle)."""
    short, long = (x, y) if len(x) <= len(y) else (y, x)
    if len(short) >= 3 and long.startswith(short) and long[len(short):] in _FEMALE_SUFFIXES:
        return True
    if x.endswith("a") == y.endswith("a"):
        return False
    female, other = (x, y) if x.endswith("a") else (y, x)
    stem = female[:-1]
    return other.startswith(stem) and other[len(stem):] in _MALE_ENDINGS


def family_level(f: str, h: str) -> str:
    if not f or not h:
        return ""
    if f == h:
        return "exact"
    if similar(f, h):
        return "fuzzy"
    if (" " in f or " " in h) and not set(f.split()).isdisjoint(h.split()):
        return "fuzzy"  # double names: "meyer schulz" / "meyer"
    return "disagree"


def dob_level(a: str, b: str) -> str:
    """Birth dates (ISO): equal, ``partial`` for a keying error (day and month swapped, one mistyped digit,
    the year off by one), else disagree."""
    if not a or not b:
        return ""
    if a == b:
        return "exact"
    ay, am, ad, by, bm, bd = a[:4], a[5:7], a[8:10], b[:4], b[5:7], b[8:10]
    if ay == by and am == bd and ad == bm:
        return "partial"
    if am == bm and ad == bd:
        return "partial" if _one_digit(ay, by) or abs(int(ay) - int(by)) == 1 else "disagree"
    if ay == by and (am == bm or ad == bd):
        return "partial" if _one_digit(am, bm) or _one_digit(ad, bd) else "disagree"
    return "disagree"


def _one_digit(x: str, y: str) -> bool:
    return sum(c != d for c, d in zip(x, y, strict=True)) == 1


def overlap_level(a: list[str], b: list[str]) -> str:
    if not a or not b:
        return ""
    return "agree" if any(x in b for x in a) else "disagree"


def address_level(a: list[list[str]], b: list[list[str]]) -> str:
    """Best agreement over all address pairs: exact/fuzzy street line in the same area, area only, or none."""
    if not a or not b:
        return ""
    best = "disagree"
    for la, pa, ca, na in a:
        for lb, pb, cb, nb in b:
            if not ((pa and pa == pb) or (ca and ca == cb and not (pa and pb))):
                continue
            if la and la == lb:
                return "exact"
            if la and lb and na == nb and similar_street(la, lb):
                best = "fuzzy"
            elif best == "disagree":
                best = "area"
    return best


def similar_street(a: str, b: str) -> bool:
    """Street lines with one house number that differ by a typo or an unknown abbreviation."""
    return _jw(a, b, score_cutoff=FUZZY_STREET) > 0 or fuzz.token_set_ratio(a, b, score_cutoff=FUZZY_ORG) > 0


def org_level(a: str, b: str) -> str:
    if not a or not b:
        return ""
    if a == b:
        return "exact"
    if fuzz.ratio(a, b, score_cutoff=FUZZY_ORG) or fuzz.token_sort_ratio(a, b, score_cutoff=FUZZY_ORG):
        return "fuzzy"  # a typo, or the same words in another order
    ta, tb = set(a.split()), set(b.split())
    return "partial" if ta <= tb or tb <= ta else "disagree"


# --- the pair -------------------------------------------------------------------------------------------------

def _add(contrib: dict[str, float], w: dict[str, float], name: str, level: str) -> None:
    if level:
        key = f"{name}.{level}"
        contrib[key] = w[key]


def _deterministic(a: Features, b: Features, contrib: dict[str, float], w: dict[str, float],
                   notes: list[str]) -> str | None:
    reason: str | None = None
    if a["ref"] and a["ref"] in b["xrefs"]:
        reason = f"xref {a['ref']}"
    elif b["ref"] and b["ref"] in a["xrefs"]:
        reason = f"xref {b['ref']}"
    elif a["xrefs"] and b["xrefs"]:
        shared = next((x for x in a["xrefs"] if x in b["xrefs"]), None)
        reason = f"xref {shared}" if shared else None
    equal: list[str] = []
    conflicts: list[str] = []
    for name, x, y in (("national_id", a["nid"], b["nid"]), ("tax_id", a["tax"], b["tax"])):
        if x and y:
            (equal if x == y else conflicts).append(name)
    for name in conflicts:
        contrib[f"{name}.conflict"] = w[f"{name}.conflict"]
        notes.append(f"{name} conflict")
    if reason is None and equal and not conflicts:
        reason = equal[0]
    elif reason is not None and conflicts:
        notes.append(f"linked by {reason} despite the {' and '.join(conflicts)} conflict")
    return reason


def _names_as_given(x: str, y: str) -> str:
    x1, y1 = x.split(" ", 1)[0], y.split(" ", 1)[0]
    return given_level(x, x1, NICKNAMES.get(x1, x1), y, y1, NICKNAMES.get(y1, y1))


def _crosswise(a: Features, b: Features, w: dict[str, float]) -> tuple[str, str, float]:
    """Given and family levels reading one record's names swapped. Which crosswise pair holds the given names
    is unknown: when one pair is equal and the other not, the unequal one is read as given names (nicknames,
    initials and male/female forms live there); otherwise the better reading counts, a disagreeing pair taken
    for the given names (so the household cap applies)."""
    one, two = (a["given"], b["family"]), (a["family"], b["given"])
    if (one[0] == one[1]) != (two[0] == two[1]):
        readings = [(two, one) if one[0] == one[1] else (one, two)]
    else:
        readings = [(one, two), (two, one)]
    options = []
    for given_pair, family_pair in readings:
        g, f = _names_as_given(*given_pair), family_level(*family_pair)
        total = (w[f"given.{g}"] if g else 0.0) + (w[f"family.{f}"] if f else 0.0)
        options.append((f != "disagree", total, g, f))
    _, total, g, f = max(options)
    return g, f, total


def _may_cross(a: Features, b: Features) -> bool:
    """Cheap test whether a swapped reading could agree anywhere (same initial or sound crosswise)."""
    ag, af, bg, bf = a["given1"][:1], a["family"][:1], b["given1"][:1], b["family"][:1]
    return bool((ag and ag == bf) or (af and af == bg) or (a["sx_given"] and a["sx_given"] == b["sx_family"])
                or (a["sx_family"] and a["sx_family"] == b["sx_given"]))


def _person_names(a: Features, b: Features, contrib: dict[str, float], w: dict[str, float],
                  notes: list[str]) -> None:
    g = given_level(a["given"], a["given1"], a["gcanon"], b["given"], b["given1"], b["gcanon"])
    f = family_level(a["family"], b["family"])
    if (g == "disagree" or f == "disagree") and _may_cross(a, b):
        direct = (w[f"given.{g}"] if g else 0.0) + (w[f"family.{f}"] if f else 0.0)
        sg, sf, swapped = _crosswise(a, b, w)
        if swapped > direct:
            g, f = sg, sf
            notes.append("given and family names swapped")
    _add(contrib, w, "given", g)
    _add(contrib, w, "family", f)


def _household_cap(contrib: dict[str, float], cap: float, notes: list[str]) -> None:
    """Two people of one household share address, phone and often e-mail: once given names or birth dates
    disagree, that shared evidence counts at most ``cap`` together."""
    shared = sum(v for k, v in contrib.items() if v > 0 and k.startswith(("email.", "phone.", "address.")))
    if shared > cap:
        contrib["household.cap"] = cap - shared
        notes.append(f"different given name or birth date: shared contact details capped at {cap:+.1f} (household)")


def _decide(total: float, deterministic: str | None, cfg: MatchConfig) -> Decision:
    if deterministic is not None or total >= cfg.link:
        return "link"
    return "review" if total >= cfg.review else "new"


def score(a: Features, b: Features, cfg: MatchConfig) -> MatchScore:
    """How likely ``a`` and ``b`` describe the same customer, field by field, and what to do about it."""
    w = cfg.table
    contrib: dict[str, float] = {}
    notes: list[str] = []
    deterministic = _deterministic(a, b, contrib, w, notes)
    if a["kind"] != b["kind"]:
        contrib["kind.disagree"] = w["kind.disagree"]
    elif a["kind"] == "person":
        _person_names(a, b, contrib, w, notes)
        _add(contrib, w, "dob", dob_level(a["dob"], b["dob"]))
    else:
        _add(contrib, w, "org", org_level(a["org"], b["org"]))
    _add(contrib, w, "email", overlap_level(a["emails"], b["emails"]))
    _add(contrib, w, "phone", overlap_level(a["phones"], b["phones"]))
    _add(contrib, w, "address", address_level(a["addrs"], b["addrs"]))
    if "given.disagree" in contrib or "dob.disagree" in contrib:
        _household_cap(contrib, cfg.household_cap, notes)
    if a["country"] and b["country"] and a["country"] != b["country"]:
        contrib["country.disagree"] = w["country.disagree"]
    total = sum(contrib.values())
    return MatchScore(total, _decide(total, deterministic, cfg), contrib, deterministic, notes)


def cannot_reach(a: Features, b: Features, cfg: MatchConfig) -> bool:
    """True when two persons' total stays below the review threshold whatever their names say and nothing
    links them deterministically: the decision would be "new", so the caller may skip :func:`score`. The names
    (the costliest comparison) count with their best weights; every other field as :func:`score` counts it,
    except the household cap, which can only lower a total."""
    if a["kind"] != "person" or b["kind"] != "person":
        return False
    if (a["ref"] and a["ref"] in b["xrefs"]) or (b["ref"] and b["ref"] in a["xrefs"]) or (
            a["xrefs"] and b["xrefs"] and not set(a["xrefs"]).isdisjoint(b["xrefs"])):
        return False
    w = cfg.table
    total = cfg.best_names
    for name, x, y in (("national_id", a["nid"], b["nid"]), ("tax_id", a["tax"], b["tax"])):
        if x and y:
            if x == y:
                return False  # may be a deterministic link
            total += w[f"{name}.conflict"]
    for name, level in (("dob", dob_level(a["dob"], b["dob"])), ("email", overlap_level(a["emails"], b["emails"])),
                        ("phone", overlap_level(a["phones"], b["phones"])),
                        ("address", address_level(a["addrs"], b["addrs"]))):
        if level:
            total += w[f"{name}.{level}"]
    if a["country"] and b["country"] and a["country"] != b["country"]:
        total += w["country.disagree"]
    return total < cfg.review


def explain(result: MatchScore) -> str:
    """One line for the decision, one per contribution (strongest first), one per note."""
    head = f"{result.decision} (total {result.total:+.2f}"
    head += f", deterministic: {result.deterministic})" if result.deterministic else ")"
    lines = [head]
    for name, weight in sorted(result.contributions.items(), key=lambda kv: -abs(kv[1])):
        lines.append(f"  {weight:+7.2f}  {name}")
    lines.extend(f"  note: {note}" for note in result.notes)
    return "\n".join(lines)
