"""A temporary folder with a local Kafka broker (KRaft, this repo's jars) inside it, for the benchmarks."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hub.kafka.local import LocalKafka, free_port


@contextmanager
def broker_in_temp_dir(**options: Any) -> Iterator[tuple[Path, LocalKafka]]:
    """The folder and a broker with its data in ``folder/kafka`` (``options``: more LocalKafka settings, e.g.
    ``heap``), up for the block, then stopped and the folder removed."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        broker = LocalKafka(data_dir=tmp / "kafka", port=free_port(), controller_port=free_port(), **options)
        broker.up(timeout=120)
        try:
            yield tmp, broker
        finally:
            broker.down()
