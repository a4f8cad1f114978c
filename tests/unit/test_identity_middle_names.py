"""Middle names as evidence, placeholder names as no name, and an id two housemates share."""

from __future__ import annotations

from datetime import date
from typing import Any

from pipelines.identity import MatchConfig, cannot_reach, features, score
from pipelines.identity.compare import middle_level
from pipelines.identity.features import person_name
from pipelines.identity.stand_ins import placeholder, stand_in_family

CFG = MatchConfig()
HOME = {"line1": "1130 Mallory Ln", "postal_code": "98101", "city": "Seattle", "country": "US"}
OTHER = {"line1": "77 Pine St", "postal_code": "98101", "city": "Seattle", "country": "US"}


def person(given: str | None, family: str | None, middle: str | None = None, dob: date | None = None, *,
           address: dict[str, str] | None = None, nid: str | None = None) -> dict[str, Any]:
    return {"kind": "person", "given_name": given, "middle_name": middle, "family_name": family, "birth_date": dob,
            "addresses": [address] if address else [], "national_id": nid}


def test_middle_name_levels() -> None:
    assert middle_level("alicia", "alicia") == "exact"
    assert middle_level("a", "alicia") == "initial" and middle_level("alicia", "a") == "initial"
    assert middle_level("j", "j") == "initial"  # two initials: a weaker agreement than two equal names
    assert middle_level("frederick", "fredrick") == "initial"  # a typo: the initial is sure
    assert middle_level("j", "k") == "disagree" and middle_level("anne", "alice") == "disagree"
    assert middle_level("", "j") == "" and middle_level("j", "") == ""


def test_features_keep_the_middle_name_normalised() -> None:
    assert features(person("Emily", "Dockins", "Alicia"))["middle"] == "alicia"
    assert features(person("Emily", "Dockins", "A."))["middle"] == "a"
    assert features(person("Emily", "Dockins"))["middle"] == ""


def test_placeholder_names_are_no_name() -> None:
    for text in ("Unknown", "UNK", "FNU", "No Last Name", "Baby Boy", "Adult Male", "Grandchild", "Respondent"):
        assert placeholder(person_name(text)), text
        assert features(person(text, "Ross"))["given"] == ""
    assert not placeholder(person_name("Baby Jane")) and not placeholder(person_name("Sunny"))
    for text in ("Ms", "Lady of", "Gentleman", "Mrs."):  # a title or description alone
        assert features(person(text, "Ross"))["given"] == "", text
    for text in ("Of The House", "de la Casa", "Last Name", "F"):  # placeholders and an initial as family name
        assert features(person("Elan", text))["family"] == "", text
    assert features(person("Elan", "House"))["family"] == "house"  # no "of": a name
    assert not placeholder("of") and not placeholder("the") and features(person("Mr", "Ross"))["family"] == "ross"
    assert features(person("Mary", "Unk"))["family"] == "" and features(person("Mary", "No Last Name"))["family"] == ""
    # a role word is a family name as well: only the "unknown" markers are dropped there
    assert features(person("Ellen", "Child"))["family"] == "child"
    assert features(person("Anna", "Berger", "Nmn"))["middle"] == ""
    assert features(person("Mary", "Archie"))["given"] == "mary"


def test_what_census_forms_hold_in_place_of_a_name_is_no_name() -> None:
    for text in ("Lady of House", "Man of the House", "GOH", "Soh", "Child F", "Baby A", "Person Two", "House",
                 "Gent", "Refused", "Apellido", "Anonymous", "HHM"):
        assert features(person(text, "Ross"))["given"] == "", text
    for text in ("Refused", "Apellido", "Anonymous", "Dont Know", "of the House"):
        assert features(person("Elan", text))["family"] == "", text
    for text in ("Anna Maria", "Jo", "Mansour", "Sonja", "Friedrich"):  # names that hold such a word's letters
        assert features(person(text, "Ross"))["given"] != "", text
    assert not placeholder("house m") and not placeholder("hayes h")  # an initial beside a name or a house alone


def test_a_family_name_that_may_stand_for_none_is_no_evidence_against() -> None:
    for text in ("Wife", "Respondent", "Man of the House", "Lady of the House", "Doe", "Four", "Owner", "House"):
        assert stand_in_family(features(person("Robert", text))["family"]), text
    for text in ("Tran", "Parenti", "Dole", "Housel"):
        assert not stand_in_family(features(person("Robert", text))["family"]), text
    tran = features(person("Robert", "Tran", "D", address=HOME))
    for text in ("Wife", "Doe", "Owner"):  # one source's form held a word where the family name goes
        result = score(features(person("Robert", text, "D", address=HOME)), tran, CFG)
        assert not any(k.startswith("family.") for k in result.contributions), text
        assert result.decision == "link", text
    assert score(features(person("Robert", "Tran", "D", address=HOME)),  # a real name that differs still counts
                 features(person("Robert", "Nguyen", "D", address=HOME)), CFG).decision != "link"
    both = score(features(person("Ellen", "Parent", address=HOME)), features(person("Ellen", "Parent")), CFG)
    assert both.contributions["family.exact"] > 0  # the same word in both: a family name after all


def test_a_placeholder_given_name_is_no_evidence_against() -> None:
    a = features(person("Daughter", "Carter", dob=date(2001, 5, 2), address=HOME))
    b = features(person("Olivia", "Carter", dob=date(2001, 5, 2), address=HOME))
    result = score(a, b, CFG)
    assert not any(k.startswith("given.") for k in result.contributions)


