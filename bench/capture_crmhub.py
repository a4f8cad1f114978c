"""crmhub's side of ``bench/bench_capture.py``: one SQL connector on the hub's runner, in a process of its own.

Built as ``crmhub run`` builds a connector (``hub/runtime/hub.py``): ``ConnectorRunner`` over ``SqlConnector``,
the runner's producer, an ``OffsetStore``, Avro through crmhub's registry at the given URL, the offsets saved at
the hub's default interval. It touches the file ``ready`` once the connector streams (its snapshot done), and
stops cleanly on SIGTERM. Spec (JSON file, the one argument): bootstrap, registry, url, password, name, table,
poll_ms, safety_ms, offsets_topic, ready, exactly_once (optional).

Usage (by the bench): ``.venv/bin/python bench/capture_crmhub.py SPEC.json``
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.sql import SqlConnector, SqlConnectorConfig
from hub.config import OffsetsConfig
from hub.kafka.clients import KafkaSettings, Producer
from hub.logsetup import configure_logging
from hub.registry.client import RegistryClient
from hub.registry.serde import AvroSerde
from hub.runtime.offsets import OffsetStore
from hub.runtime.runner import ConnectorRunner, ConnectorState


def connector_config(spec: dict[str, Any]) -> SqlConnectorConfig:
    """The SQL connector of the bench: one table, timestamp+incrementing on ``updated_at`` / ``id``."""
    table = {"name": spec["table"], "mode": "timestamp+incrementing", "timestamp_column": "updated_at",
             "incrementing_column": "id", "safety_delay_ms": spec["safety_ms"]}
    return SqlConnectorConfig.model_validate({"kind": "sql", "name": spec["name"], "url": spec["url"],
                                              "password": spec["password"], "poll_interval_ms": spec["poll_ms"],
                                              "tables": [table]})


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    configure_logging("warning")
    conf = connector_config(spec)
    settings = KafkaSettings(bootstrap_servers=spec["bootstrap"], client_id=f"bench-{spec['name']}")
    producer = Producer(settings)
    offsets = OffsetStore(settings, producer, spec["offsets_topic"])
    serde = AvroSerde(RegistryClient(spec["registry"]))
    runner = ConnectorRunner(lambda: SqlConnector(conf), conf.name, settings, producer, serde, offsets,
                             on_schema_change=conf.on_schema_change,
                             schema_check_interval_s=conf.schema_check_interval_s,
                             flush_interval_s=OffsetsConfig().flush_interval_ms / 1000,
                             max_in_flight=conf.max_in_flight,
                             max_in_flight_bytes=int(conf.max_in_flight_mb * 1024 * 1024),
                             exactly_once=bool(spec.get("exactly_once")))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    runner.start()
    while not stop.wait(0.05):
        if runner.status.snapshot_done and not Path(spec["ready"]).exists():
            Path(spec["ready"]).touch()
        if runner.status.state is ConnectorState.FAILED:
            print(f"crmhub runner failed: {runner.status.last_error}", file=sys.stderr)
            break
    runner.stop()
    producer.close()


if __name__ == "__main__":
    main(sys.argv[1])
