"""Settings of crmhub's own use of Kafka that the config file holds (kept apart from the clients, so that
reading a config does not load the Kafka client)."""

from __future__ import annotations

import importlib.util
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from schemas.settings import ConfigModel, Name


class ClusterConfig(ConfigModel):
    """Several ``crmhub run`` processes sharing the connectors through a Kafka consumer group."""

    group: Name | None = Field(default=None, description=(
        "workers with the same group share the configured connectors, each connector running in exactly one "
        "of them (none: this process runs every connector)"))
    session_timeout_ms: Annotated[int, Field(ge=6_000, le=300_000, description=(
        "a worker silent this long is out of the group and its connectors move"))] = 10_000
    heartbeat_interval_ms: Annotated[int, Field(ge=500, le=60_000)] = 3_000


#: the module kafka-python compresses with for each codec, and the package that provides it
CODEC_MODULES = {"gzip": ("gzip", "the standard library"), "snappy": ("snappy", "python-snappy"),
                 "lz4": ("lz4", "lz4"), "zstd": ("zstandard", "zstandard")}
LINGER_MS = 5  # the producers' defaults, measured in docs/benchmarks.md ("Producer batching")
BATCH_BYTES = 256 * 1024
#: The pipeline consumers' fetches (docs/benchmarks.md, "Consumer fetches"): the broker answers once it has
#: FETCH_MIN_BYTES of records or FETCH_MAX_WAIT_MS went by. The wait also bounds how long records on a partition
#: whose earlier records the client still holds wait for the fetch in flight: kafka-python leaves such
#: partitions out of its next fetch. At Kafka's default wait (500 ms) ``bench/bench_e2e.py --processes`` at
#: 1,000 changes/s showed windows with a max of 700-900 ms (p99 621-674 ms); at 100 ms none (p99 362-404 ms).
FETCH_MIN_BYTES = 1
FETCH_MAX_WAIT_MS = 100
#: The local broker's JVM compiles with its quick compiler only (C1, no C2): on the 2-core VM the optimising
#: compiler took 0.2-0.3 cores for the broker's first minute under 1,000 records/s, and its code did not pay
#: that back in the benches' loads (docs/benchmarks.md, "The local broker's JIT").
LOCAL_BROKER_JVM_OPTIONS = ("-XX:TieredStopAtLevel=1",)


class ProducerConfig(ConfigModel):
    """How crmhub's producers batch what they send (every connector and pipeline producer of the process)."""

    linger_ms: Annotated[int, Field(ge=0, le=60_000, description=(
        "how long a producer waits for more records before it sends a batch that is not full: more saves CPU on "
        "the hub and the broker at moderate rates and adds up to this much latency per hop"))] = LINGER_MS
    batch_size: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024, description=(
        "the most bytes of records per partition in one batch"))] = BATCH_BYTES
    compression_type: Literal["none", "gzip", "snappy", "lz4", "zstd"] = Field(default="none", description=(
        "compress batches: less network for a remote broker, more CPU on both sides; snappy, lz4 and zstd "
        "need their Python package installed (python-snappy, lz4, zstandard)"))

    @field_validator("compression_type")
    @classmethod
    def _codec_installed(cls, value: str) -> str:
        if value != "none":
            module, package = CODEC_MODULES[value]
            if importlib.util.find_spec(module) is None:
                raise ValueError(f"compression {value} needs the Python package {package}, which is not installed")
        return value

    def client_options(self) -> dict[str, Any]:
        """The keyword arguments of kafka-python's producer."""
        return {"linger_ms": self.linger_ms, "batch_size": self.batch_size,
                "compression_type": None if self.compression_type == "none" else self.compression_type}
