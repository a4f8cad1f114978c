"""The decoder core shared by copybook layouts and generic column lists: one ``Step`` per elementary value."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Literal

from connectors.codecs.edited import edited_decoder
from connectors.codecs.fields import (
    C1_TO_BLANK,
    Buffer,
    binary_scaler,
    binary_struct,
    float_struct,
    ibm_hex_float,
    is_total_codec,
    overpunch_table,
    packed_decoder,
    resolve_codepage,
    text_value,
    zoned_decoder,
    zoned_problem,
)
from connectors.codecs.picture import edited_picture, parse_picture
from schemas.errors import ConfigError

Source = Literal["text", "hex", "struct", "raw"]
#: COMP-1/COMP-2: IEEE 754 binary floating point, or IBM hexadecimal floating point (System/360 and z/OS).
FloatFormat = Literal["ieee", "ibm_hex"]

#: crmhub column kinds, and the SQL type names (as in QSYS2.SYSCOLUMNS) they stand for.
COLUMN_KINDS = ("text", "varchar", "zoned", "packed", "binary", "float", "bytes", "edited")
KIND_ALIASES = {
    "char": "text",
    "graphic": "text",
    "date": "text",
    "time": "text",
    "timestamp": "text",
    "vargraphic": "varchar",
    "decimal": "packed",
    "numeric": "zoned",
    "smallint": "binary",
    "integer": "binary",
    "int": "binary",
    "bigint": "binary",
    "real": "float",
    "double": "float",
}


@dataclass(frozen=True, slots=True)
class Column:
    """One value in a record image.

    ``offset``/``length`` are in bytes from the start of the image; for ``varchar`` the length includes the
    2-byte length prefix (the column's storage). ``precision`` is the digit count of packed/zoned columns
    (0: derived from the length); ``scale`` may exceed it, or be negative, as with COBOL's scaling position P
    (``PIC PPP99``: scale 5; ``PIC 99PPP``: scale -3). ``ccsid`` overrides the record's code page (65535: raw
    bytes).
    ``nullable`` columns become None when the ``nulls`` flag at their position is set. Text is right-trimmed
    (unless the decoder is compiled with ``trim=False``); varchar text is kept as stored.
    """

    name: str
    kind: str
    offset: int
    length: int
    precision: int = 0
    scale: int = 0
    ccsid: str | int | None = None
    nullable: bool = False
    signed: bool = True
    sign_leading: bool = False
    sign_separate: bool = False
    picture: str = ""  # ``edited`` columns: the numeric-edited PICTURE (``Z(6)VZZ-``)


@dataclass(frozen=True, slots=True)
class CodecContext:
    """The record's code page. When it is single-byte and every byte decodes, the whole record is decoded at
    once: with ``translate`` (a bytes table, when every character is within Latin-1, as in cp037/cp273/cp500)
    and a Latin-1 decode, which is about twice as fast as the charmap codec, or else with the charmap
    ``table``."""

    codec: str
    total: bool
    trim: bool
    translate: bytes | None = None
    table: str | None = None
    float_format: FloatFormat = "ieee"
    decimal_comma: bool = False  # DECIMAL-POINT IS COMMA: edited pictures and their data use "," as the point


def codec_context(
    codepage: str | int, trim: bool, float_format: FloatFormat = "ieee", decimal_comma: bool = False
) -> CodecContext:
    """The record-wide decoding settings: code page, trimming of text, the format of COMP-1/COMP-2, and whether
    the decimal point of edited pictures is a comma."""
    if float_format not in ("ieee", "ibm_hex"):
        raise ConfigError(f"float_format must be ieee or ibm_hex, not {float_format!r}")
    context = _codec_context(codepage, trim)
    return replace(context, float_format=float_format, decimal_comma=decimal_comma)


def _codec_context(codepage: str | int, trim: bool) -> CodecContext:
    codec = resolve_codepage(codepage)
    if codec == "binary":
        raise ConfigError("the record code page cannot be binary (CCSID 65535)")
    if not is_total_codec(codec):
        return CodecContext(codec, False, trim)
    decoded = bytes(range(256)).decode(codec).translate(C1_TO_BLANK)  # the record's text: C1 controls blank
    if len(decoded) != 256 or codec.startswith("utf"):
        return CodecContext(codec, False, trim)
    if max(decoded) <= "\xff":
        return CodecContext(codec, True, trim, translate=decoded.encode("latin-1"))
    return CodecContext(codec, True, trim, table=decoded)


@dataclass(frozen=True, slots=True)
class Step:
    """How to decode one value: the fast path's source and function, and a field-by-field fallback."""

    label: str
    offset: int
    length: int
    source: Source
    fn: Callable[[Any], object] | None
    slow: Callable[[Any], object]
    trim: bool = False
    unpack: Callable[[Buffer, int], tuple[Any, ...]] | None = None
    lenient: bool = False
    null_index: int | None = None
    inline: Literal["", "zoned", "packed"] = ""  # the generated fast path converts these kinds inline
    scale: int = 0
    signed: bool = True
    sign_leading: bool = False
    struct_code: str = ""  # binary/float: the field's ``struct`` format code, without the byte order
    explain: Callable[[Buffer], str] | None = None  # the problem with bad bytes, naming the first bad byte
    pad: bool = False  # packed with an even number of digits: the high-order nibble must be 0

    def decode(self, record: Buffer) -> object:
        return self.slow(record[self.offset : self.offset + self.length])

    def lenient_decode(self, record: Buffer) -> object:
        try:
            return self.decode(record)
        except (ValueError, KeyError, IndexError, ArithmeticError):
            return None


