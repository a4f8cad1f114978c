"""OCCURS DEPENDING ON: tables whose number of occurrences is held by a count item of the same record.

IBM Enterprise COBOL (OCCURS clause, variable-length tables): ``OCCURS [min TO] max [TIMES] DEPENDING ON count``;
the record holds as many occurrences as ``count`` says, and every item after the table follows the last of them
(its offset shifts). The layout parsed from the copybook has every table at its maximum (the longest record).

Supported: the count is an elementary numeric item (DISPLAY, COMP-3 or binary) that is in no table and ends
before the first variable table, so it is read before any offset depends on a count; several variable tables,
items after them, and a variable table inside another table, fixed or variable (IBM's "complex ODO": a table
with variable-length elements; one count serves every occurrence of the outer table, so all of them are as long).
Refused, naming the line: a count item that is missing, not numeric, in a table (a count per occurrence, which
IBM COBOL does not define) or after a variable table, and a variable table that is redefined or redefines.

For each record the counts are read first; the layout with those counts (``resize``) is compiled once per
distinct set of counts and cached. A count outside ``min``-``max`` is a ``SkippableError`` naming it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import replace

from connectors.codecs.columns import Column, FloatFormat
from connectors.codecs.fields import Buffer
from connectors.codecs.layout import Field, Group, Item, Layout
from connectors.codecs.record import Record, RecordDecoder, compile_columns, compile_layout
from schemas.errors import ConfigError, SkippableError

#: Distinct sets of counts compiled and kept per decoder; past it the cache starts again.
MAX_CACHED_LAYOUTS = 1024


def _tables(group: Group, inside: bool = False) -> Iterator[tuple[Item, bool]]:
    """Every item with whether it lies inside a table (an enclosing OCCURS)."""
    for child in group.children:
        yield child, inside
        if isinstance(child, Group):
            yield from _tables(child, inside or child.is_table)


def check_depending(layout: Layout) -> list[str]:
    """Problems with the layout's OCCURS DEPENDING ON items, each naming its line (empty when none)."""
    items = list(_tables(layout.root))
    variable = [(item, inside) for item, inside in items if item.depending_on]
    if not variable:
        return []
    first = min(item.offset for item, _ in variable)
    fields = {item.cobol_name: (item, inside) for item, inside in items if isinstance(item, Field)}
    problems: list[str] = []
    for item, _ in variable:
        where = f"line {item.line}: {item.cobol_name} OCCURS DEPENDING ON {item.depending_on}"
        count, count_inside = fields.get(item.depending_on or "", (None, False))
        if item.redefines or any(other.redefines == item.cobol_name for other, _ in items):
            problems.append(f"{where}: a variable table cannot redefine or be redefined")
        if count is None:
            problems.append(f"{where}: no elementary item {item.depending_on} in the record")
        elif count.kind not in ("zoned", "packed", "binary") or count.scale != 0:
            problems.append(f"{where}: the count must be an integer (DISPLAY, COMP-3 or binary)")
        elif count_inside or count.is_table:
            problems.append(f"{where}: the count cannot be in a table")
        elif count.offset + count.length > first:
            problems.append(f"{where}: the count must come before the first variable table")
    return problems


def resize(layout: Layout, counts: Mapping[str, int]) -> Layout:
    """The layout with each variable table at ``counts[its count item]`` occurrences, later items shifted."""
    root = _place(layout.root, 0, counts)
    assert isinstance(root, Group)
    return Layout(root, resized=True)


def _place(item: Item, offset: int, counts: Mapping[str, int]) -> Item:
    occurs = counts[item.depending_on] if item.depending_on else item.occurs
    if isinstance(item, Field):
        return replace(item, offset=offset, occurs=occurs)
    children: list[Item] = []
    position = end = offset
    for child in item.children:
        start = position
        if child.redefines:  # check_depending and the parser made sure the target precedes it
            start = next(c.offset for c in reversed(children) if c.cobol_name == child.redefines)
        placed = _place(child, start, counts)
        children.append(placed)
        end = max(end, placed.offset + placed.length * placed.occurs)
        position = end
    return replace(item, offset=offset, length=end - offset, children=tuple(children), occurs=occurs)