def test_a_middle_initial_lifts_names_alone_to_a_link_and_a_different_one_keeps_them_apart() -> None:
    a = features(person("Heather", "Castillo", "J", date(1973, 7, 24), address=HOME))
    b = features(person("Heather", "Castillo", "J"))  # another source: no birth date, no address
    result = score(a, b, CFG)
    assert result.contributions["middle.initial"] > 0 and result.decision == "link"
    plain = score(features(person("Heather", "Castillo", dob=date(1973, 7, 24))),
                  features(person("Heather", "Castillo")), CFG)
    assert plain.decision == "review"  # names alone: namesakes
    other = score(a, features(person("Heather", "Castillo", "M")), CFG)
    assert other.contributions["middle.disagree"] < 0 and other.decision != "link"


def test_cannot_reach_counts_the_middle_name_only_when_both_have_one() -> None:
    a = features(person("Jason", "Garrell", "F", date(1970, 2, 6)))
    b = features(person("Jasen", "Garrel", "Frederick", date(1970, 2, 6)))
    full = score(a, b, CFG).total
    bound = CFG.best_names + CFG.best_middle + CFG.table["dob.exact"]
    assert full <= bound
    assert not cannot_reach(a, b, MatchConfig(review=bound - 0.1, link=bound + 1))
    assert cannot_reach(a, b, MatchConfig(review=bound + 0.1, link=bound + 1))
    without = features(person("Jasen", "Garrel", None, date(1970, 2, 6)))
    assert cannot_reach(a, without, MatchConfig(review=CFG.best_names + CFG.table["dob.exact"] + 0.1, link=30))


def test_an_id_two_housemates_share_is_a_possible_match_not_a_link() -> None:
    husband = features(person("Eric", "Roldan", "R", address=HOME, nid="396-29-1980"))
    for wife in (features(person("Gloria", "Marin", "T", address=HOME, nid="396291980")),  # no name agrees
                 features(person("Gloria", "Roldan", "R", address=HOME, nid="396291980")),  # a man and a woman
                 features(person("Logan", "Roldan", "K", address=HOME, nid="396291980"))):  # middle names differ
        result = score(husband, wife, CFG)
        assert result.deterministic is None and result.decision == "review"
        assert any("housemate" in note for note in result.notes)


def test_an_id_under_a_given_and_a_middle_name_of_one_s_own_is_no_link_wherever_the_records_live() -> None:
    """A W-2 under a housemate's social security number, mailed to another street: given and middle names both
    differ, so the equal id is no deterministic link, shared address or not."""
    filer = features(person("Brandon", "Lowe", "T", address=HOME, nid="533-21-7788"))
    other = features(person("Kimberly", "Lowe", "A", address=OTHER, nid="533217788"))
    result = score(filer, other, CFG)
    assert result.deterministic is None and result.decision != "link"
    assert any("housemate" in note for note in result.notes)
    same_day = features(person("Kimberly", "Lowe", "A", dob=date(1980, 5, 1), address=OTHER, nid="533217788"))
    filer_born = features(person("Brandon", "Lowe", "T", dob=date(1980, 5, 1), address=HOME, nid="533-21-7788"))
    assert score(filer_born, same_day, CFG).deterministic == "national_id"  # the birth date agrees


def test_an_equal_id_still_links_when_a_name_or_the_birth_date_agrees_or_no_address_is_shared() -> None:
    a = features(person("Isabelle", "Spratt", address=HOME, nid="5074015"))
    renamed = features(person("Charlotte", "Spratt", address=HOME, nid="5074015"))  # one name agrees
    assert score(a, renamed, CFG).deterministic == "national_id"
    unknown = features(person("Campbelq", "Spratt", address=HOME, nid="5074015"))  # a garbled name: no gender
    assert score(a, unknown, CFG).deterministic == "national_id"
    born = features(person("Luke", "Purdon", dob=date(1983, 10, 24), address=HOME, nid="8099933"))
    other_name = features(person("Mia", "Smith", dob=date(1983, 10, 24), address=HOME, nid="8099933"))
    assert score(born, other_name, CFG).decision == "link"  # the birth date agrees: a name keyed wrong
    moved = features(person("Charlotte", "Nolan", address=OTHER, nid="5074015"))
    assert score(a, moved, CFG).deterministic == "national_id"  # not housemates: the id decides


def test_a_garbled_given_name_beside_the_same_birth_date_and_middle_initial_links_but_twins_do_not() -> None:
    born = date(1965, 3, 14)
    brenda = features(person("Brenda", "Kopec", "K", born, address=HOME))
    garbled = features(person("Hrsjdw", "Kopec", "Karen", born))  # no given name of the name data
    result = score(brenda, garbled, CFG)
    assert "given.disagree" in result.contributions and result.decision == "link"
    twin = features(person("Karen", "Kopec", "K", born))  # two real names: twins, a possible match at most
    assert score(brenda, twin, CFG).decision == "review"
    other_middle = features(person("Hrsjdw", "Kopec", "T", born))  # the middle initial differs too
    assert score(brenda, other_middle, CFG).decision != "link"


def test_names_alike_at_one_address_with_different_middle_initials_are_a_household_not_a_link() -> None:
    """Jon A and John B Smith at one address with no birth date to tell: father and son as likely as one man
    with a slip in the given name, so the shared address counts as a household's; the same birth date links."""
    home = {"line1": "1501 Interlake Ave N", "postal_code": "98103", "city": "Seattle", "country": "US"}

    def smith(given: str, middle: str, **extra: Any) -> Any:
        return features({"kind": "person", "given_name": given, "middle_name": middle, "family_name": "Smith",
                         "addresses": [home], **extra}, "census", given)

    result = score(smith("Jon", "A"), smith("John", "B"), CFG)
    assert {"given.fuzzy", "middle.disagree", "household.cap"} <= set(result.contributions)
    assert result.decision == "review"
    born = {"birth_date": "1961-04-02"}
    assert score(smith("Jon", "A", **born), smith("John", "B", **born), CFG).decision == "link"
