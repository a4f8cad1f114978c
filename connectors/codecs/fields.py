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

from schemas.errors import ConfigError, SkippableError

Number = int | Decimal
Buffer = bytes | bytearray | memoryview

#: EBCDIC code pages crmhub knows by name; which of them this Python provides is checked at run time.
EBCDIC_CODEPAGES: tuple[str, ...] = (
    "cp037",
    "cp273",
    "cp277",
    "cp278",
    "cp280",
    "cp284",
    "cp285",
    "cp297",
    "cp500",
    "cp871",
    "cp1047",
    *(f"cp{n}" for n in range(1140, 1150)),
)
#: CCSIDs that are not single-byte ``cpNNN`` code pages.
_SPECIAL_CCSIDS: dict[int, str] = {1208: "utf-8", 1200: "utf-16-be", 13488: "utf-16-be", 819: "latin-1"}
BINARY_CCSID = 65535

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


# --------------------------------------------------------------------------------------------- code pages


def available_ebcdic_codepages() -> tuple[str, ...]:
    """The EBCDIC code pages of ``EBCDIC_CODEPAGES`` that this Python (or ``register_codepage``) provides."""
    return tuple(cp for cp in EBCDIC_CODEPAGES if _has_codec(cp))


def _has_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def resolve_codepage(codepage: str | int) -> str:
    """Normalise a code page name or IBM CCSID (``37``, ``"IBM037"``, ``"cp1140"``) to a Python codec name.

    Returns ``"binary"`` for CCSID 65535 (no conversion). Raises ``ConfigError`` naming what Python lacks.
    """
    if isinstance(codepage, int) or codepage.strip().isdigit():
        ccsid = int(codepage)
        if ccsid == BINARY_CCSID:
            return "binary"
        name = _SPECIAL_CCSIDS.get(ccsid, f"cp{ccsid:03d}")
    else:
        name = codepage.strip().lower().replace("ibm-", "cp").replace("ibm", "cp")
    name = _OWN_TABLES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        missing = [cp for cp in EBCDIC_CODEPAGES if not _has_codec(cp)]
        raise ConfigError(
            f"code page {codepage!r} is not available in this Python; EBCDIC code pages available: "
            f"{', '.join(available_ebcdic_codepages())}; missing: {', '.join(missing) or 'none'} "
            "(a 256-character decoding table can be added with register_codepage())"
        ) from None


def register_codepage(name: str, decoding_table: str) -> None:
    """Make a single-byte code page Python lacks available from its 256-character decoding table."""
    if len(decoding_table) != 256:
        raise ConfigError(f"decoding table for {name!r} must have 256 characters, not {len(decoding_table)}")
    key = name.strip().lower()
    encoding_table = codecs.charmap_build(decoding_table)

    def decode(data: Buffer, errors: str = "strict") -> tuple[str, int]:
        return codecs.charmap_decode(data, errors, decoding_table)

    def encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
        return codecs.charmap_encode(text, errors, encoding_table)

    info = codecs.CodecInfo(encode, decode, name=key)  # type: ignore[arg-type]
    codecs.register(lambda wanted: info if wanted.replace("-", "_") == key.replace("-", "_") else None)


# IBM-1047 (Latin-1 Open Systems, z/OS USS) is IBM-037 with four pairs of code points exchanged: ¬/^, [/Ý,
# ]/¨ and NEL/LF (1047 puts LF at X'15'). Python ships cp037 but not cp1047, so it is built from cp037 here.
_CP1047_SWAPS = ((0x5F, 0xB0), (0xAD, 0xBA), (0xBD, 0xBB), (0x15, 0x25))


def cp1047_table() -> str:
    """The 256-character decoding table of IBM-1047, derived from Python's cp037."""
    table = list(bytes(range(256)).decode("cp037"))
    for a, b in _CP1047_SWAPS:
        table[a], table[b] = table[b], table[a]
    return "".join(table)


def is_total_codec(codec: str) -> bool:
    """True when every byte value decodes, so a whole record (binary fields included) can be decoded at once."""
    try:
        bytes(range(256)).decode(codec)
    except UnicodeDecodeError:
        return False
    return True


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


def packed_decoder(scale: int = 0, signed: bool = True) -> Callable[[str], Number]:
    """Core packed-decimal (COMP-3) decoder over the field's lower-case hex string."""
    number = _make_number(scale)
    positive = PACKED_POSITIVE
    negative = PACKED_NEGATIVE if signed else frozenset()

    def decode(hexed: str) -> Number:
        digits = hexed[:-1]
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


#: C1 control characters (U+0080-U+009F, e.g. what X'91' decodes to in cp037) are not text: read as blanks.
C1_TO_BLANK = str.maketrans(dict.fromkeys(range(0x80, 0xA0), " "))
#: Trailing characters a trimmed text field drops: blanks and low-values (X'00').
TRIMMED = " \x00"


def text_value(text: str, trim: bool = True) -> str | None:
    """A text field's value: C1 controls as blanks; None when every character is a low-value (NUL);
    with ``trim``, trailing blanks and low-values removed."""
    text = text.translate(C1_TO_BLANK)
    if text and not text.strip("\x00"):
        return None
    return text.rstrip(TRIMMED) if trim else text


def empty_text(text: str) -> str | None:
    """The value of a text field that trims to nothing: None when it holds only low-values, else ''."""
    return None if text and not text.strip("\x00") else ""


def _reason(exc: Exception, default: str) -> str:
    if isinstance(exc, KeyError):
        return f"{default}: invalid sign position character {exc.args[0]!r}"
    return str(exc) or default


# IBM's euro code pages replace the currency sign X'9F' of their base page with the euro sign: CCSID 1141 is
# 273 (Germany, Austria) and 1148 is 500 (International Latin-1) so changed. Python lacks both.
_EURO_BASES = {"cp1141": "cp273", "cp1148": "cp500"}
# IBM's table for CCSID 273 maps X'BC' to U+00AF MACRON (as in 037 and 500); Python's cp273 gives U+203E
# OVERLINE, so crmhub decodes 273 with its own table, registered under the name ``_OWN_TABLES`` gives.
_OWN_TABLES = {"cp273": "crmhub_cp273"}


def cp273_table() -> str:
    """IBM-273 as IBM publishes it: Python's cp273 with X'BC' as U+00AF MACRON."""
    table = list(bytes(range(256)).decode("cp273"))
    table[0xBC] = "\u00af"
    return "".join(table)


def euro_table(codepage: str) -> str:
    """IBM-1141 / IBM-1148: the base code page's table (273 as IBM publishes it, 500) with X'9F' as the euro."""
    base = _EURO_BASES[codepage]
    table = list(cp273_table() if base == "cp273" else bytes(range(256)).decode(base))
    table[0x9F] = "\u20ac"
    return "".join(table)


if not _has_codec("cp1047"):
    register_codepage("cp1047", cp1047_table())
register_codepage("crmhub_cp273", cp273_table())
for _page in _EURO_BASES:
    if not _has_codec(_page):
        register_codepage(_page, euro_table(_page))
