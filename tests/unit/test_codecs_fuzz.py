"""Random records against an encoder written here, apart from crmhub's decoders and from its own test encoders
(``connectors.codecs.encode``), from IBM's data formats (Enterprise COBOL Programming Guide, "Formats for
numeric data"; Language Reference, PICTURE editing rules; z/Architecture hexadecimal floating point): every
value encoded must decode to itself, and bytes spoiled at random must decode to what IBM's rules give or be
refused, never to another number."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.codecs import compile_layout, parse_copybook
from connectors.filedrop.config import Feed
from connectors.filedrop.connector import build_reader
from connectors.filedrop.formats import Record
from schemas.errors import SkippableError

SEEDS = range(12)
Value = int | Decimal | float | str | None


def number(unscaled: int, scale: int) -> int | Decimal:
    return Decimal(f"{unscaled}E-{scale}") if scale > 0 else unscaled  # exact at any digit count


# --------------------------------------------------------------------------------------------- the encoder


def zoned(unscaled: int, digits: int, signed: bool, sign: str, positive_zone: int) -> bytes:
    """DISPLAY: one byte per digit, zone F; the sign in the zone of the last (or first) digit, C (or F) plus,
    D minus, or a separate '+' (X'4E') / '-' (X'60') byte before or after the digits."""
    body = [0xF0 | int(c) for c in f"{abs(unscaled):0{digits}d}"]
    if sign in ("leading separate", "trailing separate"):
        mark = 0x60 if unscaled < 0 else 0x4E
        return bytes([mark, *body] if sign.startswith("leading") else [*body, mark])
    if signed:
        where = 0 if sign == "leading" else -1
        body[where] = (0xD0 if unscaled < 0 else positive_zone) | (body[where] & 0x0F)
    return bytes(body)


def packed(unscaled: int, digits: int, nibble: int) -> bytes:
    """COMP-3: digits as nibbles (a leading zero nibble when their count is even), the sign nibble last."""
    return bytes.fromhex(f"{abs(unscaled):0{digits | 1}d}{nibble:X}")


def binary_size(digits: int) -> int:
    return 2 if digits <= 4 else 4 if digits <= 9 else 8


def ibm_hex(value: float, size: int) -> bytes:
    """IBM hexadecimal floating point: sign bit, 7-bit exponent of 16 biased by 64, fraction in [1/16, 1)."""
    if value == 0:
        return bytes(size)
    magnitude, exponent = abs(value), 0
    while magnitude >= 1:
        magnitude, exponent = magnitude / 16, exponent + 1
    while magnitude < 1 / 16:
        magnitude, exponent = magnitude * 16, exponent - 1
    bits = 8 * size - 8
    fraction = int(magnitude * (1 << bits))
    assert fraction / (1 << bits) == magnitude, "test values are exact in the format"
    head = (0x80 if value < 0 else 0) | (exponent + 64)
    return bytes([head]) + fraction.to_bytes(size - 1, "big")


def edit(symbols: list[str], unscaled: int) -> str:
    """A MOVE to a numeric-edited item: digit positions (9, Z, and the second and later symbols of a floating
    string), zero suppression up to the first nonzero digit or 9, insertion characters blank while
    suppressing, the floating symbol just left of the first shown digit, fixed signs and CR/DB."""
    negative = unscaled < 0
    floating = next((s for s in "+-$" if symbols.count(s) > 1), None)
    positions = [i for i, s in enumerate(symbols) if s in "9Z" or (s == floating and i > symbols.index(s))]
    digits = iter(f"{abs(unscaled):0{len(positions)}d}")
    out: list[str] = []
    suppressing, float_pending = True, floating is not None
    for i, symbol in enumerate(symbols):
        if i in positions:
            digit = next(digits)
            if suppressing and digit == "0" and symbol != "9":
                out.append(" ")
                continue
            if float_pending:  # the first digit shown: the floating symbol goes just left of it
                out[-1] = {"+": "-" if negative else "+", "-": "-" if negative else " ", "$": "$"}[floating or "$"]
                float_pending = False
            suppressing = False
            out.append(digit)
        elif symbol == floating:  # the first symbol of the floating string: a place for the sign or $
            out.append(" ")
        elif symbol == ",":  # blank inside the suppressed zeros
            out.append(" " if suppressing else ",")
        elif symbol == ".":
            out.append(".")
        elif symbol == "+":
            out.append("-" if negative else "+")
        elif symbol == "-":
            out.append("-" if negative else " ")
        elif symbol in ("CR", "DB"):
            out.append(symbol if negative else "  ")
        elif symbol == "$":
            out.append("$")
    return "".join(out)


# ------------------------------------------------------------------------------------------ random fields


Field = tuple[str, bytes, Value, Callable[[bytes], Value] | None]  # clause, bytes, value, reference decoder


def random_field(rnd: random.Random) -> Field:
    kind = rnd.choice(["text", "zoned", "packed", "binary", "edited", "float"])
    if kind == "text":
        length = rnd.randint(1, 12)
        text = "".join(rnd.choice("ABCXYZ abc0189-.&") for _ in range(rnd.randint(0, length))).rstrip()
        return f"PIC X({length})", text.encode("cp037").ljust(length, b"\x40"), text, None
    if kind == "float":
        size, form = rnd.choice([4, 8]), rnd.choice(["ieee", "ibm_hex"])
        value = rnd.randint(-(2**20), 2**20) / 2 ** rnd.randint(0, 10)
        raw = ibm_hex(value, size) if form == "ibm_hex" else struct.pack(">f" if size == 4 else ">d", value)
        return f"COMP-{1 if size == 4 else 2}#{form}", raw, value, None
    if kind == "edited":
        return random_edited(rnd)
    signed = rnd.random() < 0.7
    scale = rnd.randint(0, 4)
    digits = rnd.randint(max(scale, 1), 18 if kind == "binary" else 31)
    unscaled = rnd.randint(0, 10**digits - 1) * (rnd.choice([1, -1]) if signed else 1)
    picture = ("S" if signed else "") + (f"9({digits - scale})" if digits > scale else "") + (
        f"V9({scale})" if scale else ""
    )
    value = number(unscaled, scale) if unscaled else number(0, scale)
    if kind == "packed":
        nibble = rnd.choice([0xC, 0xF, 0xA, 0xE]) if unscaled >= 0 else rnd.choice([0xD, 0xB])
        raw = packed(unscaled, digits, nibble if signed else 0xF)
        return f"PIC {picture} COMP-3", raw, value, lambda b: packed_reference(b, digits, scale, signed)
    if kind == "binary":
        usage = rnd.choice(["COMP", "BINARY", "COMP-4", "COMP-5"])
        raw = unscaled.to_bytes(binary_size(digits), "big", signed=signed)
        return f"PIC {picture} {usage}", raw, value, None
    sign = rnd.choice(["trailing", "leading", "leading separate", "trailing separate"]) if signed else ""
    clause = {"trailing": "", "leading": " SIGN LEADING", "leading separate": " SIGN LEADING SEPARATE",
              "trailing separate": " SIGN TRAILING SEPARATE"}.get(sign, "")  # fmt: skip
    raw = zoned(unscaled, digits, signed, sign, rnd.choice([0xC0, 0xF0]))
    reference = None if "separate" in sign else (lambda b: zoned_reference(b, scale, signed, sign == "leading"))
    return f"PIC {picture}{clause}", raw, value, reference


def random_edited(rnd: random.Random) -> Field:
    scale = rnd.randint(0, 3)
    nines, zeds = rnd.randint(1, 4), rnd.randint(0, 5)
    floating = rnd.choice([None, "+", "-", "$"])
    prefix = "" if floating else rnd.choice(["", "+", "-", "$"])
    signed_already = prefix in ("+", "-") or floating in ("+", "-")
    suffix = "" if signed_already else rnd.choice(["", "+", "-", "CR", "DB"])
    head = [floating] * (zeds + 1) if floating else ["Z"] * zeds
    integer = head + ["9"] * nines
    if not floating and rnd.random() < 0.4 and len(integer) > 3:
        integer.insert(len(integer) - 3, ",")
    point = rnd.choice([".", "V"]) if scale else ""
    symbols = ([prefix] if prefix else []) + integer + ([point] if point else []) + ["9"] * scale
    symbols += [suffix] if suffix else []
    signed = bool({"+", "-", "CR", "DB"} & set(symbols))
    digits = sum(1 for s in integer if s in "9Z") + (zeds if floating else 0) + scale
    unscaled = rnd.randint(0, 10 ** rnd.randint(0, digits) - 1) * (rnd.choice([1, -1]) if signed else 1)
    text = edit(symbols, unscaled)
    return f"PIC {''.join(symbols)}", text.encode("cp037"), number(unscaled, scale), None


def packed_reference(raw: bytes, digits: int, scale: int, signed: bool) -> Value:
    """IBM: digit nibbles 0-9, the spare high-order nibble of an even digit count 0, sign A C E F plus, B D
    minus (an unsigned item only plus); anything else is not a packed number (None)."""
    nibbles = raw.hex().upper()
    body, sign = nibbles[:-1], nibbles[-1]
    if not body.isdecimal() or (digits % 2 == 0 and body[0] != "0"):
        return None
    if sign in "ACEF":
        return number(int(body), scale)
    return number(-int(body), scale) if sign in "BD" and signed else None


def zoned_reference(raw: bytes, scale: int, signed: bool, leading: bool) -> Value:
    """IBM DISPLAY: every digit byte F0-F9 but the sign position, whose zone C or F is plus, D minus (None:
    not a number; A, B and E zones, accepted by some compiler options, count as refused)."""
    where = 0 if leading else len(raw) - 1
    digits = "".join(str(b & 0x0F) if b & 0x0F <= 9 else "x" for b in raw)
    if not digits.isdecimal() or any(b >> 4 != 0xF for i, b in enumerate(raw) if i != where):
        return None
    zone = raw[where] >> 4
    if zone in (0xC, 0xF):
        return number(int(digits), scale)
    return number(-int(digits), scale) if zone == 0xD and signed else None


def build(fields: list[Field], form: str = "ieee") -> tuple[str, bytes]:
    lines = ["       01  R."]
    for n, (clause, _, _, _) in enumerate(fields):
        usage = clause.split("#")[0]
        lines.append(f"           05  F{n} {usage}.")
    return "\n".join(lines) + "\n", b"".join(raw for _, raw, _, _ in fields)


# ----------------------------------------------------------------------------------------------- the tests


def comma_point(field: Field) -> Field:
    """The same edited item under DECIMAL-POINT IS COMMA: '.' and ',' exchanged in the PICTURE and the data."""
    clause, raw, value, reference = field
    picture = clause.removeprefix("PIC ")
    if picture == clause or "X" in picture or not {".", ","} & set(picture):
        return field
    swap = str.maketrans(".,", ",.")
    return clause.translate(swap), raw.decode("cp037").translate(swap).encode("cp037"), value, reference


@pytest.mark.parametrize("seed", SEEDS)
def test_random_records_round_trip(seed: int) -> None:
    rnd = random.Random(seed)
    for _ in range(40):
        form, comma = rnd.choice(["ieee", "ibm_hex"]), rnd.random() < 0.3
        fields = [f for f in (random_field(rnd) for _ in range(rnd.randint(1, 14))) if "#" not in f[0] or
                  f[0].endswith(form)]  # fmt: skip
        if not fields:
            continue
        fields = [comma_point(f) for f in fields] if comma else fields
        copybook, record = build(fields)
        layout = parse_copybook(copybook, decimal_comma=comma)
        decoded = compile_layout(layout, float_format=form, decimal_comma=comma).decode(record)  # type: ignore[arg-type]
        for n, (clause, raw, value, _) in enumerate(fields):
            got = decoded[f"f{n}"]
            assert got == value and type(got) is type(value), f"{clause}: {raw.hex()} gave {got!r}, not {value!r}"
            if isinstance(value, Decimal):
                assert got.as_tuple().exponent == value.as_tuple().exponent, clause  # type: ignore[union-attr]


@pytest.mark.parametrize("seed", SEEDS)
def test_spoiled_numbers_decode_as_ibm_reads_them_or_are_refused(seed: int) -> None:
    rnd = random.Random(1000 + seed)
    checked = refused = 0
    while checked < 150:
        clause, raw, _, reference = random_field(rnd)
        if reference is None:
            continue
        spoiled = bytearray(raw)
        for _ in range(rnd.randint(1, 2)):
            at = rnd.randrange(len(spoiled))
            spoiled[at] = rnd.choice([rnd.randrange(256), spoiled[at] & 0x0F | rnd.randrange(16) << 4,
                                      spoiled[at] & 0xF0 | rnd.randrange(16)])  # fmt: skip
        copybook = f"       01  R.\n           05  F {clause}.\n"
        expected = reference(bytes(spoiled))
        try:
            got: Value = compile_layout(parse_copybook(copybook)).decode(bytes(spoiled))["f"]  # type: ignore[assignment]
        except SkippableError:
            refused += 1
            assert expected is None, f"{clause}: {spoiled.hex()} refused, IBM's rules read {expected!r}"
        else:
            assert got == expected and expected is not None, f"{clause}: {spoiled.hex()} gave {got!r}, not {expected!r}"
        checked += 1
    assert refused  # the spoiling reached invalid bytes too


def test_the_spare_nibble_of_an_even_digit_count_must_be_zero() -> None:
    decoder = compile_layout(parse_copybook("       01  R.\n           05  A PIC S9(4) COMP-3.\n"))
    assert decoder.decode(bytes.fromhex("01234D")) == {"a": -1234}
    with pytest.raises(SkippableError, match="high-order nibble 1 where an even digit count has 0"):
        decoder.decode(bytes.fromhex("12345C"))


def frame(records: list[bytes], rnd: random.Random, blocked: bool) -> bytes:
    """RDW before each record (its length including the RDW, two zero bytes); with ``blocked``, records packed
    into blocks of one to four, each behind a BDW (nonextended or extended at random)."""
    words = [struct.pack(">HH", len(r) + 4, 0) + r for r in records]
    if not blocked:
        return b"".join(words)
    out, at = b"", 0
    while at < len(words):
        block = b"".join(words[at : at + (take := rnd.randint(1, 4))])
        at += take
        extended = rnd.random() < 0.3
        out += struct.pack(">I", 0x80000000 | len(block) + 4) if extended else struct.pack(">HH", len(block) + 4, 0)
        out += block
    return out


def spanned(records: list[bytes], rnd: random.Random) -> bytes:
    """RECFM=VBS: each record cut into one to three segments behind SDWs (control code in byte 3: 00 whole,
    01 first, 11 middle, 10 last), the segments packed into blocks of one to three behind BDWs."""
    segments = []
    for record in records:
        cuts = sorted(rnd.sample(range(1, len(record)), min(rnd.randint(0, 2), len(record) - 1)))
        parts = [record[a:b] for a, b in zip([0, *cuts], [*cuts, len(record)], strict=True)]
        codes = [0] if len(parts) == 1 else [1, *[3] * (len(parts) - 2), 2]
        for part, code in zip(parts, codes, strict=True):
            segments.append(struct.pack(">HBB", len(part) + 4, code, 0) + part)
    out, at = b"", 0
    while at < len(segments):
        block = b"".join(segments[at : at + (take := rnd.randint(1, 3))])
        at += take
        out += struct.pack(">HH", len(block) + 4, 0) + block
    return out


@pytest.mark.parametrize("seed", range(4))
def test_random_variable_length_files_give_every_record(seed: int, tmp_path: Path) -> None:
    rnd = random.Random(2000 + seed)
    fields = [f for f in (random_field(rnd) for _ in range(10)) if "#" not in f[0] or f[0].endswith("ieee")]
    copybook, _ = build(fields)
    copybook += "           05  N PIC 9(2).\n           05  T PIC X(3) OCCURS 0 TO 12 DEPENDING ON N.\n"
    (tmp_path / "r.cpy").write_text(copybook)
    records, expected = [], []
    for i in range(60):
        chosen = fields  # the random fields' values, then a table of 0-12 items: records of many lengths
        count = rnd.randint(0, 12)
        items = [f"{i % 100:02d}{n}"[:3] for n in range(count)]
        records.append(b"".join(raw for _, raw, _, _ in chosen) + bytes(0xF0 | int(c) for c in f"{count:02d}")
                       + "".join(items).encode("cp037"))  # fmt: skip
        expected.append([value for _, _, value, _ in chosen] + [count, *items, *([None] * (12 - count))])
    for form in ("rdw", "vb", "vbs"):
        feed = Feed.model_validate({"name": "f", "pattern": "*", "format": "ebcdic", "mode": "delta",
                                    "key_columns": ["n"], "copybook": str(tmp_path / "r.cpy"),
                                    "record_format": form})  # fmt: skip
        reader = build_reader(feed)
        data = spanned(records, rnd) if form == "vbs" else frame(records, rnd, form == "vb")
        rows = [item.row for item in reader.read(data) if isinstance(item, Record)]
        assert [list(row.values()) for row in rows] == expected
