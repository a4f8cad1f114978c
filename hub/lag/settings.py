"""The ``lag`` section of the configuration: the lag monitor's sampling, status window, thresholds and groups."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from schemas.settings import ConfigModel


class LagLevels(ConfigModel):
    """Warn / critical thresholds of one lag measure (``>=`` raises); leave one out for no alert at it."""

    warn: Annotated[float, Field(ge=0)] | None = None
    critical: Annotated[float, Field(ge=0)] | None = None

    @field_validator("critical", mode="after")
    @classmethod
    def _not_below_warn(cls, value: float | None, info: ValidationInfo) -> float | None:
        warn = info.data.get("warn")
        if value is not None and warn is not None and value < warn:
            raise PydanticCustomError("threshold_order", "must not be below warn")
        return value


LagStatusName = Literal["WARN", "REWIND", "STALL", "STOP"]
Severity = Literal["warning", "critical"]
_STATUS_SEVERITY: dict[LagStatusName, Severity] = {"REWIND": "warning", "STALL": "critical", "STOP": "critical"}


class LagThresholds(ConfigModel):
    """When the lag monitor raises alerts: per partition on messages and seconds, per group on status."""

    lag_messages: LagLevels = Field(default_factory=LagLevels)
    lag_seconds: LagLevels = Field(default_factory=lambda: LagLevels(warn=60, critical=300))
    status: dict[LagStatusName, Severity] = Field(default_factory=lambda: dict(_STATUS_SEVERITY))


class LagGroups(ConfigModel):
    """Consumer groups to watch: regular expressions matched against the whole group id."""

    include: list[str] = Field(default_factory=lambda: [".*"])
    exclude: list[str] = Field(default_factory=list)

    @field_validator("include", "exclude", mode="after")
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise PydanticCustomError("regex", "not a regular expression ({err})", {"err": str(exc)}) from None
        return value


class LagConfig(ConfigModel):
    """The lag monitor over every consumer group (`crmhub lag`, `GET /lag`, `/metrics`)."""

    enabled: bool = Field(default=True, description="sample in the background while `crmhub run` runs the admin role")
    interval_s: Annotated[float, Field(gt=0, description=(
        "seconds between samples; a consumer that stopped committing is STOP after about `window * "
        "interval_s` (20 s at the defaults), or after its own last `window` commits span if longer"))] = 2.0
    window: Annotated[int, Field(ge=2, le=1000, description="samples per partition evaluated (Burrow's default: "
                                                            "10); no status before a partition has that many")] = 10
    lookup_points: Annotated[int, Field(ge=2, le=10000, description="(end offset, time) points kept per partition "
                                                                    "for lag seconds")] = 300
    alert_history: Annotated[int, Field(ge=1)] = 200
    allowed_lag: Annotated[int, Field(ge=0, description="lag (messages) that counts as none, as Burrow's")] = 0
    commit_log: bool = Field(default=True, description=(
        "read the commits and their times from `__consumer_offsets` (needs Read on that topic): statuses over "
        "each group's last `window` commits as Burrow's, a consumer that commits without moving is STALL and "
        "one that stopped committing is STOP; off, or when the topic cannot be read, statuses come from the "
        "polls and a commit's time is when a poll first saw its offset"))
    cluster_name: str | None = Field(default=None, description=(
        "the `cluster_name` label of the lag metrics (default: the first bootstrap server)"))
    groups: LagGroups = Field(default_factory=LagGroups)
    thresholds: LagThresholds = Field(default_factory=LagThresholds)
