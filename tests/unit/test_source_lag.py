"""Source lag: captured or saved position vs the source's newest position, as the SQL connector encodes them,
and the monitor that measures it whatever the connector's state."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

from prometheus_client import REGISTRY

from connectors.base import Batch, Connector, State
from connectors.sql.state import make_state, stream_positions
from hub.runtime.runner import ConnectorState, RunnerStatus
from hub.runtime.source_lag import SourceLag, saved_lag, source_lag
from hub.runtime.source_lag_monitor import SourceLagMonitor
from schemas.columns import TableMeta

HEAD = {"table": "LIB.CUSTMAST", "ts": "2026-11-23 10:00:30.500000", "id": "1200"}


def test_behind_in_seconds_and_rows() -> None:
    captured = {"table": "LIB.CUSTMAST", "ts": "2026-11-23T10:00:00", "id": "1150"}
    assert source_lag(HEAD, captured) == SourceLag("LIB.CUSTMAST", 30.5, 50)


def test_never_negative_and_caught_up_without_events() -> None:
    ahead = {"ts": "2026-11-23T10:01:00", "id": "1300"}  # the head was read before the newest rows
    assert source_lag(HEAD, ahead) == SourceLag("LIB.CUSTMAST", 0.0, 0)
    assert source_lag(HEAD, None) == SourceLag("LIB.CUSTMAST", 0.0, 0)


def test_not_comparable_parts_are_none() -> None:
    captured = {"ts": "2026-11-23T10:00:00+00:00", "id": "C-17"}  # aware vs naive time; a text id
    assert source_lag(HEAD, captured) == SourceLag("LIB.CUSTMAST", None, None)
    assert source_lag({"db_now": "2026-11-23T10:00:00"}, captured) is None  # a heartbeat has no table head


def test_saved_lag_is_unknown_before_anything_was_saved() -> None:
    assert saved_lag(HEAD, None) == SourceLag("LIB.CUSTMAST", None, None)
    assert saved_lag(HEAD, {"table": "LIB.CUSTMAST", "ts": "2026-11-23 10:00:10.500000", "id": "1190"}) == \
        SourceLag("LIB.CUSTMAST", 20.0, 10)
    assert saved_lag({"scn": "17"}, None) is None


def test_the_sql_state_gives_positions_encoded_as_the_events_positions() -> None:
    state = make_state(stream={"CUSTMAST": {"ts": "2026-11-23 10:00:00.250000", "id": [104711], "max_id": None},
                               "ORDHDR": {"ts": None, "id": [500001], "max_id": 500001},
                               "TWOKEYS": {"ts": "2026-11-23T10:00:00", "id": ["A", 1], "max_id": None}})
    assert stream_positions(state) == {
        "CUSTMAST": {"table": "CUSTMAST", "ts": "2026-11-23 10:00:00.250000", "id": "104711"},
        "ORDHDR": {"table": "ORDHDR", "id": "500001"},
        "TWOKEYS": {"table": "TWOKEYS", "ts": "2026-11-23T10:00:00"}}


class _Probe(Connector):
    """A connector whose source head is whatever the test sets."""

    kind = "probe"

    def __init__(self, heads: list[dict[str, str]]) -> None:
        super().__init__("probe")
        self.heads = heads

    def describe(self) -> list[TableMeta]:
        return []

    def snapshot(self, state: State) -> Iterator[Batch]:
        return iter(())

    def changes(self, state: State) -> Iterator[Batch]:
        return iter(())

    def source_heads(self) -> list[dict[str, str]]:
        return [dict(h) for h in self.heads]

    def saved_positions(self, state: State) -> dict[str, dict[str, str]]:
        return stream_positions(state)


def test_the_monitor_measures_a_paused_connector_as_its_source_moves() -> None:
    heads = [{"table": "AR_CUSTOMERS", "ts": "2026-12-01 12:00:32"}]
    probe = _Probe(heads)
    status = RunnerStatus(state=ConnectorState.PAUSED)
    runner = SimpleNamespace(factory=lambda: probe, status=status, lag_monitored=False,
                             saved_state=make_state(stream={"AR_CUSTOMERS": {"ts": "2026-12-01 12:00:32"}}))
    monitor = SourceLagMonitor(lambda: {"arx": runner})  # type: ignore[dict-item]
    monitor.measure_once()
    assert status.source_lag["AR_CUSTOMERS"] == {"seconds": 0.0, "rows": None}
    heads[0]["ts"] = "2026-12-01 12:00:53"  # the source moves on, the connector stays paused
    monitor.measure_once()
    assert status.source_lag["AR_CUSTOMERS"]["seconds"] == 21.0
    assert runner.lag_monitored
    assert REGISTRY.get_sample_value("crmhub_source_lag_current_seconds",
                                     {"connector": "arx", "table": "AR_CUSTOMERS"}) == 21.0
    runner.saved_state = None  # reset: nothing saved any more
    monitor.measure_once()
    assert status.source_lag["AR_CUSTOMERS"] == {"seconds": None, "rows": None}


def test_a_source_that_does_not_answer_is_noted_and_asked_again() -> None:
    calls = []

    def factory() -> Connector:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("no route to host")
        return _Probe([{"table": "T", "ts": "2026-12-01 12:00:00"}])

    status = RunnerStatus()
    runner = SimpleNamespace(factory=factory, status=status, lag_monitored=False, saved_state=None)
    monitor = SourceLagMonitor(lambda: {"down": runner})  # type: ignore[dict-item]
    monitor.measure_once()
    assert "no route to host" in monitor.errors["down"] and status.source_lag == {}
    monitor.measure_once()
    assert monitor.errors == {} and status.source_lag["T"] == {"seconds": None, "rows": None}
