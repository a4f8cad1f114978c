"""Identity resolution against Splink, the reference tool for record linkage, on the same data in the same run.

Splink (Fellegi-Sunter with EM training, DuckDB backend) is not a dependency of crmhub: on first use the bench
installs ``splink==5.0.0`` with its three dependencies (``duckdb``, ``pyarrow``, ``sqlglot``) with
``pip install --target ~/.cache/crmhub/splink-5.0.0`` and appends that folder to ``sys.path``; the venv, its
packages and ``make test`` stay as they are.

The data and truth are those of the other identity benches, made by their own functions: the second generator
(:mod:`bench.person_corrupt`, tasks ``link`` and ``dedup`` per ``--level``, as :mod:`bench.bench_identity`),
the FEBRL sets (``febrl-link`` = dataset4a + 4b, ``febrl-dedup`` / ``-dedup2`` / ``-dedup1`` = dataset3 / 2 / 1,
as :mod:`bench.bench_febrl`) and pseudopeople's simulated town (``pp-census-ssa``, ``pp-census-1040``,
``pp-w2``, as :mod:`bench.bench_pseudopeople`, one mapping per data set). Both tools see the same values:
Splink gets each source row as the benches' customer mapping standardises it for crmhub (names, E.164 phones,
e-mails, ids, ISO dates; impossible dates null), then lower-cased and accent-folded as Splink's docs advise,
plus a soundex of the family name for blocking.

Splink is set up as its own tutorials do (febrl3/febrl4, deduplicate_50k_synthetic), not tuned to the truth:
``NameComparison`` with term-frequency adjustments for given and family name, ``DateOfBirthComparison``,
``EmailComparison``, the middle initial exactly, Damerau-Levenshtein at 1 and 2 for national id, phone, postal
code (with term frequencies; ``PostcodeComparison`` reads UK postcodes only) and street; the city is left out, as the
tutorials leave out location columns predictable from the postal code. Prediction blocks on family-name soundex
+ given initial, swapped names, birth date, postal code + street, e-mail, phone and national id (the kinds of
keys of ``pipelines/identity/blocking.py``); the chance of a match comes from deterministic rules (national id;
given + family + birth date; recall 0.8), u from 10 million random pairs (seed 1), m from EM blocked on
given + family name and on birth date (on the street where one source has no birth date); a column only one
source of a link task holds is not compared; then ``predict`` and ``cluster_pairwise_predictions_at_threshold`` at
match probability 0.95 (the 50k tutorial's) and 0.99 (the febrl4 tutorial's), both fixed before any run.

crmhub's side runs the CLI as the other benches do (``crmhub load``, export; ``crmhub unify train`` +
``relink``, export), so the table is "crmhub defaults | crmhub trained | Splink" per task, scored by
:func:`pipelines.identity.metrics.pairwise_prf`. For ``--diff TASK`` (default the hard link) it also lists the
true pairs one tool links and the other misses, and wrong merges of one only, with examples, and prints Splink's
m / u per level beside the printout of ``crmhub unify train``.

Usage: ``.venv/bin/python bench/bench_splink.py --task link dedup febrl-link --level hard [--tool both]``
(``--skip-crmhub`` = ``--tool splink``; ``--show 5`` examples; ``--keep DIR``).
"""

from __future__ import annotations

import argparse
import logging
import math
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import jellyfish

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bench_febrl as febrl
from bench import bench_identity as ident
from bench.person_corrupt import LEVELS, Record
from bench.person_report import SHOWN
from bench.splink_tasks import FEBRL, PSEUDO, Task, febrl_task, generated, pseudo_task
from pipelines.identity.config import MatchConfig
from pipelines.identity.features import Features, features
from pipelines.identity.metrics import PRF, pairwise_prf
from pipelines.identity.scoring import MatchScore, score
from pipelines.mapping import parse_mapping

SPLINK = "splink==5.0.0"
TARGET = Path.home() / ".cache" / "crmhub" / "splink-5.0.0"
THRESHOLDS = (0.95, 0.99)


