"""Match weights estimated from the data itself, without labels (Fellegi-Sunter, as Splink and fastLink do).

For every compared field and level (:mod:`pipelines.identity.compare`):

- **u** (the chance that two records of *different* customers show that level) comes from random pairs of
  records; for exact agreement on a single-valued field it is computed from the value frequencies instead
  (``sum c(c-1) / n(n-1)``), which a sample of pairs would estimate poorly;
- **m** (the chance that two records of the *same* customer show it) and the share of true pairs among the
  blocked pairs come from expectation-maximisation over the pairs blocking proposes, u held fixed;
- the weight of a level is ``log2(m / u)``; the link threshold is where a pair's posterior match probability
  reaches 0.9, given the chance that two random records match; review starts 4 bits lower.

Term frequencies of given and family names are kept so that exact agreement on a common name weighs less
than on a rare one. Everything here is pure: the caller reads the features and writes the model.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from pipelines.identity.blocking import block_keys
from pipelines.identity.compare import id_level
from pipelines.identity.config import DEFAULT_WEIGHTS, MatchConfig
from pipelines.identity.features import Features
from pipelines.identity.model import TF_FIELDS, MatchModel, TermFrequencies
from pipelines.identity.scoring import score

TRAINED_FIELDS = ("given", "middle", "family", "org", "dob", "email", "phone", "address", "national_id", "tax_id")
#: levels whose chance among random pairs says nothing, each trained as the field's own level it stands for and
#: keeping its default weight: ``family.changed`` needs a shared address or phone; ``email.user`` (one user name at
#: two domains) spells the name, so it goes with the names: namesakes show it as often as a person who changed
#: provider, and a weight learned from its rarity among random pairs linked them
DERIVED = {"family.changed": "family.disagree", "email.user": "email.disagree"}
LEVELS: dict[str, list[str]] = {f: [k.split(".", 1)[1] for k in DEFAULT_WEIGHTS if k.split(".", 1)[0] == f
                                    and k not in DERIVED] for f in TRAINED_FIELDS}
_SINGLE_VALUED = {"given": "given1", "middle": "middle", "family": "family", "org": "org", "dob": "dob",
                  "national_id": "nid", "tax_id": "tax"}
PRIOR_SHARE = 0.05  # the defaults' m as pseudo-counts, this share of a kept session's matches (see _sessions)
M_FLOOR = 0.002  # the least m of a level: one never seen among true pairs is strong evidence, not a veto
WEIGHT_RANGE = (-12.0, 14.0)
REVIEW_BAND = 4.0
LINK_POSTERIOR = 0.9  # the comparisons are not independent (names, places and countries go together): a
# posterior of 1/2 linked namesakes in one city


@dataclass(frozen=True)
class LevelStats:
    field: str
    level: str
    m: float
    u: float
    weight: float
    default: float
    pairs: int  # how many compared pairs (random and blocked) showed the level


@dataclass
class Training:
    model: MatchModel
    levels: list[LevelStats]
    records: int
    blocked_pairs: int  # proposed by blocking (EM ran on at most ``max_pairs`` of them)
    random_pairs: int
    share_blocked: float  # EM's share of true pairs among the blocked pairs
    iterations: int
    notes: list[str] = field(default_factory=list)


#: ``[comparison(feats[i], feats[j], cfg) for i, j in pairs]``, however the caller spreads the work
Compare = Callable[[Sequence[Features], Sequence[tuple[int, int]], MatchConfig], list[dict[str, str]]]


def _valid_dates_only(f: Features) -> Features:
    return cast(Features, {k: v for k, v in f.items() if k != "dob_raw"})


def comparisons(feats: Sequence[Features], pairs: Sequence[tuple[int, int]], cfg: MatchConfig) -> list[dict[str, str]]:
    """The comparison vectors of ``pairs`` (indices into ``feats``), one after the other in this process."""
    return [comparison(feats[i], feats[j], cfg) for i, j in pairs]


def comparison(a: Features, b: Features, cfg: MatchConfig) -> dict[str, str]:
    """The level of each trained field for one pair (a field missing on either side is absent). The birth date
    levels are learned from valid dates only: an impossible date's digits (``dob_raw``) borrow their weights."""
    if "dob_raw" in a or "dob_raw" in b:
        a, b = _valid_dates_only(a), _valid_dates_only(b)
    result = score(a, b, cfg)
    out: dict[str, str] = {}
    for name in result.contributions:
        fld, _, level = DERIVED.get(name, name).partition(".")
        if fld in LEVELS and level in LEVELS[fld]:
            out[fld] = level
    for fld, x, y in (("national_id", a["nid"], b["nid"]), ("tax_id", a["tax"], b["tax"])):
        if id_level(x, y) == "exact":
            out[fld] = "exact"
    return out


