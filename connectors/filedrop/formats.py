"""Readers for dropped export files: the shared record model, CSV and fixed-width text (EBCDIC: ``ebcdic.py``).

A :class:`FeedReader`'s ``columns`` describe the table, and ``read(data)`` turns a file's bytes into
:class:`Record` / :class:`BadRecord` items in file order. ``read`` raises :class:`BadFile` before yielding
anything when the whole file is unusable (wrong encoding throughout, NUL bytes in a text file, a UTF-8
byte-order mark in a file declared in another encoding, a CSV header missing configured columns, a record file
whose size is not a multiple of the record length); the caller quarantines it. A malformed record is a
``BadRecord`` naming its number and the reason, and the rest of the file still flows.

Record numbers: CSV counts data records from 1 (the header is not one; blank lines are skipped); fixed-width
text counts lines (blank lines are skipped but counted); fixed-length records count from 1.

Rows hold plain values matching the columns (``Decimal`` exactly at the column's scale, ``date``,
``datetime``). A bad record whose key columns can still be read carries its ``key``, so a snapshot diff does
not take the row for deleted. Readers are pure: bytes in, items out.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from connectors.codecs import FixedLayout, iter_records
from connectors.filedrop.config import CsvColumn, Feed
from schemas.columns import Column, ColumnType
from schemas.errors import ConfigError, SkippableError

Row = dict[str, Any]
_SURROGATE = re.compile("[\udc80-\udcff]")
_UTF8_BOM = codecs.BOM_UTF8
_WIDE = Context(prec=76)
_TRUE = frozenset({"true", "t", "1", "y", "yes", "j", "ja"})
_FALSE = frozenset({"false", "f", "0", "n", "no", "nein"})


@dataclass(frozen=True, slots=True)
class Record:
    number: int
    row: Row


@dataclass(frozen=True, slots=True)
class BadRecord:
    number: int
    reason: str
    raw: Mapping[str, Any]
    key: Row | None = None


Item = Record | BadRecord


class BadFile(Exception):
    """The whole file is unusable; it goes to quarantine with ``reason``."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class FeedReader(ABC):
    """Reads one feed's files; ``columns`` are the table's columns in file order."""

    def __init__(self, columns: Sequence[Column], key_columns: Sequence[str], hidden: Sequence[str] = ()) -> None:
        names = {c.name for c in columns}
        missing = [k for k in (*key_columns, *hidden) if k not in names]
        if missing:
            raise ConfigError(f"columns {', '.join(missing)} are not in the record description")
        self.key_columns = tuple(key_columns)
        self.columns = tuple(_keyed(c, c.name in key_columns) for c in columns if c.name not in hidden)
        self._decimals = tuple((c.name, c.scale or 0) for c in columns if c.type is ColumnType.DECIMAL)

    @abstractmethod
    def read(self, data: bytes) -> Iterator[Item]:
        """Items in file order; raises ``BadFile`` (before the first item) when the whole file is unusable."""

    def key_of(self, row: Mapping[str, Any]) -> Row:
        return {k: row.get(k) for k in self.key_columns}

    def finish(self, number: int, row: Row, raw: Mapping[str, Any]) -> Item:
        """Decimals made exact at their scale, and the key checked: a record, or the reason it is bad."""
        for name, scale in self._decimals:
            value = row.get(name)
            if value is None:
                continue
            try:
                exact = Decimal(value).quantize(Decimal(1).scaleb(-scale), context=_WIDE)
            except InvalidOperation:
                exact = None
            if exact is None or exact != value:
                return BadRecord(number, f"column {name}: {value} has more than {scale} decimal places", raw)
            row[name] = exact
        empty = [k for k in self.key_columns if row.get(k) in (None, "")]
        if empty:
            return BadRecord(number, f"key column {', '.join(empty)} is empty", raw)
        return Record(number, row)


def _keyed(column: Column, key: bool) -> Column:
    return Column(column.name, column.type, nullable=not key, precision=column.precision, scale=column.scale,
                  length=column.length, source_type=column.source_type)  # fmt: skip


# ------------------------------------------------------------------------------------------------------- text


