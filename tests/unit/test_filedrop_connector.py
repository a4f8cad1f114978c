"""The file-drop connector over temp folders: taking complete files, snapshot diffs, deltas, dead rows,
duplicates, quarantine, archive, and resuming after a crash from the state the runner saved."""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Generator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Batch, State
from connectors.filedrop import FileDropConnector, FileDropSource, make_state
from connectors.filedrop.connector import archived_name, stable_files
from schemas.errors import RetriableError
from tests.unit.test_filedrop_formats import (
    COPYBOOK,
    CSV_COLUMNS,
    RECORD_LENGTH,
    csv_line,
    customer,
    customer_record,
)

MTIME_NS = 1_650_000_000_123_456_789


class Idle(Exception):
    """Raised by the fake sleep: the connector went idle (it yielded its heartbeat)."""


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        raise Idle


def settings(tmp: Path, **over: Any) -> FileDropConnector:
    (tmp / "orders.cpy").write_text(COPYBOOK)
    base: dict[str, Any] = {
        "kind": "filedrop", "name": "exports", "path": str(tmp / "drop"), "archive_dir": str(tmp / "archive"),
        "quarantine_dir": str(tmp / "quarantine"), "state_dir": str(tmp / "state"), "stable_seconds": 0,
        "feeds": [
            {"name": "credit", "pattern": "credit_*.csv", "mode": "snapshot", "key_columns": ["kundennr"],
             "encoding": "cp1252", "csv": {"delimiter": ";", "columns": CSV_COLUMNS, "decimal_separator": ","}},
            {"name": "orders", "pattern": "ORD*.BIN", "format": "ebcdic", "mode": "delta",
             "key_columns": ["cust_no"], "copybook": str(tmp / "orders.cpy"), "codepage": "cp273"},
        ],
    }  # fmt: skip
    (tmp / "drop").mkdir(exist_ok=True)
    return FileDropConnector.model_validate(base | over)


def source(tmp: Path, clock: Clock, **over: Any) -> FileDropSource:
    return FileDropSource(settings(tmp, **over), clock=clock, sleep=clock.sleep)


def poll(src: FileDropSource, state: State) -> tuple[list[Batch], State]:
    """Run ``changes`` until the connector idles; the batches before the heartbeat, and the last state."""
    out: list[Batch] = []
    try:
        for batch in src.changes(state):
            out.append(batch)
    except Idle:
        pass
    assert not out[-1].events and not out[-1].dead  # the heartbeat
    return out[:-1], out[-1].state


def as_generator(batches: object) -> Generator[Batch, None, None]:
    assert isinstance(batches, Generator)  # closing it is the crash: the code after the last yield never runs
    return batches


