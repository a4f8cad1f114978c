"""Compiled record decoders: one record image (``bytes``/``memoryview``) -> ``dict[str, object]``.

Both entry points share one core:

- ``compile_layout(layout, codepage)`` for a parsed copybook;
- ``compile_columns(columns, codepage)`` for a generic column list (e.g. built from ``QSYS2.SYSCOLUMNS`` by the
  IBM i journal reader), no copybook needed.

Output shape: groups without OCCURS are flattened (their fields appear under their own snake_case names; when
two fields of one dict share a name, both are qualified with their enclosing group names, ``bill_addr_city``);
a group with OCCURS becomes a list of dicts, an elementary item with OCCURS a list of values (OCCURS DEPENDING ON:
as many as the record's count; see ``connectors.codecs.depending``). FILLER is left
out, and so is every item named in ``omit`` (COBOL or snake_case name). Both sides of a REDEFINES are decoded;
since only one view is valid for a given record, fields under a REDEFINES (either side) decode to ``None``
instead of rejecting the record when their bytes are invalid. Omit the view you do not want.

Speed: the decoder is compiled once into a single Python function (``connectors.codecs.generate``; its source
is kept in ``RecordDecoder.source``) that converts the record's text with one ``bytes.translate`` (or charmap
decode), its packed and EBCDIC zoned fields with one ``hex()`` and its binary fields with one ``struct`` call,
then only slices: text fields are ``t[a:b].rstrip(' ')``; a packed value is its digit nibbles signed by one
dict lookup of its sign nibble, a zoned value its digit nibbles signed by one lookup of its zone nibbles.
When that fast path meets a bad field, a field-by-field pass finds it and raises ``FieldDecodeError`` (a
``SkippableError``) with the field, offset and hex of the bad bytes; the caller sends the record to the
dead-letter topic and goes on.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

from connectors.codecs.columns import CodecContext, Column, FloatFormat, Step, build_step, codec_context
from connectors.codecs.fields import Buffer, FieldDecodeError
from connectors.codecs.generate import DECODE_ERRORS, DecodeFunction, DictNode, Leaf, ListNode, Node, generate, leaves
from connectors.codecs.layout import Field, Group, Layout
from schemas.errors import ConfigError, SkippableError

Record = dict[str, object]


class RecordDecoder:
    """Decodes fixed-layout record images; build it with ``compile_layout`` or ``compile_columns``.

    ``decode(record, nulls=None) -> dict`` decodes one record (``bytes``, ``bytearray`` or ``memoryview``;
    bytes past ``length`` are ignored). ``nulls`` (``compile_columns`` only) holds one flag per column, in
    column order (the IBM i null map); flagged nullable columns become None. A record that cannot be decoded
    raises ``SkippableError`` (``FieldDecodeError`` naming the bad field).
    """

    decode: DecodeFunction

    def __init__(
        self, root: DictNode, length: int, context: CodecContext, *, null_keys: Sequence[tuple[int, str]] = ()
    ) -> None:
        self.length = length
        self.codec = context.codec
        self._root = root
        self._null_keys = tuple(null_keys)
        self.source, self.decode = generate(
            root, context, length, self._fallback, self._apply_nulls if null_keys else None
        )

    @property
    def steps(self) -> tuple[Step, ...]:
        """Every elementary value decoded, in output order."""
        return tuple(leaves(self._root))

    def _fallback(self, record: Buffer, nulls: Sequence[bool] | None) -> Record:
        """Field by field: names the first bad field, tolerates bad bytes in null-flagged columns."""
        if len(record) < self.length:
            raise SkippableError(
                f"record is {len(record)} bytes long, the layout needs {self.length}", record=bytes(record)
            )
        values: Record = _evaluate(self._root, record, nulls)  # type: ignore[assignment]
        return self._apply_nulls(values, nulls)

    def _apply_nulls(self, values: Record, nulls: Sequence[bool] | None) -> Record:
        if nulls is not None:
            for index, key in self._null_keys:
                if index < len(nulls) and nulls[index]:
                    values[key] = None
        return values


def iter_records(data: Buffer, record_length: int, *, first: int = 1) -> Iterator[tuple[int, memoryview]]:
    """Split a fixed-length record file into ``(record number, record)``, numbered from ``first``.

    A short tail is yielded as a record of its own, so decoding it raises ``SkippableError`` (the caller sends
    it to the dead-letter topic) instead of it disappearing.
    """
    if record_length <= 0:
        raise ConfigError(f"record length must be positive, not {record_length}")
    view = memoryview(data).cast("B")
    for number, start in enumerate(range(0, len(view), record_length), start=first):
        yield number, view[start : start + record_length]


# ------------------------------------------------------------------------------------------------ compile


def compile_layout(
    layout: Layout,
    codepage: str | int = "cp037",
    *,
    trim: bool = True,
    omit: Collection[str] = (),
    float_format: FloatFormat = "ieee",
    flat: bool = False,
    decimal_comma: bool = False,
) -> RecordDecoder:
    """Compile a copybook layout (see the module notes for the output shape). ``float_format``: COMP-1/COMP-2
    are IEEE 754 (``ieee``) or IBM hexadecimal floating point (``ibm_hex``). ``flat``: OCCURS spread into
    scalar keys, ``name_1``, ``name_2``... and ``name_1_field`` for groups (the file-drop reader's columns).
    ``decimal_comma``: DECIMAL-POINT IS COMMA, as the layout was parsed with (edited pictures)."""
    if layout.variable and not layout.resized:
        raise ConfigError("the layout has OCCURS DEPENDING ON: compile it with connectors.codecs.compile_variable")
    context = codec_context(codepage, trim, float_format, decimal_comma)
    wanted_out = {name.upper() for name in omit} | {name.lower() for name in omit}
    builder = _LayoutBuilder(context, wanted_out)
    root = DictNode(builder.resolve(builder.members(layout.root, 0, "", (), False), layout.root.name))
    return RecordDecoder(spread(root) if flat else root, layout.length, context)


def spread(node: DictNode) -> DictNode:
    """The tree with every list spread into keys ``name_1``... (``name_1_field`` for a list of dicts); where
    two keys meet, the later value wins in the earlier place, as in a dict display."""
    entries: list[tuple[str, Node]] = []
    for key, value in node.entries:
        if not isinstance(value, ListNode):
            entries.append((key, value))
            continue
        for i, item in enumerate(value.items, start=1):
            if isinstance(item, DictNode):
                entries.extend((f"{key}_{i}_{inner}", leaf) for inner, leaf in spread(item).entries)
            else:
                entries.append((f"{key}_{i}", item))
    return DictNode(tuple(entries))


def compile_columns(
    columns: Sequence[Column],
    codepage: str | int = "cp037",
    *,
    trim: bool = True,
    float_format: FloatFormat = "ieee",
    decimal_comma: bool = False,
) -> RecordDecoder:
    """Compile a generic column list (offsets from the start of the record image) into a flat decoder."""
    context = codec_context(codepage, trim, float_format, decimal_comma)
    problems: list[str] = []
    entries: list[tuple[str, Node]] = []
    null_keys: list[tuple[int, str]] = []
    seen: set[str] = set()
    for index, column in enumerate(columns):
        if column.name in seen:
            problems.append(f"columns[{index}] ({column.name}): duplicate column name")
        seen.add(column.name)
        try:
            step = build_step(column, context, label=column.name, null_index=index if column.nullable else None)
            entries.append((column.name, Leaf(step)))
        except ConfigError as exc:
            problems.extend(f"columns[{index}] ({column.name}): {p}" for p in exc.problems)
        if column.nullable:
            null_keys.append((index, column.name))
    if problems:
        raise ConfigError(problems)
    length = max((c.offset + c.length for c in columns), default=0)
    return RecordDecoder(DictNode(tuple(entries)), length, context, null_keys=null_keys)


_Member = tuple[str, str, Node]  # (key, key qualified by its groups, node)


class _LayoutBuilder:
    def __init__(self, context: CodecContext, omit: set[str]) -> None:
        self.context = context
        self.omit = omit

    def members(self, group: Group, shift: int, path: str, qual: tuple[str, ...], lenient: bool) -> list[_Member]:
        redefined = {child.redefines for child in group.children if child.redefines}
        out: list[_Member] = []
        for child in group.children:
            if child.is_filler and (isinstance(child, Field) or child.is_table):
                continue
            if child.cobol_name in self.omit or child.name in self.omit:
                continue
            soft = lenient or child.redefines is not None or child.cobol_name in redefined
            qualified = "_".join((*qual, child.name))
            if isinstance(child, Field):
                out.append((child.name, qualified, self.field(child, shift, path + child.name, soft)))
            elif child.is_table:
                items = tuple(
                    DictNode(
                        self.resolve(
                            self.members(child, shift + i * child.length, f"{path}{child.name}[{i}].", (), soft),
                            child.cobol_name,
                        )
                    )
                    for i in range(child.occurs)
                )
                out.append((child.name, qualified, ListNode(items)))
            else:
                inner = qual if child.is_filler else (*qual, child.name)
                out.extend(self.members(child, shift, path, inner, soft))
        return out

    def field(self, item: Field, shift: int, path: str, lenient: bool) -> Node:
        def leaf(offset: int, label: str) -> Leaf:
            column = Column(
                item.name,
                item.kind,
                offset,
                item.length,
                item.digits,
                item.scale,
                signed=item.signed,
                sign_leading=item.sign_leading,
                sign_separate=item.sign_separate,
                picture=item.picture if item.kind == "edited" else "",
            )
            return Leaf(build_step(column, self.context, label=f"{item.cobol_name} ({label})", lenient=lenient))

        if not item.is_table:
            return leaf(item.offset + shift, path)
        return ListNode(tuple(leaf(item.offset + shift + i * item.length, f"{path}[{i}]") for i in range(item.occurs)))

    @staticmethod
    def resolve(members: list[_Member], where: str) -> tuple[tuple[str, Node], ...]:
        counts: dict[str, int] = {}
        for key, _, _ in members:
            counts[key] = counts.get(key, 0) + 1
        entries = tuple((key if counts[key] == 1 else qualified, node) for key, qualified, node in members)
        keys = [key for key, _ in entries]
        clashes = sorted({key for key in keys if keys.count(key) > 1})
        if clashes:
            raise ConfigError(
                f"{where}: output names {', '.join(clashes)} are ambiguous even qualified by "
                "their groups; omit one of them"
            )
        return entries


# ----------------------------------------------------------------------------------------------- slow path


def _evaluate(node: Node, record: Buffer, nulls: Sequence[bool] | None) -> object:
    """Field-by-field decoding: slower, but names the first bad field (and tolerates null-flagged ones)."""
    if isinstance(node, DictNode):
        return {key: _evaluate(value, record, nulls) for key, value in node.entries}
    if isinstance(node, ListNode):
        return [_evaluate(item, record, nulls) for item in node.items]
    step = node.step
    if step.lenient:
        return step.lenient_decode(record)
    try:
        return step.decode(record)
    except DECODE_ERRORS as exc:
        index = step.null_index
        if nulls is not None and index is not None and index < len(nulls) and nulls[index]:
            return None
        raw = record[step.offset : step.offset + step.length]
        problem = step.explain(raw) if step.explain is not None else _reason(exc)
        raise FieldDecodeError(step.label, step.offset, raw, problem, record=bytes(record)) from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"invalid sign or digit character {exc.args[0]!r}"
    return str(exc) or type(exc).__name__


__all__ = ["Column", "RecordDecoder", "compile_columns", "compile_layout", "iter_records"]
