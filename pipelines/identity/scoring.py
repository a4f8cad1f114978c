"""Pairwise comparison of two customers' :class:`Features` (Fellegi-Sunter style).

Each field is compared to one graded level (:mod:`pipelines.identity.compare`; a missing side gives nothing)
and the level's log2 likelihood weight from :class:`MatchConfig` is added to the total. Person names are
compared both as given and with given/family swapped on one side; the better reading counts (and is noted). A
shared cross-reference or an equal national/tax id is a deterministic link; a mistyped id is evidence for a
link, different ids evidence against (a veto only for ids the config calls authoritative). With a learned
model, exact agreement on a given or family name is adjusted by how common the name is. Family names that
disagree where the given name and an address, phone or e-mail agree count as ``family.changed`` (a married
name), not ``family.disagree``. ``contributions`` is keyed by the weight name (``"dob.exact"``), so an
explanation says both the field and the level that decided it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pipelines.identity.compare import (
    common_given,
    dob_level,
    family_level,
    given_level,
    id_level,
    known_name,
    middle_level,
    names_as_given,
    org_level,
)
from pipelines.identity.config import MatchConfig
from pipelines.identity.contact_levels import address_level, email_level, phone_level
from pipelines.identity.features import Features
from pipelines.identity.household import (
    CONTACT_AGREE,
    dob_agrees,
    foreign_id,
    garbled_given,
    household_cap,
    household_kind,
    own_id_near,
    shared_contacts,
)
from pipelines.identity.stand_ins import stand_in_family

Decision = Literal["link", "review", "new"]
_NAME_FIELDS = ("given.", "family.", "org.")  # a middle name corroborates: namesakes seldom share one too
_ID_FIELDS = ("national_id", "tax_id")
_GIVEN_AGREE = ("given.exact", "given.nickname", "given.fuzzy")
CORROBORATION = 1.0  # the least a field besides the names must add for the names to link (a postal area: 0.5)


@dataclass(frozen=True, slots=True)
class MatchScore:
    total: float
    decision: Decision
    contributions: dict[str, float]
    deterministic: str | None = None  # why the pair is a link whatever the total ("xref ibmi/42", "national_id")
    notes: list[str] = field(default_factory=list)
    apart: str | None = None  # why a pair that is no match is surely two persons ("household", "national_id conflict")


def _add(contrib: dict[str, float], w: dict[str, float], name: str, level: str) -> None:
    if level:
        key = f"{name}.{level}"
        contrib[key] = w[key]


def _xref(a: Features, b: Features) -> str | None:
    if a["ref"] and a["ref"] in b["xrefs"]:
        return f"xref {a['ref']}"
    if b["ref"] and b["ref"] in a["xrefs"]:
        return f"xref {b['ref']}"
    if a["xrefs"] and b["xrefs"]:
        shared = next((x for x in a["xrefs"] if x in b["xrefs"]), None)
        return f"xref {shared}" if shared else None
    return None


def _deterministic(a: Features, b: Features, contrib: dict[str, float], w: dict[str, float],
                   notes: list[str]) -> str | None:
    reason = _xref(a, b)
    equal: list[str] = []
    conflicts: list[str] = []
    for name, x, y in (("national_id", a["nid"], b["nid"]), ("tax_id", a["tax"], b["tax"])):
        level = id_level(x, y)
        if level == "exact":
            equal.append(name)
        elif level:
            contrib[f"{name}.{level}"] = w[f"{name}.{level}"]
            if level == "conflict":
                conflicts.append(name)
                notes.append(f"{name} conflict")
            else:
                notes.append(f"{name} one edit apart")
    if reason is None and equal and not conflicts:
        reason = equal[0]
    elif reason is not None and conflicts:
        notes.append(f"linked by {reason} despite the {' and '.join(conflicts)} conflict")
    return reason


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
        g, f = names_as_given(*given_pair), family_level(*family_pair)
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
                  notes: list[str]) -> bool:
    """Adds the name levels; True when they were read swapped. Family names that differ where one may stand for
    none (:func:`stand_in_family`: Wife, Respondent, Doe) are no evidence."""
    g = given_level(a["given"], a["given1"], a["gcanon"], b["given"], b["given1"], b["gcanon"])
    f = family_level(a["family"], b["family"])
    if f in ("disagree", "phonetic", "similar") and (stand_in_family(a["family"]) or stand_in_family(b["family"])):
        f = ""
    swapped = False
    if (g in ("disagree", "gendered", "similar") or f in ("disagree", "phonetic", "similar")) and _may_cross(a, b):
        direct = (w[f"given.{g}"] if g else 0.0) + (w[f"family.{f}"] if f else 0.0)
        sg, sf, total = _crosswise(a, b, w)
        if total > direct:
            g, f, swapped = sg, sf, True
            notes.append("given and family names swapped")
    _add(contrib, w, "given", g)
    _add(contrib, w, "family", f)
    return swapped


def _term_frequency(a: Features, b: Features, contrib: dict[str, float], cfg: MatchConfig) -> None:
    """A learned model's adjustment of exact name agreement by how common the name is."""
    learned = cfg.learned
    if learned is None or not learned.tf:
        return
    for name, value in (("given", a["given1"]), ("family", a["family"])):
        tf = learned.tf.get(name)
        if tf is not None and f"{name}.exact" in contrib:
            adj = tf.adjustment(value, learned.tf_clip)
            if adj:
                contrib[f"{name}.tf"] = round(adj, 3)


