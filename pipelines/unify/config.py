"""Settings of the unify pipeline: matching, survivorship, which order statuses count as open."""

from __future__ import annotations

from pydantic import Field

from pipelines.identity import MatchConfig
from pipelines.survivorship import SurvivorshipConfig
from schemas.settings import ConfigModel

DEFAULT_OPEN_STATUSES = ["OPEN", "QUOTE", "BACKORDER", "HELD", "RELEASED"]


class UnifyConfig(ConfigModel):
    match: MatchConfig = Field(default_factory=MatchConfig)
    survivorship: SurvivorshipConfig = Field(default_factory=SurvivorshipConfig)
    open_order_statuses: list[str] = Field(default_factory=lambda: list(DEFAULT_OPEN_STATUSES))
