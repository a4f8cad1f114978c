"""Code pages: IBM CCSIDs and names to Python codecs, the EBCDIC pages Python lacks built from its tables, and the
rules for text fields (low-values, C1 controls)."""

from __future__ import annotations

import codecs

from connectors.codecs.ebcdic_tables import EURO_VARIANT, base_table, euro_table
from schemas.errors import ConfigError

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


# IBM's table for CCSID 273 maps X'BC' to U+00AF MACRON (as in 037 and 500); Python's cp273 gives U+203E
# OVERLINE, so crmhub decodes 273 with its own table, registered under the name ``_OWN_TABLES`` gives.
_OWN_TABLES = {"cp273": "crmhub_cp273"}


def cp273_table() -> str:
    """IBM-273 as IBM publishes it: Python's cp273 with X'BC' as U+00AF MACRON."""
    table = list(bytes(range(256)).decode("cp273"))
    table[0xBC] = "\u00af"
    return "".join(table)


if not _has_codec("cp1047"):
    register_codepage("cp1047", cp1047_table())
register_codepage("crmhub_cp273", cp273_table())
for _base, _euro in EURO_VARIANT.items():  # the country-extended pages and their euro variants Python lacks
    if not _has_codec(f"cp{_euro}"):
        register_codepage(f"cp{_euro}", euro_table(_euro))
    if not _has_codec(f"cp{_base:03d}"):
        register_codepage(f"cp{_base:03d}", base_table(_base))
