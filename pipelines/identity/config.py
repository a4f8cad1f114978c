"""Settings of identity resolution: decision thresholds, field weights, a learned model and the block-size guard.

Weights are log2 likelihood ratios in the Fellegi-Sunter sense, one per ``<field>.<level>`` (the levels are
described in :mod:`pipelines.identity.compare`): how much more likely that outcome of the comparison is for two
records of the same customer than for two records of different customers. Positive weights are evidence for a
link, negative ones against; a missing value contributes nothing. The defaults hold without training; ``crmhub
unify train`` estimates them from the data in the store (a model file named by ``model``). Override single
weights with ``weights: {dob.disagree: -9}``. Contributions are named like the weights (plus
``household.cap`` and the term-frequency adjustments ``given.tf`` / ``family.tf`` of a model).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from pipelines.identity.model import MatchModel, ModelError, load_model
from schemas.settings import ConfigModel

DEFAULT_LINK = 9.0
DEFAULT_REVIEW = 8.0
VETO = -100.0  # the conflict weight of an authoritative id: no score can outweigh it

DEFAULT_WEIGHTS: dict[str, float] = {
    "given.exact": 4.0,  # first given names equal (or one is the other's second given name: fuzzy)
    "given.nickname": 3.0,  # a nickname (bill / william), short form (jen / jennifer) or pet name (steffi / stefanie)
    "given.fuzzy": 3.0,  # a typo: 1 edit (2 from 7 letters)
    "given.phonetic": 2.0,  # another spelling of the same sound (philipp / filip)
    "given.garbled": 2.0,  # two slips (neighbouring keys, look-alike letters, swapped or doubled letters)
    "given.initial": 1.5,  # one side is an initial of the other
    "given.gendered": -1.5,  # male and female form (jan / jana): often two people, sometimes a typo
    "given.similar": 0.5,  # Jaro-Winkler >= 0.8, no typo, nickname or sound-alike (several typos; not marco / maria)
    "given.disagree": -5.0,
    "middle.exact": 4.0,  # the same middle name
    "middle.initial": 2.5,  # the same middle initial (one or both sides an initial, or a typo in the name)
    "middle.disagree": -2.5,  # people drop or change a middle name more often than a given name
    "family.exact": 5.0,
    "family.fuzzy": 3.5,  # a typo (as given.fuzzy), or a shared part of a double name
    "family.phonetic": 2.5,  # another spelling of the same sound (meyer / maier)
    "family.garbled": 2.5,  # two slips, as given.garbled
    "family.similar": 1.0,  # Jaro-Winkler >= 0.8 but no typo or sound-alike
    "family.disagree": -4.0,
    "family.changed": -2.0,  # differ while the given name and an address, phone or e-mail agree: a married name
    "org.exact": 9.0,  # organisation names equal without legal forms
    "org.fuzzy": 7.0,  # similarity >= 90 (rapidfuzz ratio, or with the words sorted)
    "org.partial": 0.5,  # all tokens of the shorter name in the longer one
    "org.disagree": -6.0,
    "dob.exact": 7.5,
    "dob.transposed": 3.5,  # day and month swapped: two strangers' dates seldom mirror, siblings' never
    "dob.typo": 1.5,  # one mistyped digit
    "dob.year": 1.0,  # the year one or ten off (the same day and month)
    "dob.near": 0.5,  # day and month swapped and a digit mistyped besides
    "dob.disagree": -5.0,  # about what training learns where dates are sometimes keyed wrong (FEBRL: -4.3)
    "email.agree": 7.0,
    "email.fuzzy": 1.0,  # one edit apart (namesakes often have e-mails one edit apart: weak)
    "email.user": 0.0,  # the same user name at another domain: a new provider, or a namesake's
    "email.disagree": -1.5,
    "phone.agree": 4.0,
    "phone.fuzzy": 1.5,  # one digit wrong or two swapped
    "phone.disagree": -0.5,
    "address.exact": 4.0,  # same street line and same postal code or city
    "address.fuzzy": 3.0,  # similar street line (typo; or a long house number one slip off) in one postal code or city
    "address.postcode": 3.0,  # no street line on one side, the same fine-grained postal code (compare.fine_postcode)
    "address.area": 0.5,  # same postal code, or city with no or a mistyped one (contact_levels.same_area), only
    "address.disagree": -1.5,  # people move: weak
    "country.disagree": -3.0,
    "national_id.exact": 0.0,  # equal ids are a deterministic link: the weight is only reported
    "national_id.typo": 6.0,  # one edit apart: a keying error
    "national_id.conflict": -4.0,  # both present and different: evidence against, not a veto (see authoritative)
    "tax_id.exact": 0.0,
    "tax_id.typo": 2.0,
    "tax_id.conflict": -8.0,
    "kind.disagree": -25.0,  # person vs organisation
}
IdField = Literal["national_id", "tax_id"]


def _unknown_weight(name: str) -> str:
    close = difflib.get_close_matches(name, DEFAULT_WEIGHTS, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(DEFAULT_WEIGHTS)})"
    return f"unknown weight '{name}'{hint}"


def _threshold_problem(data: Mapping[str, Any], model: MatchModel | None) -> InitErrorDetails | None:
    """The review threshold must stay below the link threshold; the message says where each value came from."""
    values: dict[str, tuple[Any, str]] = {}
    for name, default, learned in (("link", DEFAULT_LINK, model.link if model else None),
                                   ("review", DEFAULT_REVIEW, model.review if model else None)):
        if name in data:
            values[name] = (data[name], "")
        elif learned is not None:
            values[name] = (learned, ", from the model")
        else:
            values[name] = (default, ", the default")
    (link, link_from), (review, review_from) = values["link"], values["review"]
    if not (isinstance(link, (int, float)) and isinstance(review, (int, float))) or review < link:
        return None
    msg = (f"review threshold ({review:g}{review_from}) must be below the link threshold ({link:g}{link_from}); "
           "set both")
    where = "review" if "review" in data or "link" not in data else "link"
    return InitErrorDetails(type=PydanticCustomError("threshold_order", msg), loc=(where,), input=None)


class MatchConfig(ConfigModel):
    """``link``: total score from which two records are the same customer (default 9, or the model's);
    ``review``: from which a pair is worth a human look (default 8, or the model's; below: a new customer).
    ``weights``: overrides of single ``<field>.<level>`` weights. ``model``: a model file written by ``crmhub
    unify train`` (learned weights, thresholds and term frequencies). ``authoritative``: ids whose conflict is a
    veto (two different values are never the same customer, whatever else agrees). ``max_candidates``: a
    blocking key whose block holds more records is skipped for that look-up (it says too little to be worth
    comparing against). ``household_cap``: when two persons' given names or birth dates disagree, the most their
    shared e-mail, phone and address may add together (people of one household share them); when neither a
    given name nor a birth date agrees, a pair that links only with more than that is a possible match.
    ``given_disagree_reviews``: two persons whose given names disagree (no typo, nickname, initial, sound-alike
    or similar spelling) are at most a possible match, however high their total: twins and family members share
    family name, birth date or contacts, which a learned model weighs as if they were independent.
    ``names_alone_review``: a pair with no agreement worth +1 or more besides its names (a shared postal area
    alone is +0.5) is at most a possible match (namesakes are more common than independent name frequencies
    suggest). ``id_conflict_review``: a pair whose national or tax ids differ is at most a possible match unless
    an address, phone or e-mail agrees as well (namesakes born on one day have ids of their own)."""

    link: float = DEFAULT_LINK
    review: float = DEFAULT_REVIEW
    weights: dict[str, float] = Field(default_factory=dict)
    model: str | None = None
    authoritative: list[IdField] = Field(default_factory=list)
    max_candidates: Annotated[int, Field(ge=1)] = 200
    household_cap: Annotated[float, Field(ge=0)] = 2.5
    given_disagree_reviews: bool = True
    names_alone_review: bool = True
    id_conflict_review: bool = True

    @field_validator("weights")
    @classmethod
    def _known_weights(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = [_unknown_weight(name) for name in value if name not in DEFAULT_WEIGHTS]
        if unknown:
            raise PydanticCustomError("unknown_weight", "; ".join(unknown))
        return value

    @classmethod
    def _cross_check(cls, data: Mapping[str, Any]) -> list[InitErrorDetails]:
        problems: list[InitErrorDetails] = []
        model: MatchModel | None = None
        path = data.get("model")
        if isinstance(path, str) and path.strip():
            try:
                model = load_model(path)
            except ModelError as exc:
                problems.append(InitErrorDetails(type=PydanticCustomError("match_model", str(exc)), loc=("model",),
                                                 input=None))
        threshold = _threshold_problem(data, model)
        if threshold is not None:
            problems.append(threshold)
        return problems

    @cached_property
    def learned(self) -> MatchModel | None:
        """The model file's content (read once), or None without a model."""
        return load_model(self.model) if self.model else None

    def _threshold(self, name: Literal["link", "review"]) -> float:
        """The config's value when it sets one, else the model's, else the default."""
        learned = getattr(self.learned, name, None) if name not in self.model_fields_set else None
        return float(getattr(self, name) if learned is None else learned)

    @cached_property
    def link_threshold(self) -> float:
        return self._threshold("link")

    @cached_property
    def review_threshold(self) -> float:
        return self._threshold("review")

    @cached_property
    def table(self) -> dict[str, float]:
        """Every effective weight by name (computed once; do not modify)."""
        learned = self.learned.weights if self.learned else {}
        table = {**DEFAULT_WEIGHTS, **{k: v for k, v in learned.items() if k in DEFAULT_WEIGHTS}, **self.weights}
        for name in self.authoritative:
            table[f"{name}.conflict"] = VETO
        return table

    @cached_property
    def tf_clip(self) -> float:
        """The most a term-frequency adjustment adds (0 without a model's term frequencies)."""
        return self.learned.tf_clip if self.learned and self.learned.tf else 0.0

    @cached_property
    def best_names(self) -> float:
        """The most a pair's given and family names can add (the best level of each and its term-frequency
        adjustment, or nothing); middle names on both sides add at most :attr:`best_middle`."""
        best = sum(self.best_of(name) for name in ("given", "family"))
        return best + 2 * self.tf_clip

    @cached_property
    def best_middle(self) -> float:
        return self.best_of("middle")

    def best_of(self, name: str) -> float:
        """The best weight of a field's levels (0 when none is positive)."""
        return max(0.0, *(v for k, v in self.table.items() if k.startswith(f"{name}.")))

    def weight(self, name: str) -> float:
        """The effective weight of ``<field>.<level>`` (the model's or an override, else the default)."""
        return self.table[name]
