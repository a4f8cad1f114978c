"""Source lag of a real SQL connector (SQLite) on the real broker while it is paused and after it stopped: it
grows as the source's newest change moves away from the position the connector saved."""

from __future__ import annotations

import sqlite3
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from hub.config import validate_config_text
from hub.demo.sources import _ts, seed_legacy_db
from hub.kafka.local import LocalKafka, free_port
from hub.runtime.hub import Hub
from hub.runtime.runner import ConnectorState
from tests.kafka.helpers import wait_for
from tests.kafka.test_pipelines import _config, _mappings

pytestmark = pytest.mark.kafka


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace(" ", "T", 1))


def _change(db: Path, cusno: int) -> str:
    ts = _ts()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE CUSTMAST SET CRSTAT = 'F', CHGTS = ? WHERE CUSNO = ?", (ts, cusno))
    return ts


def test_a_paused_then_stopped_connector_lags_as_its_source_moves(hub_broker: LocalKafka, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:6]
    source = f"lag{tag}"
    seed_legacy_db(tmp_path / "legacy.db")
    _mappings(tmp_path / "mappings", source)
    cfg = validate_config_text(_config(hub_broker, tmp_path, source, f"gl{tag}", free_port(), tag))
    hub = Hub(cfg, roles=frozenset({"registry", "connectors"}))
    hub.start()
    try:
        runner = hub.runners[source]

        def lag() -> float | None:
            seconds = runner.status.source_lag.get("CUSTMAST", {}).get("seconds")
            return None if seconds is None else float(seconds)

        wait_for(lambda: runner.status.snapshot_done and lag() == 0.0, 60, state=lambda: runner.status)
        runner.pause()
        wait_for(lambda: runner.status.state is ConnectorState.PAUSED)
        time.sleep(0.5)  # a batch already sent when it paused is acknowledged and saved
        saved = runner.saved_state
        assert saved is not None
        saved_ts = _when(saved["stream"]["CUSTMAST"]["ts"])
        for _ in range(2):  # the source moves on twice; the lag follows its head each time
            time.sleep(1.5)
            expected = (_when(_change(tmp_path / "legacy.db", 104711)) - saved_ts).total_seconds()
            assert expected > 1.0
            wait_for(lambda e=expected: lag() == pytest.approx(e, abs=1e-3), 15, state=lag)  # type: ignore[misc]
            assert REGISTRY.get_sample_value("crmhub_source_lag_current_seconds",
                                             {"connector": source, "table": "CUSTMAST"}) == pytest.approx(expected)
        assert runner.saved_state == saved and runner.status.state is ConnectorState.PAUSED  # nothing read since

        runner.resume()  # caught up again once the change is read and its position saved
        wait_for(lambda: lag() == 0.0, 30, state=lag)

        runner.stop()
        assert runner.status.state is ConnectorState.STOPPED
        stopped_ts = _when(runner.saved_state["stream"]["CUSTMAST"]["ts"])  # type: ignore[index]
        time.sleep(1.0)
        expected = (_when(_change(tmp_path / "legacy.db", 104712)) - stopped_ts).total_seconds()
        wait_for(lambda: lag() == pytest.approx(expected, abs=1e-3), 15, state=lag)
    finally:
        hub.stop()
