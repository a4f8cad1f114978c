"""Survivorship of a golden record with one member takes a shortcut (every rule picks that member when it has
the field); it must give exactly what the general ranking gives. The general path runs when the same member is
listed twice: each rule then chooses between two identical candidates, and unions drop the duplicates."""

from __future__ import annotations

import random
from typing import Any

import pytest

from pipelines.survivorship import Member, SurvivorshipConfig, survival_plan, survive

RULES = ["most_recent", "source_priority", "most_complete", "first_non_null"]


def member(rnd: random.Random) -> Member:
    def maybe(value: Any) -> Any:
        return rnd.choice([value, None, ""])

    data = {
        "kind": maybe("organisation"), "org_name": maybe("Müller GmbH"), "given_name": maybe("Anna"),
        "family_name": maybe("Roth"), "birth_date": maybe("1980-02-29"), "credit_limit": maybe("1500.00"),
        "credit_status": maybe("FROZEN"), "owning_agent": maybe("AGT07"),
        "addresses": rnd.choice([[], [{"type": "main", "city": "Köln", "country": "DE"},
                                      {"type": "billing", "city": "KÖLN ", "country": "de"}]]),
        "phones": rnd.choice([[], [{"type": "main", "number": "+4922112345"}] * 2]),
        "emails": rnd.choice([[], [{"type": "main", "address": "a@b.de"}, {"type": "work", "address": "A@B.DE"}]]),
    }
    field_ts = rnd.choice([None, {"credit_limit": 99, "credit_status": 99}])
    return Member("ibmi", "200017", "CUSTMAST", 42, 7, data, field_ts)


@pytest.mark.parametrize("rule", RULES)
def test_one_member_gives_what_the_general_ranking_gives(rule: str) -> None:
    cfg = SurvivorshipConfig(default=rule, source_priority=["oracle", "ibmi"])  # type: ignore[arg-type]
    plan = survival_plan(cfg)
    rnd = random.Random(rule)
    for _ in range(200):
        m = member(rnd)
        golden, lineage = survive([m], cfg, plan)
        assert (golden, lineage) == survive([m, m], cfg, plan)
        for field, value in m.data.items():  # and it is the member's own value, or empty when it has none
            if field not in ("addresses", "phones", "emails", "kind"):
                assert golden[field] == (value if value not in (None, "") else None)
        if m.field_ts and m.data["credit_limit"]:
            assert lineage["credit_limit"]["ts_ms"] == 99