def _values(feats: Sequence[Features], fld: str) -> Counter[str]:
    key = _SINGLE_VALUED[fld]
    return Counter(str(v) for f in feats if (v := f.get(key)))


def _same_value_chance(counts: Counter[str]) -> float | None:
    """The chance that two of the counted records hold the same value (``sum c(c-1) / n(n-1)``)."""
    n = sum(counts.values())
    if n < 2:
        return None
    return max(sum(c * (c - 1) for c in counts.values()), 1) / (n * (n - 1))


def _exact_u(feats: Sequence[Features], fld: str) -> float | None:
    return _same_value_chance(_values(feats, fld))


def random_pairs(n: int, count: int, rng: random.Random) -> list[tuple[int, int]]:
    """``count`` distinct random pairs of ``n`` records (all pairs when there are fewer)."""
    total = n * (n - 1) // 2
    if total <= count:
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    seen: set[tuple[int, int]] = set()
    while len(seen) < count:
        i, j = rng.randrange(n), rng.randrange(n)
        if i != j:
            seen.add((min(i, j), max(i, j)))
    return sorted(seen)


def estimate_u(feats: Sequence[Features], vectors: Sequence[dict[str, str]]) -> dict[str, dict[str, float]]:
    """u of every level from the comparison ``vectors`` of random pairs; exact agreement from frequencies."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for vector in vectors:
        for fld, level in vector.items():
            counts[fld][level] += 1
    u: dict[str, dict[str, float]] = {}
    for fld, levels in LEVELS.items():
        compared = sum(counts[fld].values())
        if compared == 0:
            continue
        est = {lv: max(counts[fld][lv], 0.5) / compared for lv in levels}
        exact = _exact_u(feats, fld) if fld in _SINGLE_VALUED and "exact" in est else None
        if exact is not None:
            rest = sum(v for lv, v in est.items() if lv != "exact")
            est = {lv: exact if lv == "exact" else v * (1 - exact) / rest for lv, v in est.items()}
        u[fld] = est
    return u


def _pairs_within(keys: Sequence[list[str]], max_block: int) -> list[tuple[int, int]]:
    """The pairs of records (by index) that share one of their ``keys``, in groups of at most ``max_block``."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, record_keys in enumerate(keys):
        for key in record_keys:
            groups[key].append(i)
    return sorted({(a, b) for members in groups.values() if 1 < len(members) <= max_block
                   for x, a in enumerate(members) for b in members[x + 1:]})


def blocked_pairs(feats: Sequence[Features], max_block: int) -> list[tuple[int, int]]:
    """The pairs blocking proposes: records sharing a key whose block holds at most ``max_block`` records."""
    return _pairs_within([block_keys(f) for f in feats], max_block)


def _log_ratios(codes: dict[str, np.ndarray], m: dict[str, np.ndarray], u: dict[str, np.ndarray],
                size: int) -> np.ndarray:
    """Per pair, the sum over its compared fields of ln(m / u) of its level."""
    out = np.zeros(size)
    for f, c in codes.items():
        present = c >= 0
        out[present] += np.log(m[f] / u[f])[c[present]]
    return out


def _posterior(log_ratios: np.ndarray, share: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(log_ratios + math.log(share / (1 - share)), -50, 50)))


def _arrays(probabilities: dict[str, dict[str, float]], fields: Sequence[str]) -> dict[str, np.ndarray]:
    return {f: np.array([probabilities[f][lv] for lv in LEVELS[f]]) for f in fields}