def decode_text(data: bytes, encoding: str) -> str:
    """The file's text; bytes invalid in ``encoding`` become lone surrogates (reported per record)."""
    codec = codecs.lookup(encoding).name
    if data.startswith(_UTF8_BOM):
        if codec != "utf-8":
            raise BadFile(f"the file starts with a UTF-8 byte-order mark but the feed's encoding is {encoding}")
        data = data[len(_UTF8_BOM) :]
    if b"\x00" in data and not codec.startswith(("utf-16", "utf-32")):
        raise BadFile(f"the file holds NUL bytes: binary or UTF-16 data, not {encoding} text")
    try:
        return data.decode(codec).lstrip("\ufeff")
    except UnicodeDecodeError:
        text = data.decode(codec, "surrogateescape")
    lines = [line for line in text.split("\n") if line.strip()]
    if lines and all(_SURROGATE.search(line) for line in lines):
        raise BadFile(f"not {encoding} text: every line holds bytes invalid in {encoding}")
    return text


def encoding_problem(text: str, encoding: str) -> str | None:
    """The reason a record's text is bad when it holds bytes invalid in ``encoding``, else None."""
    found = _SURROGATE.search(text)
    if found is None:
        return None
    return f"byte 0x{ord(found.group()) - 0xDC00:02X} is not valid {encoding}"


def visible(text: str) -> str:
    """Text for a dead-letter message: invalid bytes shown as ``\\xNN``."""
    return _SURROGATE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)


# -------------------------------------------------------------------------------------------------------- CSV


def _csv_type(column: CsvColumn) -> Column:
    kinds = {"string": ColumnType.STRING, "int": ColumnType.INT64, "float": ColumnType.FLOAT64,
             "boolean": ColumnType.BOOLEAN, "date": ColumnType.DATE, "timestamp": ColumnType.TIMESTAMP}  # fmt: skip
    if column.type == "decimal":
        return Column(column.name, ColumnType.DECIMAL, precision=column.precision, scale=column.scale)
    return Column(column.name, kinds[column.type], source_type=column.format)


def _converter(column: CsvColumn, decimal_separator: str) -> Callable[[str], object]:
    kind, fmt = column.type, column.strptime_format
    if kind == "string":
        return str
    if kind == "int":
        return int
    if kind in ("decimal", "float"):
        number: type[Decimal] | type[float] = Decimal if kind == "decimal" else float
        return lambda text: number(text.replace(decimal_separator, ".") if decimal_separator != "." else text)
    if kind == "boolean":
        return _boolean
    if kind == "date":
        return lambda text: datetime.strptime(text, fmt).date()
    return lambda text: datetime.strptime(text, fmt)


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE or lowered in _FALSE:
        return lowered in _TRUE
    raise ValueError("not a boolean")


class CsvReader(FeedReader):
    """CSV in any Python encoding; columns by header name, or by position without a header."""

    def __init__(self, feed: Feed) -> None:
        options = feed.csv
        configured = list(options.columns or ())
        if feed.op_column and options.header and configured and feed.op_column not in {c.name for c in configured}:
            configured.append(CsvColumn(name=feed.op_column))
        if not configured:
            raise ConfigError("csv.columns: needed to describe the table (the header alone gives no types)")
        hidden = (feed.op_column,) if feed.op_column else ()
        super().__init__([_csv_type(c) for c in configured], feed.key_columns, hidden)
        self.feed = feed
        self._configured = configured
        self._convert = {c.name: _converter(c, options.decimal_separator) for c in configured}
        self._strings = {c.name for c in configured if c.type == "string"}

    def read(self, data: bytes) -> Iterator[Item]:
        options = self.feed.csv
        text = decode_text(data, self.feed.encoding)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=options.delimiter,
                            quotechar=options.quotechar, strict=True)  # fmt: skip
        positions = self._positions(reader) if options.header else list(range(len(self._configured)))
        return self._records(reader, positions)

    def _positions(self, reader: Any) -> list[int]:
        try:
            header = next((row for row in reader if row), None)
        except csv.Error as exc:
            raise BadFile(f"unreadable header: {exc}") from None
        if header is None:
            raise BadFile("empty file: no header")
        names = [visible(name.strip()).lstrip("\ufeff") for name in header]
        missing = [c.name for c in self._configured if c.name not in names]
        if missing:
            raise BadFile(f"the header lacks the columns {', '.join(missing)} (it has {', '.join(names)})")
        return [names.index(c.name) for c in self._configured]

    def _records(self, reader: Any, positions: list[int]) -> Iterator[Item]:
        number = 0
        width = max(positions) + 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                yield BadRecord(number, f"line {reader.line_num}: {exc}", {"line": reader.line_num})
                continue
            if not fields or fields == [""]:
                continue
            number += 1
            yield self._record(number, fields, positions, width)

    def _record(self, number: int, fields: list[str], positions: list[int], width: int) -> Item:
        raw = {"fields": [visible(f) for f in fields]}
        problem = encoding_problem("".join(fields), self.feed.encoding)
        if problem is None and (len(fields) < width or (not self.feed.csv.header and len(fields) != width)):
            problem = f"{len(fields)} fields, expected {width}"
        if problem is not None:
            return BadRecord(number, problem, raw)
        row: Row = {}
        for column, index in zip(self._configured, positions, strict=True):
            value = fields[index].strip() if self.feed.trim else fields[index]
            if value in self.feed.csv.null_values or (not value and column.name not in self._strings):
                row[column.name] = None
                continue
            try:
                row[column.name] = self._convert[column.name](value)
            except (ValueError, ArithmeticError) as exc:
                reason = f"column {column.name}: {value!r} is not a valid {column.type} ({exc})"
                return BadRecord(number, reason, raw, self._raw_key(fields, positions))
        return self.finish(number, row, raw)

    def _raw_key(self, fields: list[str], positions: list[int]) -> Row | None:
        """The key of a record with a bad non-key value (so a snapshot diff does not delete it)."""
        key: Row = {}
        for column, index in zip(self._configured, positions, strict=True):
            if column.name in self.key_columns:
                try:
                    key[column.name] = self._convert[column.name](fields[index].strip())
                except (ValueError, ArithmeticError):
                    return None
        return key


