"""Blocking keys: short, prefixed, shared by true pairs (also swapped or mistyped), small blocks."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from itertools import combinations

from bench.identity_data import generate
from pipelines.identity import block_keys, features


def keys_of(record: dict[str, object]) -> set[str]:
    return set(block_keys(features(record)))


def test_keys_are_short_prefixed_and_unique() -> None:
    record = {"kind": "person", "given_name": "Hans", "family_name": "Müller", "birth_date": date(1970, 3, 4),
              "addresses": [{"line1": "Hauptstraße 12", "postal_code": "80331", "city": "München"}],
              "phones": [{"number": "+49 89 1234567"}],
              "emails": [{"address": "a.very.long.address.that.goes.on.and.on@some-provider.example.com"}]}
    keys = block_keys(features(record, "ibmi", "42"))
    assert len(keys) == len(set(keys))
    assert all(":" in k and len(k) <= 48 for k in keys)
    prefixes = {k.split(":", 1)[0] for k in keys}
    assert {"e", "p", "x", "gf", "d", "ny", "pf", "dp", "a", "ac", "an"} <= prefixes
    assert "x:ibmi/42" in keys
    assert not any(k in ("ny:", "gf:") for k in keys)


def test_swapped_names_share_the_name_key() -> None:
    a = keys_of({"kind": "person", "given_name": "Anna", "family_name": "Schmidt"})
    b = keys_of({"kind": "person", "given_name": "SCHMIDT", "family_name": "ANNA"})
    assert {k for k in a if k.startswith("gf:")} == {k for k in b if k.startswith("gf:")} != set()


def test_mistyped_family_name_still_shares_a_key() -> None:
    common = {"birth_date": date(1952, 9, 16), "addresses": [{"line1": "Kirchstr. 77", "postal_code": "04938"}]}
    a = keys_of({"kind": "person", "given_name": "Claudia", "family_name": "Zimmermann", **common})
    b = keys_of({"kind": "person", "given_name": "Claudia", "family_name": "Rimmermann", **common})
    assert a & b


def test_a_typo_at_the_start_of_the_street_still_shares_the_address_key() -> None:
    # the family names sound different (soundex T654 / T540), one birth date is missing and the street
    # typo is in the letters the street keys take: postal code and house number still meet
    a = keys_of({"kind": "person", "given_name": "Susan", "family_name": "Thornley",
                 "addresses": [{"line1": "139b Manor Rd", "postal_code": "EH6 6QH", "city": "Edinburgh"}]})
    b = keys_of({"kind": "person", "given_name": "Susie", "family_name": "Thonley", "birth_date": date(1942, 2, 18),
                 "addresses": [{"line1": "139b Mmanor Rd", "postal_code": "EH6 6QH", "city": "Edinburgh"}]})
    assert a & b == {"an:eh66qh|139b|rrd"}
    # the same house number on another street of the postal code is another building: no shared key
    c = keys_of({"kind": "person", "given_name": "Susie", "family_name": "Thonley", "birth_date": date(1942, 2, 18),
                 "addresses": [{"line1": "139b Leith Walk", "postal_code": "EH6 6QH", "city": "Edinburgh"}]})
    assert not a & c


def test_the_given_name_at_home_meets_a_record_whose_family_name_is_blank_or_a_stand_in() -> None:
    home = {"addresses": [{"line1": "2333 Westminster Place", "postal_code": "00000", "city": "Anytown"}]}
    worley = keys_of({"kind": "person", "given_name": "Mary", "family_name": "Worley", **home})
    for family in (None, "Owner"):
        other = keys_of({"kind": "person", "given_name": "Mary", "family_name": family, **home})
        assert "ga:mary|00000|2333|wes" in worley & other, family
    # another resident of the building: only the building's keys, which a large building's block skips
    anna = keys_of({"kind": "person", "given_name": "Anna", "family_name": "Owner", **home})
    assert {k.split(":", 1)[0] for k in worley & anna} == {"a", "ac", "an"}


def test_no_key_from_one_weak_field_alone() -> None:
    keys = keys_of({"kind": "person", "birth_date": date(1970, 1, 1),
                    "addresses": [{"country": "DE", "city": "Berlin"}]})
    assert keys == set()  # neither a birth date nor a country alone make a block


def test_both_names_mistyped_after_a_move_still_share_the_birth_date() -> None:
    a = keys_of({"kind": "person", "given_name": "Giuseppe", "family_name": "Esposito",
                 "birth_date": date(2005, 5, 30), "addresses": [{"line1": "Viale Europa 42", "postal_code": "20151"}]})
    b = keys_of({"kind": "person", "given_name": "IGUSEPPE", "family_name": "RSPOSIDTO",
                 "birth_date": date(2005, 5, 30), "addresses": [{"line1": "Piazza della Liberta 67",
                                                                  "postal_code": "00169"}]})
    assert a & b == {"d:2005-05-30"}


def test_day_and_month_written_in_the_other_order_still_share_a_name_key() -> None:
    def moved(given: str, dob: date | None, raw: str | None = None, home: str = "85012") -> set[str]:
        record = {"kind": "person", "given_name": given, "family_name": "Goodard", "birth_date": dob,
                  "addresses": [{"line1": "Birkenweg 12", "postal_code": home}]}
        return set(block_keys(features(record, "crm", given, raw)))

    a = moved("Charles", date(1981, 9, 11))
    assert a & moved("Chafles", date(1981, 11, 9), home="19153") == {"ny:G3631981-09", "ny:G3631981-11"}
    assert not a & moved("Chafles", date(1981, 10, 13), home="19153")  # neither date nor its swap in October
    late = moved("Sabine", date(2003, 8, 22))  # the 22nd cannot be a month: only the date's own month
    assert {k for k in late if k.startswith("ny:")} == {"ny:S1502003-08", "ny:G3632003-08"}
    swapped = moved("Sablne", None, "20032208", home="01188")  # the impossible 2003-22-08
    assert late & swapped == {"ny:G3632003-08"}


def test_an_impossible_day_still_meets_its_year_and_month() -> None:
    def moved(given: str, family: str, dob: date | None, raw: str | None, home: str) -> set[str]:
        record = {"kind": "person", "given_name": given, "family_name": family, "birth_date": dob,
                  "addresses": [{"line1": "Schulstr 117", "postal_code": home}]}
        return set(block_keys(features(record, "crm", family, raw)))

    a = moved("Martina", "Fischer", date(1967, 2, 24), None, "50797")
    typed = moved("Martina", "Fisher", None, "19670242", "13384")  # the 42nd of February, after a move
    assert a & typed == {"ny:M6351967-02", "ny:F2601967-02"}
    assert not {k for k in moved("Martina", "Fisher", None, "19671324", "13384") if k.startswith("ny:")}


def test_a_mistyped_id_still_shares_a_key_with_its_record() -> None:
    def id_keys(nid: str) -> set[str]:
        return {k for k in keys_of({"kind": "person", "given_name": "Jacobie", "family_name": "Tilley",
                                    "national_id": nid}) if k.startswith("n")}
    typed = id_keys("4137877")
    assert "n:4137877" in typed and len(id_keys("1234567")) == 2 + 7  # the id, and each character left out
    assert typed & id_keys("4137787")  # neighbours swapped
    assert typed & id_keys("4137817")  # one digit wrong
    assert typed & id_keys("413787")  # one left out
    assert not typed & id_keys("4731877")  # two edits: no shared key
    assert id_keys("1234") == {"n:1234"}  # too short to be compared for typos


def test_organisation_keys() -> None:
    keys = keys_of({"kind": "organisation", "org_name": "Müller Bau GmbH", "tax_id": "DE123456789",
                    "addresses": [{"postal_code": "80331", "country": "DE"}]})
    assert "t:123456789" in keys
    assert any(k.startswith("o:de|") for k in keys) and any(k.startswith("op:80331|") for k in keys)


def test_blocking_recall_and_block_sizes_on_generated_data() -> None:
    rows = generate(500, seed=11)
    keys = [set(block_keys(features(rec, source, key))) for source, key, rec, _ in rows]
    members: dict[str, list[int]] = defaultdict(list)
    for i, (*_, entity) in enumerate(rows):
        members[entity].append(i)
    true_pairs = [(i, j) for records in members.values() for i, j in combinations(records, 2)]
    found = sum(bool(keys[i] & keys[j]) for i, j in true_pairs)
    assert len(true_pairs) > 300
    assert found / len(true_pairs) >= 0.99
    sizes = Counter(k for record_keys in keys for k in record_keys)
    assert max(sizes.values()) < 40  # no key gathers a large part of the ~850 records
