"""LinkedIn Burrow's evaluator cases replayed through ``evaluate_partition``.

Cases 0-11 carry the offsets, commit times, lags, recent broker end offsets, current lag and evaluation time
of Burrow's evaluator unit cases (``core/internal/evaluator/caching_test.go``; times in seconds here).
Cases 12-15 are written from the rules Burrow added later: ``allowed-lag`` (a constant lag of 1 left by a
transactional producer's commit markers) and rewind detection that also applies after a zero lag and ends once
the consumer is back past the offset it had before the rewind.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hub.lag.model import Sample, Status, evaluate_partition

Commit = tuple[int, float, int | None]  # (committed offset, commit time in s, lag at commit or None)


@dataclass(frozen=True)
class Case:
    commits: list[Commit]
    broker_ends: list[int]
    current_lag: int
    now: float
    expected: Status
    allowed_lag: int = 0


def _steady(lags: list[int], step: int = 1000) -> list[Commit]:
    """Commits at offsets 1000, 2000, ... made at 100 s, 200 s, ... with ``lags``."""
    return [((i + 1) * step, (i + 1) * 100.0, lag) for i, lag in enumerate(lags)]


def _flat(lags: list[int]) -> list[Commit]:
    """The same offset 1000 committed at 100 s, 200 s, ... with ``lags``."""
    return [(1000, (i + 1) * 100.0, lag) for i, lag in enumerate(lags)]


_BASE = 792748079
_BASE_TS = 1512224618.356
_BURST: list[Commit] = [(_BASE + i, _BASE_TS + i * 1.003, 0) for i in range(15)]  # a consumer caught up, once a second

CASES: dict[int, Case] = {
    # 0: the lag was 0 at the start of the window, so it is OK although it grows since
    0: Case(_steady([0, 50, 100, 150, 200]), [5200], 200, 600.0, Status.OK),
    # 1: 400 s since the last commit equals the window's 400 s span: not stopped yet
    1: Case(_steady([0, 50, 100, 150, 200]), [5200], 200, 900.0, Status.OK),
    # 2: 500 s since the last commit is longer than the window: STOP, whatever the lag was earlier
    2: Case(_steady([0, 50, 100, 150, 200]), [5200], 200, 1000.0, Status.STOP),
    # 3: STOP with a lag that was never 0 as well
    3: Case(_steady([50, 100, 150, 200, 250]), [5250], 250, 1000.0, Status.STOP),
    # 4: the same offset committed all window with lag, but the lag was 0 once: OK
    4: Case(_flat([0, 50, 100, 150, 200]), [1200], 200, 600.0, Status.OK),
    # 5: the same offset committed all window, never caught up: STALL
    5: Case(_flat([100, 150, 200, 250, 300]), [1300], 300, 600.0, Status.STALL),
    # 6: STALL also when the lag stays the same
    6: Case(_flat([100] * 5), [1100], 100, 600.0, Status.STALL),
    # 7: the offset went back (3000 -> 2000) but the consumer is now past it (4000): the rewind is over, and
    #    the lag decreased at least once: OK
    7: Case([(1000, 100.0, 100), (2000, 200.0, 150), (3000, 300.0, 200), (2000, 400.0, 1250), (4000, 500.0, 300)],
            [4300], 300, 600.0, Status.OK),
    # 8: stopped by its times, but the current lag is 0: OK
    8: Case(_steady([50, 100, 150, 200, 250]), [5250], 0, 1000.0, Status.OK),
    # 9: caught up at every commit, then no commit for longer than the window while data arrived: STOP
    9: Case(_BURST, [792749024, 792749000, 792748800, 792748600, 792748500], 931, 1512224650.0, Status.STOP),
    # 10: the same, but a recent end offset equals the last commit (one record just arrived): OK
    10: Case(_BURST, [792748094, 792748093, 792748093, 792748093], 1, 1512224650.0, Status.OK),
    # 11: case 0 with commits whose lag is unknown in between: they change nothing
    11: Case([(1000 + i * 500, 100.0 + i * 50, None if i % 2 else i // 2 * 50) for i in range(10)],
             [5700], 200, 600.0, Status.OK),
    # 12: a transactional producer's commit markers leave a lag of 1 on an idle topic; with allowed lag 1 the
    #     consumer is caught up (with allowed lag 0 this partition is STOP, see below)
    12: Case(_steady([1] * 5), [5001], 1, 1000.0, Status.OK, allowed_lag=1),
    # 13: caught up, then the offset went back to 1000 and has not come back: REWIND despite the earlier lag 0
    13: Case([(5000, 100.0, 0), (6000, 200.0, 0), (7000, 300.0, 0), (1000, 400.0, 6050), (2000, 500.0, 5100)],
             [7100], 5100, 550.0, Status.REWIND),
    # 14: the same rewind, the consumer back past 7000 since: the usual rules, and the lag was 0: OK
    14: Case([(5000, 100.0, 0), (6000, 200.0, 0), (7000, 300.0, 0), (1000, 400.0, 6050), (7050, 500.0, 50)],
             [7100], 50, 550.0, Status.OK),
    # 15: a rewind not yet recovered, but nothing left to read: a partition without lag is never in trouble
    15: Case([(5000, 100.0, 100), (6000, 200.0, 100), (7000, 300.0, 100), (1000, 400.0, 6100), (2000, 500.0, 5100)],
             [2000], 0, 550.0, Status.OK),
}


def _samples(commits: list[Commit]) -> list[Sample]:
    return [Sample(ts, offset + (lag or 0), offset, lag) for offset, ts, lag in commits]


def _status(case: Case, allowed_lag: int | None = None) -> Status:
    return evaluate_partition(_samples(case.commits), None, case.now, broker_ends=case.broker_ends,
                              current_lag=case.current_lag,
                              allowed_lag=case.allowed_lag if allowed_lag is None else allowed_lag)


def test_all_sixteen_cases_are_replayed() -> None:
    assert sorted(CASES) == list(range(16))


@pytest.mark.parametrize("number", sorted(CASES))
def test_status_agrees_with_burrow(number: int) -> None:
    case = CASES[number]
    assert _status(case) is case.expected


def test_the_allowed_lag_is_what_makes_case_12_ok() -> None:
    assert _status(CASES[12], allowed_lag=0) is Status.STOP


def test_case_10_is_stop_once_no_recent_end_offset_was_caught_up() -> None:
    case = CASES[10]
    assert evaluate_partition(_samples(case.commits), None, case.now, broker_ends=[792748095, 792748094],
                              current_lag=2) is Status.STOP


def test_case_13_was_rewinding_before_the_recovery_of_case_14() -> None:
    assert _status(CASES[13]) is Status.REWIND and _status(CASES[14]) is Status.OK