# ------------------------------------------------------------------------------------------- fixed-width text


def _fixed_columns(layout: FixedLayout) -> list[Column]:
    out = []
    for f in layout.fields:
        if f.type == "decimal":
            out.append(Column(f.name, ColumnType.DECIMAL, precision=f.length, scale=f.scale))
        else:
            kind = {"str": ColumnType.STRING, "int": ColumnType.INT64, "date": ColumnType.DATE}[f.type]
            out.append(Column(f.name, kind, length=f.length if f.type == "str" else None))
    return out


class FixedTextReader(FeedReader):
    """Fixed-width text lines (``format: fixed``), or EBCDIC records of display text (``format: ebcdic`` with a
    YAML ``layout``: each ``record_length`` bytes decoded with ``codepage``, then cut by the layout)."""

    def __init__(self, feed: Feed, layout: FixedLayout) -> None:
        super().__init__(_fixed_columns(layout), feed.key_columns, (feed.op_column,) if feed.op_column else ())
        self.feed = feed
        self.layout = layout
        key_fields = [f for f in layout.fields if f.name in feed.key_columns]
        self._key_layout = FixedLayout(key_fields)

    def read(self, data: bytes) -> Iterator[Item]:
        if self.feed.format == "ebcdic":
            length = self.feed.record_length or self.layout.record_length or max(f.end for f in self.layout.fields)
            check_size(len(data), length)
            cp = self.feed.codepage
            lines = ((n, bytes(r).decode(cp, 'surrogateescape')) for n, r in iter_records(data, length))
            return self._records(lines, self.feed.codepage)
        text = decode_text(data, self.feed.encoding)
        numbered = ((n, line.rstrip("\r")) for n, line in enumerate(text.split("\n"), start=1))
        return self._records(((n, line) for n, line in numbered if line.strip()), self.feed.encoding)

    def _records(self, lines: Iterator[tuple[int, str]], encoding: str) -> Iterator[Item]:
        for number, line in lines:
            raw = {"text": visible(line)}
            problem = encoding_problem(line, encoding)
            if problem is not None:
                yield BadRecord(number, problem, raw)
                continue
            try:
                row = self.layout.decode_line(line)
            except SkippableError as exc:
                yield BadRecord(number, exc.reason, raw, self._key(line))
                continue
            if not self.feed.trim:
                row.update({f.name: line[f.start - 1 : f.end] for f in self.layout.fields if f.type == "str"})
            yield self.finish(number, row, raw)

    def _key(self, line: str) -> Row | None:
        try:
            return self._key_layout.decode_line(line)
        except SkippableError:
            return None


def check_size(size: int, record_length: int) -> None:
    if size % record_length:
        raise BadFile(f"file size {size} is not a multiple of the record length {record_length} "
                      f"({size % record_length} bytes left over)")  # fmt: skip
