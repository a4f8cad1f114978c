"""An impossible birth date (19660091) is set to null by canonicalize, which keeps its text in the warning; its
digits still count when they are a slip or two from the other record's date, never as a disagreement."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from pipelines.identity import Features, MatchConfig, features, score
from pipelines.identity.features import raw_birth_date
from pipelines.identity.scoring import birth_level
from pipelines.identity.training import comparison
from pipelines.unify.resolver import stored_features
from schemas.canonical import Warning_, nulled_text

CFG = MatchConfig()
MOVED = {"line1": "Via Roma 111", "postal_code": "20143", "city": "Milano", "country": "IT"}


def person(dob: date | None = None, **extra: Any) -> dict[str, Any]:
    return {"kind": "person", "given_name": "Salvatore", "family_name": "Serra", "birth_date": dob,
            "addresses": [MOVED], **extra}


def test_an_impossible_date_is_kept_in_the_shape_of_an_iso_date_when_its_year_is_plausible() -> None:
    assert raw_birth_date("19910094") == "1991-00-94"
    assert raw_birth_date("1989-27-01") == "1989-27-01"
    assert raw_birth_date("00000000") == "" and raw_birth_date("31.04.1980") == ""  # no year first
    assert raw_birth_date("29991301") == "" and raw_birth_date(None) == ""


def test_the_digits_count_as_a_slip_from_a_valid_date_and_never_as_a_disagreement() -> None:
    valid = features(person(date(1991, 9, 4)))
    swapped = features(person(), dob_raw="19910094")  # two neighbouring digits swapped
    assert birth_level(valid, swapped) == "typo" == birth_level(swapped, valid)
    assert birth_level(valid, features(person(), dob_raw="19910409")) == "transposed"
    assert birth_level(valid, features(person(), dob_raw="19650231")) == ""  # far off: no evidence either way
    assert birth_level(swapped, features(person(), dob_raw="1991-00-94")) == "exact"  # the same text twice
    assert features(person(date(1991, 9, 4)), dob_raw="19910094").get("dob_raw") is None  # a valid date wins


def test_a_record_whose_impossible_date_is_in_its_warning_scores_on_its_digits() -> None:
    home = {"line1": "Via San Francesco 29", "postal_code": "50123", "city": "Firenze", "country": "IT"}
    a = features(person(date(1991, 9, 4), addresses=[home], phones=[{"number": "+39 055 8372786"}]))
    warnings = (Warning_("transform:yyyymmdd", "birth_date", "birth_date: not a date (value set to null)",
                         "19910094"),)
    b = cast(Features, stored_features(person(), "crm", "7", nulled_text(warnings, "birth_date")))  # as stored
    assert b["dob"] == "" and b.get("dob_raw") == "1991-00-94"
    result = score(a, b, CFG)
    assert "dob.typo" in result.contributions
    without = score(a, features(person()), CFG)
    assert "dob.typo" not in without.contributions and result.total > without.total


def test_training_learns_birth_date_levels_from_valid_dates_only() -> None:
    valid = features(person(date(1991, 9, 4)))
    raw = features(person(), dob_raw="19910094")
    assert "dob" not in comparison(valid, raw, CFG)
    assert comparison(valid, features(person(date(1991, 9, 14))), CFG)["dob"] == "typo"
