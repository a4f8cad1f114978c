"""COBOL PICTURE strings: ``X(10)``, ``S9(7)V99``, ``9(5)V99``, ``ZZ,ZZ9.99-`` ..."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import groupby
from typing import Literal

from connectors.codecs.edited import EditedShape, edited_shape

_SYMBOL = re.compile(r"(CR|DB|[A-Z0-9$+\-*,./])(?:\((\d+)\))?")
_EDIT = frozenset("Z*+-$,./B0") | {"CR", "DB"}
MAX_DIGITS = 31  # IBM Enterprise COBOL with ARITH(EXTEND)


@dataclass(frozen=True, slots=True)
class Picture:
    """A parsed PICTURE: ``alnum`` (X/A), ``numeric`` (S, 9, V, P) or ``edited`` (numeric-edited).

    ``scale`` is the number of decimal places: negative with trailing scaling positions (``99PPP``)."""

    text: str
    category: Literal["alnum", "numeric", "edited"]
    length: int  # characters in DISPLAY form, sign excluded
    digits: int = 0
    scale: int = 0
    signed: bool = False


def _expand(text: str) -> list[tuple[str, int]]:
    symbols: list[tuple[str, int]] = []
    position = 0
    while position < len(text):
        match = _SYMBOL.match(text, position)
        if not match:
            raise ValueError(f"unknown PICTURE symbol {text[position]!r} in {text!r}")
        count = int(match.group(2)) if match.group(2) else 1
        if count < 1:
            raise ValueError(f"repeat count must be positive in PICTURE {text!r}")
        symbols.append((match.group(1), count))
        position = match.end()
    return symbols


#: DECIMAL-POINT IS COMMA (SPECIAL-NAMES paragraph): the roles of ``.`` and ``,`` in PICTURE strings exchanged.
_COMMA = str.maketrans(".,", ",.")


def parse_picture(text: str, *, decimal_comma: bool = False) -> Picture:
    """Parse a PICTURE string; raises ``ValueError`` with the reason when it is unknown or unsupported.
    ``decimal_comma``: the program says DECIMAL-POINT IS COMMA, so ``,`` is the decimal point and ``.`` an
    insertion character (``PIC ZZ.ZZ9,99``)."""
    upper = text.upper().translate(_COMMA) if decimal_comma else text.upper()
    symbols = _expand(upper)
    if not symbols:
        raise ValueError("empty PICTURE")
    kinds = {symbol for symbol, _ in symbols}
    if kinds & {"N", "G", "U", "1", "E"}:
        raise ValueError(
            f"PICTURE {text!r}: national, DBCS, UTF-8, boolean and floating-point edited pictures are not supported"
        )
    if kinds <= {"X", "A", "9"} and kinds & {"X", "A"}:
        return Picture(text, "alnum", sum(count for _, count in symbols))
    if kinds <= {"S", "9", "V", "P"}:
        return _numeric(text, symbols)
    if kinds <= _EDIT | {"9", "V", "S"} and kinds & _EDIT:
        return _edited(text, symbols)
    raise ValueError(f"unknown PICTURE {text!r}")


def edited_picture(text: str, *, decimal_comma: bool = False) -> EditedShape:
    """The character roles of a numeric-edited PICTURE (see ``connectors.codecs.edited``)."""
    return edited_shape(_expand(text.upper().translate(_COMMA) if decimal_comma else text.upper()))


def _edited(text: str, symbols: list[tuple[str, int]]) -> Picture:
    if [index for index, (symbol, _) in enumerate(symbols) if symbol == "S"] not in ([], [0]) or (
        symbols[0] == ("S", 1) and "." not in {symbol for symbol, _ in symbols}
    ):
        raise ValueError(f"PICTURE {text!r}: S goes only first, and in an edited picture only with a decimal point")
    if sum(1 for symbol, _ in symbols if symbol in ".V") > 1:
        raise ValueError(f"PICTURE {text!r}: one decimal point at most")
    shape = edited_shape(symbols)
    if shape.digits == 0:
        raise ValueError(f"PICTURE {text!r} has no digit positions")
    if shape.digits > MAX_DIGITS:
        raise ValueError(f"PICTURE {text!r} has {shape.digits} digits; at most {MAX_DIGITS} are supported")
    signed = any(symbol in ("+", "-", "CR", "DB") for symbol, _ in symbols) or shape.signed_free
    return Picture(text, "edited", len(shape.roles), shape.digits, shape.scale, signed)


def _numeric(text: str, symbols: list[tuple[str, int]]) -> Picture:
    signed = symbols[0][0] == "S"
    if signed and symbols[0][1] != 1:
        raise ValueError(f"PICTURE {text!r}: S must appear once, first")
    rest = symbols[1:] if signed else symbols
    if any(symbol == "S" for symbol, _ in rest):
        raise ValueError(f"PICTURE {text!r}: S must appear once, first")
    marks = [index for index, (symbol, _) in enumerate(rest) if symbol == "V"]
    if len(marks) > 1 or (marks and rest[marks[0]][1] != 1):
        raise ValueError(f"PICTURE {text!r}: V may appear only once")
    scaling = sum(count for symbol, count in rest if symbol == "P")
    if scaling:
        return _scaled(text, [symbol for symbol, _ in rest], scaling, signed, rest)
    split = marks[0] if marks else len(rest)
    integer = sum(count for symbol, count in rest[:split] if symbol == "9")
    scale = sum(count for symbol, count in rest[split:] if symbol == "9")
    return _checked(text, integer + scale, scale, signed)


def _scaled(text: str, order: list[str], scaling: int, signed: bool, rest: list[tuple[str, int]]) -> Picture:
    """Scaling positions (IBM: P's only at the left or the right end of the digits, V if any beyond them).
    Leading P's are implied zeros right after the decimal point: ``PPP99`` holds .000dd (scale 3 + 2);
    trailing P's are implied zeros before it: ``99PPP`` holds dd000 (scale -3). P takes no storage."""
    runs = [symbol for symbol, _ in groupby(order)]
    body = [symbol for symbol in runs if symbol != "V"]
    nines = sum(count for symbol, count in rest if symbol == "9")
    v_at = runs.index("V") if "V" in runs else None
    if body.count("P") != 1 or body.count("9") > 1:
        raise ValueError(f"PICTURE {text!r}: P's must stand together at the left or the right of the digits")
    if body[0] == "P":
        if v_at not in (None, 0):
            raise ValueError(f"PICTURE {text!r}: with leading P's, V may only come before them")
        scale = nines + scaling
    else:
        if v_at not in (None, len(runs) - 1):
            raise ValueError(f"PICTURE {text!r}: with trailing P's, V may only come after them")
        scale = -scaling
    if nines + scaling > MAX_DIGITS:
        raise ValueError(f"PICTURE {text!r} has {nines + scaling} digit positions; at most {MAX_DIGITS}")
    return _checked(text, nines, scale, signed)


def _checked(text: str, digits: int, scale: int, signed: bool) -> Picture:
    if digits == 0:
        raise ValueError(f"PICTURE {text!r} has no digit positions")
    if digits > MAX_DIGITS:
        raise ValueError(f"PICTURE {text!r} has {digits} digits; at most {MAX_DIGITS} are supported")
    return Picture(text, "numeric", digits, digits, scale, signed)
