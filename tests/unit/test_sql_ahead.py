"""read_ahead: which polled rows a timestamp-mode poll emits, how far its position may go, what it remembers."""

from __future__ import annotations

from typing import Any

from connectors.sql.ahead import read_ahead
from connectors.sql.queries import SAFE_FLAG


def polled(*rows: tuple[int, str, str, int]) -> list[dict[str, Any]]:
    """Rows as the streaming query returns them: (id, ts, name, safe flag)."""
    return [{"id": i, "ts": ts, "name": name, SAFE_FLAG: safe} for i, ts, name, safe in rows]


def ids(rows: list[dict[str, Any]]) -> list[int]:
    return [r["id"] for r in rows]


def test_every_row_is_emitted_at_once_and_the_position_may_pass_only_the_safe_prefix() -> None:
    got = read_ahead(polled((1, "10", "a", 1), (2, "11", "b", 1), (3, "12", "c", 0)), {}, ["id"], "ts",
                     complete=True)
    assert (ids(got.emit), got.safe) == ([1, 2, 3], 2)
    assert set(got.window) == {(3,)}  # only the row the position did not pass is remembered
    assert all(SAFE_FLAG not in r for r in got.emit)  # the flag is not a column of the row


def test_a_row_read_again_as_it_was_emitted_is_skipped_and_forgotten_once_safe() -> None:
    first = read_ahead(polled((3, "12", "c", 0)), {}, ["id"], "ts", complete=True)
    again = read_ahead(polled((3, "12", "c", 0)), first.window, ["id"], "ts", complete=True)
    assert (again.emit, again.safe, again.window) == ([], 0, first.window)
    settled = read_ahead(polled((3, "12", "c", 1)), again.window, ["id"], "ts", complete=True)
    assert (settled.emit, settled.safe, settled.window) == ([], 1, {})


def test_a_change_keeping_the_timestamp_is_emitted_again() -> None:
    # a DATE column with whole seconds: two changes in one second share the timestamp
    first = read_ahead(polled((3, "12", "c", 0)), {}, ["id"], "ts", complete=True)
    again = read_ahead(polled((3, "12", "changed", 0)), first.window, ["id"], "ts", complete=True)
    assert [r["name"] for r in again.emit] == ["changed"]


def test_an_unsafe_row_stops_the_position_even_when_a_safe_one_follows() -> None:
    got = read_ahead(polled((1, "10", "a", 1), (2, "11", "b", 0), (3, "11", "c", 1)), {}, ["id"], "ts",
                     complete=True)
    assert (got.safe, sorted(got.window)) == (1, [(2,), (3,)])


def test_a_poll_cut_by_its_limit_keeps_what_it_did_not_see() -> None:
    window = read_ahead(polled((7, "15", "g", 0), (8, "16", "h", 0)), {}, ["id"], "ts", complete=True).window
    cut = read_ahead(polled((1, "10", "a", 1), (7, "15", "g", 0)), window, ["id"], "ts", complete=False)
    assert (ids(cut.emit), set(cut.window)) == ([1], {(7,), (8,)})  # row 8 may lie beyond the limit
    full = read_ahead(polled((7, "15", "g", 0)), window, ["id"], "ts", complete=True)
    assert set(full.window) == {(7,)}  # a complete read that no longer has row 8: it changed or went away


def test_composite_keys_and_unhashable_values() -> None:
    rows = [{"a": 1, "b": "x", "ts": "12", "tags": ["p", "q"], SAFE_FLAG: 0}]
    first = read_ahead([dict(r) for r in rows], {}, ["a", "b"], "ts", complete=True)
    assert list(first.window) == [(1, "x")]
    assert read_ahead([dict(r) for r in rows], first.window, ["a", "b"], "ts", complete=True).emit == []
