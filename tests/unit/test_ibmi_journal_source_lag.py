"""Source lag of the IBM i journal connector against the fake Db2 for i of :mod:`tests.unit.test_ibmi_journal`:
the journal's newest entry against the first change of a captured file after the saved position."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.ibmi_journal.state import make_state
from hub.runtime.source_lag import SourceLag
from hub.runtime.source_lag_monitor import measure
from tests.unit.test_ibmi_journal import FakeIbmi, connector, image


def saved_at(sequence: int, receiver: str = "RCV0001") -> dict[str, object]:
    return make_state(snapshot_done=True, position={"receiver_library": "JRNLIB", "receiver": receiver,
                                                    "sequence": sequence}, emitted=sequence)


def utc(local: datetime, hours_east: int) -> str:
    return (local - timedelta(hours=hours_east)).replace(tzinfo=UTC).isoformat()


def stamp(db: FakeIbmi, sequence: int) -> datetime:
    return next(e["ENTRY_TIMESTAMP"] for r in db.receivers for e in r["entries"] if e["SEQUENCE_NUMBER"] == sequence)


def journal() -> tuple[FakeIbmi, list[int]]:
    db = FakeIbmi()
    seqs = [db.add("R", "PT", rrn=1, data=image(1, "A", None, "1.00")),  # read and captured
            db.add("R", "PT", rrn=1, data=b"x", file="OTHER"),  # a file this connector does not capture
            db.add("C", "SC")]
    seqs.append(db.add("R", "PT", cc=seqs[2], rrn=2, data=image(2, "B", None, "2.00")))
    seqs.append(db.add("C", "CM", cc=seqs[2]))
    db.rotate("RCV0002")
    seqs.append(db.add("R", "UP", rrn=1, data=b"y", file="OTHER"))  # the journal's newest entry
    return db, seqs


def test_head_is_the_newest_entry_and_the_saved_position_the_first_change_not_read() -> None:
    db, seqs = journal()
    conn = connector(db, server_timezone="Europe/Berlin")  # CEST: entry times are UTC+2
    newest, first_unread = seqs[-1], seqs[3]
    heads = conn.source_heads()
    table = conn.config.tables[0].name
    assert heads == [{"table": table, "sequence": str(newest), "ts": utc(stamp(db, newest), 2)}]
    saved = conn.saved_positions(saved_at(seqs[0]))
    assert saved == {table: {"table": table, "sequence": str(first_unread), "ts": utc(stamp(db, first_unread), 2)}}
    lag = (stamp(db, newest) - stamp(db, first_unread)).total_seconds()
    assert lag > 0 and measure(heads, saved) == [SourceLag(table, lag, None)]


def test_caught_up_when_no_change_of_a_captured_file_follows() -> None:
    db, seqs = journal()
    conn = connector(db)
    heads = conn.source_heads()
    assert heads[0]["ts"] == utc(stamp(db, seqs[-1]), 0)  # server_timezone UTC
    saved = conn.saved_positions(saved_at(seqs[3]))  # only a commit and another file's entry follow
    assert measure(heads, saved) == [SourceLag(conn.config.tables[0].name, 0.0, None)]
    assert conn.saved_positions(make_state()) == {}
