"""Settings of crmhub's own use of Kafka that the config file holds (kept apart from the clients, so that
reading a config does not load the Kafka client)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from schemas.settings import ConfigModel, Name


class ClusterConfig(ConfigModel):
    """Several ``crmhub run`` processes sharing the connectors through a Kafka consumer group."""

    group: Name | None = Field(default=None, description=(
        "workers with the same group share the configured connectors, each connector running in exactly one "
        "of them (none: this process runs every connector)"))
    session_timeout_ms: Annotated[int, Field(ge=6_000, le=300_000, description=(
        "a worker silent this long is out of the group and its connectors move"))] = 10_000
    heartbeat_interval_ms: Annotated[int, Field(ge=500, le=60_000)] = 3_000