def _codes(vectors: Sequence[dict[str, str]], fields: Sequence[str]) -> dict[str, np.ndarray]:
    index = {f: {lv: i for i, lv in enumerate(LEVELS[f])} for f in fields}
    return {f: np.array([index[f].get(v.get(f, ""), -1) for v in vectors], dtype=np.int16) for f in fields}


def expectation_maximisation(vectors: Sequence[dict[str, str]], u: dict[str, dict[str, float]],
                             m0: dict[str, dict[str, float]], share0: float = 0.3, iterations: int = 60,
                             tol: float = 1e-7, prior: float = 0.0
                             ) -> tuple[dict[str, dict[str, float]], float, int]:
    """m of every level and the share of true pairs among ``vectors``, u held fixed. Returns (m, share, rounds).
    With ``prior``, each M-step adds ``m0`` weighing that share of the matches found (a Dirichlet prior)."""
    fields = [f for f in u if f in m0]
    codes = _codes(vectors, fields)
    m, uu, start = _arrays(m0, fields), _arrays(u, fields), _arrays(m0, fields)
    share = share0
    rounds = 0
    for rounds in range(1, iterations + 1):  # noqa: B007 - the count is returned
        p = _posterior(_log_ratios(codes, m, uu, len(vectors)), share)
        new_share = float(np.clip(p.mean(), 1e-6, 1 - 1e-6))
        change = abs(new_share - share)
        share = new_share
        for f in fields:
            c = codes[f]
            present = c >= 0
            weight = np.bincount(c[present], weights=p[present], minlength=len(LEVELS[f]))
            total = weight.sum()
            if total <= 0:
                continue
            weight = weight + prior * total * start[f]  # the prior's pseudo-counts (none by default)
            total = weight.sum()
            new_m = np.maximum(weight / total, M_FLOOR)
            new_m /= new_m.sum()
            change = max(change, float(np.abs(new_m - m[f]).max()))
            m[f] = new_m
        if change < tol:
            break
    return {f: dict(zip(LEVELS[f], (float(x) for x in m[f]), strict=True)) for f in fields}, share, rounds


def _initial_m(u: dict[str, dict[str, float]], cfg: MatchConfig) -> dict[str, dict[str, float]]:
    """m implied by the current weights (m = u * 2^w, normalised): EM starts from what the defaults believe."""
    out = {}
    for fld, levels in u.items():
        raw = {lv: levels[lv] * 2.0 ** max(-12.0, min(14.0, cfg.weight(f"{fld}.{lv}"))) for lv in levels}
        total = sum(raw.values())
        out[fld] = {lv: v / total for lv, v in raw.items()}
    return out


def term_frequencies(feats: Sequence[Features]) -> dict[str, TermFrequencies]:
    persons = [f for f in feats if f["kind"] == "person"]
    out = {}
    for fld in TF_FIELDS:
        counts = _values(persons, fld)
        chance = _same_value_chance(counts)
        if chance is not None:
            out[fld] = TermFrequencies(sum(counts.values()), chance, {v: c for v, c in counts.items() if c > 1})
    return out


def _thresholds(n: int, blocked: int, share: float) -> tuple[float, float]:
    """Link where the posterior reaches ``LINK_POSTERIOR``: the prior is the chance that two random records
    match."""
    total = max(n * (n - 1) // 2, 1)
    matches = max(share * blocked, 1.0)
    prior = min(matches / total, 0.5)
    link = round(math.log2((1 - prior) / prior) + math.log2(LINK_POSTERIOR / (1 - LINK_POSTERIOR)), 2)
    return link, round(link - REVIEW_BAND, 2)


# (pairs chosen by, fields left out): the fields the pairs agree on by choice and, for persons, the contact
# fields people of one household (and twins) share, so that they are not taken for one customer. (Pairs chosen
# by a shared e-mail or phone are mostly such households: EM takes them for true pairs whatever else is left.)
SESSIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("same birth date", ("dob", "email", "phone", "address")),
    ("same given and family name", ("given", "family")),
    ("similar organisation name", ("org",)),
)
MIN_SESSION_PAIRS = 30
MIN_EVIDENCE = 10  # a level seen in fewer compared pairs keeps its default weight


