"""Pairwise comparison of two customers' :class:`Features` (Fellegi–Sunter style).

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
from pipelines.identity.features import NICKNAMES, Features

Decision = Literal["link", "review", "new"]
FUZZY_NAME = 0.92  # Jaro-Winkler from which two different name spellings count as a typo
FUZZY_STREET = 0.9
FUZZY_ORG = 90.0  # rapidfuzz token_sort_ratio
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
    if f" {h1} " in f" {g} " or f" {g1} " in f" {h} ":
        return "fuzzy"  # a second given name used as the first
    if similar(g1, h1) and not gendered(g1, h1):
        return "fuzzy"
    if (gc != g1 or hc != h1) and not gendered(g1, h1) and (similar(gc, hc) or similar(gc, h1) or similar(g1, hc)):
        return "nickname"  # a nickname against a mistyped full name (mike / michale)
    return "disagree"


def similar(x: str, y: str) -> bool:
    """A likely typo: one edit (adjacent transposition included) in names of 4+ letters, two in names of 7+,
    or Jaro-Winkler >= FUZZY_NAME."""
    shorter = min(len(x), len(y))
    edits = 2 if shorter >= 7 else 1 if shorter >= 4 else 0
    return bool(edits and _osa(x, y, score_cutoff=edits) <= edits) or _jw(x, y, score_cutoff=FUZZY_NAME) > 0


_MALE_ENDINGS = ("", "o", "i", "e", "s", "us", "as")


def gendered(x: str, y: str) -> bool:
    """The male and female form of one name (giovanni/giovanna, jan/jana, andreas/andrea): two people."""
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
    if not a or not b:
        return ""
    if a == b:
        return "exact"
    ay, am, ad, by, bm, bd = a[:4], a[5:7], a[8:10], b[:4], b[5:7], b[8:10]
    if ay == by and am == bd and ad == bm:
        return "partial"  # day and month swapped
    same = (ay == by) + (am == bm) + (ad == bd)
    if same == 2:
        x, y = (ay, by) if ay != by else (am, bm) if am != bm else (ad, bd)
        if sum(c != d for c, d in zip(x, y, strict=True)) == 1 or (x is ay and abs(int(ay) - int(by)) == 1):
            return "partial"  # one mistyped digit, or the year off by one (1949 / 1950)
    return "disagree"


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
            if la and lb and na == nb and _jw(la, lb, score_cutoff=FUZZY_STREET):
                best = "fuzzy"
            elif best == "disagree":
                best = "area"
    return best


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


def _person_names(a: Features, b: Features, contrib: dict[str, float], w: dict[str, float],
                  notes: list[str]) -> None:
    g = given_level(a["given"], a["given1"], a["gcanon"], b["given"], b["given1"], b["gcanon"])
    f = family_level(a["family"], b["family"])
    if g == "exact" and f == "exact":
        _add(contrib, w, "given", g)
        _add(contrib, w, "family", f)
        return
    direct = (w[f"given.{g}"] if g else 0.0) + (w[f"family.{f}"] if f else 0.0)
    af1 = a["family"].split(" ", 1)[0]  # read a swapped: its family field holds the given name and v.v.
    sg = given_level(a["family"], af1, NICKNAMES.get(af1, af1), b["given"], b["given1"], b["gcanon"])
    sf = family_level(a["given"], b["family"])
    swapped = (w[f"given.{sg}"] if sg else 0.0) + (w[f"family.{sf}"] if sf else 0.0)
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
    w = cfg.table()
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


def explain(result: MatchScore) -> str:
    """One line for the decision, one per contribution (strongest first), one per note."""
    head = f"{result.decision} (total {result.total:+.2f}"
    head += f", deterministic: {result.deterministic})" if result.deterministic else ")"
    lines = [head]
    for name, weight in sorted(result.contributions.items(), key=lambda kv: -abs(kv[1])):
        lines.append(f"  {weight:+7.2f}  {name}")
    lines.extend(f"  note: {note}" for note in result.notes)
    return "\n".join(lines)
