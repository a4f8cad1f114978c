"""Given names and their usual gender: the male and female form of one name against typos that look like one."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from pipelines.identity.compare import given_level
from pipelines.identity.given_names import gender_of, gendered, parse_genders

SAMPLE = ('{"&amp;me": [1, 1, 0.0, 3], "giovanna": [26, 27748, 0.99, 3], "giovanni": [30, 129118, 0.001, 3], '
          '"talis": [13, 147, 0.112, [2, 2, 3]], "andrea": [34, 772519, 0.83, [0, 2, 2]], '
          '"kim": [30, 400000, 0.5, [0, 2]], "jan": [32, 252311, 0.235, [2, 2]]}')


@pytest.fixture(autouse=True)
def _no_cache_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRMHUB_CACHE", raising=False)  # the tests name the cache folder with XDG_CACHE_HOME


def test_only_common_names_given_clearly_to_one_gender_count() -> None:
    genders = parse_genders(SAMPLE)
    assert genders == {"giovanna": "f", "giovanni": "m", "andrea": "f", "jan": "m"}
    assert "talis" not in genders  # too rare to be known as a man's name
    assert "kim" not in genders  # given to both
    assert parse_genders(SAMPLE, min_count=100, clear=0.2) == {"giovanna": "f", "giovanni": "m", "talis": "m",
                                                               "andrea": "f"}  # jan: 23.5 % women


def test_the_installed_name_data_is_read() -> None:
    assert (gender_of("giovanna"), gender_of("giovanni")) == ("f", "m")
    assert (gender_of("michelle"), gender_of("stefan")) == ("f", "m")
    assert gender_of("talis") is None and gender_of("zzyzx") is None


def test_male_and_female_forms_need_two_names_of_different_genders() -> None:
    for male, female in (("giovanni", "giovanna"), ("julius", "julia"), ("michel", "michelle"), ("jan", "jana"),
                         ("stefan", "stefanie"), ("carlo", "carla")):
        assert gendered(male, female) and gendered(female, male), (male, female)
    for x, y in (("talia", "talis"), ("sophia", "sophie"), ("julia", "julie"), ("emma", "emmo"),
                 ("marco", "marca"), ("nikola", "nikolas")):
        assert not gendered(x, y), (x, y)


def test_a_mistyped_nickname_from_the_english_table_is_a_nickname_unless_it_is_a_name_itself() -> None:
    """jacc (jack keyed wrong) for john, rnick (mick read off a scan) for michael, beciy for rebecca; not jake
    for john, nor mara for carol (one slip from cara): names of their own, as twins may have."""
    for full, typed in (("john", "jacc"), ("michael", "rnick"), ("rebecca", "beciy")):
        assert given_level(full, full, full, typed, typed, typed) == "nickname", (full, typed)
        assert given_level(typed, typed, typed, full, full, full) == "nickname", (typed, full)
    for full, other in (("john", "jake"), ("carol", "mara")):
        assert given_level(full, full, full, other, other, other) != "nickname", (full, other)


def test_continental_pet_names_are_nicknames_of_their_full_names() -> None:
    """Pet names no spelling rule derives (Basti for Sebastian, Totò for Salvatore, Paco for Francisco, Kees for
    Cornelis); one that maps to another short form ends at that form's full name (Andi -> Andreas -> Andrew)."""
    from pipelines.identity import features
    from pipelines.identity.features import NICKNAMES
    for short, full in (("Basti", "Sebastian"), ("Totò", "Salvatore"), ("PACO", "Francisco"), ("Kees", "Cornelis"),
                        ("Andi", "Andreas"), ("Zé", "José")):
        a, b = features({"kind": "person", "given_name": short}), features({"kind": "person", "given_name": full})
        assert given_level(a["given"], a["given1"], a["gcanon"], b["given"], b["given1"], b["gcanon"]) == \
            "nickname", (short, full)
    assert not set(NICKNAMES.values()) & set(NICKNAMES)  # every short form maps to a full name, not to another
    a, b = features({"kind": "person", "given_name": "Paco"}), features({"kind": "person", "given_name": "Pepe"})
    assert given_level(a["given"], a["given1"], a["gcanon"], b["given"], b["given1"], b["gcanon"]) == "disagree"


