"""Variable-length record files: records behind record descriptor words, optionally in blocks (``RECFM=V/VB``).

IBM z/OS DFSMS Using Data Sets, "Format-V records":

- **RDW** (record descriptor word): 4 bytes before each record. Bytes 1-2: the record's length ``LL``, big-endian,
  *including* the 4-byte RDW, from 4 to 32,760; bytes 3-4: zero (other values mark the segments of spanned
  records, ``RECFM=VS/VBS``, which are not read here). A file transferred with its RDWs (FTP ``quote site
  rdw``) is one RDW record after the other: ``record_format: rdw``.
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

RecordFormat = Literal["fixed", "rdw", "vb"]
Piece = tuple[int, memoryview, str | None]
_EXTENDED = 0x80000000


def split_rdw(data: Buffer, *, first: int = 1) -> Iterator[Piece]:
    """The records of a file of RDW records (see the module notes)."""
    view = memoryview(data).cast("B")
    yield from _records(view, 0, len(view), first, "the end of the file")


def split_vb(data: Buffer, *, first: int = 1) -> Iterator[Piece]:
    """The records of a file of blocks, each a BDW and RDW records (see the module notes)."""
    view = memoryview(data).cast("B")
    start, number, size = 0, first, len(view)
    while start < size:
        length, problem = _block_length(view, start)
        if problem is not None:
            yield number, view[start:], f"block descriptor word at byte {start}: {problem}"
            return
        for piece in _records(view, start + 4, start + length, number, f"its block (at byte {start})"):
            yield piece
            number = piece[0] + 1
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


def _records(view: memoryview, start: int, end: int, number: int, where: str) -> Iterator[Piece]:
    """RDW records from ``start`` to ``end``; an unusable RDW ends the run with the rest as one bad record."""
    while start < end:
        left = end - start
        if left < 4:
            yield number, view[start:end], f"{left} bytes at byte {start} are too few for a record descriptor word"
            return
        word = int.from_bytes(view[start : start + 4], "big")
        length, reserved = word >> 16, word & 0xFFFF
        rdw = f"record descriptor word X'{word:08X}' at byte {start}"
        if length < 4:
            yield number, view[start:end], f"{rdw}: record length {length} is less than 4 (the RDW itself)"
            return
        if length > left:
            yield number, view[start:end], f"{rdw}: record length {length} runs past {where} ({left} bytes left)"
            return
        problem = None
        if reserved:
            problem = f"{rdw}: bytes 3-4 are not zero (a spanned record segment, RECFM=VS/VBS, is not supported)"
        yield number, view[start + 4 : start + length], problem
        start, number = start + length, number + 1


def split_records(data: Buffer, record_format: RecordFormat, *, first: int = 1) -> Iterator[Piece]:
    """``split_rdw`` or ``split_vb`` by ``record_format`` (``fixed`` files are split by ``iter_records``)."""
    if record_format == "rdw":
        return split_rdw(data, first=first)
    if record_format == "vb":
        return split_vb(data, first=first)
    raise ValueError(f"record_format {record_format!r} has no descriptor words")


__all__ = ["RecordFormat", "split_rdw", "split_records", "split_vb"]
