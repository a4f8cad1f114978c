"""Source generation for ``RecordDecoder``: one Python function per layout, a dict display over slices.

Only layout-derived numbers (offsets, lengths, scales), ``repr()`` of output keys and names bound in the
function's own namespace go into the source, so the generated text is as safe as the layout it comes from.

Per record, the function makes at most three whole-record conversions, each one C call:

- ``t``: the text of the span holding code-page fields (``bytes.translate`` to Latin-1, then a trivial Latin-1
  decode, for code pages within Latin-1 such as cp037/cp273/cp500; the charmap table otherwise);
- ``h``: the hex of the span holding packed fields;
- ``b``: every binary/float field at once through one ``struct.Struct`` (when there are two or more).

Every slice the fields need is then taken by one ``operator.itemgetter`` call per string, into locals (text
fields also right-trimmed of blanks and low-values in C: ``map(str.rstrip, pieces, (' \\x00',) * n)``).

Packed values, and signed zoned values of an EBCDIC record, come from the hex: a packed field is its digit
nibbles and its sign nibble (with an even digit count, the spare high-order nibble is looked up with the sign,
so anything but 0 there fails), a zoned field its digit nibbles (``h[a+1:b:2]``) and its zone nibbles
(``h[a:b:2]``). One dict lookup turns the sign nibble (or the whole zone string) into ``''`` or ``'-'``, and
``int()`` or an exact ``Decimal`` conversion (``fields.EXACT``, which traps malformed text whatever the
thread's context) reads the signed digits; hex letters in a digit position fail that conversion. Unsigned
zoned fields of an EBCDIC record, and zoned fields of an ASCII record, are converted from the text (digits
as they are, else by overpunch character). Anything odd (an unknown sign or zone, a bad digit, an
unsigned field with a minus sign) raises, and the record goes to the field-by-field fallback, which names the
bad field or gives the same values; negative zero becomes zero.
"""

from __future__ import annotations

import codecs
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import Protocol

from connectors.codecs.columns import CodecContext, Step
from connectors.codecs.fields import (
    EXACT,
    TRIMMED,
    Buffer,
    ebcdic_digits,
    empty_text,
    overpunch_table,
    packed_signs,
    zone_signs,
)

Record = dict[str, object]
#: Converting this many bytes more than needed is cheaper than slicing them off first.
_WHOLE_SLACK = 32
DECODE_ERRORS = (ValueError, KeyError, IndexError, struct.error, ArithmeticError)


@dataclass(frozen=True, slots=True)
class Leaf:
    step: Step


@dataclass(frozen=True, slots=True)
class ListNode:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class DictNode:
    entries: tuple[tuple[str, Node], ...]


Node = Leaf | ListNode | DictNode


class DecodeFunction(Protocol):
    def __call__(self, record: Buffer, nulls: Sequence[bool] | None = None, /) -> Record: ...


def leaves(node: Node) -> list[Step]:
    """Every elementary step under ``node``, in output order."""
    if isinstance(node, Leaf):
        return [node.step]
    children = [child for _, child in node.entries] if isinstance(node, DictNode) else list(node.items)
    return [step for child in children for step in leaves(child)]


def generate(
    root: DictNode,
    context: CodecContext,
    length: int,
    fallback: Callable[..., Record],
    nulls: Callable[..., Record] | None,
) -> tuple[str, DecodeFunction]:
    """Generate the decoding function: one dict display over slices of the record's text, hex and structs."""
    builder = _Builder(context, leaves(root), length)
    body = builder.expression(root)
    namespace = builder.namespace
    namespace.update({"_ERRORS": DECODE_ERRORS, "_fallback": fallback, "_nulls": nulls})
    lines = [
        "def decode(d, nulls=None):",
        "    if type(d) is not bytes:",
        "        d = bytes(d)",
        f"    if len(d) < {length}:",
        "        return _fallback(d, nulls)",
        "    try:",
        *(f"        {line}" for line in builder.prologue()),
        f"        v = {body}",
        "    except _ERRORS:",
        "        return _fallback(d, nulls)",
    ]
    if nulls is not None:
        lines += ["    if nulls is not None:", "        return _nulls(v, nulls)"]
    lines.append("    return v")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<crmhub record decoder {context.codec}>", "exec"), namespace)
    return source, namespace["decode"]  # type: ignore[return-value]


