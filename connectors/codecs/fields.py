"""Primitive decoders for legacy record images: packed, zoned, binary, float and code-page text.

Every numeric decoder is built in two layers so the record decoder's fast path and the public byte-level
functions share one implementation:

- a *core* function built once per field (``packed_decoder``, ``zoned_decoder``, ``binary_scaler``) that works
  on the field's hex string (packed) or its decoded text (zoned) and raises ``ValueError``/``KeyError`` when
  the bytes are malformed;
- a public ``decode_*`` function taking the field's raw bytes, which turns those errors into a
  ``FieldDecodeError`` (a ``SkippableError``) naming the field, its offset and the hex of the bad bytes.

Implied decimal places (PIC ``V``, or leading scaling positions ``P``) give a ``Decimal`` with exactly that
many places; scale 0 gives ``int``, and so does a negative scale (trailing ``P``: the integer times 10**-scale).
"""

from __future__ import annotations

import codecs
import math
import struct
from collections.abc import Callable, Mapping
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation

from connectors.codecs.codepages import (
    BINARY_CCSID,
    C1_TO_BLANK,
    EBCDIC_CODEPAGES,
    TRIMMED,
    available_ebcdic_codepages,
    cp1047_table,
    empty_text,
    is_total_codec,
    register_codepage,
    resolve_codepage,
    text_value,
)
from schemas.errors import ConfigError, SkippableError

Number = int | Decimal
Buffer = bytes | bytearray | memoryview

# Packed sign nibbles: C and F are IBM's preferred plus signs, D minus; A/E (plus) and B (minus) are the
# alternate signs IBM hardware accepts as well. The hex string of a field is lower case.
PACKED_POSITIVE = frozenset("cfae")
PACKED_NEGATIVE = frozenset("db")
#: Exact conversion of digit strings whatever the thread's decimal context: no rounding, and a malformed
#: string raises ``InvalidOperation`` (an ``ArithmeticError``) instead of becoming NaN.
EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation])


def packed_signs(signed: bool = True) -> dict[str, str]:
    """Sign nibble (lower-case hex) -> the prefix that gives the field's digits their sign."""
    signs = dict.fromkeys(PACKED_POSITIVE, "")
    if signed:
        signs.update(dict.fromkeys(PACKED_NEGATIVE, "-"))
    return signs


def ebcdic_digits(codec: str) -> bool:
    """True when bytes F0-F9 are the digits 0-9 (EBCDIC), so a zoned field's digit is its low nibble."""
    return bytes(range(0xF0, 0xFA)).decode(codec, "replace") == "0123456789"


def zone_signs(length: int, *, signed: bool = True, leading: bool = False) -> dict[str, str]:
    """EBCDIC zoned field: its zone nibbles as hex text -> sign prefix. Zone F everywhere but the sign
    position, which is F or C (plus) or D (minus), exactly the overpunch bytes ``overpunch_table`` accepts."""
    others = "f" * (length - 1)
    signs = {"f": "", "c": "", **({"d": "-"} if signed else {})}
    return {(zone + others if leading else others + zone): prefix for zone, prefix in signs.items()}


class FieldDecodeError(SkippableError):
    """One field of one record is malformed; the record goes to the dead-letter topic."""

    def __init__(self, field: str, offset: int, raw: Buffer, problem: str, *, record: object = None) -> None:
        self.field = field
        self.offset = offset
        self.raw_hex = bytes(raw).hex(" ").upper()
        super().__init__(
            f"field {field} at offset {offset} (length {len(raw)}): {problem}; bytes: {self.raw_hex}",
            record=record,
        )


# -------------------------------------------------------------------------------- core (fast-path) decoders


def _make_number(scale: int) -> Callable[[str, bool], Number]:
    """Build ``(digits, negative) -> int | Decimal`` for a fixed scale; never returns negative zero."""
    if scale <= 0:  # trailing scaling positions (PIC 9(5)PPP): implied zeros before the decimal point
        factor = 10**-scale
        return lambda digits, negative: (-int(digits) if negative else int(digits)) * factor
    exponent = f"E-{scale}"

    def number(digits: str, negative: bool) -> Decimal:
        if negative and digits.strip("0"):
            return Decimal("-" + digits + exponent)
        return Decimal(digits + exponent)

    return number


