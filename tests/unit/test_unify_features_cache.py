"""The unify step's reuse of match features: which fields they come from, and that reuse changes no result."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from pipelines.identity.features import FEATURE_FIELDS, features
from pipelines.unify.resolver import stored_features

CUSTOMER: dict[str, Any] = {
    "kind": "person", "given_name": "Anna Maria", "family_name": "Berger", "org_name": None,
    "birth_date": date(1980, 5, 17), "national_id": "DE-1234", "tax_id": None, "credit_limit": Decimal("1000.00"),
    "credit_status": "OK", "owning_agent": "AGT07",
    "emails": [{"address": "Anna@Example.com"}], "phones": [{"number": "+49 89 1234567"}],
    "addresses": [{"line1": "Hauptstr. 5", "postal_code": "80331", "city": "München", "country": "DE"}],
    "xrefs": [{"source": "sap", "key": "42"}],
}


class Reads(Mapping[str, Any]):
    """A customer that records which fields are read."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data, self.read = data, set[str]()

    def __getitem__(self, name: str) -> Any:
        self.read.add(name)
        return self.data[name]

    def __iter__(self) -> Iterator[str]:
        self.read.update(self.data)  # iterating reads every field
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def test_features_read_only_the_feature_fields() -> None:
    customer = Reads(CUSTOMER)
    features(customer, "crm", "1")
    assert customer.read and customer.read <= set(FEATURE_FIELDS)
    assert {"given_name", "family_name", "addresses", "birth_date"} <= customer.read


def test_stored_features_are_the_features_as_stored_json_also_when_reused() -> None:
    expected = json.loads(json.dumps(features(CUSTOMER, "crm", "1"), default=str))
    first = stored_features(CUSTOMER, "crm", "1")
    assert first == expected
    first["given"] = "changed by a caller"  # a caller's copy: the next result is not affected
    again = stored_features({**CUSTOMER, "credit_limit": Decimal("2500.00"), "credit_status": "HOLD"}, "crm", "1")
    assert again == expected


def test_stored_features_follow_a_changed_feature_field_source_or_key() -> None:
    base = stored_features(CUSTOMER, "crm", "1")
    moved = stored_features({**CUSTOMER, "addresses": [{"line1": "Ringstr. 9", "postal_code": "10115",
                                                         "city": "Berlin", "country": "DE"}]}, "crm", "1")
    assert moved["addrs"] != base["addrs"]
    assert stored_features(CUSTOMER, "crm", "2")["ref"] == "crm/2" != base["ref"]
    assert stored_features({**CUSTOMER, "birth_date": date(1980, 5, 18)}, "crm", "1")["dob"] != base["dob"]
