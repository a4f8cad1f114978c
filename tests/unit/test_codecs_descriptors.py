"""Variable-length record files, per IBM z/OS DFSMS Using Data Sets ("Format-V records", "Record descriptor
word", "Block descriptor word"): an RDW is a 2-byte big-endian length including the RDW, then two zero bytes;
a BDW a 2-byte block length including the BDW, then two zero bytes, or with bit 0 set (extended) a 31-bit
length. The files are built here, by those rules, with ``struct``."""

from __future__ import annotations

import random
import struct
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.codecs import parse_copybook
from connectors.codecs.descriptors import split_rdw, split_vb, split_vbs, split_vs
from connectors.filedrop.config import Feed
from connectors.filedrop.ebcdic import EbcdicReader
from connectors.filedrop.formats import BadFile, BadRecord, Record


def rdw(data: bytes, reserved: int = 0) -> bytes:
    return struct.pack(">HH", len(data) + 4, reserved) + data


def bdw(records: bytes, *, extended: bool = False) -> bytes:
    if extended:
        return struct.pack(">I", 0x80000000 | (len(records) + 4)) + records
    return struct.pack(">HH", len(records) + 4, 0) + records


def pieces(split: Any, data: bytes) -> list[tuple[int, bytes, str | None]]:
    return [(number, bytes(view), problem) for number, view, problem in split(data)]


def test_rdw_records_lose_their_descriptors_and_may_be_empty() -> None:
    data = rdw(b"ABC") + rdw(b"") + rdw(b"DEFGH")
    assert pieces(split_rdw, data) == [(1, b"ABC", None), (2, b"", None), (3, b"DEFGH", None)]


def test_an_rdw_running_past_the_end_takes_the_rest_and_stops() -> None:
    data = rdw(b"ABC") + struct.pack(">HH", 50, 0) + b"XYZ"
    (good, bad) = pieces(split_rdw, data)
    assert good == (1, b"ABC", None)
    assert bad[:2] == (2, data[7:]) and "record length 50 runs past the end of the file (7 bytes left)" in bad[2]
    assert "X'00320000' at byte 7" in bad[2]


def test_an_rdw_below_four_and_a_short_tail_are_bad() -> None:
    assert "record length 3 is less than 4" in str(pieces(split_rdw, rdw(b"A") + b"\x00\x03\x00\x00AB")[1][2])
    tail = pieces(split_rdw, rdw(b"A") + b"\x00\x09")[1]
    assert tail[1] == b"\x00\x09" and "2 bytes at byte 5 are too few for a record descriptor word" in str(tail[2])


def test_nonzero_reserved_bytes_mark_the_record_but_the_split_goes_on() -> None:
    (first, second) = pieces(split_rdw, rdw(b"AB", reserved=0x0100) + rdw(b"CD"))
    assert first[1] == b"AB" and "bytes 3-4 are not zero" in str(first[2]) and "RECFM=VS/VBS" in str(first[2])
    assert second == (2, b"CD", None)


def test_blocks_hold_records_numbered_across_blocks() -> None:
    data = bdw(rdw(b"A1") + rdw(b"A22")) + bdw(rdw(b"B333"), extended=True) + bdw(rdw(b"C"))
    assert pieces(split_vb, data) == [(1, b"A1", None), (2, b"A22", None), (3, b"B333", None), (4, b"C", None)]


def test_a_record_running_past_its_block_spoils_the_block_only() -> None:
    block = struct.pack(">HH", 4 + 6 + 4, 0) + rdw(b"OK") + struct.pack(">HH", 9, 0)
    data = block + bdw(rdw(b"NEXT"))
    result = pieces(split_vb, data)
    assert result[0] == (1, b"OK", None)
    assert result[1][1] == struct.pack(">HH", 9, 0) and "runs past its block (at byte 0) (4 bytes left)" in str(
        result[1][2]
    )
    assert result[2] == (3, b"NEXT", None)


def test_a_block_its_records_do_not_fill_is_reported_with_the_leftover() -> None:
    block = struct.pack(">HH", 4 + 6 + 2, 0) + rdw(b"OK") + b"\x40\x40"
    result = pieces(split_vb, block + bdw(rdw(b"NEXT")))
    assert result[0] == (1, b"OK", None)
    assert result[1][:2] == (2, b"\x40\x40") and "too few for a record descriptor word" in str(result[1][2])
    assert result[2] == (3, b"NEXT", None)


