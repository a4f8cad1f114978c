"""Benchmark: identity resolution quality and speed of the pure matching layer (no store, no Kafka).

Generates customers from two sources with a known truth (``bench/identity_data.py``), then resolves them the
way the unify pipeline does, one record at a time: features, blocking keys, candidates = earlier records
sharing a key (a key whose block already holds more than ``max_candidates`` records is skipped), score every
candidate pair, and join clusters with union-find on ``link`` decisions. The truth (entity ids) is used only
to grade the result: pairwise precision, recall and F1, blocking pair completeness, review load. Prints
features/s, pairs scored/s and records resolved/s, all measured in this run.

    .venv/bin/python bench/bench_match.py --entities 6000 --seed 7 [--show 5]
"""

from __future__ import annotations

import argparse
import sys
import time
import timeit
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.identity_data import HARD, Noise, generate
from pipelines.identity import Features, MatchConfig, MatchScore, block_keys, explain, features, pairwise_prf, score


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def candidates(keys: list[list[str]], max_candidates: int) -> tuple[list[tuple[int, int]], list[int], int]:
    """Candidate pairs (earlier, later) in arrival order; candidates per record; keys skipped as too big."""
    index: dict[str, list[int]] = defaultdict(list)
    pairs: list[tuple[int, int]] = []
    per_record: list[int] = []
    skipped = 0
    for i, record_keys in enumerate(keys):
        found: set[int] = set()
        for key in record_keys:
            block = index[key]
            if len(block) > max_candidates:
                skipped += 1
            else:
                found.update(block)
            block.append(i)
        pairs.extend((j, i) for j in sorted(found))
        per_record.append(len(found))
    return pairs, per_record, skipped


def rate(label: str, count: int, seconds: float, unit: str) -> None:
    print(f"{label:<44} {count / seconds:>12,.0f} {unit}/s  ({seconds * 1e6 / max(count, 1):7.2f} us each)")


def show_errors(pairs: list[tuple[int, int]], results: list[MatchScore], truth: list[str], limit: int) -> None:
    wrong_links = [(p, r) for p, r in zip(pairs, results, strict=True)
                   if r.decision == "link" and truth[p[0]] != truth[p[1]]]
    missed = [(p, r) for p, r in zip(pairs, results, strict=True)
              if r.decision != "link" and truth[p[0]] == truth[p[1]]]
    for title, items in (("wrong links", wrong_links), ("missed links (scored, below link)", missed)):
        print(f"\n{title}: {len(items)}")
        for (i, j), result in sorted(items, key=lambda item: -item[1].total)[:limit]:
            print(f"-- records {i} / {j}: {explain(result)}")


def trained(feats: list[Features], cfg: MatchConfig, path: str, overrides: dict[str, object]) -> MatchConfig:
    """Train on the records (the truth is not used), save the model, and the config that names it."""
    from pipelines.identity.model import save_model
    from pipelines.identity.training import train

    start = time.perf_counter()
    result = train(feats, cfg)
    save_model(result.model, path)
    print(f"trained in {time.perf_counter() - start:.1f} s on {result.records:,} records, "
          f"{result.blocked_pairs:,} blocked pairs, EM {result.iterations} rounds, "
          f"link >= {result.model.link}, review >= {result.model.review}")
    return MatchConfig.model_validate({**overrides, "model": path})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--link", type=float, default=None, help="override the link threshold")
    parser.add_argument("--review", type=float, default=None, help="override the review threshold")
    parser.add_argument("--noise", choices=("default", "hard"), default="default", help="noise preset of the data")
    parser.add_argument("--show", type=int, default=0, help="print this many wrong and missed links")
    parser.add_argument("--model", default=None, help="a match model file (crmhub unify train)")
    parser.add_argument("--train", default=None, metavar="FILE",
                        help="train a model on the generated records first (no labels), write it to FILE, use it")
    args = parser.parse_args()
    overrides: dict[str, object] = {k: v for k, v in (("link", args.link), ("review", args.review)) if v is not None}
    if args.model:
        overrides["model"] = args.model
    cfg = MatchConfig.model_validate(overrides)
    calibration = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6
    print(f"machine calibration: sum(range(1000)) takes {calibration:.1f} us in this Python {sys.version.split()[0]}")

    noise = HARD if args.noise == "hard" else Noise()
    rows = generate(args.entities, args.seed, noise)
    truth = [entity for *_, entity in rows]
    describe(rows, args, noise)

    start = time.perf_counter()
    feats: list[Features] = [features(rec, source, key) for source, key, rec, _ in rows]
    if args.train:
        cfg = trained(feats, cfg, args.train, overrides)
    t_features = time.perf_counter() - start
    start = time.perf_counter()
    keys = [block_keys(f) for f in feats]
    t_keys = time.perf_counter() - start
    start = time.perf_counter()
    pairs, per_record, skipped = candidates(keys, cfg.max_candidates)
    t_index = time.perf_counter() - start
    start = time.perf_counter()
    results = [score(feats[i], feats[j], cfg) for i, j in pairs]
    t_score = time.perf_counter() - start

    clusters = UnionFind(len(rows))
    for (i, j), result in zip(pairs, results, strict=True):
        if result.decision == "link":
            clusters.union(i, j)
    predicted = {str(i): str(clusters.find(i)) for i in range(len(rows))}
    prf = pairwise_prf(predicted, {str(i): e for i, e in enumerate(truth)})
    report(rows, truth, pairs, results, per_record, skipped, cfg)
    print(f"true pairs sharing nothing but names (no matcher should link them directly): {names_only(feats, truth)}")
    print(f"\npairwise precision {prf.precision:.4f}  recall {prf.recall:.4f}  F1 {prf.f1:.4f}  "
          f"(tp {prf.true_pos:,}, fp {prf.false_pos:,}, fn {prf.false_neg:,}; link >= {cfg.link_threshold}, "
          f"review >= {cfg.review_threshold})")
    print(f"F1 target 0.99: {'met' if prf.f1 >= 0.99 else 'NOT met'}\n")
    rate("features()", len(rows), t_features, "records")
    rate("block_keys()", len(rows), t_keys, "records")
    rate("candidate look-up (in-memory index)", len(rows), t_index, "records")
    rate("score() = pair comparisons", len(pairs), t_score, "pairs")
    rate("records resolved (all of the above)", len(rows), t_features + t_keys + t_index + t_score, "records")
    if args.show:
        show_errors(pairs, results, truth, args.show)


