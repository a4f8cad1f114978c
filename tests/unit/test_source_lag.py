"""Source lag: captured position vs the source's newest position, as the SQL connector encodes them."""

from __future__ import annotations

from hub.runtime.source_lag import SourceLag, source_lag

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