def _family_changed(a: Features, b: Features, contrib: dict[str, float], w: dict[str, float],
                    notes: list[str]) -> None:
    """Family names that disagree while the given name and an address, phone or e-mail agree (and the birth
    dates do not disagree): a changed family name (a marriage) rather than another person. People who share
    a home or a phone but not a family name seldom share a given name too, so the disagreement counts as
    ``family.changed`` instead of ``family.disagree``. Not when a family name is a known given name: two
    housemates both entered with given and family name swapped (moore / john, moore / elizabeth) look the same."""
    if "family.disagree" not in contrib or "dob.disagree" in contrib:
        return
    if any(known_name(f["family"].split(" ", 1)[0]) for f in (a, b)):
        return
    if any(k in contrib for k in _GIVEN_AGREE) and any(k in contrib for k in CONTACT_AGREE):
        del contrib["family.disagree"]
        contrib["family.changed"] = w["family.changed"]
        notes.append("family names differ where the given name and a contact detail agree: a changed family name")


def _conflict_alone(contrib: dict[str, float]) -> bool:
    """Ids that differ, outweighed by names and birth date only: namesakes born on one day have ids of their
    own, so some other detail (an address, a phone, an e-mail) must agree too."""
    return any(k.endswith(".conflict") for k in contrib) and not shared_contacts(contrib)


def birth_level(a: Features, b: Features) -> str:
    """The birth dates' level; where one side has none but wrote an impossible one (``dob_raw``: 19660091), its
    digits against the other's date, counted only when equal or a slip or two apart: a date known to be mistyped
    says nothing when it differs more."""
    level = dob_level(a["dob"], b["dob"])
    if level or not (a.get("dob_raw") or b.get("dob_raw")):
        return level
    raw = dob_level(a["dob"] or a.get("dob_raw", ""), b["dob"] or b.get("dob_raw", ""))
    return "" if raw == "disagree" else raw


def _other_country(a: Features, b: Features) -> bool:
    """Both records name a country and the countries differ. Addresses in two countries always differ, so the
    country disagreement stands for the address disagreement too (one fact, one weight): a Fellegi-Sunter
    weight for each would count it twice, as if a move abroad were two independent pieces of evidence."""
    return bool(a["country"] and b["country"] and a["country"] != b["country"])


def _decide(total: float, deterministic: str | None, cfg: MatchConfig, contrib: dict[str, float],
            notes: list[str], *, unknown_member: bool = False, garbled: bool = False) -> Decision:
    if deterministic is not None:
        return "link"
    if total >= cfg.link_threshold:
        if unknown_member and total - max(0.0, shared_contacts(contrib) - cfg.household_cap) < cfg.link_threshold:
            notes.append("no given name or birth date tells them apart from a housemate: a possible match at most "
                         "(household)")
            return "review"
        if "household.cap" in contrib and "dob.disagree" in contrib:
            notes.append("one household, birth dates that disagree: a possible match at most (a parent and child "
                         "of one name)")
            return "review"
        if cfg.given_disagree_reviews and "given.disagree" in contrib and not own_id_near(contrib) and not garbled:
            notes.append("given names disagree: a possible match at most (twins and family members share the rest)")
            return "review"
        if cfg.id_conflict_review and _conflict_alone(contrib):
            notes.append("the ids differ and no contact detail agrees: a possible match at most")
            return "review"
        if cfg.names_alone_review and not any(v >= CORROBORATION and not k.startswith(_NAME_FIELDS)
                                              for k, v in contrib.items()):
            notes.append("only the names agree: a possible match at most (namesakes)")
            return "review"
        return "link"
    return "review" if total >= cfg.review_threshold else "new"


