"""The database's "now" read once a second and carried forward by the monotonic clock in between."""

from __future__ import annotations

from datetime import datetime, timedelta

from connectors.sql.dbclock import DbClock


class Fake:
    def __init__(self) -> None:
        self.mono = 100.0
        self.db = datetime(2026, 3, 1, 12, 0, 0)
        self.reads = 0

    def read(self) -> str:
        self.reads += 1
        return self.db.isoformat(sep=" ")  # as SQLite answers: text


def test_one_reading_per_interval_carried_forward_in_between() -> None:
    fake = Fake()
    clock = DbClock(fake.read, refresh_s=1.0, monotonic=lambda: fake.mono)
    assert clock.now() == fake.db and fake.reads == 1
    fake.mono += 0.25
    fake.db += timedelta(seconds=0.25)
    assert clock.now() == fake.db and fake.reads == 1  # no round trip: the last reading plus 250 ms
    fake.mono += 0.80
    fake.db += timedelta(hours=1, seconds=0.80)  # the database's clock was stepped meanwhile
    assert clock.now() == fake.db and fake.reads == 2  # a second passed: read again, the step shows


def test_a_monotonic_clock_that_went_back_reads_again() -> None:
    fake = Fake()
    clock = DbClock(fake.read, monotonic=lambda: fake.mono)
    clock.now()
    fake.mono -= 5
    clock.now()
    assert fake.reads == 2


def test_datetime_answers_are_taken_as_they_are() -> None:
    moment = datetime(2026, 3, 1, 12, 0, 0, 123456)
    assert DbClock(lambda: moment).now() == moment