def describe(rows: list[tuple[str, str, dict[str, object], str]], args: argparse.Namespace, noise: Noise) -> None:
    xrefs = sum(bool(rec.get("xrefs")) for _, _, rec, _ in rows)
    by_source: dict[str, int] = defaultdict(int)
    for source, *_ in rows:
        by_source[source] += 1
    sources = ", ".join(f"{s} {n:,}" for s, n in sorted(by_source.items()))
    print(f"{len(rows):,} records of {args.entities:,} entities (seed {args.seed}, noise {args.noise}; {sources})")
    print(f"xrefs (deterministic links) on {xrefs} records = {xrefs / len(rows):.1%} (Noise.xref {noise.xref:.0%} "
          f"of oracle rows); entity ids are used for grading only")
    rates = ("household", "moved", "moved_contact", "typo_given", "typo_family", "swapped", "nickname",
             "initial_only", "dob_typo")
    print("noise: " + ", ".join(f"{name} {getattr(noise, name):.0%}" for name in rates))


def names_only(feats: list[Features], truth: list[str]) -> int:
    """True pairs whose records share nothing but names: no birth date on both, no common e-mail, phone or id,
    addresses apart. No matcher should link them on their own (only through a third record)."""
    members: dict[str, list[int]] = defaultdict(list)
    for i, entity in enumerate(truth):
        members[entity].append(i)
    count = 0
    for records in members.values():
        for n, i in enumerate(records):
            for j in records[n + 1:]:
                a, b = feats[i], feats[j]
                shared = (a["dob"] and b["dob"]) or set(a["emails"]) & set(b["emails"]) or \
                    set(a["phones"]) & set(b["phones"]) or (a["nid"] and b["nid"]) or (a["tax"] and b["tax"]) or \
                    {x[0] for x in a["addrs"]} & {x[0] for x in b["addrs"]} or a["xrefs"] or b["xrefs"]
                count += not shared
    return count


def report(rows: list[tuple[str, str, dict[str, object], str]], truth: list[str], pairs: list[tuple[int, int]],
           results: list[MatchScore], per_record: list[int], skipped: int, cfg: MatchConfig) -> None:
    members: dict[str, int] = defaultdict(int)
    for entity in truth:
        members[entity] += 1
    true_pairs = sum(n * (n - 1) // 2 for n in members.values())
    found = sum(truth[i] == truth[j] for i, j in pairs)
    reviews = [(i, j) for (i, j), r in zip(pairs, results, strict=True) if r.decision == "review"]
    review_true = sum(truth[i] == truth[j] for i, j in reviews)
    reasons = Counter((r.deterministic or "").split(" ")[0] for r in results if r.deterministic)
    deterministic = ", ".join(f"{why} {n}" for why, n in sorted(reasons.items())) or "none"
    print(f"candidate pairs {len(pairs):,}: {len(pairs) / len(rows):.2f} per record on average, max "
          f"{max(per_record)}; keys skipped as blocks > {cfg.max_candidates}: {skipped}")
    print(f"blocking pair completeness {found / max(true_pairs, 1):.4f} ({found:,} of {true_pairs:,} true pairs "
          f"share a key)")
    links, new = sum(r.decision == "link" for r in results), sum(r.decision == "new" for r in results)
    print(f"decisions: link {links:,} (deterministic: {deterministic}), review {len(reviews):,} ({review_true} of "
          f"them true pairs), new {new:,}")


if __name__ == "__main__":
    main()