def score(a: Features, b: Features, cfg: MatchConfig) -> MatchScore:
    """How likely ``a`` and ``b`` describe the same customer, field by field, and what to do about it."""
    w = cfg.table
    contrib: dict[str, float] = {}
    notes: list[str] = []
    deterministic = _deterministic(a, b, contrib, w, notes)
    swapped = False
    if a["kind"] != b["kind"]:
        contrib["kind.disagree"] = w["kind.disagree"]
    elif a["kind"] == "person":
        swapped = _person_names(a, b, contrib, w, notes)
        if not swapped:
            _term_frequency(a, b, contrib, cfg)
        _add(contrib, w, "middle", middle_level(a.get("middle", ""), b.get("middle", "")))
        _add(contrib, w, "dob", birth_level(a, b))
    else:
        _add(contrib, w, "org", org_level(a["org"], b["org"]))
    _add(contrib, w, "email", email_level(a["emails"], b["emails"]))
    _add(contrib, w, "phone", phone_level(a["phones"], b["phones"]))
    _add(contrib, w, "address", address_level(a["addrs"], b["addrs"]))
    if a["kind"] == "person":
        _family_changed(a, b, contrib, w, notes)
    household = household_kind(a, b, contrib)
    if household == "split":
        household_cap(contrib, cfg.household_cap, notes)
    if _other_country(a, b):
        contrib["country.disagree"] = w["country.disagree"]
        contrib.pop("address.disagree", None)  # implied by the other country: one fact, counted once
    overruled = foreign_id(a, b, contrib) if deterministic in _ID_FIELDS else None
    if overruled:
        notes.append(f"equal {deterministic}, but {overruled}")
        deterministic = None
    total = sum(contrib.values())
    decision = _decide(total, deterministic, cfg, contrib, notes, unknown_member=household == "unknown",
                       garbled=garbled_given(a, b, contrib))
    if overruled and decision == "new":
        decision = "review"
    apart = _apart(a, b, contrib, household == "split" and not swapped, cfg) if decision == "new" else None
    return MatchScore(total, decision, contrib, deterministic, notes, apart)


def _apart(a: Features, b: Features, contrib: dict[str, float], split: bool, cfg: MatchConfig) -> str | None:
    """Why two records that are no match ("new") are surely two persons, so that no third record may join them:
    an authoritative id that differs (a veto), or housemates (``split``: a household split, names read as given)
    whose shared contact details were capped as a household's, with no birth date that agrees (none, or two that
    disagree) and first given names that differ and are both common given names (a typo seldom makes one name
    another). Not a possible match ("review"): the scorer itself says it may be one person; not a given name
    that is no common name (jamm / jan: a record with a garbled name would split from its duplicates); not the
    same given name beside another birth date (a mistyped date as often as a father and son); not an agreeing
    or nearly agreeing birth date beside different given names (twins, or a given name replaced by another)."""
    conflicts = [name for name in cfg.authoritative if f"{name}.conflict" in contrib]
    if conflicts:
        return f"{conflicts[0]} conflict"
    if not split or "household.cap" not in contrib:
        return None
    if dob_agrees(contrib):
        return None
    ga, gb = a["given1"], b["given1"]
    return "household" if ga != gb and common_given(ga) and common_given(gb) else None


def vetoed(a: Features, b: Features, cfg: MatchConfig) -> str | None:
    """The authoritative id (``MatchConfig.authoritative``) whose values differ between ``a`` and ``b``, or None:
    such a pair never links, unless a cross-reference links it."""
    for name in cfg.authoritative:
        x, y = (a["nid"], b["nid"]) if name == "national_id" else (a["tax"], b["tax"])
        if id_level(x, y) == "conflict":
            return name
    return None


def total_score(a: Features, b: Features, cfg: MatchConfig) -> float:
    """A pair's match weight (module-level, so that :func:`hub.runtime.pairpool.map_pairs` workers find it)."""
    return score(a, b, cfg).total


def cannot_reach(a: Features, b: Features, cfg: MatchConfig) -> bool:
    """True when two persons' total stays below the review threshold whatever their names say and nothing
    links them deterministically: the decision would be "new", so the caller may skip :func:`score`. The names
    (the costliest comparison) count with their best weights; every other field as :func:`score` counts it,
    except the household cap, which can only lower a total."""
    if a["kind"] != "person" or b["kind"] != "person":
        return False
    if _xref(a, b) is not None:
        return False
    w = cfg.table
    total = cfg.best_names + (cfg.best_middle if a.get("middle") and b.get("middle") else 0.0)
    for name, x, y in (("national_id", a["nid"], b["nid"]), ("tax_id", a["tax"], b["tax"])):
        level = id_level(x, y)
        if level == "exact":
            return False  # may be a deterministic link
        if level:
            total += w[f"{name}.{level}"]
    other_country = _other_country(a, b)
    for name, level in (("dob", birth_level(a, b)), ("email", email_level(a["emails"], b["emails"])),
                        ("phone", phone_level(a["phones"], b["phones"])),
                        ("address", address_level(a["addrs"], b["addrs"]))):
        if level and not (other_country and name == "address" and level == "disagree"):
            total += w[f"{name}.{level}"]
    if other_country:
        total += w["country.disagree"]
    return total < cfg.review_threshold


def explain(result: MatchScore) -> str:
    """One line for the decision, one per contribution (strongest first), one per note."""
    head = f"{result.decision} (total {result.total:+.2f}"
    head += f", deterministic: {result.deterministic})" if result.deterministic else ")"
    lines = [head]
    for name, weight in sorted(result.contributions.items(), key=lambda kv: -abs(kv[1])):
        lines.append(f"  {weight:+7.2f}  {name}")
    lines.extend(f"  note: {note}" for note in result.notes)
    return "\n".join(lines)
