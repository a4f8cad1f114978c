"""EBCDIC records described by a COBOL copybook (AS/400 and mainframe flat-file exports).

The copybook is parsed with ``connectors.codecs.parse_copybook`` and compiled with ``compile_layout`` for the
feed's code page (cp037, cp273, ...); the record length is the layout's, or ``record_length`` when the export
pads its records. With OCCURS DEPENDING ON the records follow one another, each as long as its counts make it
(``record_length`` instead: fixed-length records, the counts only say how many occurrences hold values);
occurrences past a record's count are null. ``record_format: rdw`` / ``vb``: each record behind its record
descriptor word, in blocks behind block descriptor words for ``vb`` (``connectors.codecs.descriptors``); the
record must be exactly as long as its layout. Items under OCCURS are flattened to ``name_1``, ``name_2``...
(``name_1_field`` for groups) since change-event columns are scalar: the decoder is compiled ``flat`` so it
gives those columns directly, and :func:`flat_fields` derives the same names (and offsets) from the layout,
so ``describe()`` needs no file. A record that does not decode is a ``BadRecord``
naming the field and offset, with the record's hex; its key is still decoded when the key fields are intact.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain, count, repeat
from typing import Any

from connectors.codecs import Column as RecordColumn
from connectors.codecs import Layout, compile_columns, compile_layout, compile_variable
from connectors.codecs.descriptors import split_records
from connectors.codecs.fields import Buffer
from connectors.codecs.layout import Field, Group
from connectors.filedrop.config import Feed
from connectors.filedrop.formats import BadFile, BadRecord, FeedReader, Item, Record, Row, check_size
from schemas.columns import Column, ColumnType
from schemas.errors import ConfigError, SkippableError

_EMPTY = (None, "")
#: Bytes of a bad record quoted in its dead-letter message at most.
MAX_RAW = 32_768


@dataclass(frozen=True, slots=True)
class _Flat:
    name: str
    item: Field
    offset: int


def flat_fields(layout: Layout) -> list[_Flat]:
    """The copybook's elementary values as the columns the reader emits, in record order, with their offsets.

    Names follow ``compile_layout``'s output (groups flattened, a name qualified by its groups only when it
    clashes, FILLER left out), with OCCURS subscripts appended (``phone_1``, ``addr_2_city``)."""
    return _flatten_members(layout.root, 0)


def _flatten_members(group: Group, shift: int) -> list[_Flat]:
    members = _members(group, ())
    counts: dict[str, int] = {}
    for key, _, _ in members:
        counts[key] = counts.get(key, 0) + 1
    out: list[_Flat] = []
    for key, qualified, item in members:
        name = key if counts[key] == 1 else qualified
        if isinstance(item, Field):
            step = item.length
            out.extend(
                _Flat(f"{name}_{i + 1}" if item.is_table else name, item, item.offset + shift + i * step)
                for i in range(item.occurs)
            )
        else:
            for i in range(item.occurs):
                for inner in _flatten_members(item, shift + i * item.length):
                    out.append(_Flat(f"{name}_{i + 1}_{inner.name}", inner.item, inner.offset))
    return out


def _members(group: Group, qual: tuple[str, ...]) -> list[tuple[str, str, Field | Group]]:
    out: list[tuple[str, str, Field | Group]] = []
    for child in group.children:
        if child.is_filler and (isinstance(child, Field) or child.is_table):
            continue
        qualified = "_".join((*qual, child.name))
        if isinstance(child, Field) or child.is_table:
            out.append((child.name, qualified, child))
        else:
            out.extend(_members(child, qual if child.is_filler else (*qual, child.name)))
    return out


def copybook_column(flat: _Flat) -> Column:
    """The logical column type of one copybook value."""
    item = flat.item
    source = f"PIC {item.picture} {item.usage}".strip() if item.picture else item.usage
    if item.kind == "text":
        return Column(flat.name, ColumnType.STRING, length=item.length, source_type=source)
    if item.kind == "float":
        return Column(flat.name, ColumnType.FLOAT32 if item.length == 4 else ColumnType.FLOAT64, source_type=source)
    bound = 2 ** (8 * item.length - item.signed) - 1 if item.kind == "binary" else 10**item.digits - 1
    if item.scale < 0:  # trailing P's: an integer with implied zeros
        bound = (bound + 1) * 10**-item.scale - 1
    if item.scale <= 0 and bound < 2**63:
        kind = ColumnType.INT16 if bound < 2**15 else ColumnType.INT32 if bound < 2**31 else ColumnType.INT64
        return Column(flat.name, kind, source_type=source)
    scale = max(item.scale, 0)
    # leading P's: more decimal places than digits (PPP99 holds .000dd), so the precision is at least the scale
    precision = max(item.digits, len(str(bound)) if item.kind == "binary" or item.scale < 0 else 0, scale)
    return Column(flat.name, ColumnType.DECIMAL, precision=precision, scale=scale, source_type=source)


def flatten(value: Mapping[str, Any]) -> Row:
    """A decoded record with OCCURS lists spread into ``name_1``, ``name_2``... (``name_1_field`` for groups)."""
    out: Row = {}
    for name, item in value.items():
        if isinstance(item, list):
            for i, element in enumerate(item, start=1):
                if isinstance(element, Mapping):
                    out.update({f"{name}_{i}_{k}": v for k, v in flatten(element).items()})
                else:
                    out[f"{name}_{i}"] = element
        else:
            out[name] = item
    return out


class EbcdicReader(FeedReader):
    """EBCDIC records described by a COBOL copybook, decoded with the feed's code page: fixed-length, or
    variable-length behind record (and block) descriptor words (``record_format``)."""

    def __init__(self, feed: Feed, layout: Layout) -> None:
        flats = flat_fields(layout)
        super().__init__([copybook_column(f) for f in flats], feed.key_columns,
                         (feed.op_column,) if feed.op_column else ())  # fmt: skip
        self.feed = feed
        comma = feed.decimal_point_is_comma
        options: dict[str, Any] = {"trim": feed.trim, "float_format": feed.float_format, "flat": True,
                                   "decimal_comma": comma}  # fmt: skip
        self.variable = compile_variable(layout, feed.codepage, **options) if layout.variable else None
        self.decoder = self.variable or compile_layout(layout, feed.codepage, **options)
        self.record_length = feed.record_length or layout.length
        if self.record_length < layout.length:
            raise ConfigError(f"record_length {self.record_length} is shorter than the copybook's {layout.length}")
        self._names = [f.name for f in flats]
        # integers wider than INT64 (PIC 9(19), unsigned 8-byte binary, trailing P's) are DECIMAL(p, 0) columns
        self._int_decimals = tuple(f.name for f in flats if f.item.scale <= 0 and f.item.kind != "float"
                                   and copybook_column(f).type is ColumnType.DECIMAL)  # fmt: skip
        # key fields are read alone only where no variable table can shift them
        fixed_end = min((i.offset for i in layout.walk() if i.depending_on), default=layout.length)
        keys = [f for f in flats if f.name in feed.key_columns and f.offset + f.item.length <= fixed_end]
        self._key_decoder = compile_columns([_record_column(f) for f in keys], feed.codepage,
                                            float_format=feed.float_format, decimal_comma=comma)  # fmt: skip

    def read(self, data: bytes) -> Iterator[Item]:
        form = self.feed.record_format
        if form != "fixed":  # descriptor words give each record's length
            pieces = split_records(data, form)
            head = next(pieces, None)
            if head is not None and head[2] is not None:  # most likely not such a file at all: quarantine it
                raise BadFile(f"record_format {form}: the first record: {head[2]}")
            return self._records(chain((head,) if head else (), pieces), exact=True)
        if self.variable is not None and not self.feed.record_length:  # consecutive variable-length records
            return self._records(((n, r, None) for n, r in self.variable.records(data)), exact=False)
        check_size(len(data), self.record_length)
        size, length = len(data), self.record_length  # slices of the bytes, cut by C iterators alone
        records = map(bytes(data).__getitem__, map(slice, range(0, size, length), range(length, size + length, length)))
        return self._records(zip(count(1), records, repeat(None)), exact=False)

    def _records(self, pieces: Iterable[tuple[int, Buffer, str | None]], exact: bool) -> Iterator[Item]:
        """Decoded rows; the compiled decoders give every Decimal exactly at its column's scale (tested), so
        ``finish``'s re-quantizing is not needed here. ``exact``: a record longer than its layout is bad."""
        decode, variable, names, keys = self.decoder.decode, self.variable, self._names, self.key_columns
        int_decimals = self._int_decimals
        for number, record, problem in pieces:
            if problem is None:
                try:
                    row = decode(record)
                    if exact:
                        problem = self._length_problem(record)
                except SkippableError as exc:
                    problem = exc.reason
            if problem is not None:
                yield BadRecord(number, problem, _raw(record), self._key(record))
                continue
            if variable is not None:  # occurrences past the record's count are null
                row = {name: row.get(name) for name in names}
            for name in int_decimals:
                if isinstance(value := row[name], int):
                    row[name] = Decimal(value)
            for key in keys:
                if row.get(key) in _EMPTY:
                    empty = ", ".join(k for k in keys if row.get(k) in _EMPTY)
                    yield BadRecord(number, f"key column {empty} is empty", _raw(record))
                    break
            else:
                yield Record(number, row)

    def _length_problem(self, record: Buffer) -> str | None:
        length = self.variable.decoder_for(record).length if self.variable is not None else self.decoder.length
        if len(record) == length:
            return None
        return (f"record is {len(record)} bytes long after its record descriptor word, its layout {length}: "
                f"the last {len(record) - length} bytes are described by no field")  # fmt: skip

    def _key(self, record: Buffer) -> Row | None:
        try:
            return self._key_decoder.decode(record)
        except SkippableError:
            return None


def _raw(record: Buffer) -> dict[str, Any]:
    """A bad record's bytes for the dead-letter message; past ``MAX_RAW`` bytes (the rest of a file whose next
    record cannot be found) only the first ones, with the length: the file itself is archived."""
    if len(record) <= MAX_RAW:
        return {"hex": bytes(record).hex()}
    return {"hex": bytes(record[:MAX_RAW]).hex(), "length": len(record), "truncated": True}


def _record_column(flat: _Flat) -> RecordColumn:
    item = flat.item
    return RecordColumn(flat.name, item.kind, flat.offset, item.length, item.digits, item.scale, signed=item.signed,
                        sign_leading=item.sign_leading, sign_separate=item.sign_separate,
                        picture=item.picture if item.kind == "edited" else "")  # fmt: skip
