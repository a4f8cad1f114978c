"""Encoders that build legacy record images: for tests, the EBCDIC benchmark and the demo's export files.

They are written from the format definitions (IBM COBOL data representation), independently of the decoders
in ``connectors.codecs``: packed decimal by nibble arithmetic, zoned decimal by zone/digit bytes, binary with
``int.to_bytes``. Tests build their inputs with these, never with bytes copied from a decoder's output.
"""

from __future__ import annotations

import struct
from decimal import Decimal

Value = int | str | Decimal

EBCDIC_PLUS = 0x4E  # '+' in every EBCDIC code page (invariant character)
EBCDIC_MINUS = 0x60  # '-'
EBCDIC_SPACE = 0x40


def unscaled(value: Value, scale: int = 0) -> int:
    """The integer a COBOL item with ``scale`` implied decimal places stores for ``value`` (exact, any size)."""
    exact = value if isinstance(value, Decimal) else Decimal(value)
    sign, digits, exponent = exact.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"{value} is not a finite number")
    magnitude = int("".join(map(str, digits)) or "0")
    shift = exponent + scale
    if shift < 0:
        magnitude, rest = divmod(magnitude, int(10 ** (-shift)))
        if rest:
            raise ValueError(f"{value} has more than {scale} decimal places")
    else:
        magnitude *= int(10**shift)
    return -magnitude if sign else magnitude


def _digits(value: Value, digits: int, scale: int) -> tuple[list[int], bool]:
    number = unscaled(value, scale)
    text = str(abs(number))
    if len(text) > digits:
        raise ValueError(f"{value} does not fit in {digits} digits")
    return [int(c) for c in text.rjust(digits, "0")], number < 0


def packed(value: Value, digits: int, scale: int = 0, *, signed: bool = True, sign_nibble: int | None = None) -> bytes:
    """COMP-3: two digits per byte, sign in the low nibble of the last byte (C +, D -, F unsigned)."""
    length = digits // 2 + 1
    numbers, negative = _digits(value, length * 2 - 1, scale)
    if sign_nibble is None:
        sign_nibble = 0xD if negative else (0xC if signed else 0xF)
    nibbles = [*numbers, sign_nibble]
    return bytes(nibbles[i] * 16 + nibbles[i + 1] for i in range(0, len(nibbles), 2))


def packed_from_nibbles(nibbles: list[int]) -> bytes:
    """Raw packed bytes from explicit nibbles (to build invalid values)."""
    if len(nibbles) % 2:
        raise ValueError("packed fields hold an even number of nibbles")
    return bytes(nibbles[i] * 16 + nibbles[i + 1] for i in range(0, len(nibbles), 2))


def zoned(
    value: Value,
    digits: int,
    scale: int = 0,
    *,
    signed: bool = True,
    leading: bool = False,
    separate: bool = False,
    ascii: bool = False,
    positive_zone: int = 0xC,
) -> bytes:
    """Zoned decimal: one digit per byte, zone F (EBCDIC) or 3 (ASCII); the sign overpunches the zone of the
    last (or first) digit, C/D in EBCDIC, or is a separate '+'/'-' byte."""
    numbers, negative = _digits(value, digits, scale)
    digit_zone = 0x3 if ascii else 0xF
    body = [digit_zone << 4 | n for n in numbers]
    if separate:
        sign = (ord("-") if negative else ord("+")) if ascii else (EBCDIC_MINUS if negative else EBCDIC_PLUS)
        return bytes([sign, *body] if leading else [*body, sign])
    if signed:
        where = 0 if leading else -1
        n = numbers[where]
        if ascii:
            body[where] = ord(overpunch_char(n, negative))
        else:
            body[where] = ((0xD if negative else positive_zone) << 4) | n
    elif negative:
        raise ValueError("unsigned zoned field cannot hold a negative value")
    return bytes(body)


def overpunch_char(digit: int, negative: bool) -> str:
    """The character a signed last digit shows as text: ``{ABCDEFGHI`` positive, ``}JKLMNOPQR`` negative."""
    if digit == 0:
        return "}" if negative else "{"
    return chr((ord("J") if negative else ord("A")) + digit - 1)


def binary(value: int, size: int, *, signed: bool = True) -> bytes:
    """COMP/BINARY/COMP-4/COMP-5: big-endian two's complement (or unsigned) of 2, 4 or 8 bytes."""
    return value.to_bytes(size, "big", signed=signed)


def comp1(value: float) -> bytes:
    return struct.pack(">f", value)


def comp2(value: float) -> bytes:
    return struct.pack(">d", value)


def text(value: str, length: int, codepage: str = "cp037") -> bytes:
    """Text in a code page, padded with blanks to ``length``."""
    encoded = value.encode(codepage)
    if len(encoded) > length:
        raise ValueError(f"{value!r} is longer than {length}")
    pad = " ".encode(codepage)
    return encoded + pad * (length - len(encoded))


def varchar(value: str, allocated: int, codepage: str = "cp037") -> bytes:
    """VARCHAR storage: 2-byte big-endian length, the text, then padding to the allocated length."""
    encoded = value.encode(codepage)
    return len(encoded).to_bytes(2, "big") + encoded + bytes(allocated - len(encoded))


def binary_size(digits: int) -> int:
    """IBM COBOL storage of a binary item with ``digits`` digits."""
    return 2 if digits <= 4 else 4 if digits <= 9 else 8


def fixed_line(code: str, *, seq: str = "", indicator: str = " ", ident: str = "") -> str:
    """A fixed-format copybook line: sequence (cols 1-6), indicator (7), code (8-72), identification (73-80)."""
    if len(code) > 65:
        raise ValueError("code area is columns 8-72 (65 characters)")
    return seq.rjust(6)[:6] + indicator + code.ljust(65) + ident[:8]