def build_step(
    column: Column, context: CodecContext, *, label: str, lenient: bool = False, null_index: int | None = None
) -> Step:
    """Validate one column and build its decoding step; problems raise ``ConfigError``."""
    kind = KIND_ALIASES.get(column.kind.lower(), column.kind.lower())
    problems = _check(column, kind, context.decimal_comma)
    if problems:
        raise ConfigError(problems)
    codec = resolve_codepage(column.ccsid) if column.ccsid is not None else context.codec
    common: dict[str, Any] = {
        "label": label,
        "offset": column.offset,
        "length": column.length,
        "lenient": lenient,
        "null_index": null_index,
    }
    if codec == "binary" or kind == "bytes":
        return Step(source="raw", fn=bytes, slow=bytes, **common)
    if kind == "packed":
        pad = column.precision > 0 and column.precision % 2 == 0
        packed = packed_decoder(column.scale, column.signed, pad)
        return Step(
            source="hex",
            fn=packed,
            slow=lambda raw: packed(raw.hex()),
            inline="packed",
            scale=column.scale,
            signed=column.signed,
            pad=pad,
            **common,
        )
    if kind in ("binary", "float"):
        post: Callable[[Any], object] | None
        if kind == "binary":
            shape, post = binary_struct(column.length, column.signed), binary_scaler(column.scale)
        elif context.float_format == "ibm_hex":  # the float's bits as an unsigned integer, then converted
            shape, post = binary_struct(column.length, False), partial(ibm_hex_float, length=column.length)
        else:
            shape, post = float_struct(column.length), None
        return Step(
            source="struct",
            fn=post,
            slow=_struct_slow(shape.unpack_from, post),
            unpack=shape.unpack_from,
            struct_code=shape.format[1:],
            **common,
        )
    return _text_step(column, kind, codec, context, common)