def test_a_typo_in_the_ending_is_a_typo_not_another_person() -> None:
    assert given_level("talia", "talia", "talia", "talis", "talis", "talis") == "fuzzy"
    assert given_level("elena", "elena", "elena", "eleno", "eleno", "eleno") == "fuzzy"
    assert given_level("daniel", "daniel", "daniel", "daniela", "daniela", "daniela") == "gendered"


def test_names_are_kept_in_the_folded_form_they_are_looked_up_in() -> None:
    sample = ('{"no\\u00e9mie": [9, 5000, 0.99, 3], "noemie": [9, 8000, 0.99, 3], "joey": [20, 90000, 0.1, 3], '
              '"joy": [20, 80000, 0.95, 3], "helene": [9, 7000, 0.99, 3]}')
    genders = parse_genders(sample.encode().decode("unicode_escape"))
    assert genders == {"nomie": "f", "helene": "f"}  # joey and joy fold alike with different genders: neither
    assert gender_of("nomie") == "f"  # noemi as fold() gives it, found in the installed data


def test_a_quote_inside_a_key_starts_no_entry() -> None:
    sample = r'{"ab\"giovanni": [1, 5000, 0.0, 3], "x\\": [1, 5000, 0.0, 3], "anna": [3, 9000, 0.99, 3]}'
    # not "giovanni" from the tail of another key; a key ending in an escaped backslash is read whole
    assert parse_genders(sample) == {"x": "m", "anna": "f"}


def test_the_kept_names_are_read_from_the_cache_folder_by_the_next_process(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.identity import given_names

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    given_names._genders.cache_clear()
    try:
        first = given_names._genders()
        written = list((tmp_path / "crmhub").glob("given-names-*.json"))
        assert len(written) == 1 and json.loads(written[0].read_text()) == first
        assert first["giovanna"] == "f" and first["giovanni"] == "m"

        given_names._genders.cache_clear()  # a new process: the data file is not parsed again
        monkeypatch.setattr(given_names, "parse_genders", lambda *_a, **_k: pytest.fail("parsed again"))
        assert given_names._genders() == first
    finally:
        given_names._genders.cache_clear()


@pytest.mark.parametrize("kept", ["{not json", '{"anna": "x"}', "{}", "[]"])
def test_a_broken_cache_file_is_passed_over_and_written_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              kept: str) -> None:
    from pipelines.identity import given_names

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = given_names._cache_file(given_names._data_file())
    path.parent.mkdir(parents=True)
    path.write_text(kept)
    given_names._genders.cache_clear()
    try:
        genders = given_names._genders()
        assert genders["giovanni"] == "m" and len(genders) > 10_000
        assert json.loads(path.read_text()) == genders
    finally:
        given_names._genders.cache_clear()


def test_an_unwritable_cache_folder_still_gives_the_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.identity import given_names

    (tmp_path / "crmhub").write_text("a file where the folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    given_names._genders.cache_clear()
    try:
        assert given_names._genders()["giovanna"] == "f"
    finally:
        given_names._genders.cache_clear()


def test_writing_the_kept_names_removes_files_no_process_read_for_a_month(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.identity import given_names

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = tmp_path / "crmhub"
    folder.mkdir()
    old, recent, other = folder / "given-names-old.json", folder / "given-names-recent.json", folder / "kafka.json"
    for path in (old, recent, other):
        path.write_text('{"anna": "f"}')
    month_ago = time.time() - given_names.STALE_S - 60
    os.utime(old, (month_ago, month_ago))
    os.utime(other, (month_ago, month_ago))
    given_names._genders.cache_clear()
    try:
        given_names._genders()
        assert not old.exists()  # another version's or installation's, unread for a month
        assert recent.exists() and other.exists()  # read lately; not a kept-names file
        kept = given_names._cache_file(given_names._data_file())
        os.utime(kept, (month_ago, month_ago))
        given_names._genders.cache_clear()
        given_names._genders()  # read from the cache: its time says it is in use
        assert time.time() - kept.stat().st_mtime < 60
    finally:
        given_names._genders.cache_clear()
