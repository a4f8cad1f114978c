"""Settings of identity resolution: decision thresholds, field weights and the block-size guard.

Weights are log2 likelihood ratios in the Fellegi-Sunter sense, one per ``<field>.<level>``: how much more
likely that outcome of the comparison is for two records of the same customer than for two records of
different customers. Positive weights are evidence for a link, negative ones against; a missing value
contributes nothing. The defaults were tuned with ``bench/bench_match.py`` (seeds 1-3; reported on others);
override single weights with ``weights: {dob.disagree: -9}``. Contributions are named like the weights (plus
``household.cap``, see ``MatchConfig.household_cap``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from schemas.settings import ConfigModel

DEFAULT_WEIGHTS: dict[str, float] = {
    "given.exact": 4.0,  # first given names equal (or one is the other's second given name: fuzzy)
    "given.nickname": 3.0,  # equal once nicknames are mapped (bill / william)
    "given.fuzzy": 3.0,  # a typo: 1 edit (2 from 7 letters); male/female forms (jan/jana) disagree
    "given.initial": 1.5,  # one side is an initial of the other
    "given.disagree": -5.0,
    "family.exact": 5.0,
    "family.fuzzy": 3.5,  # a typo (as given.fuzzy), or a shared part of a double name
    "family.disagree": -4.0,
    "org.exact": 9.0,  # organisation names equal without legal forms
    "org.fuzzy": 7.0,  # similarity >= 90 (rapidfuzz ratio, or with the words sorted)
    "org.partial": 0.5,  # all tokens of the shorter name in the longer one
    "org.disagree": -6.0,
    "dob.exact": 7.0,
    "dob.partial": 1.0,  # day/month swapped, one mistyped digit, year off by one
    "dob.disagree": -8.0,
    "email.agree": 7.0,
    "email.disagree": -1.5,
    "phone.agree": 4.0,
    "phone.disagree": -0.5,
    "address.exact": 4.0,  # same street line and same postal code or city
    "address.fuzzy": 3.0,  # similar street line (typo) in the same postal code or city
    "address.area": 0.5,  # same postal code (or city, when a postal code is missing) only
    "address.disagree": -1.5,  # people move: weak
    "country.disagree": -3.0,
    "national_id.conflict": -25.0,  # both present and different
    "tax_id.conflict": -12.0,
    "kind.disagree": -25.0,  # person vs organisation
}


def _unknown_weight(name: str) -> str:
    close = difflib.get_close_matches(name, DEFAULT_WEIGHTS, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(DEFAULT_WEIGHTS)})"
    return f"unknown weight '{name}'{hint}"


class MatchConfig(ConfigModel):
    """``link``: total score from which two records are the same customer; ``review``: from which a pair is
    worth a human look (below: a new customer). ``max_candidates``: a blocking key whose block holds more
    records is skipped for that look-up (it says too little to be worth comparing against).
    ``household_cap``: when two persons' given names or birth dates disagree, the most their shared e-mail,
    phone and address may add together (people of one household share them)."""

    link: float = 10.0
    review: float = 8.0
    weights: dict[str, float] = Field(default_factory=dict)
    max_candidates: Annotated[int, Field(ge=1)] = 200
    household_cap: Annotated[float, Field(ge=0)] = 3.0

    @field_validator("weights")
    @classmethod
    def _known_weights(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = [_unknown_weight(name) for name in value if name not in DEFAULT_WEIGHTS]
        if unknown:
            raise PydanticCustomError("unknown_weight", "; ".join(unknown))
        return value

    @classmethod
    def _cross_check(cls, data: Mapping[str, Any]) -> list[InitErrorDetails]:
        link = data.get("link", cls.model_fields["link"].default)
        review = data.get("review", cls.model_fields["review"].default)
        if isinstance(link, (int, float)) and isinstance(review, (int, float)) and review >= link:
            error = PydanticCustomError("threshold_order", "review threshold must be below the link threshold")
            return [InitErrorDetails(type=error, loc=("review",), input=review)]
        return []

    @cached_property
    def table(self) -> dict[str, float]:
        """Every effective weight by name (computed once; do not modify)."""
        return {**DEFAULT_WEIGHTS, **self.weights}

    @cached_property
    def best_names(self) -> float:
        """The most a pair's given and family names can add (the best level of each, or nothing)."""
        table = self.table
        return sum(max(0.0, *(v for k, v in table.items() if k.startswith(f"{name}."))) for name in ("given", "family"))

    def weight(self, name: str) -> float:
        """The effective weight of ``<field>.<level>`` (the override, else the default)."""
        return self.table[name]
