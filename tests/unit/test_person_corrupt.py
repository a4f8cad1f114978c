"""The independent synthetic-person generator of the identity bench: deterministic, and each corruption changes
what it claims to change; truth labels, households, twins and difficulty levels hold."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date
from statistics import mean

import pytest

from bench import person_make as M
from bench import person_words as W
from bench.person_corrupt import (
    KINDS,
    LEVELS,
    STYLE_A,
    STYLE_B,
    Level,
    Record,
    corrupt,
    date_typo,
    dedup,
    edit_typo,
    id_typo,
    impossible_date,
    keyboard_typo,
    linkage,
    neighbours,
    ocr_error,
    phonetic_variant,
    swap_day_month,
    valid_date,
)

SEEDS = range(60)
WORDS = ("Schmidt", "Katharina", "PHILIPP", "Bernard", "Clara Hammerschmidt", "Weinstein", "Müller", "Martinez")


def _one_substitution(before: str, after: str, pairs: tuple[tuple[str, str], ...]) -> bool:
    swaps = [(case(a), case(b)) for x, y in pairs for a, b in ((x, y), (y, x))
             for case in (str, str.upper, str.capitalize)]
    return any(before[:i] + b + before[i + len(a):] == after
               for a, b in swaps for i in range(len(before)) if before.startswith(a, i))


def test_same_seed_same_records_other_seed_other_records() -> None:
    assert linkage(150, "hard", seed=7) == linkage(150, "hard", seed=7)
    assert dedup(150, "hard", seed=7) == dedup(150, "hard", seed=7)
    assert linkage(150, "hard", seed=7) != linkage(150, "hard", seed=8)


def test_keyboard_neighbours_on_qwerty() -> None:
    assert set(neighbours("a")) == set("qwsz")
    assert set(neighbours("s")) == set("weadzx")
    assert set(neighbours("M")) == set("njk")
    assert neighbours("ü") == "" and neighbours("1") == ""


@pytest.mark.parametrize("word", WORDS)
def test_keyboard_typo_changes_one_letter_to_a_neighbouring_key(word: str) -> None:
    for seed in SEEDS:
        typo = keyboard_typo(word, random.Random(seed))
        assert typo is not None and len(typo) == len(word)
        diff = [i for i, (a, b) in enumerate(zip(word, typo, strict=True)) if a != b]
        assert len(diff) == 1
        i = diff[0]
        assert typo[i].lower() in neighbours(word[i]) and typo[i].isupper() == word[i].isupper()


@pytest.mark.parametrize("word", WORDS)
def test_edit_typo_is_one_deletion_doubling_or_transposition(word: str) -> None:
    for seed in SEEDS:
        typo = edit_typo(word, random.Random(seed))
        assert typo is not None and typo != word
        deleted = any(word[:i] + word[i + 1:] == typo for i in range(len(word)))
        doubled = any(word[:i] + word[i] + word[i:] == typo for i in range(len(word)))
        swapped = any(word[:i] + word[i + 1] + word[i] + word[i + 2:] == typo for i in range(len(word) - 1))
        assert deleted or doubled or swapped


def test_ocr_and_phonetic_are_one_listed_substitution() -> None:
    for word in (*WORDS, "Bernhard", "Clausen", "10115", "lisa.klein@web.de", "Vogt"):
        for seed in SEEDS:
            ocr = ocr_error(word, random.Random(seed))
            assert ocr is None or _one_substitution(word, ocr, W.OCR_PAIRS)
            sound = phonetic_variant(word, random.Random(seed))
            assert sound is None or _one_substitution(word, sound, W.PHONETIC_PAIRS + W.FOLDINGS)
    assert ocr_error("arn", random.Random(1)) == "am"
    assert {phonetic_variant("Philipp", random.Random(s)) for s in SEEDS} >= {"Filipp"}
    assert "Mueller" in {phonetic_variant("Müller", random.Random(s)) for s in SEEDS}
    assert "Müler" in {phonetic_variant("Müller", random.Random(s)) for s in SEEDS}
    assert "Miller" not in {phonetic_variant("Müller", random.Random(s)) for s in SEEDS}
    assert "Lleone" not in {phonetic_variant("Leone", random.Random(s)) for s in SEEDS}  # no doubled initial
    assert "Rnaria" in {ocr_error("Maria", random.Random(s)) for s in SEEDS}  # the case of the word is kept
    assert "RNaria" not in {ocr_error("Maria", random.Random(s)) for s in SEEDS}
    assert "RNARIA" in {ocr_error("MARIA", random.Random(s)) for s in SEEDS}


def test_transposed_dates_swap_day_and_month() -> None:
    assert swap_day_month("19800305") == "19800503"
    assert swap_day_month("19801211") == "19801112"
    assert swap_day_month("19800325") is None  # month 25 does not exist: that is an impossible date instead
    assert swap_day_month("19800303") is None and swap_day_month("") is None


def test_impossible_dates_are_raw_text_no_calendar_has() -> None:
    for text in ("19660901", "19800325", "20010228", "19541111"):
        for seed in SEEDS:
            bad = impossible_date(text, random.Random(seed))
            assert bad is not None and len(bad) == 8 and bad.isdigit() and not valid_date(bad)
    assert "19660091" in {impossible_date("19660901", random.Random(s)) for s in SEEDS}


def test_date_and_id_typos() -> None:
    for seed in SEEDS:
        typo = date_typo("19750614", random.Random(seed))
        assert typo is not None and typo[:2] == "19" and sum(a != b for a, b in zip("19750614", typo, strict=True)) == 1
        natid = "123-45-6789"
        wrong = id_typo(natid, random.Random(seed))
        assert wrong is not None and wrong != natid and len(wrong) == len(natid) and wrong[3] == wrong[6] == "-"
        diff = [i for i, (a, b) in enumerate(zip(natid, wrong, strict=True)) if a != b]
        one_digit = len(diff) == 1
        transposed = len(diff) == 2 and diff[1] == diff[0] + 1 and wrong[diff[0]] == natid[diff[1]] \
            and wrong[diff[1]] == natid[diff[0]]
        assert one_digit or transposed
    assert id_typo("", random.Random(1)) is None


def _person(rng: random.Random) -> M.Person:
    return M.new_person(rng, "P1")


def test_record_kinds_nickname_swap_missing_moved() -> None:
    rng = random.Random(3)
    person = _person(rng)
    row = M.render(person, STYLE_A, rng)
    row["given"] = "William"
    assert KINDS["nickname"](row, person, STYLE_A, rng) and row["given"] in ("Bill", "Will", "Billy")
    row["given"] = "Katharina"
    assert KINDS["nickname"](row, person, STYLE_A, rng) and row["given"] in ("Kathi", "Katja")
    row["given"] = "Kathi"
    assert KINDS["nickname"](row, person, STYLE_A, rng) and row["given"] == "Katharina"
    given, family = row["given"], row["family"]
    assert KINDS["swap_names"](row, person, STYLE_A, rng) and (row["given"], row["family"]) == (family, given)
    before = dict(row)
    assert KINDS["missing"](row, person, STYLE_A, rng)
    assert [k for k in row if row[k] != before[k]] and all(row[k] == "" for k in row if row[k] != before[k])
    before = dict(row)
    assert KINDS["moved"](row, person, STYLE_A, rng)
    assert row["city"] != before["city"] and row["street"] != before["street"] and row["zip"] != before["zip"]
    assert row["given"] == before["given"] and row["dob"] == before["dob"]


def test_one_character_error_per_field_unless_the_level_allows_more() -> None:
    typos = (("keyboard", 1.0), ("edit", 1.0), ("ocr", 1.0), ("phonetic", 1.0))
    strict = Level("strict", ((3, 1.0),), typos, 0.0, 0.0, 0.0, per_field=1)
    loose = Level("loose", ((3, 1.0),), typos, 0.0, 0.0, 0.0, per_field=3)
    twice = 0
    for seed in SEEDS:
        rng = random.Random(seed)
        person = _person(rng)
        clean = M.render(person, STYLE_A, rng)
        for level in (strict, loose):
            row = dict(clean)
            kinds = corrupt(row, person, STYLE_A, level, rng)
            changed = sum(row[f] != clean[f] for f in row)
            assert changed == len(kinds) if level is strict else changed <= len(kinds)
            twice += level is loose and changed < len(kinds)
    assert twice  # the loose level does put two errors into one field now and then


def test_every_duplicate_carries_its_entity_id() -> None:
    data = linkage(300, "medium", seed=5)
    a_entities = {r.entity for r in data.a}
    copies = [r for r in data.b if r.entity in a_entities]
    assert len(data.a) == len(data.b) == 300 and 0.7 * 300 < len(copies) < 0.9 * 300
    assert all(r.kinds for r in copies) and not any(r.kinds for r in data.b if r.entity not in a_entities)
    assert len(a_entities) == 300  # source A holds each person once
    records = dedup(400, "medium", seed=5)
    originals = {r.entity for r in records if not r.kinds}
    assert all(r.entity in originals for r in records if r.kinds)
    assert any(r.kinds for r in records) and len({r.key for r in records}) == 400


def test_households_share_address_but_not_identity() -> None:
    data = linkage(600, "hard", seed=2)
    homes: dict[str, list[Record]] = defaultdict(list)
    for r in data.a:
        homes[r.household].append(r)
    shared = [rs for rs in homes.values() if len(rs) > 1]
    assert len(shared) > 20
    for rs in shared:
        assert len({r.entity for r in rs}) == len(rs)
        for name in ("family", "street", "zip", "city"):
            assert len({r.fields[name] for r in rs if r.fields[name]}) == 1
        assert len({r.fields["natid"] for r in rs if r.fields["natid"]}) == sum(1 for r in rs if r.fields["natid"])
    assert any(len({r.fields["email"] for r in rs if r.fields["email"]}) == 1 < len(rs) for rs in shared)
    mailbox: dict[str, set[str]] = defaultdict(set)  # but a mailbox never spans two households
    for r in data.a:
        if r.fields["email"]:
            mailbox[r.fields["email"]].add(r.household)
    assert all(len(homes) == 1 for homes in mailbox.values())


def test_twins_share_family_address_and_birth_date_not_the_given_name() -> None:
    level = Level("twins", ((1, 1.0),), LEVELS["easy"].weights, household=0.0, twins=1.0, duplicated=0.0)
    people = M.population(random.Random(4), 40, level.household, level.twins)
    for first, second in zip(people[::2], people[1::2], strict=True):
        assert second.household == first.entity != second.entity
        assert (second.family, second.street, second.zip, second.dob) == (first.family, first.street, first.zip,
                                                                         first.dob)
        assert second.given != first.given and second.natid != first.natid


def _changed_fields(records: list[Record]) -> float:
    originals = {r.entity: r for r in records if not r.kinds}
    return mean(sum(r.fields[f] != originals[r.entity].fields[f] for f in M.FIELDS)
                for r in records if r.kinds and r.entity in originals)


def test_harder_levels_corrupt_more() -> None:
    rates = {name: _changed_fields(dedup(600, name, seed=11)) for name in ("easy", "medium", "hard")}
    kinds = {name: mean(len(r.kinds) for r in dedup(600, name, seed=11) if r.kinds) for name in rates}
    assert rates["easy"] < rates["medium"] < rates["hard"]
    assert kinds["easy"] < kinds["medium"] < kinds["hard"]


def test_national_ids_carry_their_check_digits() -> None:
    rng = random.Random(9)
    for _ in range(50):
        de = M.national_id(rng, "DE", "F", date(1980, 1, 1))
        assert len(de) == 11 and M.luhn_digit(de[:-1]) == de[-1]
        es = M.national_id(rng, "ES", "M", date(1980, 1, 1))
        assert es[-1] == "TRWAGMYFPDXBNJZSQVHLCKE"[int(es[:8]) % 23]
        nl = M.national_id(rng, "NL", "M", date(1980, 1, 1))
        assert sum((9 - i) * int(d) for i, d in enumerate(nl[:8])) % 11 == int(nl[8])
        fr = M.national_id(rng, "FR", "M", date(1966, 9, 1))
        assert fr[:5] == "16609" and int(fr[-2:]) == 97 - int(fr[:-2]) % 97


def test_source_styles() -> None:
    rng = random.Random(12)
    for _ in range(50):
        person = _person(rng)
        row = M.render(person, STYLE_B, rng)
        assert all(v.isascii() for v in row.values())
        assert row["family"] == row["family"].upper()
        assert row["country"] == W.COUNTRY_NAMES[person.country].upper()
        clean = M.render(person, STYLE_A, rng)
        assert clean["given"] == person.given and clean["country"] == person.country
    # an old code page stays one after corruption: source B never holds an accent
    assert all(v.isascii() for r in linkage(300, "hard", seed=3).b for v in r.fields.values())


def test_the_ceiling_counts_only_missed_pairs_with_a_field_besides_the_names() -> None:
    from bench.person_report import ceiling

    def rec(key: int, **fields: str) -> Record:
        base = {f: "" for f in ("given", "family", "dob", "natid", "email", "phone", "street", "zip", "city",
                                "country")}
        return Record("a", key, "p1", "h1", {**base, "given": "Anna", "family": "Berger", **fields})

    names_only = (rec(1, zip="1010"), rec(2, zip="8020"))  # only the names agree
    folded = (rec(3, email="Anna.Berger@Example.com"), rec(4, email="anna.berger@example.com"))  # an e-mail too
    line = ceiling(true_pairs=10, found=6, wrong=0, missed=[names_only, folded])
    assert "no field besides the names equal: 1 of 2" in line
    assert "recall 0.7000" in line and "F1 0.8235" in line  # 7 of 10 found, precision 1