def use_splink() -> None:
    """Put Splink on ``sys.path``, installing it into the user cache first if it is not there."""
    if not (TARGET / "splink-5.0.0.dist-info").is_dir():
        partial = TARGET.with_name(TARGET.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        print(f"installing {SPLINK} into {TARGET} (once)")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--target", str(partial), SPLINK], check=True)
        shutil.rmtree(TARGET, ignore_errors=True)
        partial.rename(TARGET)
    if str(TARGET) not in sys.path:
        sys.path.append(str(TARGET))  # last: nothing in it shadows the venv's packages


@dataclass
class Result:
    label: str
    prf: PRF
    seconds: float
    assignment: dict[str, str]  # source/key -> cluster


def scored(task: Task, label: str, assignment: dict[str, str], seconds: float) -> Result:
    result = Result(label, pairwise_prf(assignment, task.truth), seconds, assignment)
    p = result.prf
    print(f"  {label:<16} P {p.precision:.4f}  R {p.recall:.4f}  F1 {p.f1:.4f}  (tp {p.true_pos}, wrong merges "
          f"{p.false_pos}, missed {p.false_neg})  {seconds:.1f} s")
    return result


# --- crmhub: the CLI steps of bench_identity / bench_febrl ------------------------------------------------------

def crmhub_side(task: Task, folder: Path) -> tuple[list[Result], str]:
    config = task.configure(folder, None)
    started = time.perf_counter()
    ident.run(["load", "-c", str(config)])
    out = [scored(task, "crmhub defaults", ident.exported(config, folder, "defaults"),
                  time.perf_counter() - started)]
    started = time.perf_counter()
    config, trained = febrl.train_relink(config, lambda model: task.configure(folder, model))
    seconds = time.perf_counter() - started
    out.append(scored(task, "crmhub trained", ident.exported(config, folder, "trained"), seconds))
    return out, trained


# --- Splink ------------------------------------------------------------------------------------------------------

def _fold(text: Any) -> str | None:
    if text is None or not str(text).strip():
        return None
    folded = unicodedata.normalize("NFKD", str(text).strip().lower())
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def canonical(task: Task) -> dict[str, dict[str, Any]]:
    """source/key -> the customer record the bench's mapping makes of the row (what crmhub stores)."""
    out: dict[str, dict[str, Any]] = {}
    for source, rows in task.rows.items():
        text = task.mappings.get(source) or task.mapping.format(source=source)
        target = parse_mapping(text, f"{source}.mapping").targets[0]
        out.update((f"{source}/{row[task.key]}", target.apply(row)[0]) for row in rows)
    return out


def splink_tables(canon: dict[str, dict[str, Any]]) -> dict[str, dict[str, list[str | None]]]:
    """Per source, one column per compared field (lower-cased, accent-folded) and the family name's soundex."""
    tables: dict[str, dict[str, list[str | None]]] = defaultdict(lambda: defaultdict(list))
    for ref, rec in canon.items():
        first = {k: (rec.get(k) or [{}])[0] for k in ("emails", "phones", "addresses")}
        dob = rec.get("birth_date")
        values = {"unique_id": ref, "given": _fold(rec.get("given_name")), "family": _fold(rec.get("family_name")),
                  "dob": dob.isoformat() if dob else None, "natid": _fold(rec.get("national_id")),
                  "middle": (_fold(rec.get("middle_name")) or "")[:1] or None,
                  "email": _fold(first["emails"].get("address")), "phone": _fold(first["phones"].get("number")),
                  "street": _fold(first["addresses"].get("line1")), "zip": _fold(first["addresses"].get("postal_code"))}
        values["family_sx"] = jellyfish.soundex(values["family"]) if values["family"] else None
        for k, v in values.items():
            tables[ref.split("/", 1)[0]][k].append(v)
    return tables


def splink_side(task: Task, canon: dict[str, dict[str, Any]]) -> tuple[list[Result], dict[tuple[str, str], float],
                                                                        list[str]]:
    import pyarrow as pa
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    tables = splink_tables(canon)
    has = set.intersection(*({c for c, vs in cols.items() if any(v is not None for v in vs)}
                             for cols in tables.values()))  # a column only one source holds compares nothing
    comparisons = [
        ("given", cl.NameComparison("given").configure(term_frequency_adjustments=True)),
        ("family", cl.NameComparison("family").configure(term_frequency_adjustments=True)),
        ("middle", cl.ExactMatch("middle")),  # the initial: one source may spell the name out
        ("dob", cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y-%m-%d")),
        ("natid", cl.DamerauLevenshteinAtThresholds("natid", [1, 2])),
        ("email", cl.EmailComparison("email")),
        ("phone", cl.DamerauLevenshteinAtThresholds("phone", [1, 2])),
        ("zip", cl.DamerauLevenshteinAtThresholds("zip", [1, 2]).configure(term_frequency_adjustments=True)),
        ("street", cl.DamerauLevenshteinAtThresholds("street", [1, 2])),
    ]
    rules = [(("family_sx", "given"), block_on("family_sx", "substr(given, 1, 1)")),
             (("given", "family"), "l.given = r.family and l.family = r.given"),
             (("dob",), block_on("dob")), (("zip", "street"), block_on("zip", "street")),
             (("email",), block_on("email")), (("phone",), block_on("phone")), (("natid",), block_on("natid"))]
    settings = SettingsCreator(
        link_type="link_only" if task.link else "dedupe_only", unique_id_column_name="unique_id",
        comparisons=[c for col, c in comparisons if col in has],
        blocking_rules_to_generate_predictions=[r for cols, r in rules if set(cols) <= has])
    db = DuckDBAPI()
    frames = [db.register(pa.table({c: pa.array(vs, pa.string()) for c, vs in cols.items()}),
                          dataset_display_name=s) for s, cols in tables.items()]
    linker = Linker(frames if task.link else frames[0], settings, log_level=logging.ERROR)
    started = time.perf_counter()
    deterministic = [("natid",), ("given", "family", "dob")]
    linker.training.estimate_probability_two_random_records_match(
        [block_on(*cols) for cols in deterministic if set(cols) <= has] or [block_on("given", "family")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    for cols in (("given", "family"), ("dob",) if "dob" in has else ("street",)):
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*cols),
                                                                           estimate_without_term_frequencies=True)
    trained = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    predicted = time.perf_counter()
    probability = {(a, b): p for a, b, p in predictions.as_duckdbpyrelation().select(
        "unique_id_l, unique_id_r, match_probability").fetchall()}
    print(f"  Splink: training {trained - started:.1f} s, predict {predicted - trained:.1f} s "
          f"({len(probability):,} pairs at probability >= 0.2)")
    out = []
    for threshold in THRESHOLDS:
        begun = time.perf_counter()
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold)
        got = {uid: str(cid) for uid, cid in clusters.as_duckdbpyrelation().select("unique_id, cluster_id").fetchall()}
        out.append(scored(task, f"Splink p>={threshold}", got, predicted - started + time.perf_counter() - begun))
    return out, probability, m_u_lines(linker.misc.save_model_to_json())


def m_u_lines(model: dict[str, Any]) -> list[str]:
    lines = [f"probability_two_random_records_match {model['probability_two_random_records_match']:.3g}"]
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            weight = f"{math.log2(m / u):+6.2f}" if m and u else "   n/a"
            lines.append(f"  {comparison['output_column_name']:<7} {level.get('label_for_charts', '?')[:44]:<44} "
                         f"m {m or 0:.4f}  u {u or 0:.6f}  weight {weight}")
    return lines


# --- where the two differ ----------------------------------------------------------------------------------------

def _pairs(groups: dict[str, list[str]]) -> Iterator[tuple[str, str]]:
    for members in groups.values():
        yield from combinations(sorted(members)[:300], 2)


def pair_sets(assignment: dict[str, str], truth: dict[str, str]) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """The true pairs the assignment links, and its wrong merges."""
    groups: dict[str, list[str]] = defaultdict(list)
    for ref, cluster in assignment.items():
        groups[cluster].append(ref)
    linked = set(_pairs(groups))
    return {p for p in linked if truth[p[0]] == truth[p[1]]}, {p for p in linked if truth[p[0]] != truth[p[1]]}


def _line(r: Record) -> str:
    kinds = f"  [{', '.join(r.kinds)}]" if r.kinds else ""
    return f"      {r.source}/{r.key:<7} {' | '.join(r.fields[f] or '-' for f in SHOWN)}{kinds}"


@dataclass
class Diff:
    task: Task
    prob: dict[tuple[str, str], float]  # Splink's match probability of the pairs it predicted (>= 0.2)
    feats: dict[str, Features]

    def crmhub(self, a: str, b: str) -> MatchScore:
        return score(self.feats[a], self.feats[b], MatchConfig())

    def show(self, title: str, pairs: list[tuple[str, str]], show: int) -> None:
        kinds: Counter[str] = Counter()
        said: Counter[str] = Counter()
        for a, b in pairs:
            kinds.update(set(self.task.records[a].kinds) | set(self.task.records[b].kinds) or {"(none)"})
            m = self.crmhub(a, b)
            said[f"{m.decision}{': ' + m.notes[0].split(':')[0] if m.notes else ''}"] += 1
        print(f"    {title}: {len(pairs)}\n      by corruption kind: "
              + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
        print("      crmhub's default weights say: " + "; ".join(f"{k} {n}" for k, n in said.most_common()))
        for a, b in pairs[:show]:
            p, m = self.prob.get((a, b), self.prob.get((b, a))), self.crmhub(a, b)
            levels = " ".join(f"{k}{v:+g}" for k, v in m.contributions.items())
            print(f"    Splink p {'< 0.2 or not blocked' if p is None else f'{p:.3f}'}; crmhub {m.total:+.1f} "
                  f"{m.decision} ({levels}){'; ' + m.notes[0] if m.notes else ''}\n"
                  f"{_line(self.task.records[a])}\n{_line(self.task.records[b])}")


def differences(diff: Diff, crm: list[Result], spl: Result, show: int) -> None:
    truth = diff.task.truth
    s_true, s_wrong = pair_sets(spl.assignment, truth)
    for i, c in enumerate(crm):
        c_true, c_wrong = pair_sets(c.assignment, truth)
        print(f"\n  where {c.label} and {spl.label} differ ({diff.task.name}): true pairs linked by both "
              f"{len(c_true & s_true)}, by Splink only {len(s_true - c_true)}, by crmhub only {len(c_true - s_true)}; "
              f"wrong merges of both {len(c_wrong & s_wrong)}, Splink only {len(s_wrong - c_wrong)}, "
              f"crmhub only {len(c_wrong - s_wrong)}")
        n = show if i == 0 else 0
        diff.show("true pairs Splink links, crmhub misses", sorted(s_true - c_true), n)
        diff.show("true pairs crmhub links, Splink misses", sorted(c_true - s_true), n)
        diff.show("wrong merges of Splink only", sorted(s_wrong - c_wrong), n)
        diff.show("wrong merges of crmhub only", sorted(c_wrong - s_wrong), n)
    edges = [(a, b) for (a, b), p in diff.prob.items() if p >= THRESHOLDS[0] and truth[a] != truth[b]]
    housed = sum(diff.task.records[a].household == diff.task.records[b].household for a, b in edges)
    print(f"\n  Splink's pairs at p >= {THRESHOLDS[0]} between two persons: {len(edges)}, {housed} of them housemates "
          f"(clustering joins their households: {len(s_wrong)} wrong pairs)")


# --- the run -----------------------------------------------------------------------------------------------------

def table(rows: list[tuple[str, int, dict[str, Result]]]) -> None:
    labels = list(dict.fromkeys(label for _t, _n, got in rows for label in got))
    print("\n| task | true pairs | " + " | ".join(f"{label} P / R / F1 (wrong, s)" for label in labels) + " |")
    print("|---|---|" + "---|" * len(labels))
    for name, pairs, got in rows:
        cells = [f"{got[k].prf.precision:.4f} / {got[k].prf.recall:.4f} / **{got[k].prf.f1:.4f}** "
                 f"({got[k].prf.false_pos}, {got[k].seconds:.1f})" if k in got else "-" for k in labels]
        print(f"| {name} | {pairs:,} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", nargs="+", choices=("link", "dedup", *FEBRL, *PSEUDO), default=["link", "dedup"])
    parser.add_argument("--level", nargs="+", choices=tuple(LEVELS), default=["hard"])
    parser.add_argument("--n", type=int, default=5000, help="records per source (second generator)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tool", choices=("splink", "crmhub", "both"), default="both")
    parser.add_argument("--skip-crmhub", action="store_true", help="the same as --tool splink")
    parser.add_argument("--diff", default="hard link", help="task whose differences to list ('' for none)")
    parser.add_argument("--show", type=int, default=5, help="examples of each kind of difference")
    parser.add_argument("--keep", type=Path, help="keep databases, configs and exports in this folder")
    args = parser.parse_args()
    tools = {"splink"} if args.skip_crmhub else {"splink", "crmhub"} if args.tool == "both" else {args.tool}
    if "splink" in tools:
        use_splink()
    plan = [(t, lv) for t in args.task if t in ("link", "dedup") for lv in args.level]
    plan += [(t, "") for t in args.task if t not in ("link", "dedup")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="crmhub-splink-") as tmp:
        root = args.keep or Path(tmp)
        for kind, level in plan:
            task = (febrl_task(kind) if kind in FEBRL else pseudo_task(kind) if kind in PSEUDO
                    else generated(kind, level, args.n, args.seed))
            pairs = pairwise_prf({}, task.truth).false_neg
            print(f"\ntask {task.name}: {len(task.truth)} records, {len(set(task.truth.values()))} persons, "
                  f"{pairs} true pairs")
            folder = root / task.name.replace(" ", "-").replace("+", "")
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            got: dict[str, Result] = {}
            trained_out, prob, m_u = "", dict[tuple[str, str], float](), list[str]()
            if "crmhub" in tools:
                crm, trained_out = crmhub_side(task, folder)
                got.update((r.label, r) for r in crm)
            canon = canonical(task)
            if "splink" in tools:
                spl, prob, m_u = splink_side(task, canon)
                got.update((r.label, r) for r in spl)
            rows.append((task.name, pairs, got))
            if task.name == args.diff and task.records and {"crmhub", "splink"} <= tools:
                diff = Diff(task, prob, {ref: features(rec) for ref, rec in canon.items()})
                differences(diff, [got["crmhub defaults"], got["crmhub trained"]], spl[0], args.show)
                print("\n  Splink's m / u per level:\n" + "\n".join(m_u))
                print("\n  `crmhub unify train` on the same records:\n" + trained_out.split("match weights of the")[0])
    table(rows)


if __name__ == "__main__":
    main()