def packed_decoder(scale: int = 0, signed: bool = True, pad: bool = False) -> Callable[[str], Number]:
    """Core packed-decimal (COMP-3) decoder over the field's lower-case hex string. ``pad``: the item has an
    even number of digits, so its high-order nibble is a zero that no digit of the PICTURE fills."""
    number = _make_number(scale)
    positive = PACKED_POSITIVE
    negative = PACKED_NEGATIVE if signed else frozenset()

    def decode(hexed: str) -> Number:
        digits = hexed[:-1]
        if pad and hexed[:1] != "0" and digits.isdecimal():
            high = hexed[:1].upper()
            raise ValueError(f"invalid packed decimal: high-order nibble {high} where an even digit count has 0")
        if digits.isdecimal():
            sign = hexed[-1]
            if sign in positive:
                return number(digits, False)
            if sign in negative:
                return number(digits, True)
            raise ValueError(f"invalid packed decimal sign nibble {sign.upper()}")
        raise ValueError("invalid packed decimal digit nibble" if hexed else "empty packed field")

    return decode


def overpunch_table(codec: str) -> dict[str, tuple[str, bool]]:
    """Map each decoded character of a zoned sign position to ``(digit, negative)`` for this code page.

    EBCDIC (bytes F0-F9 decode to digits): zone F and C positive, D negative; in cp037 that is ``0-9``,
    ``{ABCDEFGHI`` and ``}JKLMNOPQR``. ASCII: ``0-9``, the same overpunch letters (a mainframe file converted
    to ASCII text) and ``p-y`` for negative (sign nibble 7, as ASCII COBOL compilers write it).
    """
    table: dict[str, tuple[str, bool]] = {}
    if ebcdic_digits(codec):
        for digit in range(10):
            for zone, negative in ((0xF0, False), (0xC0, False), (0xD0, True)):
                table[bytes([zone | digit]).decode(codec, "replace")] = (str(digit), negative)
        table.pop("\ufffd", None)
        return table
    for digit in range(10):
        table[str(digit)] = (str(digit), False)
        table["{ABCDEFGHI"[digit]] = (str(digit), False)
        table["}JKLMNOPQR"[digit]] = (str(digit), True)
        table[chr(0x70 + digit)] = (str(digit), True)
    return table


def zoned_decoder(
    table: Mapping[str, tuple[str, bool]],
    scale: int = 0,
    *,
    signed: bool = True,
    leading: bool = False,
    separate: bool = False,
) -> Callable[[str], Number]:
    """Core zoned-decimal decoder over the field's decoded text (see ``overpunch_table``).

    All-digit text (zone F everywhere) is the inline fast path; an overpunched or separate sign goes through
    the slower general path.
    """
    number = _make_number(scale)

    def checked(digits: str, negative: bool) -> Number:
        if not digits.isdecimal():
            raise ValueError("invalid zoned decimal digit")
        if negative and not signed:
            raise ValueError("negative sign in an unsigned zoned field")
        return number(digits, negative)

    def trailing(text: str) -> Number:
        digit, negative = table[text[-1]]
        return checked(text[:-1] + digit, negative)

    def leading_sign(text: str) -> Number:
        digit, negative = table[text[0]]
        return checked(digit + text[1:], negative)

    def separate_sign(text: str) -> Number:
        mark, digits = (text[0], text[1:]) if leading else (text[-1], text[:-1])
        if mark not in "+-" or not digits.isdecimal():
            raise ValueError("invalid zoned decimal with separate sign")
        return number(digits, mark == "-")

    if separate:
        return separate_sign
    overpunch = leading_sign if leading else trailing
    if scale == 0:
        return lambda text: int(text) if text.isdecimal() else overpunch(text)
    if scale < 0:
        return lambda text: number(text, False) if text.isdecimal() else overpunch(text)
    exponent = f"E-{scale}"
    return lambda text: Decimal(text + exponent) if text.isdecimal() else overpunch(text)


def zoned_problem(
    raw: Buffer, codec: str = "cp037", *, signed: bool = True, leading: bool = False, separate: bool = False
) -> str:
    """Why a zoned field does not decode, naming its first bad byte (1-based position), e.g.
    ``invalid zoned decimal: X'C1' at position 1``: a digit position holds a digit (X'F0'-X'F9' in EBCDIC),
    the sign position a digit, an overpunched digit or, with SEPARATE, ``+``/``-``."""
    data = bytes(raw)
    if not data:
        return "empty zoned field"
    table = overpunch_table(codec)
    where = 0 if leading else len(data) - 1
    for position, byte in enumerate(data):
        char = bytes([byte]).decode(codec, "replace")
        if position == where and separate:
            ok = char in "+-"
        elif position == where:
            ok = char in table
            if ok and table[char][1] and not signed:
                return f"negative sign in an unsigned zoned field: X'{byte:02X}' at position {position + 1}"
        else:
            ok = "0" <= char <= "9"
        if not ok:
            return f"invalid zoned decimal: X'{byte:02X}' at position {position + 1}"
    return "invalid zoned decimal"


def binary_scaler(scale: int) -> Callable[[int], Number] | None:
    """Post-processing for a binary integer with implied decimals, or None when scale is 0."""
    if scale == 0:
        return None
    if scale < 0:
        factor = 10**-scale
        return lambda value: value * factor
    return lambda value: Decimal(value).scaleb(-scale)


