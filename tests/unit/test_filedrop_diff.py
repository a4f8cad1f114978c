"""Snapshot diffs against the previous snapshot store, delta files, and the store's commit protocol."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.filedrop.diff import Change, SnapshotStore, delta_changes, from_json, to_json
from connectors.filedrop.formats import BadRecord, Item, Record
from schemas.envelope import Op

KEY = ("region", "id")


def records(*rows: dict[str, Any]) -> list[Item]:
    return [Record(n, row) for n, row in enumerate(rows, start=1)]


def row(region: str, id_: int, name: str, limit: str = "0.00") -> dict[str, Any]:
    return {"region": region, "id": id_, "name": name, "limit": Decimal(limit), "since": date(2020, 1, id_ % 28 + 1)}


def summary(outputs: list[Change | BadRecord]) -> list[tuple[str, Any, Any]]:
    return [
        ("dead", o.number, o.reason) if isinstance(o, BadRecord) else (o.op.value, tuple(o.key.values()), o.record)
        for o in outputs
    ]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SnapshotStore]:
    s = SnapshotStore(tmp_path / "state" / "feed.sqlite", KEY)
    yield s
    s.close()


def changes_only(outputs: list[Change | BadRecord]) -> list[Change]:
    assert all(isinstance(o, Change) for o in outputs)
    return [o for o in outputs if isinstance(o, Change)]


def deliver(store: SnapshotStore, sha: str, items: list[Item]) -> list[Change | BadRecord]:
    store.stage(sha, items)
    out = list(store.changes(sha))
    assert store.commit(sha, f"{sha}.csv", 1)
    return out


def test_json_round_trip_keeps_types() -> None:
    value = {"d": Decimal("-1.20"), "day": date(2024, 2, 29), "ts": datetime(2024, 1, 1, 12, 30), "b": b"\x00\xff",
             "s": "Grüße €", "n": None, "f": 1.5}  # fmt: skip
    back = from_json(to_json(value))
    assert back == value and str(back["d"]) == "-1.20"


def test_first_snapshot_reads_then_diffs_emit_c_u_d(store: SnapshotStore) -> None:
    first = deliver(store, "s1", records(row("N", 1, "Anna"), row("N", 2, "Bert"), row("S", 1, "Cleo")))
    assert summary(first) == [("r", ("N", 1), 1), ("r", ("N", 2), 2), ("r", ("S", 1), 3)]
    assert changes_only(first)[0].after == row("N", 1, "Anna") and changes_only(first)[0].before is None

    second = deliver(store, "s2", records(row("S", 1, "Cleo"), row("N", 2, "Bert", "10.50"), row("W", 9, "Dora")))
    assert summary(second) == [("u", ("N", 2), 2), ("c", ("W", 9), 3), ("d", ("N", 1), None)]
    update, _, delete = changes_only(second)
    assert update.before == row("N", 2, "Bert") and update.after == row("N", 2, "Bert", "10.50")
    assert delete.before == row("N", 1, "Anna") and delete.after is None

    assert deliver(store, "s3", records(row("S", 1, "Cleo"), row("N", 2, "Bert", "10.50"), row("W", 9, "Dora"))) == []
    assert store.snapshot_sha == "s3" and store.is_delivered("s1") and not store.is_delivered("other")


def test_diff_is_repeatable_until_committed(store: SnapshotStore) -> None:
    deliver(store, "s1", records(row("N", 1, "Anna"), row("N", 2, "Bert")))
    store.stage("s2", records(row("N", 1, "Anne")))
    once = summary(list(store.changes("s2")))
    assert once == summary(list(store.changes("s2"))) == [("u", ("N", 1), 1), ("d", ("N", 2), None)]
    assert not store.commit("other", "x", 1)  # not the staged file: nothing changes
    assert summary(list(store.changes("s2"))) == once
    with pytest.raises(RuntimeError, match="not staged"):
        list(store.changes("s3"))


def test_bad_record_with_a_key_is_not_a_delete_and_keeps_the_previous_row(store: SnapshotStore) -> None:
    deliver(store, "s1", records(row("N", 1, "Anna"), row("N", 2, "Bert")))
    kept = BadRecord(2, "bad limit", {"fields": []}, {"region": "N", "id": 2})
    items: list[Item] = [Record(1, row("N", 1, "Anna")), kept]
    assert summary(deliver(store, "s2", items)) == [("dead", 2, "bad limit")]
    # Bert's previous row is still the snapshot: dropping him now is a delete
    assert summary(deliver(store, "s3", records(row("N", 1, "Anna")))) == [("d", ("N", 2), None)]


def test_bad_record_without_a_key_defers_deletes_to_the_next_clean_file(store: SnapshotStore) -> None:
    deliver(store, "s1", records(row("N", 1, "Anna"), row("N", 2, "Bert")))
    items: list[Item] = [Record(1, row("N", 1, "Anna")), BadRecord(2, "unreadable", {"hex": "00"})]
    assert summary(deliver(store, "s2", items)) == [("dead", 2, "unreadable")]
    assert summary(deliver(store, "s3", records(row("N", 1, "Anna")))) == [("d", ("N", 2), None)]


def test_duplicate_key_in_one_file_is_a_bad_record(store: SnapshotStore) -> None:
    out = deliver(store, "s1", records(row("N", 1, "Anna"), row("N", 1, "Anna again")))
    assert summary(out)[0] == ("r", ("N", 1), 1)
    assert isinstance(out[1], BadRecord) and out[1].number == 2
    assert "duplicate key" in out[1].reason and "record 1" in out[1].reason


def test_many_rows_page_through_in_order(store: SnapshotStore) -> None:
    deliver(store, "s1", records(*(row("N", i, f"n{i}") for i in range(1, 1201))))
    changed = [row("N", i, f"m{i}" if i % 3 == 0 else f"n{i}") for i in range(1, 1201) if i % 2]
    out = deliver(store, "s2", records(*changed))
    updates = [o for o in out if isinstance(o, Change) and o.op is Op.UPDATE]
    deletes = [o for o in out if isinstance(o, Change) and o.op is Op.DELETE]
    assert len(updates) == 200 and len(deletes) == 600 and len(out) == 800


def test_delta_changes_plain_and_with_an_op_column() -> None:
    plain = list(delta_changes(records(row("N", 1, "A")), KEY, None, {}))
    assert summary(plain) == [("c", ("N", 1), 1)]
    ops = {"I": "c", "U": "u", "D": "d"}
    items = records(*({**row("N", i, "x"), "chg": code} for i, code in enumerate(["I", "U", "D", "?"], start=1)))
    out = list(delta_changes(items, KEY, "chg", ops))
    assert summary(out)[:3] == [("c", ("N", 1), 1), ("u", ("N", 2), 2), ("d", ("N", 3), 3)]
    update, delete = changes_only(out[1:3])
    assert delete.before == row("N", 3, "x") and delete.after is None
    assert update.before is None and update.after is not None and "chg" not in update.after
    assert isinstance(out[3], BadRecord) and out[3].number == 4 and "unknown value '?'" in out[3].reason