@pytest.mark.parametrize(
    ("word", "problem"),
    [
        (struct.pack(">HH", 12, 1), "bytes 3-4 are not zero (not a block descriptor word)"),
        (struct.pack(">HH", 6, 0), "block length 6 is less than 8"),
        (struct.pack(">HH", 400, 0), "block length 400 runs past the end of the file"),
        (struct.pack(">I", 0x80000000 | 400), "block length 400 runs past the end of the file"),
    ],
)
def test_an_unusable_bdw_takes_the_rest_of_the_file(word: bytes, problem: str) -> None:
    good = bdw(rdw(b"OK"))
    data = good + word + rdw(b"LOST")
    result = pieces(split_vb, data)
    assert result[0] == (1, b"OK", None)
    assert result[1][:2] == (2, data[len(good) :])
    assert f"block descriptor word at byte {len(good)}: " in str(result[1][2]) and problem in str(result[1][2])


COPYBOOK = """\
       01  CUST.
           05  CUST-NO        PIC 9(4).
           05  NAME           PIC X(6).
           05  BALANCE        PIC S9(5)V99 COMP-3.
"""


def record(number: int, name: str, balance_hex: str) -> bytes:
    """DISPLAY digits F0-F9, text in cp037, COMP-3 as two digits a byte and the sign in the last nibble."""
    return bytes(0xF0 | int(c) for c in f"{number:04d}") + name.ljust(6).encode("cp037") + bytes.fromhex(balance_hex)


def reader(tmp_path: Path, **values: Any) -> EbcdicReader:
    path = tmp_path / "cust.cpy"
    path.write_text(COPYBOOK)
    base = {"name": "c", "pattern": "*", "format": "ebcdic", "mode": "snapshot", "key_columns": ["cust_no"],
            "copybook": str(path)}  # fmt: skip
    return EbcdicReader(Feed.model_validate(base | values), parse_copybook(COPYBOOK))


def test_reader_reads_rdw_and_vb_files_like_fixed_ones(tmp_path: Path) -> None:
    one, two = record(1, "ALPHA", "0012345C"), record(2, "BETA", "0000100D")
    fixed = [item.row for item in reader(tmp_path).read(one + two) if isinstance(item, Record)]
    assert fixed[1]["balance"].as_tuple().exponent == -2
    assert [i.row for i in reader(tmp_path, record_format="rdw").read(rdw(one) + rdw(two))] == fixed  # type: ignore[union-attr]
    vb = bdw(rdw(one) + rdw(two), extended=True)
    assert [i.row for i in reader(tmp_path, record_format="vb").read(vb)] == fixed  # type: ignore[union-attr]


def test_reader_sends_bad_rdw_records_to_the_dead_letter_path_with_key_and_reason(tmp_path: Path) -> None:
    one, long = record(1, "ALPHA", "0012345C"), record(3, "GAMMA", "0000001C") + b"\x40\x40"
    items = list(reader(tmp_path, record_format="rdw").read(rdw(one) + rdw(long) + rdw(one[:8]) + b"\x00\x30\x00\x00"))
    assert isinstance(items[0], Record)
    assert isinstance(items[1], BadRecord) and items[1].key == {"cust_no": 3}
    assert "record is 16 bytes long after its record descriptor word, its layout 14" in items[1].reason
    assert isinstance(items[2], BadRecord) and "record is 8 bytes long, the layout needs 14" in items[2].reason
    assert isinstance(items[3], BadRecord) and "runs past the end of the file" in items[3].reason
    assert items[3].raw == {"hex": "00300000"} and len(items) == 4


def test_a_file_whose_first_descriptor_is_unusable_is_quarantined(tmp_path: Path) -> None:
    fixed_file = record(1, "ALPHA", "0012345C") * 3
    with pytest.raises(BadFile, match="record_format rdw: the first record: record descriptor word X'F0F0F0F1'"):
        list(reader(tmp_path, record_format="rdw").read(fixed_file))
    with pytest.raises(BadFile, match="record_format vb: the first record: block descriptor word at byte 0"):
        list(reader(tmp_path, record_format="vb").read(rdw(record(1, "ALPHA", "0012345C"))[:6]))


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"format": "csv", "csv": {"columns": ["cust_no"]}}, "only EBCDIC feeds with a copybook"),
        ({"record_length": 20}, "record_length is for fixed-length records"),
    ],
)
def test_record_format_needs_a_copybook_and_no_record_length(values: dict[str, Any], problem: str) -> None:
    base = {"name": "c", "pattern": "*", "format": "ebcdic", "mode": "snapshot", "key_columns": ["cust_no"],
            "copybook": "cust.cpy", "record_format": "vb"}  # fmt: skip
    with pytest.raises(ValidationError, match=problem):
        Feed.model_validate(base | values)