def _session_keys(name: str, f: Features) -> list[str]:
    """The values a session groups records by (its blocking rule)."""
    if name == "same birth date":
        return [f["dob"]] if f["dob"] else []
    if name == "same given and family name":
        return [f"{f['gcanon']}|{f['family']}"] if f["gcanon"] and f["family"] else []
    return [f"{f['country']}|{f['sx_org'][0]}"] if f["kind"] == "organisation" and f["sx_org"] else []


def session_pairs(feats: Sequence[Features], name: str, max_block: int, limit: int,
                  rng: random.Random) -> list[tuple[int, int]]:
    """Every pair of records that agree on the session's rule, over all records (not only the blocked pairs:
    the strangers who share a birth date are what lets EM tell them from true pairs); groups of more than
    ``max_block`` records are left out, at most ``limit`` pairs are drawn."""
    pairs = _pairs_within([_session_keys(name, f) for f in feats], max_block)
    return pairs if len(pairs) <= limit else rng.sample(pairs, limit)


def _sessions(feats: Sequence[Features], u: dict[str, dict[str, float]], m0: dict[str, dict[str, float]],
              cfg: MatchConfig, rng: random.Random, limit: int,
              compare: Compare) -> tuple[dict[str, dict[str, float]], list[str], int]:
    """m of every field, each estimated only from pairs that were not chosen for agreeing on it (the blocking
    rules of Splink's training sessions): the fields a session's pairs agree on by choice are left out, so a
    household (sharing family name, address, phone) is not taken for one customer. Returns (m, notes, rounds)."""
    estimates: dict[str, list[tuple[dict[str, float], int]]] = defaultdict(list)
    notes: list[str] = []
    rounds = 0
    for name, excluded in SESSIONS:
        chosen = compare(feats, session_pairs(feats, name, 200, limit, rng), cfg)
        if len(chosen) < MIN_SESSION_PAIRS:
            notes.append(f"session '{name}': {len(chosen)} pairs, skipped")
            continue
        fields = {f: u[f] for f in u if f not in excluded}
        m, share, n = expectation_maximisation(chosen, fields, m0)
        rounds += n
        astray = _astray(m, u, chosen)
        if astray:
            notes.append(f"session '{name}': {len(chosen):,} pairs, left out: its matches agree on "
                         f"{', '.join(astray)} no more often than random pairs (EM found households, not persons)")
            continue
        # persons found (a prior before that test hid households): m again, pulled a little toward the defaults,
        # so a level EM's "clean duplicates" never show (errors that come together) keeps some weight
        m, share, again = expectation_maximisation(chosen, fields, m0, prior=PRIOR_SHARE)
        n += again
        rounds += again
        notes.append(f"session '{name}': {len(chosen):,} pairs, {share:.1%} matches, {n} EM rounds")
        for fld, levels in m.items():
            if any(v.get(fld) for v in chosen):
                estimates[fld].append((levels, len(chosen)))
    m_all: dict[str, dict[str, float]] = {}
    for fld, found in estimates.items():
        total = sum(n for _m, n in found)
        m_all[fld] = {lv: sum(m[lv] * n for m, n in found) / total for lv in LEVELS[fld]}
    return m_all, notes, rounds


def _astray(m: dict[str, dict[str, float]], u: dict[str, dict[str, float]],
            chosen: Sequence[dict[str, str]]) -> list[str]:
    """The fields on which EM's matches agree (exact, or any level with a positive default weight) no more often than
    random pairs: a session whose latent class is something else than one person (people of one household, born
    on one day)."""
    out = []
    for f, levels in m.items():
        agree = [lv for lv in levels if lv == "exact" or DEFAULT_WEIGHTS[f"{f}.{lv}"] > 0]
        if any(v.get(f) for v in chosen) and sum(levels[lv] for lv in agree) <= sum(u[f][lv] for lv in agree):
            out.append(f)
    return out