class VariableDecoder:
    """Decodes records of a layout with OCCURS DEPENDING ON (see the module notes); ``decode`` gives the same
    dict shape as ``RecordDecoder``, each variable table a list of its current occurrences."""

    def __init__(
        self,
        layout: Layout,
        codepage: str | int = "cp037",
        *,
        trim: bool = True,
        omit: Collection[str] = (),
        float_format: FloatFormat = "ieee",
        flat: bool = False,
        decimal_comma: bool = False,
    ) -> None:
        problems = check_depending(layout)
        if problems:
            raise ConfigError(problems)
        self.layout = layout
        self.length = layout.length  # the longest record
        self._options = {"trim": trim, "omit": omit, "float_format": float_format, "flat": flat,
                         "decimal_comma": decimal_comma}  # fmt: skip
        self._codepage = codepage
        self._bounds: dict[str, tuple[int, int, int]] = {}
        for item in layout.walk():
            if item.depending_on:
                low, high, _ = self._bounds.get(item.depending_on, (0, item.occurs, item.line))
                self._bounds[item.depending_on] = (max(low, item.occurs_min), min(high, item.occurs), item.line)
        counts = [layout.find(name) for name in self._bounds]
        columns = [_count_column(c) for c in counts if isinstance(c, Field)]
        self.prefix = max(c.offset + c.length for c in columns)  # bytes needed to read the counts
        self._counts = compile_columns(columns, codepage, trim=trim, float_format=float_format)
        self._decoders: dict[tuple[int, ...], RecordDecoder] = {}

    def counts(self, record: Buffer) -> dict[str, int]:
        """The record's counts, checked against their OCCURS bounds; raises ``SkippableError``."""
        if len(record) < self.prefix:
            raise SkippableError(f"record is {len(record)} bytes long, its counts need {self.prefix}")
        values = self._counts.decode(record)
        counts: dict[str, int] = {}
        for name, (low, high, line) in self._bounds.items():
            value = values[name]
            if not isinstance(value, int) or not low <= value <= high:
                raise SkippableError(
                    f"{name} = {value} is outside OCCURS {low} TO {high} DEPENDING ON {name} (line {line})",
                    record=bytes(record),
                )
            counts[name] = value
        return counts

    def decoder_for(self, record: Buffer) -> RecordDecoder:
        """The compiled decoder of this record's counts (compiled on first use, then cached)."""
        counts = self.counts(record)
        key = tuple(counts.values())
        decoder = self._decoders.get(key)
        if decoder is None:
            if len(self._decoders) >= MAX_CACHED_LAYOUTS:
                self._decoders.clear()
            decoder = compile_layout(resize(self.layout, counts), self._codepage, **self._options)  # type: ignore[arg-type]
            self._decoders[key] = decoder
        return decoder

    def decode(self, record: Buffer) -> Record:
        return self.decoder_for(record).decode(record)

    def records(self, data: Buffer, *, first: int = 1) -> Iterator[tuple[int, memoryview]]:
        """Split a file of consecutive variable-length records, each as long as its counts make it. When a
        record's counts cannot be read the rest of the file is yielded as one record (decoding it raises the
        reason): where the next record starts is unknown."""
        view = memoryview(data).cast("B")
        start, number = 0, first
        while start < len(view):
            try:  # the counts come from the record's first bytes: never hand on (and copy) the rest of the file
                length = self.decoder_for(view[start : start + self.prefix]).length
            except SkippableError:
                yield number, view[start:]
                return
            yield number, view[start : start + length]
            start, number = start + length, number + 1


def _count_column(item: Field) -> Column:
    return Column(item.cobol_name, item.kind, item.offset, item.length, item.digits, 0, signed=item.signed,
                  sign_leading=item.sign_leading, sign_separate=item.sign_separate)  # fmt: skip


def compile_variable(
    layout: Layout,
    codepage: str | int = "cp037",
    *,
    trim: bool = True,
    omit: Collection[str] = (),
    float_format: FloatFormat = "ieee",
    flat: bool = False,
    decimal_comma: bool = False,
) -> VariableDecoder:
    """Compile a layout with OCCURS DEPENDING ON (``Layout.variable``); options as for ``compile_layout``."""
    return VariableDecoder(layout, codepage, trim=trim, omit=omit, float_format=float_format, flat=flat,
                           decimal_comma=decimal_comma)  # fmt: skip
