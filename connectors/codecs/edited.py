"""Numeric-edited pictures (``ZZ,ZZ9.99-``, ``+9(6)V99``, ``$$$,$$9.99CR``) read back as numbers.

IBM Enterprise COBOL Language Reference, PICTURE clause editing: every character of an edited item has a role.

- digit positions: ``9``, zero suppression ``Z`` and ``*`` (a suppressed digit shows a blank or ``*``), and the
  second and later symbols of a floating insertion string (``++++9``, ``--9``, ``$$$9``), which show a digit,
  a blank, or the floating sign or currency symbol itself;
- a fixed sign: one ``+`` or ``-`` at the left or right end (or the first symbol of a floating string);
  ``CR``/``DB`` (two characters, blank when positive);
- insertion characters that carry no value: ``,`` ``B`` ``0`` ``/``, the currency symbol, and the actual
  decimal point ``.``; ``V`` is an implied decimal point with no character.

The value is the digits of the digit positions, with as many decimal places as there are digit positions
after the decimal point (``.`` or ``V``); negative when a sign position shows ``-``, ``CR`` or ``DB``. An
all-blank field (BLANK WHEN ZERO, or no value) is None. Every position must show what editing can put there,
else the field is refused naming the character: a ``9`` a digit; ``Z`` a digit or a blank, ``*`` a digit or
``*``; a floating position a digit, a blank or its symbol (``-`` too for ``+``); a fixed ``+`` a ``+`` or ``-``,
a fixed ``-`` a blank or ``-``; the decimal point itself; ``,`` ``B`` ``0`` ``/`` themselves or what zero
suppression puts in their place (a blank, or ``*``; in a floating string also its symbol); a fixed currency
symbol itself. A picture starting with ``S`` and holding an actual
decimal point (``S9(3).99``, a zoned number written with its point) reads a number with an optional leading or
trailing ``+``/``-`` or an overpunched last digit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Role = Literal["digit", "sign", "crdb", "point", "insert"]
EditedValue = int | Decimal | None


@dataclass(frozen=True, slots=True)
class EditedShape:
    """The role of each character of an edited picture, and its digit count and scale."""

    roles: tuple[Role, ...]
    digits: int
    scale: int
    signed_free: bool  # ``S`` and an actual decimal point: read as a number written with its point
    allowed: tuple[str, ...] = ()  # per position: the characters besides digits it may show ("" for a 9)


def edited_shape(symbols: list[tuple[str, int]]) -> EditedShape:
    """Roles of the characters of an edited picture given as ``(symbol, repeat)`` pairs (see ``picture``)."""
    flat = [symbol for symbol, count in symbols for _ in range(count)]
    signed_free = bool(flat) and flat[0] == "S"
    if signed_free:
        flat = flat[1:]
    floating = {s for s in "+-$" if flat.count(s) > 1}
    fill = "*" if "*" in flat else " "  # what zero suppression leaves in digit and insertion positions
    seen: set[str] = set()
    roles: list[Role] = []
    allowed: list[str] = []
    digits = scale = 0
    after_point = False
    for symbol in flat:
        role: Role | None
        if symbol == "V":
            after_point, role = True, None
        elif symbol == ".":
            after_point, role = True, "point"
        elif symbol in ("CR", "DB"):
            roles += ["crdb", "crdb"]
            allowed += [symbol[0] + " ", symbol[1] + " "]
            continue
        elif symbol in "9Z*" or (symbol in floating and symbol in seen):
            role = "digit"
        elif symbol in "+-":
            role = "sign"
        else:  # , B 0 / and the currency symbol (fixed, or the first of a floating string)
            role = "insert"
        if role is not None:
            roles.append(role)
            may = _allowed(symbol, role, symbol in floating, fill)
            if role == "insert" and floating and symbol in ",B0/":  # inside a floating string: its symbol too
                may += "".join(_allowed(f, "digit", True, fill) for f in floating)
            allowed.append(may)
        seen.add(symbol)
        if role == "digit":
            digits += 1
            scale += after_point
    return EditedShape(tuple(roles), digits, scale, signed_free, tuple(allowed))


def _allowed(symbol: str, role: Role, floating: bool, fill: str) -> str:
    """The characters other than digits a position may show (``.`` for the point, swapped for its data
    character by the decoder)."""
    if floating:  # a blank before the first digit, the symbol just left of it (a minus for "+" when negative)
        return " " + symbol + ("-" if symbol == "+" else "")
    if role == "digit":
        return {"9": "", "Z": " ", "*": "*"}[symbol]
    if role == "sign":
        return "+-" if symbol == "+" else " -"
    if symbol in ",B0/":
        return (" " if symbol == "B" else symbol) + fill
    return symbol  # the decimal point, a fixed currency symbol


def edited_decoder(
    shape: EditedShape, overpunch: Mapping[str, tuple[str, bool]], point: str = "."
) -> Callable[[str], EditedValue]:
    """Build ``text -> int | Decimal | None`` for one edited picture; bad characters raise ``ValueError``
    naming the character and its 1-based position. ``overpunch`` is the code page's sign table (for ``S``);
    ``point`` the data's decimal point (``,`` under DECIMAL-POINT IS COMMA)."""
    number = _number(shape.scale)
    if shape.signed_free:
        return lambda text: _free(text, shape.scale, overpunch, number, point)
    roles = shape.roles
    swap = str.maketrans(".,", ",.") if point == "," else None  # the data shows "," as the point, "." grouping
    allowed = tuple(a.translate(swap) for a in shape.allowed) if swap else shape.allowed

    def decode(text: str) -> EditedValue:
        if not text.strip():
            return None
        negative = False
        digits: list[str] = []
        crdb = ""
        for position, (role, char, may) in enumerate(zip(roles, text, allowed, strict=False), start=1):
            if role == "digit":
                if "0" <= char <= "9":
                    digits.append(char)
                    continue
                if char not in may or not char:
                    raise _bad(char, position)
                digits.append("0")
                negative = negative or char == "-"
            elif char not in may:
                raise _bad(char, position)
            elif role == "sign":
                negative = negative or char == "-"
            elif role == "crdb":
                crdb += char
        if crdb.strip() and crdb.upper() not in ("CR", "DB"):
            raise ValueError(f"invalid numeric-edited sign {crdb!r}: CR, DB or blanks")
        return number("".join(digits) or "0", negative or bool(crdb.strip()))

    return decode