def drop(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / "drop" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    os.utime(path, ns=(MTIME_NS, MTIME_NS))
    return path


def credit_csv(*people: tuple[str, str, str]) -> bytes:
    text = csv_line("kundennr", "name", "limit", "seit", "waehrung")
    for no, name, limit in people:
        text += csv_line(no, name, limit.replace(".", ","), "01.02.2020", "€")
    return text.encode("cp1252")


def orders_bin(*numbers: int, bad: int | None = None) -> bytes:
    return b"".join(customer_record(customer(n, f"Kunde Nr. {n}", f"{n}.50", n), "cp273", bad_balance=n == bad)
                    for n in numbers)  # fmt: skip


def events(batches: list[Batch]) -> list[tuple[str, Any]]:
    return [(e.op.value, next(iter(e.key.values()))) for b in batches for e in b.events]


def archived(tmp: Path) -> list[str]:
    return sorted(p.name for p in (tmp / "archive").iterdir()) if (tmp / "archive").exists() else []


def test_snapshot_file_reads_first_then_diffs_across_drops(tmp_path: Path) -> None:
    clock = Clock()
    src = source(tmp_path, clock)
    first = credit_csv(("1001", "Müller", "1000.00"), ("1002", "Schmidt", "50.00"), ("1003", "Weiß", "0.00"))
    drop(tmp_path, "credit_0101.csv", first)
    seen_at_ms = int(clock.now * 1000)
    batches, state = poll(src, make_state())
    assert events(batches) == [("r", "1001"), ("r", "1002"), ("r", "1003")]
    evs = [e for b in batches for e in b.events]
    assert [e.source.snapshot for e in evs] == ["true", "true", "last"]
    sha = hashlib.sha256(first).hexdigest()
    src0 = evs[0].source
    assert (src0.connector, src0.name, src0.schema, src0.table) == ("filedrop", "exports", None, "credit")
    assert src0.ts_ms == MTIME_NS // 1_000_000 and evs[0].ts_ms == seen_at_ms
    assert dict(src0.position) == {"file": "credit_0101.csv", "sha256": sha, "record": "1"}
    assert evs[0].after == {"kundennr": "1001", "name": "Müller", "limit": Decimal("1000.00"),
                            "seit": date(2020, 2, 1), "waehrung": "€"}  # fmt: skip
    assert archived(tmp_path) == [f"credit_0101.{sha}.csv"] and not list((tmp_path / "drop").iterdir())
    assert state == make_state()

    drop(tmp_path, "credit_0102.csv", credit_csv(("1003", "Weiß", "0.00"), ("1001", "Müller", "900.00"),
                                                 ("1004", "Öztürk", "75.00")))  # fmt: skip
    batches, _ = poll(src, state)
    assert events(batches) == [("u", "1001"), ("c", "1004"), ("d", "1002")]
    update = batches[0].events[0]
    assert update.before is not None and update.after is not None
    assert (update.before["limit"], update.after["limit"]) == (Decimal("1000.00"), Decimal("900.00"))
    assert {e.source.snapshot for b in batches for e in b.events} == {"false"}
    assert batches[-1].events[-1].source.position["record"] == ""  # a delete has no record in the file


def test_delta_ebcdic_file_with_a_malformed_record_in_the_middle(tmp_path: Path) -> None:
    src = source(tmp_path, Clock())
    data = orders_bin(1, 2, 3, bad=2)
    drop(tmp_path, "ORD0001.BIN", data)
    batches, _ = poll(src, make_state())
    assert events(batches) == [("c", 1), ("c", 3)]
    assert batches[0].events[1].after == customer(3, "Kunde Nr. 3", "3.50", 3)
    (dead,) = [d for b in batches for d in b.dead]
    assert dead.table == "orders" and dead.reason.startswith("ORD0001.BIN record 2: field BALANCE")
    assert dead.raw["record"] == 2 and dead.raw["file"] == "ORD0001.BIN"
    assert bytes.fromhex(str(dead.raw["hex"])) == data[RECORD_LENGTH : 2 * RECORD_LENGTH]
    assert dead.position["record"] == "2"


def test_incomplete_file_is_taken_only_once_its_size_is_stable(tmp_path: Path) -> None:
    clock = Clock()
    src = source(tmp_path, clock, stable_seconds=5)
    path = tmp_path / "drop" / "ORD0001.BIN"
    path.write_bytes(orders_bin(1))
    assert poll(src, make_state())[0] == []  # first sight
    with path.open("ab") as out:
        out.write(orders_bin(2))  # the writer is still at it
    clock.now += 3
    assert poll(src, make_state())[0] == []  # changed: the clock starts again
    clock.now += 3
    assert poll(src, make_state())[0] == []  # stable for 3 (+1 poll) seconds only
    clock.now += 2
    batches, _ = poll(src, make_state())
    assert events(batches) == [("c", 1), ("c", 2)]


def test_marker_mode_waits_for_the_marker_and_removes_it(tmp_path: Path) -> None:
    clock = Clock()
    src = source(tmp_path, clock, complete_when="marker", marker_suffix=".ok")
    drop(tmp_path, "ORD0001.BIN", orders_bin(1))
    clock.now += 3600
    assert poll(src, make_state())[0] == []
    (tmp_path / "drop" / "ORD0001.BIN.ok").touch()
    batches, _ = poll(src, make_state())
    assert events(batches) == [("c", 1)]
    assert not list((tmp_path / "drop").iterdir())


def test_identical_redrop_is_not_emitted_twice(tmp_path: Path) -> None:
    src = source(tmp_path, Clock())
    data = orders_bin(1, 2)
    drop(tmp_path, "ORD0001.BIN", data)
    batches, state = poll(src, make_state())
    assert events(batches) == [("c", 1), ("c", 2)]
    drop(tmp_path, "ORD0001.BIN", data)
    drop(tmp_path, "ORD0001-copy.BIN", data)
    assert poll(src, state)[0] == []
    assert poll(source(tmp_path, Clock()), state)[0] == []  # remembered across restarts
    assert not list((tmp_path / "drop").iterdir())
    sha = hashlib.sha256(data).hexdigest()  # each name archived once; the identical re-drop just removed
    assert archived(tmp_path) == [archived_name("ORD0001-copy.BIN", sha), archived_name("ORD0001.BIN", sha)]
    drop(tmp_path, "ORD0002.BIN", orders_bin(1, 2, 3))  # different content: emitted
    assert events(poll(src, state)[0]) == [("c", 1), ("c", 2), ("c", 3)]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("unknown.txt", b"hello", "no feed pattern matches"),
        ("ORD0009.BIN", orders_bin(1) + b"\x40" * 5, f"not a multiple of the record length {RECORD_LENGTH}"),
        ("credit_0103.csv", "kundennr;name\n1;x\n".encode("utf-16"), "NUL bytes"),
        ("credit_0104.csv", b"kundennr;name;limit\n", "lacks the columns seit, waehrung"),
    ],
    ids=["no-feed", "record-length", "utf16", "header"],
)
def test_bad_files_are_quarantined_with_the_reason(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    src = source(tmp_path, Clock())
    drop(tmp_path, name, data)
    batches, _ = poll(src, make_state())
    assert batches == []
    assert (tmp_path / "quarantine" / name).read_bytes() == data
    assert reason in (tmp_path / "quarantine" / f"{name}.reason.txt").read_text()
    assert not list((tmp_path / "drop").iterdir()) and archived(tmp_path) == []


def test_copybook_error_quarantines_the_file(tmp_path: Path) -> None:
    src = source(tmp_path, Clock())
    (tmp_path / "orders.cpy").write_text("01 REC.\n   05 A PIC X(3) SYNC.\n")
    drop(tmp_path, "ORD0001.BIN", b"\x40" * 3)
    assert poll(src, make_state())[0] == []
    assert "SYNCHRONIZED" in (tmp_path / "quarantine" / "ORD0001.BIN.reason.txt").read_text()


def test_crash_mid_file_resumes_after_the_last_acknowledged_batch(tmp_path: Path) -> None:
    clock = Clock()
    drop(tmp_path, "ORD0001.BIN", orders_bin(*range(1, 8), bad=5))
    first = source(tmp_path, clock, batch_size=2)
    changes = as_generator(first.changes(make_state()))
    delivered = [next(changes), next(changes)]  # the runner saved the 2nd batch's state, then crashed
    changes.close()
    state = delivered[1].state
    assert state["file"]["items"] == 4 and state["file"]["record"] == 4 and not state["file"]["done"]
    assert (tmp_path / "drop" / "ORD0001.BIN").exists() and archived(tmp_path) == []

    batches, _ = poll(source(tmp_path, clock, batch_size=2), state)
    assert [len(b.events) + len(b.dead) for b in batches] == [2, 1]
    assert events(delivered) + events(batches) == [("c", n) for n in (1, 2, 3, 4, 6, 7)]
    assert [d.raw["record"] for b in batches for d in b.dead] == [5]
    assert len(archived(tmp_path)) == 1


def test_crash_mid_snapshot_diff_resumes_and_commits_only_when_delivered(tmp_path: Path) -> None:
    clock = Clock()
    drop(tmp_path, "credit_0101.csv", credit_csv(("1", "A", "1.00"), ("2", "B", "2.00"), ("3", "C", "3.00")))
    state = poll(source(tmp_path, clock), make_state())[1]
    second = credit_csv(("1", "A", "1.50"), ("4", "D", "4.00"))
    drop(tmp_path, "credit_0102.csv", second)
    crashed = source(tmp_path, clock, batch_size=1)
    changes = as_generator(crashed.changes(state))
    saved = next(changes).state
    changes.close()
    batches, state = poll(source(tmp_path, clock, batch_size=1), saved)
    assert events(batches) == [("c", "4"), ("d", "2"), ("d", "3")]
    drop(tmp_path, "credit_0103.csv", second + b"\r\n")  # same rows, new file: nothing changed
    assert poll(source(tmp_path, clock), state)[0][0].events == []


def test_crash_after_the_last_batch_before_commit_does_not_emit_again(tmp_path: Path) -> None:
    clock = Clock()
    data = orders_bin(1, 2)
    drop(tmp_path, "ORD0001.BIN", data)
    changes = as_generator(source(tmp_path, clock).changes(make_state()))
    last = next(changes)
    assert last.state["file"]["done"] and events([last]) == [("c", 1), ("c", 2)]
    changes.close()  # saved, but the connector never came back to commit and archive
    batches, state = poll(source(tmp_path, clock), last.state)
    assert batches == [] and state == make_state()
    assert len(archived(tmp_path)) == 1
    drop(tmp_path, "ORD0001.BIN", data)
    assert poll(source(tmp_path, clock), state)[0] == []


def test_describe_snapshot_and_unreachable_folder(tmp_path: Path) -> None:
    src = source(tmp_path, Clock())
    tables = {t.name: t for t in src.describe()}
    assert set(tables) == {"credit", "orders"}
    assert tables["credit"].key == ("kundennr",) and tables["credit"].connector == "exports"
    assert tables["orders"].schema is None and tables["orders"].columns[2].name == "balance"
    assert list(src.snapshot(make_state())) == []
    (tmp_path / "drop").rmdir()
    with pytest.raises(RetriableError, match="not reachable"):
        next(src.changes(make_state()))


def test_stable_files_is_pure() -> None:
    seen, ready = stable_files({}, {"a": (10, 1)}, 100.0, 5)
    assert ready == set()
    seen, ready = stable_files(seen, {"a": (10, 1)}, 104.0, 5)
    assert ready == set()
    seen, ready = stable_files(seen, {"a": (11, 2)}, 106.0, 5)
    assert ready == set() and seen["a"] == (11, 2, 106.0)
    assert stable_files(seen, {"a": (11, 2)}, 111.0, 5)[1] == {"a"}


def test_a_disabled_feed_leaves_its_files_in_place_and_describe_rereads_the_copybook(tmp_path: Path) -> None:
    src = source(tmp_path, Clock())
    src.disable_table("orders", "incompatible schema change")
    drop(tmp_path, "ORD0001.BIN", orders_bin(1))
    drop(tmp_path, "credit_0101.csv", credit_csv(("1", "A", "1.00")))
    assert events(poll(src, make_state())[0]) == [("r", "1")]
    assert [p.name for p in (tmp_path / "drop").iterdir()] == ["ORD0001.BIN"]
    (tmp_path / "orders.cpy").write_text(COPYBOOK.replace("CUST-NAME", "CUST-NAME-2"))
    orders = {t.name: t for t in src.describe()}["orders"]
    assert [c.name for c in orders.columns][:2] == ["cust_no", "cust_name_2"]


def _vb(*records: bytes) -> bytes:
    """RECFM=VB by IBM's layout: a BDW (block length with itself, two zero bytes), then RDW records."""
    block = b"".join(struct.pack(">HH", len(r) + 4, 0) + r for r in records)
    return struct.pack(">HH", len(block) + 4, 0) + block


def test_a_vb_file_flows_and_its_bad_descriptor_goes_to_the_dead_letter_path(tmp_path: Path) -> None:
    feeds = settings(tmp_path).model_dump(mode="json")["feeds"]
    feeds[1]["record_format"] = "vb"
    src = source(tmp_path, Clock(), feeds=feeds)
    one, two, three = (orders_bin(n) for n in (1, 2, 3))
    spoiled = struct.pack(">HH", 4 + len(two) + 4 + 2, 0) + struct.pack(">HH", len(two) + 4, 0) + two + b"\x00\x09"
    drop(tmp_path, "ORD0001.BIN", _vb(one) + spoiled + _vb(three))
    batches, _ = poll(src, make_state())
    assert events(batches) == [("c", 1), ("c", 2), ("c", 3)]
    (dead,) = [d for b in batches for d in b.dead]
    assert dead.reason.startswith("ORD0001.BIN record 3: 2 bytes at byte") and dead.raw["hex"] == "0009"
    drop(tmp_path, "ORD0002.BIN", orders_bin(4, 5))  # a fixed-length file: no BDW at its start
    assert poll(src, make_state())[0] == []
    reason = (tmp_path / "quarantine" / "ORD0002.BIN.reason.txt").read_text()
    assert "record_format vb: the first record: block descriptor word at byte 0" in reason
