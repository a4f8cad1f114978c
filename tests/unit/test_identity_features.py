"""Match features: normalisation of names, organisations, addresses, phones, e-mails and ids."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from pipelines.identity.features import (
    FEATURES_VERSION,
    features,
    fold,
    identifier,
    org_name,
    person_name,
    phone_digits,
    postal,
    street,
)


def person(**fields: Any) -> dict[str, Any]:
    return {"kind": "person", **fields}


@pytest.mark.parametrize(("raw", "expected"), [
    ("  Émilie-Anne  ", "emilie anne"),
    ("GROß", "gross"),
    ("Søren Łukasz", "soren lukasz"),
    ("O'Brien", "obrien"),
    ("MUELLER", "muller"),
    ("Müller", "muller"),
    ("D'Angelo", "dangelo"),
])
def test_fold_casefolds_ascii_folds_and_drops_punctuation(raw: str, expected: str) -> None:
    assert fold(raw) == expected


def test_person_name_drops_titles_but_never_the_whole_name() -> None:
    assert person_name("Dr. Hans-Peter") == "hans peter"
    assert person_name("Prof. Dr. Anna") == "anna"
    assert person_name("Dr.") == "dr"  # nothing else to keep
    assert person_name(None) == ""
    assert person_name("Espo5ito") == "esposito" and person_name("Henry 8") == "henry 8"


@pytest.mark.parametrize(("raw", "expected"), [
    ("Müller Bau G.m.b.H. & Co. KG", "muller bau"),
    ("MUELLER BAU GMBH", "muller bau"),
    ("Acme Ltd.", "acme"),
    ("ACME LIMITED", "acme"),
    ("Rossi Costruzioni S.p.A.", "rossi costruzioni"),
    ("Dupont Transports S.A.R.L.", "dupont transports"),
    ("Van Dijk B.V.", "van dijk"),
    ("Smith & Sons Inc", "smith sons"),
])
def test_org_name_strips_legal_forms(raw: str, expected: str) -> None:
    assert org_name(raw) == expected


@pytest.mark.parametrize(("a", "b"), [
    ("Hauptstraße 12", "HAUPTSTR. 12"),
    ("Hauptstrasse 12", "Hauptstr 12"),
    ("12 Baker Street", "12, BAKER ST."),
    ("5 avenue Victor Hugo", "5 AV. VICTOR HUGO"),
    ("Viale Europa 3", "V.le Europa 3"),
    ("Marktplatz 1", "Marktpl. 1"),
])
def test_street_abbreviations_normalise_alike(a: str, b: str) -> None:
    assert street(a) == street(b)


def test_street_keeps_different_streets_apart() -> None:
    assert street("Hauptstraße 12") != street("Bahnhofstraße 12")
    assert street("Hauptstraße 12") == "hauptstr 12"


def test_postal_codes_lose_spaces_and_country_prefix() -> None:
    assert postal("D-80331") == "80331"
    assert postal("SW1A 1AA") == "sw1a1aa"
    assert postal("F-75001") == postal("75001")
    assert postal(None) == ""


def test_phone_digits_are_format_independent() -> None:
    formats = ["+49 89 1234567", "089/1234567", "0049 89 1234567", "(089) 123-4567", "+49891234567"]
    assert {phone_digits(f) for f in formats} == {"891234567"}
    assert phone_digits("12-34") == ""  # too short to say anything


def test_identifiers_drop_separators_and_vat_country_prefix() -> None:
    assert identifier(" 123 456-789 ") == "123456789"
    assert identifier("DE 123 456 789", drop_country=True) == identifier("123456789", drop_country=True)
    assert identifier("AB123", drop_country=True) == "AB123"  # too short to be a prefixed number


def test_features_of_a_full_person_record() -> None:
    f = features(person(
        given_name="Dr. Hans-Peter", family_name="Müller", birth_date=date(1970, 3, 4),
        addresses=[{"line1": "Hauptstraße 12", "postal_code": "D-80331", "city": "München", "country": "DE"}],
        phones=[{"number": "+49 89 1234567"}, {"number": "089 1234567"}],
        emails=[{"address": " Hans.Mueller@Example.DE "}, {"address": "a@b.de"}],
        national_id="12 345-678", xrefs=[{"source": "ibmi", "key": "42"}],
    ), "oracle", "C-7")
    assert f["v"] == FEATURES_VERSION
    assert (f["kind"], f["given"], f["given1"], f["family"], f["org"]) == ("person", "hans peter", "hans", "muller", "")
    assert f["gcanon"] == "johannes"  # hans is a short form of johannes
    assert f["tokens"] == ["hans", "peter", "muller"]
    assert f["dob"] == "1970-03-04"
    assert f["emails"] == ["a@b.de", "hans.mueller@example.de"]
    assert f["phones"] == ["891234567"]
    assert f["addrs"] == [["hauptstr 12", "80331", "munchen", "12"]]
    assert f["country"] == "de"
    assert f["nid"] == "12345678"
    assert (f["ref"], f["xrefs"]) == ("oracle/C-7", ["ibmi/42"])
    assert f["sx_family"] == "M460" and f["sx_given"] != ""


def test_features_are_json_safe_and_missing_values_are_empty() -> None:
    f = features({"kind": "person", "given_name": None, "family_name": "Rossi", "birth_date": None})
    assert json.loads(json.dumps(f)) == f
    assert (f["given"], f["dob"], f["emails"], f["addrs"], f["ref"], f["nid"]) == ("", "", [], [], "", "")


def test_features_accept_the_json_form_of_a_customer() -> None:
    a = features(person(given_name="Anna", family_name="Rossi", birth_date=date(1980, 1, 2)))
    b = features(person(given_name="Anna", family_name="Rossi", birth_date="1980-01-02"))
    assert a == b
    assert features(person(birth_date="not a date"))["dob"] == ""


def test_organisation_features() -> None:
    f = features({"kind": "organisation", "org_name": "Müller Bau GmbH", "tax_id": "DE 123 456 789",
                  "addresses": [{"line1": "12 Baker Street", "postal_code": "SW1A 1AA", "country": "GB"}]})
    assert (f["kind"], f["org"], f["tokens"], f["tax"]) == ("organisation", "muller bau", ["muller", "bau"],
                                                           "123456789")
    assert len(f["sx_org"]) == 2
    assert features({"kind": "ORGANIZATION", "org_name": "X"})["kind"] == "organisation"


def test_spelled_out_umlauts_fold_but_names_ending_in_el_or_e_keep_their_letters() -> None:
    from pipelines.identity.features import fold
    assert fold("MUELLER") == fold("Müller") == "muller"
    assert fold("Schroeder") == fold("Schröder")
    assert [fold(n) for n in ("Michael", "Manuel", "Michaela", "Chloe", "Samuels")] == \
        ["michael", "manuel", "michaela", "chloe", "samuels"]


def test_country_names_become_iso_codes() -> None:
    from pipelines.identity.features import country_of
    assert country_of("GERMANY") == country_of("Deutschland") == country_of("de") == "de"
    assert country_of("United Kingdom") == "gb"
    assert country_of("Narnia") == ""


def test_names_in_other_scripts_and_with_invisible_characters_fold_to_latin_letters() -> None:
    from pipelines.identity.features import fold
    assert fold("Сергей Иванов") == "sergey ivanov"  # Cyrillic: compared, not dropped
    assert fold("Ελένη") == "eleni"
    assert fold("Jüri Nguyễn") == "juri nguyen"  # Latin accents as before
    assert fold("Sco\u200bt\u200dt\ufeff") == "scott"  # zero-width space and joiner, a byte-order mark
    assert fold("\uff33\uff2d\uff29\uff34\uff28 \uff11\uff12") == "smith 12"  # full-width forms
    cyrillic = features(person(given_name="Сергей", family_name="Иванов", birth_date=date(1970, 3, 4)))
    latin = features(person(given_name="Sergey", family_name="IVANOV", birth_date=date(1970, 3, 4)))
    assert (cyrillic["given"], cyrillic["family"]) == (latin["given"], latin["family"]) == ("sergey", "ivanov")
