"""Variable-length record files: records behind record descriptor words, optionally in blocks (``RECFM=V/VB``).

IBM z/OS DFSMS Using Data Sets, "Format-V records":

- **RDW** (record descriptor word): 4 bytes before each record. Bytes 1-2: the record's length ``LL``, big-endian,
  *including* the 4-byte RDW, from 4 to 32,760; bytes 3-4: zero. A file transferred with its RDWs (FTP ``quote
  site rdw``) is one RDW record after the other: ``record_format: rdw``.
- **SDW** (segment descriptor word, "Segmenting spanned records"): spanned records (``RECFM=VS/VBS``,
  ``record_format: vs``/``vbs``) come in segments, each behind an SDW shaped like an RDW whose byte 3 says which
  part of the record follows; the segments are joined into the logical record.
- **BDW** (block descriptor word): 4 bytes before each block of RDW records (``RECFM=VB``, a data set copied
  whole, a "VB dump"): ``record_format: vb``. Nonextended: bit 0 zero, bits 1-15 the block length *including*
  the BDW, from 8 to 32,760, bits 16-31 zero. Extended (bit 0 one; tape, blocks over 32,760 bytes): bits 1-31
  the block length. Both are read. A block holds whole records that fill it exactly. Lengths above 32,760 are
  accepted (some writers produce them); lengths below the minimum are not.

Splitting yields ``(record number, record data without its RDW, problem)``; ``problem`` is None for a good
record, else the reason (naming the record's byte offset in the file), and the record goes to the dead-letter
path with it: nothing is dropped. Where a descriptor is unusable (a length that runs past the end of the file
or its block, a length below the minimum, nonzero reserved bytes in a BDW) the bytes up to where the next
record or block surely starts (the end of the block, else of the file) are yielded as one bad record.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from connectors.codecs.fields import Buffer

RecordFormat = Literal["fixed", "rdw", "vb", "vs", "vbs"]
Piece = tuple[int, memoryview, str | None]
Segment = tuple[int, memoryview, str | None, int]  # descriptor's byte offset, data, problem, bytes 3-4
_EXTENDED = 0x80000000


def split_rdw(data: Buffer, *, first: int = 1) -> Iterator[Piece]:
    """The records of a file of RDW records (see the module notes)."""
    view = memoryview(data).cast("B")
    return _whole(_words(view, 0, len(view), "the end of the file"), first)


def split_vb(data: Buffer, *, first: int = 1) -> Iterator[Piece]:
    """The records of a file of blocks, each a BDW and RDW records (see the module notes)."""
    return _whole(_blocks(memoryview(data).cast("B")), first)


def split_vs(data: Buffer, *, first: int = 1) -> Iterator[Piece]:
    """The logical records of a file of spanned records' segments, each behind its SDW, without blocks."""
    view = memoryview(data).cast("B")
    return _joined(_words(view, 0, len(view), "the end of the file"), first)


def split_vbs(data: Buffer, *, first: int = 1) -> Iterator[Piece]:
    """The logical records of a file of blocks of segments (``RECFM=VBS``, or ``VS``: one segment a block);
    a record may span blocks."""
    return _joined(_blocks(memoryview(data).cast("B")), first)


def _blocks(view: memoryview) -> Iterator[Segment]:
    start, size = 0, len(view)
    while start < size:
        length, problem = _block_length(view, start)
        if problem is not None:
            yield start, view[start:], f"block descriptor word at byte {start}: {problem}", 0
            return
        yield from _words(view, start + 4, start + length, f"its block (at byte {start})")
        start += length


def _block_length(view: memoryview, start: int) -> tuple[int, str | None]:
    left = len(view) - start
    if left < 4:
        return 0, f"{left} bytes left, too few for a block descriptor word"
    word = int.from_bytes(view[start : start + 4], "big")
    if word & _EXTENDED:
        length = word & ~_EXTENDED
    else:
        length = word >> 16
        if word & 0xFFFF:
            return 0, f"X'{word:08X}': bytes 3-4 are not zero (not a block descriptor word)"
    if length < 8:
        return 0, f"X'{word:08X}': block length {length} is less than 8 (the BDW and one RDW)"
    if length > left:
        return 0, f"X'{word:08X}': block length {length} runs past the end of the file ({left} bytes left)"
    return length, None