def binary_struct(length: int, signed: bool) -> struct.Struct:
    """The big-endian struct for a 2/4/8-byte binary integer (COMP/BINARY/COMP-4/COMP-5)."""
    codes = {2: "h", 4: "i", 8: "q"}
    if length not in codes:
        raise ConfigError(f"binary fields are 2, 4 or 8 bytes long, not {length}")
    code = codes[length]
    return struct.Struct(">" + (code if signed else code.upper()))


def float_struct(length: int) -> struct.Struct:
    """The big-endian IEEE struct for COMP-1 (4 bytes) or COMP-2 (8 bytes), as on IBM i."""
    if length not in (4, 8):
        raise ConfigError(f"float fields are 4 (COMP-1) or 8 (COMP-2) bytes long, not {length}")
    return struct.Struct(">f" if length == 4 else ">d")


# ------------------------------------------------------------------------------------ public byte decoders


def decode_packed(raw: Buffer, scale: int = 0, *, signed: bool = True, field: str = "?", offset: int = 0) -> Number:
    """Decode packed decimal (COMP-3) bytes; a bad nibble raises ``FieldDecodeError``."""
    try:
        return packed_decoder(scale, signed)(bytes(raw).hex())
    except (ValueError, IndexError) as exc:
        raise FieldDecodeError(field, offset, raw, str(exc) or "empty field") from None


def decode_zoned(
    raw: Buffer,
    scale: int = 0,
    *,
    signed: bool = True,
    leading: bool = False,
    separate: bool = False,
    ascii: bool = False,
    field: str = "?",
    offset: int = 0,
) -> Number:
    """Decode zoned decimal bytes, EBCDIC by default or ASCII with ``ascii=True``."""
    codec = "latin-1" if ascii else "cp037"
    decode = zoned_decoder(overpunch_table(codec), scale, signed=signed, leading=leading, separate=separate)
    try:
        return decode(bytes(raw).decode(codec))
    except (ValueError, KeyError, IndexError):
        problem = zoned_problem(raw, codec, signed=signed, leading=leading, separate=separate)
        raise FieldDecodeError(field, offset, raw, problem) from None


def decode_binary(raw: Buffer, scale: int = 0, *, signed: bool = True, field: str = "?", offset: int = 0) -> Number:
    """Decode a big-endian binary integer of 2, 4 or 8 bytes."""
    value: int = binary_struct(len(raw), signed).unpack(raw)[0]
    scaler = binary_scaler(scale)
    return scaler(value) if scaler else value


def decode_float(raw: Buffer, *, float_format: str = "ieee", field: str = "?", offset: int = 0) -> float:
    """Decode a big-endian float of 4 bytes (COMP-1) or 8 bytes (COMP-2): IEEE 754 (``ieee``, IBM i and
    z/OS FLOAT-BINARY) or IBM hexadecimal floating point (``ibm_hex``, z/OS COMP-1/COMP-2 by default)."""
    if float_format == "ibm_hex":
        binary_struct(len(raw), False)  # checks the length
        return ibm_hex_float(int.from_bytes(raw, "big"), len(raw))
    value: float = float_struct(len(raw)).unpack(raw)[0]
    return value


def ibm_hex_float(bits: int, length: int) -> float:
    """IBM hexadecimal floating point: sign bit, 7-bit exponent of 16 biased by 64, then a 24-bit (short,
    4 bytes) or 56-bit (long, 8 bytes) fraction: value = (-1)^sign x 0.fraction x 16^(exponent - 64)."""
    fraction_bits = 8 * length - 8
    sign = bits >> (8 * length - 1)
    exponent = (bits >> fraction_bits) & 0x7F
    fraction = bits & ((1 << fraction_bits) - 1)
    value = math.ldexp(fraction, 4 * (exponent - 64) - fraction_bits)
    return -value if sign else value


def decode_text(raw: Buffer, codepage: str | int = "cp037", *, trim: bool = True) -> str | None:
    """Decode text in a code page (see ``text_value``: C1 controls become blanks, trailing blanks and
    low-values are trimmed when ``trim`` is set, an all-low-values field is None)."""
    return text_value(codecs.decode(bytes(raw), resolve_codepage(codepage)), trim)


def _reason(exc: Exception, default: str) -> str:
    if isinstance(exc, KeyError):
        return f"{default}: invalid sign position character {exc.args[0]!r}"
    return str(exc) or default


__all__ = [
    "BINARY_CCSID",
    "C1_TO_BLANK",
    "EBCDIC_CODEPAGES",
    "TRIMMED",
    "available_ebcdic_codepages",
    "cp1047_table",
    "empty_text",
    "is_total_codec",
    "register_codepage",
    "resolve_codepage",
    "text_value",
]