def test_a_huge_unreadable_rest_is_quoted_in_part_with_its_length(tmp_path: Path) -> None:
    one = record(1, "ALPHA", "0012345C")
    rest = struct.pack(">HH", 65_000, 0) + b"\x40" * 40_000
    items = list(reader(tmp_path, record_format="rdw").read(rdw(one) + rest))
    bad = items[1]
    assert isinstance(bad, BadRecord) and bad.raw["length"] == len(rest) and bad.raw["truncated"] is True
    assert bytes.fromhex(bad.raw["hex"]) == rest[:32_768]


@pytest.mark.parametrize("seed", range(6))
def test_every_byte_of_a_spoiled_file_is_in_a_record_or_a_bad_piece(seed: int) -> None:
    """Nothing silently lost: in any byte string, split as RDW records, every byte is a consumed RDW, a record's
    data or part of a bad piece; split as VB blocks, the pieces never hold more than the file."""
    rnd = random.Random(seed)
    for _ in range(200):
        good = b"".join(rdw(bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 9)))) for _ in range(5))
        data = bytearray(bdw(good) if rnd.random() < 0.5 else good)
        for _ in range(rnd.randint(0, 3)):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
        accounted = 0
        for _, view, problem in split_rdw(bytes(data)):
            whole_record = problem is None or "bytes 3-4 are not zero" in problem
            accounted += len(view) + (4 if whole_record else 0)
        assert accounted == len(data)
        assert sum(len(view) for _, view, _ in split_vb(bytes(data))) <= len(data)


# Spanned records (z/OS DFSMS Using Data Sets, "Segmenting spanned records"): each segment behind a segment
# descriptor word, its length with the SDW in bytes 1-2, the segment control code in the two low bits of byte 3
# (00 complete, 01 first, 10 last, 11 middle), the rest zero.
def sdw(data: bytes, code: int) -> bytes:
    return struct.pack(">HBB", len(data) + 4, code, 0) + data


def test_segments_are_joined_into_their_records() -> None:
    data = sdw(b"WHOLE", 0) + sdw(b"AB", 1) + sdw(b"CD", 3) + sdw(b"EF", 2) + sdw(b"LAST", 0)
    assert pieces(split_vs, data) == [(1, b"WHOLE", None), (2, b"ABCDEF", None), (3, b"LAST", None)]


def test_a_record_spans_blocks() -> None:
    data = bdw(sdw(b"ONE", 0) + sdw(b"TW", 1)) + bdw(sdw(b"O-", 3)) + bdw(sdw(b"PARTS", 2) + sdw(b"3", 0))
    assert pieces(split_vbs, data) == [(1, b"ONE", None), (2, b"TWO-PARTS", None), (3, b"3", None)]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (sdw(b"AB", 3) + sdw(b"OK", 0), [(b"AB", "segment at byte 0 (middle) follows no first segment"),
                                          (b"OK", None)]),
        (sdw(b"AB", 1) + sdw(b"OK", 0), [(b"AB", "the record begun at byte 0 has no last segment"), (b"OK", None)]),
        (sdw(b"OK", 0) + sdw(b"AB", 1) + sdw(b"C", 3),
         [(b"OK", None), (b"ABC", "the file ends before the last segment of the record begun at byte 6")]),
        (struct.pack(">HBB", 6, 0x04, 0) + b"XY", [(b"XY", "X'00060400' at byte 0: reserved bits are set")]),
        (sdw(b"AB", 1) + b"\x00\x30\x00\x00", [(b"AB", "has no last segment"), (b"\x00\x30\x00\x00", "runs past")]),
    ],
)
def test_segments_out_of_order_are_bad_records_with_their_bytes(
    data: bytes, expected: list[tuple[bytes, str | None]]
) -> None:
    got = pieces(split_vs, data)
    assert [(raw, problem is None) for _, raw, problem in got] == [(raw, want is None) for raw, want in expected]
    for (_, _, problem), (_, want) in zip(got, expected, strict=True):
        assert want is None or want in str(problem)


def test_reader_reads_a_vbs_file(tmp_path: Path) -> None:
    one, two = record(1, "ALPHA", "0012345C"), record(2, "BETA", "0000100D")
    fixed = [item.row for item in reader(tmp_path).read(one + two) if isinstance(item, Record)]
    vbs = bdw(sdw(one, 0) + sdw(two[:5], 1)) + bdw(sdw(two[5:], 2))
    assert [i.row for i in reader(tmp_path, record_format="vbs").read(vbs)] == fixed  # type: ignore[union-attr]