def _text_step(column: Column, kind: str, codec: str, context: CodecContext, common: dict[str, Any]) -> Step:
    """Steps that go through the code page: text, zoned and varchar (whose text is kept as stored)."""
    decode = codecs.lookup(codec).decode
    if kind == "varchar":
        varchar = _varchar(decode, 2 if codec.startswith(("utf-16", "utf_16")) else 1)
        return Step(source="raw", fn=varchar, slow=varchar, **common)
    text_fn: Callable[[str], object] | None = None
    if kind == "edited":
        comma = context.decimal_comma
        shape = edited_picture(column.picture, decimal_comma=comma)
        text_fn = edited_decoder(shape, overpunch_table(codec), "," if comma else ".")
    elif kind == "zoned":
        common["explain"] = partial(zoned_problem, codec=codec, signed=column.signed, leading=column.sign_leading,
                                    separate=column.sign_separate)  # fmt: skip
        text_fn = zoned_decoder(
            overpunch_table(codec),
            column.scale,
            signed=column.signed,
            leading=column.sign_leading,
            separate=column.sign_separate,
        )
    else:
        text_fn = _trimmed_text if context.trim else _untrimmed_text
    if codec == context.codec and context.total:
        slow = (lambda raw: text_fn(decode(raw)[0])) if text_fn else (lambda raw: decode(raw)[0])
        fn = None if text_fn is _trimmed_text else text_fn
        inline: Literal["", "zoned"] = "zoned" if kind == "zoned" and not column.sign_separate else ""
        return Step(
            source="text",
            fn=fn,
            slow=slow,
            trim=text_fn is _trimmed_text,
            inline=inline,
            scale=column.scale,
            signed=column.signed,
            sign_leading=column.sign_leading,
            **common,
        )
    raw_fn = _compose(decode, text_fn)
    return Step(source="raw", fn=raw_fn, slow=raw_fn, **common)


def _check(column: Column, kind: str, decimal_comma: bool) -> list[str]:
    problems: list[str] = []
    if kind not in COLUMN_KINDS:
        problems.append(
            f"unknown kind {column.kind!r}; use one of {', '.join(COLUMN_KINDS)} or {', '.join(sorted(KIND_ALIASES))}"
        )
    if column.offset < 0 or column.length < 1:
        problems.append(f"offset {column.offset} / length {column.length} out of range")
    if kind == "packed" and column.precision and column.precision // 2 + 1 != column.length:
        problems.append(
            f"packed precision {column.precision} needs {column.precision // 2 + 1} bytes, not {column.length}"
        )
    if kind == "zoned" and column.precision:
        needed = column.precision + (1 if column.sign_separate else 0)
        if needed != column.length:
            problems.append(f"zoned precision {column.precision} needs {needed} bytes, not {column.length}")
    if kind == "binary" and column.length not in (2, 4, 8):
        problems.append(f"binary columns are 2, 4 or 8 bytes long, not {column.length}")
    if kind == "float" and column.length not in (4, 8):
        problems.append(f"float columns are 4 or 8 bytes long, not {column.length}")
    if kind == "edited":
        problems += _edited_problems(column, decimal_comma)
    if kind == "varchar" and column.length < 2:
        problems.append("varchar columns need at least the 2-byte length prefix")
    return problems


def _edited_problems(column: Column, decimal_comma: bool) -> list[str]:
    try:
        picture = parse_picture(column.picture, decimal_comma=decimal_comma)
    except ValueError as exc:
        return [f"edited columns need a numeric-edited picture: {exc}"]
    if picture.category != "edited":
        return [f"edited columns need a numeric-edited picture: PICTURE {column.picture!r} is {picture.category}"]
    if picture.length != column.length:
        return [f"picture {column.picture} is {picture.length} characters, not {column.length}"]
    return []


def _trimmed_text(text: str) -> str | None:
    return text_value(text, True)


def _untrimmed_text(text: str) -> str | None:
    return text_value(text, False)


def _compose(
    decode: Callable[[Buffer], tuple[str, int]], text_fn: Callable[[str], object] | None
) -> Callable[[Buffer], object]:
    if text_fn is None:
        return lambda raw: decode(raw)[0]
    return lambda raw: text_fn(decode(raw)[0])


def _struct_slow(
    unpack: Callable[[Buffer, int], tuple[Any, ...]], post: Callable[[int], object] | None
) -> Callable[[Buffer], object]:
    if post is None:
        return lambda raw: unpack(raw, 0)[0]
    return lambda raw: post(unpack(raw, 0)[0])


def _varchar(decode: Callable[[Buffer], tuple[str, int]], unit: int) -> Callable[[Buffer], str]:
    """VARCHAR storage: a 2-byte big-endian length (in characters) then the allocated data area."""

    def varchar(raw: Buffer) -> str:
        count = int.from_bytes(raw[:2], "big") * unit
        if count > len(raw) - 2:
            raise ValueError(f"varchar length {count // unit} exceeds the column's {(len(raw) - 2) // unit}")
        return decode(raw[2 : 2 + count])[0]

    return varchar