def share_of_matches(vectors: Sequence[dict[str, str]], m: dict[str, dict[str, float]],
                     u: dict[str, dict[str, float]], rounds: int = 50) -> float:
    """The share of true pairs among ``vectors`` with m and u fixed (EM over the share alone)."""
    fields = [f for f in m if f in u]
    ratios = _log_ratios(_codes(vectors, fields), _arrays(m, fields), _arrays(u, fields), len(vectors))
    share = 0.1
    for _ in range(rounds):
        p = _posterior(ratios, share)
        share = float(np.clip(p.mean(), 1e-6, 1 - 1e-6))
    return share


def train(feats: Sequence[Features], cfg: MatchConfig, *, sample: int = 50_000, max_pairs: int = 200_000,
          max_block: int = 50, seed: int = 0, compare: Compare = comparisons) -> Training:
    """Estimate a model from the records' features (no labels); ``compare`` scores the pairs (the CLI spreads
    them over the machine's cores)."""
    if len(feats) < 10:
        raise ValueError(f"too few records to train on ({len(feats)}; at least 10)")
    rng = random.Random(seed)
    randoms = random_pairs(len(feats), sample, rng)
    random_vectors = compare(feats, randoms, cfg)
    u = estimate_u(feats, random_vectors)
    proposed = blocked_pairs(feats, max_block)
    pairs = proposed if len(proposed) <= max_pairs else rng.sample(proposed, max_pairs)
    vectors = compare(feats, pairs, cfg)
    m0 = _initial_m(u, cfg)  # EM starts from it; a compared field no session estimates keeps it (see below)
    m, notes, rounds = _sessions(feats, u, m0, cfg, rng, max_pairs, compare)
    share = share_of_matches(vectors, m, u)
    seen = Counter((f, lv) for v in (*random_vectors, *vectors) for f, lv in v.items())
    # A field no session estimated (the names, where the only session chose its pairs by them) takes the m its
    # default weights imply against this data's u: its weights then stand on the scale of the learned ones and
    # of the learned threshold, instead of the defaults' own.
    implied = {fld: m0[fld] for fld in TRAINED_FIELDS
               if m and fld not in m and fld in m0 and any(seen[(fld, lv)] for lv in LEVELS[fld])}
    m = {**m, **implied}
    levels: list[LevelStats] = []
    weights: dict[str, float] = {}
    low, high = WEIGHT_RANGE
    for fld in m:
        for lv in LEVELS[fld]:
            default = DEFAULT_WEIGHTS[f"{fld}.{lv}"]
            if seen[(fld, lv)] < MIN_EVIDENCE:
                w = default  # too rare in this data to estimate: the default stays
            else:
                w = round(max(low, min(high, math.log2(m[fld][lv] / u[fld][lv]))), 3)
            weights[f"{fld}.{lv}"] = w
            levels.append(LevelStats(fld, lv, m[fld][lv], u[fld][lv], w, default, seen[(fld, lv)]))
    link, review = _thresholds(len(feats), len(proposed), share) if m else (None, None)  # nothing learned
    notes += [f"{fld}: not estimated by EM (its session left out, or it chose the pairs): m implied by the default "
              "weights, u from this data" for fld in implied]
    notes += [f"{fld}: not estimated (no pair compared, or its session left out), default weights kept"
              for fld in TRAINED_FIELDS if fld not in m]
    info = {"records": len(feats), "blocked_pairs": len(proposed), "em_pairs": len(pairs),
            "random_pairs": len(randoms), "share_blocked": round(share, 6), "em_rounds": rounds,
            "m": m, "u": u, "seed": seed, "notes": notes}
    # Term frequencies adjust an exact name's weight against this data's average chance agreement (u), so only a
    # name whose weights stand on that scale (estimated, or implied against this u) takes them: the default
    # weights stand for an average name anywhere, and a common name of this data is no commoner than that.
    tf = {fld: t for fld, t in term_frequencies(feats).items() if fld in m}
    model = MatchModel(weights, link, review, tf, info=info)
    return Training(model, levels, len(feats), len(proposed), len(randoms), share, rounds, notes)
