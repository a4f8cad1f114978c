"""Where a clustering of generated persons went wrong: lost records, missed pairs by corruption kind, wrong
merges between housemates and twins, and the most alike missed pairs / least alike wrong merges with their
field values (used by ``bench/bench_identity.py``).

"Alike" is counted independently of crmhub: the number of fields (given and family name, birth date, national
id, e-mail, phone, postal code, city) equal after case, accent and punctuation folding.

The ceiling says how much of what was missed any matcher could find without linking on names alone: a missed
pair with no field besides the names equal (not even a postal code) can only be joined on how rare its names
are; the recall and F1 if every other missed pair were found (wrong merges as they are) bound what tuning the
matcher can reach on this data.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from itertools import combinations

from bench.person_corrupt import Record
from bench.person_make import ascii_fold

COMPARED = ("given", "family", "dob", "natid", "email", "phone", "zip", "city")
BEYOND_NAMES = tuple(f for f in COMPARED if f not in ("given", "family"))
SHOWN = ("given", "family", "dob", "natid", "email", "phone", "street", "zip", "city", "country")
_MAX_CLUSTER = 300  # pairs of a bigger predicted cluster are sampled, not enumerated


def _norm(name: str, value: str) -> str:
    text = re.sub(r"[^0-9a-z]", "", ascii_fold(value).lower())
    if name == "phone":
        return text[-9:]
    return "" if name == "dob" and text in ("", "00000000") else text


def alike(a: Record, b: Record, fields: tuple[str, ...] = COMPARED) -> int:
    return sum(1 for f in fields if (x := _norm(f, a.fields[f])) and x == _norm(f, b.fields[f]))


def ceiling(true_pairs: int, found: int, wrong: int, missed: list[tuple[Record, Record]]) -> str:
    """The line on how many ``missed`` pairs have evidence besides their names, and the recall and F1 if all of
    those were found (``found`` true pairs joined, ``wrong`` false pairs)."""
    names_only = sum(1 for a, b in missed if alike(a, b, BEYOND_NAMES) == 0)
    best = found + len(missed) - names_only
    recall = best / max(true_pairs, 1)
    precision = best / max(best + wrong, 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-9)
    return (f"    missed pairs with no field besides the names equal: {names_only} of {len(missed)}; if every other "
            f"missed pair were found: recall {recall:.4f}, F1 {f1:.4f} (the ceiling without linking on names "
            "alone)")


def _ref(r: Record) -> str:
    return f"{r.source}/{r.key}"


def _line(r: Record) -> str:
    values = " | ".join(r.fields[f] or "-" for f in SHOWN)
    kinds = f"  [{', '.join(r.kinds)}]" if r.kinds else ""
    return f"      {_ref(r):<14} {r.entity}  {values}{kinds}"


def _pairs(groups: Mapping[str, list[Record]]) -> Iterator[tuple[Record, Record]]:
    for members in groups.values():
        if len(members) > _MAX_CLUSTER:
            members = members[:_MAX_CLUSTER]
        yield from combinations(members, 2)


def report(label: str, records: list[Record], predicted: Mapping[str, str], show: int) -> None:
    """Print the error analysis of ``predicted`` (``source/key`` -> golden id) against the records' truth."""
    by_entity: dict[str, list[Record]] = defaultdict(list)
    by_golden: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        by_entity[r.entity].append(r)
        if _ref(r) in predicted:
            by_golden[predicted[_ref(r)]].append(r)
    lost = [r for r in records if _ref(r) not in predicted]
    print(f"  [{label}] error analysis")
    if lost:
        print(f"    lost records (not in the export, e.g. rejected to the DLQ): {len(lost)}")
        for r in lost[:show]:
            print(_line(r))
    _by_kind(by_entity, predicted)
    missed = [(alike(a, b), a, b) for a, b in _pairs(by_entity)
              if _ref(a) in predicted and _ref(b) in predicted and predicted[_ref(a)] != predicted[_ref(b)]]
    wrong = [(alike(a, b), a, b) for a, b in _pairs(by_golden) if a.entity != b.entity]
    housed = sum(1 for _s, a, b in wrong if a.household == b.household)
    twins = sum(1 for _s, a, b in wrong if a.household == b.household and a.fields["dob"] == b.fields["dob"])
    print(f"    false positive pairs: {len(wrong)}, of them same household {housed} (same birth date, twins-like "
          f"{twins}); false negative pairs between loaded records: {len(missed)}")
    true_pairs = [(a, b) for a, b in _pairs(by_entity) if _ref(a) in predicted and _ref(b) in predicted]
    print(ceiling(len(true_pairs), len(true_pairs) - len(missed), len(wrong), [(a, b) for _s, a, b in missed]))
    if show and missed:
        print(f"    most alike missed pairs (fields equal of {len(COMPARED)}):")
        for score, a, b in sorted(missed, key=lambda t: (-t[0], _ref(t[1]), _ref(t[2])))[:show]:
            print(f"    {score} equal\n{_line(a)}\n{_line(b)}")
    if show and wrong:
        print("    least alike wrong merges:")
        for score, a, b in sorted(wrong, key=lambda t: (t[0], _ref(t[1]), _ref(t[2])))[:show]:
            print(f"    {score} equal\n{_line(a)}\n{_line(b)}")


def _by_kind(by_entity: Mapping[str, list[Record]], predicted: Mapping[str, str]) -> None:
    """Recall of true pairs by the corruption kinds the pair carries (a pair counts under each of them)."""
    total: Counter[str] = Counter()
    found: Counter[str] = Counter()
    for a, b in _pairs(by_entity):
        kinds = set(a.kinds) | set(b.kinds) or {"(none)"}
        hit = _ref(a) in predicted and predicted.get(_ref(a)) == predicted.get(_ref(b))
        for kind in kinds:
            total[kind] += 1
            found[kind] += hit
    cells = [f"{k} {found[k] / total[k]:.2f} ({total[k]})" for k, _n in total.most_common()]
    print("    recall of true pairs by corruption kind (pairs):")
    for i in range(0, len(cells), 6):
        print("      " + "  ".join(cells[i:i + 6]))