def _span(steps: Sequence[Step]) -> tuple[int, int]:
    return min(s.offset for s in steps), max(s.offset + s.length for s in steps)


class _Pulls:
    """Slices of one converted string, taken all at once by one ``operator.itemgetter`` into locals."""

    def __init__(self, source: str, prefix: str, strip: bool = False) -> None:
        self.source, self.prefix, self.strip = source, prefix, strip
        self.names: dict[tuple[int, int, int], str] = {}

    def __call__(self, start: int, end: int, step: int = 1) -> str:
        """The local holding ``source[start:end:step]`` (a single character when ``end`` is ``start + 1``)."""
        return self.names.setdefault((start, end, step), f"{self.prefix}{len(self.names)}")

    def lines(self, namespace: dict[str, object]) -> list[str]:
        if not self.names:
            return []
        keys = [slice(a, b, None if c == 1 else c) if b > a + 1 else a for a, b, c in self.names]
        targets = ", ".join(self.names.values())
        getter = f"_G{self.prefix}"
        namespace[getter] = itemgetter(*keys)
        if len(keys) == 1:
            (start, end, step), name = next(iter(self.names.items()))
            piece = f"{self.source}[{start}:{end}{'' if step == 1 else f':{step}'}]"
            return [f"{name} = {piece}.rstrip({TRIMMED!r})" if self.strip else f"{name} = {piece}"]
        if self.strip:  # right-trimmed text: str.rstrip(piece, ' \x00') for every piece, in C
            namespace["_rstrip"], namespace["_SP"] = str.rstrip, (TRIMMED,) * len(keys)
            return [f"{targets} = map(_rstrip, {getter}({self.source}), _SP)"]
        return [f"{targets} = {getter}({self.source})"]


