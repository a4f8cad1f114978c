"""The synthetic two-source customer generator: deterministic, valid canonical records, realistic mix."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

from bench.identity_data import HARD, Noise, generate, phone_text, typo
from schemas.canonical import coerce


def test_same_seed_same_records_other_seed_other_records() -> None:
    assert generate(200, seed=5) == generate(200, seed=5)
    assert generate(200, seed=5) != generate(200, seed=6)


def test_every_record_is_a_valid_canonical_customer() -> None:
    for noise in (Noise(), HARD):
        for _source, _key, record, _entity in generate(400, seed=1, noise=noise):
            _, problems = coerce("customer", record)
            assert problems == []


def test_two_sources_with_overlap_singles_and_duplicates() -> None:
    rows = generate(1000, seed=2)
    sources_of: dict[str, list[str]] = defaultdict(list)
    for source, _key, _record, entity in rows:
        sources_of[entity].append(source)
    assert {s for s, *_ in rows} == {"ibmi", "oracle"}
    shapes = Counter(tuple(sorted(s)) for s in sources_of.values())
    assert shapes[("ibmi", "oracle")] > 600
    assert shapes[("ibmi",)] > 50 and shapes[("oracle",)] > 50
    assert any(len(set(s)) < len(s) for s in sources_of.values())  # twice in the same source
    keys = [(source, key) for source, key, *_ in rows]
    assert len(keys) == len(set(keys))


def test_mix_of_persons_organisations_households_and_xrefs() -> None:
    rows = generate(1000, seed=3)
    kinds = Counter(record["kind"] for _, _, record, _ in rows)
    assert kinds["organisation"] > 100 and kinds["person"] > 1000
    homes: dict[tuple[str, str], set[str]] = defaultdict(set)
    for _, _, record, entity in rows:
        if record["kind"] == "person" and record["addresses"]:
            homes[(record["addresses"][0]["line1"].upper(), record["family_name"].upper())].add(entity)
    assert any(len(entities) > 1 for entities in homes.values())  # different people, same name and address
    with_xref = [record for source, _, record, _ in rows if record.get("xrefs")]
    assert 0 < len(with_xref) < 0.03 * len(rows)
    ibmi_keys = {(key, entity) for source, key, _, entity in rows if source == "ibmi"}
    for _, _, record, entity in rows:
        for xref in record.get("xrefs", []):
            assert (xref["key"], entity) in ibmi_keys  # an xref points at the same customer


def test_noise_helpers() -> None:
    rng = random.Random(1)
    changed = [typo("Schneider", rng) for _ in range(50)]
    assert sum(t != "Schneider" for t in changed) > 40
    assert all(abs(len(t) - len("Schneider")) <= 1 for t in changed)
    formats = {phone_text("891234567", "DE", rng) for _ in range(50)}
    assert len(formats) > 3
    assert all("".join(c for c in f if c.isdigit()).endswith("891234567") for f in formats)