def _words(view: memoryview, start: int, end: int, where: str) -> Iterator[Segment]:
    """Descriptor words and their data from ``start`` to ``end``; an unusable one ends the run with the rest
    as one bad piece."""
    while start < end:
        left = end - start
        if left < 4:
            yield start, view[start:end], f"{left} bytes at byte {start} are too few for a record descriptor word", 0
            return
        word = int.from_bytes(view[start : start + 4], "big")
        length = word >> 16
        if 4 <= length <= left:
            yield start, view[start + 4 : start + length], None, word & 0xFFFF
            start += length
            continue
        rdw = f"record descriptor word X'{word:08X}' at byte {start}"
        if length < 4:
            yield start, view[start:end], f"{rdw}: record length {length} is less than 4 (the RDW itself)", 0
        else:
            yield start, view[start:end], f"{rdw}: record length {length} runs past {where} ({left} bytes left)", 0
        return


def _whole(segments: Iterator[Segment], number: int) -> Iterator[Piece]:
    """Records that are not spanned: bytes 3-4 of each RDW must be zero."""
    for at, data, problem, reserved in segments:
        if problem is None and reserved:
            word = (len(data) + 4) << 16 | reserved
            problem = (f"record descriptor word X'{word:08X}' at byte {at}: bytes 3-4 are not zero (a spanned "
                       "record's segment, RECFM=VS/VBS: record_format vs or vbs reads those)")  # fmt: skip
        yield number, data, problem
        number += 1


def _joined(segments: Iterator[Segment], number: int) -> Iterator[Piece]:
    """Logical records from their segments. Segment descriptor word (SDW): bytes 1-2 the segment's length with
    the SDW, byte 3 the segment control code in its two low bits (00 a complete record, 01 the first segment,
    10 the last, 11 one in between), its other bits and byte 4 zero. A segment out of order, or a record whose
    last segment never comes, is a bad record holding the bytes gathered."""
    parts: list[memoryview] = []
    begun = 0
    for at, data, problem, control in segments:
        code = control >> 8 & 0x03
        if problem is None and control & 0xFCFF:
            word = (len(data) + 4) << 16 | control
            problem = f"segment descriptor word X'{word:08X}' at byte {at}: reserved bits are set"
        if parts and (problem is not None or code in (0, 1)):  # the record in progress never ends
            yield number, _join(parts), f"the record begun at byte {begun} has no last segment"
            number, parts = number + 1, []
        if problem is None and not parts and code in (2, 3):
            problem = f"segment at byte {at} ({'last' if code == 2 else 'middle'}) follows no first segment"
        if problem is not None or code == 0:
            yield number, data, problem
            number += 1
        elif code == 1:
            parts, begun = [data], at
        else:
            parts.append(data)
            if code == 2:
                yield number, _join(parts), None
                number, parts = number + 1, []
    if parts:
        yield number, _join(parts), f"the file ends before the last segment of the record begun at byte {begun}"


def _join(parts: list[memoryview]) -> memoryview:
    return memoryview(b"".join(parts))


def split_records(data: Buffer, record_format: RecordFormat, *, first: int = 1) -> Iterator[Piece]:
    """The records of a file with descriptor words, by ``record_format`` (``fixed`` files are split by
    ``iter_records``)."""
    splits = {"rdw": split_rdw, "vb": split_vb, "vs": split_vs, "vbs": split_vbs}
    if record_format not in splits:
        raise ValueError(f"record_format {record_format!r} has no descriptor words")
    return splits[record_format](data, first=first)


__all__ = ["RecordFormat", "split_rdw", "split_records", "split_vb", "split_vbs", "split_vs"]