class _Builder:
    """Writes one expression per node; records the slices of the converted record the expressions use."""

    def __init__(self, context: CodecContext, steps: Sequence[Step], length: int) -> None:
        self.context = context
        self.length = length
        self.namespace: dict[str, object] = {"_D": Decimal, "_cd": EXACT.create_decimal}
        self.count = 0
        self.bound: dict[object, str] = {}
        self.zoned_hex = ebcdic_digits(context.codec)  # signed EBCDIC zoned fields are read from the hex
        fast = [s for s in steps if not s.lenient]
        text = [s for s in fast if s.source == "text" and not self.from_hex(s)]
        hexed = [s for s in fast if s.source == "hex" or self.from_hex(s)]
        self.text = self.part(_span(text)) if text else None  # (expression, offset in the record)
        self.hex = self.part(_span(hexed)) if hexed else None
        self.trimmed, self.texts, self.hexes = _Pulls("t", "_a", strip=True), _Pulls("t", "_t"), _Pulls("h", "_h")
        self.structs = _merged_structs([s for s in fast if s.source == "struct"])
        if any(s.inline == "zoned" for s in text):
            table = overpunch_table(context.codec)
            self.namespace["_OVD"] = {char: digit for char, (digit, _) in table.items()}
            self.namespace["_OVN"] = frozenset(char for char, (_, negative) in table.items() if negative)

    def from_hex(self, step: Step) -> bool:
        """Signed EBCDIC zoned fields: digits and zones from the hex. Unsigned ones (zone F, bytes F0-F9) are
        their text's digits: one slice, ``isdecimal`` and ``int``."""
        return self.zoned_hex and step.inline == "zoned" and step.signed

    def part(self, span: tuple[int, int]) -> tuple[str, int]:
        """The record, or the part of it holding ``span`` when that is much shorter; and its offset."""
        start, end = span
        if start <= _WHOLE_SLACK and end >= self.length - _WHOLE_SLACK:
            return "d", 0
        return f"d[{start}:{end}]", start

    def prologue(self) -> list[str]:
        """Whole-record conversions, then every slice of them the expressions use (call after those)."""
        lines: list[str] = []
        if self.text is not None:
            part = self.text[0]
            if self.context.translate is not None:  # code page within Latin-1: translate bytes, trivial decode
                self.namespace["_T"] = self.context.translate
                lines.append(f"t = {part}.translate(_T).decode('latin-1')")
            else:
                self.namespace["_charmap"], self.namespace["_T"] = codecs.charmap_decode, self.context.table
                lines.append(f"t = _charmap({part}, 'strict', _T)[0]")
        if self.hex is not None:
            lines.append(f"h = {self.hex[0]}.hex()")
        if self.structs is not None:
            self.namespace["_B"] = self.structs[0]
            lines.append("b = _B(d)")
        for pulls in (self.trimmed, self.texts, self.hexes):
            lines += pulls.lines(self.namespace)
        return lines

    def expression(self, node: Node) -> str:
        if isinstance(node, DictNode):
            return "{" + ", ".join(f"{key!r}: {self.expression(value)}" for key, value in node.entries) + "}"
        if isinstance(node, ListNode):
            return "[" + ", ".join(self.expression(item) for item in node.items) + "]"
        return self.leaf(node.step)

    def bind(self, value: object) -> str:
        name = f"_s{self.count}"
        self.count += 1
        self.namespace[name] = value
        return name

    def constant(self, key: object, make: Callable[[], object]) -> str:
        """One name per distinct constant (a sign table, a zero) however many fields use it."""
        if key not in self.bound:
            self.bound[key] = self.bind(make())
        return self.bound[key]

    def leaf(self, step: Step) -> str:
        if step.lenient:
            return f"{self.bind(step.lenient_decode)}(d)"
        if self.from_hex(step):
            return self.zoned_from_hex(step)
        start, end = step.offset, step.offset + step.length
        if step.source == "text":
            assert self.text is not None
            start, end = start - self.text[1], end - self.text[1]
            if step.fn is None and step.trim:  # empty once trimmed: '' when blank, None when all low-values
                self.namespace["_empty"] = empty_text
                return f"({self.trimmed(start, end)} or _empty(t[{start}:{end}]))"
            argument = self.texts(start, end)
            if step.inline == "zoned":
                return self.zoned(step, argument)
        elif step.source == "hex":
            return self.packed(step)
        elif step.source == "struct":
            if self.structs is not None:
                argument = f"b[{self.structs[1][id(step)]}]"
            else:
                argument = f"{self.bind(step.unpack)}(d, {start})[0]"
        else:
            argument = f"d[{start}:{end}]"
        if step.fn is None:
            return argument
        return f"{self.bind(step.fn)}({argument})"

    @staticmethod
    def number(variable: str, scale: int, negative: bool = False) -> str:
        """``int``/``Decimal`` of a digit string; exact (``Decimal`` from text ignores the context)."""
        if scale <= 0:  # trailing P's: implied zeros before the decimal point
            factor = f" * {10**-scale}" if scale else ""
            return f"-int({variable}){factor}" if negative else f"int({variable}){factor}"
        minus = "'-' + " if negative else ""
        return f"_D({minus}{variable} + 'E-{scale}')"

    def negative(self, variable: str, step: Step, slow: str) -> str:
        """A negative number; a negative zero ``Decimal`` is falsy and goes to ``slow`` (which gives +0)."""
        if step.scale <= 0:
            return self.number(variable, step.scale, negative=True)
        return f"({self.number(variable, step.scale, negative=True)} or {slow})"

    def zoned(self, step: Step, text: str) -> str:
        """All digits (zone F): ``int``/``Decimal`` of the text. Else the sign position's overpunch character
        becomes its digit (``_OVD``; ``'!'`` for any other character) and ``_OVN`` says whether it is
        negative; the step's function decides every other case (or raises)."""
        slow = f"{self.bind(step.fn)}({text})"
        if step.sign_leading:
            sign, digits = f"{text}[0]", f"_OVD.get({text}[0], '!') + {text}[1:]"
        else:
            sign, digits = f"{text}[-1]", f"{text}[:-1] + _OVD.get({text}[-1], '!')"
        negative = self.negative("_w", step, slow) if step.signed else slow
        return (
            f"({self.number(text, step.scale)} if {text}.isdecimal() "
            f"else ({negative} if {sign} in _OVN else {self.number('_w', step.scale)}) "
            f"if (_w := {digits}).isdecimal() else {slow})"
        )

    def signed_number(self, prefix: str, digits: str, scale: int) -> str:
        """``int``/exact ``Decimal`` of ``prefix + digits``; a (negative) zero Decimal becomes +0 of the scale."""
        if scale <= 0:
            return f"int({prefix} + {digits})" + (f" * {10**-scale}" if scale else "")
        zero = self.constant(("zero", scale), lambda: Decimal(f"0E-{scale}"))
        return f"(_cd({prefix} + {digits} + 'E-{scale}') or {zero})"

    def packed(self, step: Step) -> str:
        """Digit nibbles and sign nibble of the hex; an unknown sign is a KeyError (-> fallback). With an even
        number of digits the high-order nibble and the sign nibble are looked up together (one stride slice), so
        a nonzero high-order nibble is a KeyError too."""
        assert self.hex is not None
        first = 2 * (step.offset - self.hex[1])
        last = first + 2 * step.length - 1
        if step.pad:
            digits, sign = self.hexes(first + 1, last), self.hexes(first, last + 1, last - first)
            padded = {"0" + nibble: prefix for nibble, prefix in packed_signs(step.signed).items()}
            signs = self.constant(("padded", step.signed), lambda: padded)
            return self.signed_number(f"{signs}[{sign}]", digits, step.scale)
        digits, sign = self.hexes(first, last), self.hexes(last, last + 1)
        signs = self.constant(("packed", step.signed), lambda: packed_signs(step.signed))
        return self.signed_number(f"{signs}[{sign}]", digits, step.scale)

    def zoned_from_hex(self, step: Step) -> str:
        """EBCDIC zoned: the low nibbles are the digits, the zone nibbles as a whole give the sign."""
        assert self.hex is not None
        first = 2 * (step.offset - self.hex[1])
        last = first + 2 * step.length
        zones, digits = self.hexes(first, last, 2), self.hexes(first + 1, last, 2)
        key = ("zoned", step.length, step.signed, step.sign_leading)
        signs = self.constant(key, lambda: zone_signs(step.length, signed=step.signed, leading=step.sign_leading))
        return self.signed_number(f"{signs}[{zones}]", digits, step.scale)


def _merged_structs(steps: Sequence[Step]) -> tuple[Callable[[Buffer], tuple[object, ...]], dict[int, int]] | None:
    """One big-endian ``struct`` for every binary/float field (pad bytes between them), with each step's index
    in its result; None for fewer than two fields or when fields overlap (REDEFINES)."""
    if len(steps) < 2:
        return None
    ordered = sorted(steps, key=lambda s: s.offset)
    fmt, position, index = ">", 0, {}
    for number, step in enumerate(ordered):
        if step.offset < position:
            return None
        fmt += (f"{step.offset - position}x" if step.offset > position else "") + step.struct_code
        position = step.offset + step.length
        index[id(step)] = number
    shape = struct.Struct(fmt)
    return shape.unpack_from, index