def _number(scale: int) -> Callable[[str, bool], int | Decimal]:
    def number(digits: str, negative: bool) -> int | Decimal:
        magnitude = int(digits)
        value = -magnitude if negative and magnitude else magnitude
        return Decimal(f"{value}E-{scale}") if scale else value

    return number


def _free(
    text: str,
    scale: int,
    overpunch: Mapping[str, tuple[str, bool]],
    number: Callable[[str, bool], int | Decimal],
    point: str,
) -> EditedValue:
    body = text.strip()
    if not body:
        return None
    negative = False
    if body[0] in "+-":
        negative, body = body[0] == "-", body[1:]
    elif body[-1] in "+-":
        negative, body = body[-1] == "-", body[:-1]
    elif body[-1] in overpunch and not body[-1].isdecimal():
        digit, negative = overpunch[body[-1]]
        body = body[:-1] + digit
    whole, _, fraction = body.partition(point)
    if not (whole + fraction).isdecimal() or len(fraction) > scale:
        bad = next((c for c in body if not c.isdecimal() and c != point), body[-1:] or " ")
        raise ValueError(f"invalid number {text!r} for its picture (character {bad!r})")
    return number(whole + fraction.ljust(scale, "0"), negative)


def _bad(char: str, position: int) -> ValueError:
    return ValueError(f"invalid numeric-edited character {char!r} at position {position}")
