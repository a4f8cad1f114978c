"""A parallel SQL snapshot under a real hub process and a real broker: kill -9 mid-snapshot, start again, and
the topic holds every row, repeated only as far as the batches in flight at the kill (a resume that read
completed chunks again would repeat whole chunks)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from hub.kafka.clients import KafkaSettings
from hub.kafka.local import LocalKafka, free_port
from tests.kafka.test_faults import config_text, ids_in_topic, make_source, service_token, start_hub, wait_events

pytestmark = pytest.mark.kafka

ROWS, BATCH = 6000, 100


def test_kill_dash_9_mid_parallel_snapshot_resumes_each_chunk(hub_broker: LocalKafka, tmp_path: Path) -> None:
    db = tmp_path / "legacy.db"
    make_source(db, ROWS)
    reg_port, admin_port = free_port(), free_port()
    text = config_text(hub_broker, db, tmp_path, reg_port, admin_port)
    parallel = f"    batch_size: {BATCH}\n    snapshot: {{workers: 3, chunk_rows: 500}}\n"
    text = text.replace("    batch_size: 300\n", parallel)
    text = text.replace("_schemas_faults", "_schemas_parallel").replace("offsets.faults", "offsets.parallel")
    assert "workers: 3" in text
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(text)
    log = tmp_path / "hub.log"
    admin = f"http://127.0.0.1:{admin_port}"

    hub = start_hub(cfg, log)
    try:
        first = wait_events(admin, tmp_path, 1500)
    finally:
        os.killpg(hub.pid, signal.SIGKILL)
        hub.wait(10)
    assert int(str(first["events"])) < ROWS, "the snapshot ended before the kill: nothing to resume"

    hub = start_hub(cfg, log)
    try:
        wait_events(admin, tmp_path, 1, timeout=90)
        settings = KafkaSettings(bootstrap_servers=hub_broker.bootstrap)
        seen = ids_in_topic(settings, f"http://127.0.0.1:{reg_port}", set(range(1, ROWS + 1)),
                            service_token(tmp_path))
        assert set(seen) == set(range(1, ROWS + 1)), f"missing: {sorted(set(range(1, ROWS + 1)) - set(seen))[:20]}"
        # only the batches in flight at the kill (max_in_flight, 4 by default) and the one being read repeat
        assert len(seen) - len(set(seen)) <= (4 + 1) * BATCH, len(seen) - len(set(seen))
    finally:
        hub.send_signal(signal.SIGTERM)
        assert hub.wait(30) == 0, log.read_text()[-3000:]
