"""EBCDIC code pages Python lacks, as IBM publishes them: the country-extended Latin-1 family (CCSIDs 277, 278,
280, 284, 285, 297, 871 and the euro variants 1141-1149), as 256-character decoding tables written as
*differences from cp037*. The euro variants come from IBM's mapping tables as glibc ships them
(``/usr/share/i18n/charmaps/IBM114x``, identical to the ``ebcdic`` package's ICU-derived tables); each base CCSID
is its euro variant with the euro sign back to the currency sign ¤ (IBM documents 1140-1149 as
037/273/277/278/280/284/285/297/500/871 with € replacing ¤, nothing else). :mod:`connectors.codecs.codepages`
registers them; ``tests/unit/test_ibmi_journal_ccsids.py`` checks them against the system's ``iconv``.

Two choices, both as IBM i converts to Unicode (CCSID 1208) so every table is a permutation of Latin-1:
X'15' is NEL (U+0085, as in Python's cp037) and CCSID 285's X'A1' is the macron U+00AF (glibc's 1990
IBM285 table says overline U+203E). glibc's older IBM278/IBM871 tables also swap É/\\ (278) and Þ/þ (871)
against their euro variants; the tables here follow the euro variants (and the ICU/``ebcdic`` tables).
"""

from __future__ import annotations

#: Euro-variant CCSID -> {byte: character} where it differs from cp037.
_EURO_DIFFS: dict[int, dict[int, str]] = {
    1141: {0x43: '{', 0x4A: 'Ä', 0x4F: '!', 0x59: '~', 0x5A: 'Ü', 0x5F: '^', 0x63: '[', 0x6A: 'ö', 0x7C: '§',
           0x9F: '€', 0xA1: 'ß', 0xB0: '¢', 0xB5: '@', 0xBA: '¬', 0xBB: '|', 0xC0: 'ä', 0xCC: '¦', 0xD0: 'ü',
           0xDC: '}', 0xE0: 'Ö', 0xEC: '\\', 0xFC: ']'},
    1142: {0x47: '}', 0x4A: '#', 0x4F: '!', 0x5A: '€', 0x5B: 'Å', 0x5F: '^', 0x67: '$', 0x6A: 'ø', 0x70: '¦',
           0x7B: 'Æ', 0x7C: 'Ø', 0x80: '@', 0x9C: '{', 0x9E: '[', 0x9F: ']', 0xA1: 'ü', 0xB0: '¢', 0xBA: '¬',
           0xBB: '|', 0xC0: 'æ', 0xD0: 'å', 0xDC: '~'},
    1143: {0x43: '{', 0x47: '}', 0x4A: '§', 0x4F: '!', 0x51: '`', 0x5A: '€', 0x5B: 'Å', 0x5F: '^', 0x63: '#',
           0x67: '$', 0x6A: 'ö', 0x71: '\\', 0x79: 'é', 0x7B: 'Ä', 0x7C: 'Ö', 0x9F: ']', 0xA1: 'ü', 0xB0: '¢',
           0xB5: '[', 0xBA: '¬', 0xBB: '|', 0xC0: 'ä', 0xCC: '¦', 0xD0: 'å', 0xDC: '~', 0xE0: 'É', 0xEC: '@'},
    1144: {0x44: '{', 0x48: '\\', 0x4A: '°', 0x4F: '!', 0x51: ']', 0x54: '}', 0x58: '~', 0x5A: 'é', 0x5F: '^',
           0x6A: 'ò', 0x79: 'ù', 0x7B: '£', 0x7C: '§', 0x90: '[', 0x9F: '€', 0xA1: 'ì', 0xB0: '¢', 0xB1: '#',
           0xB5: '@', 0xBA: '¬', 0xBB: '|', 0xC0: 'à', 0xCD: '¦', 0xD0: 'è', 0xDD: '`', 0xE0: 'ç'},
    1145: {0x49: '¦', 0x4A: '[', 0x5A: ']', 0x69: '#', 0x6A: 'ñ', 0x7B: 'Ñ', 0x9F: '€', 0xA1: '¨', 0xB0: '¢',
           0xBA: '^', 0xBB: '!', 0xBD: '~'},
    1146: {0x4A: '$', 0x5B: '£', 0x9F: '€', 0xA1: '¯', 0xB0: '¢', 0xB1: '[', 0xBA: '^', 0xBC: '~'},
    1147: {0x44: '@', 0x48: '\\', 0x4A: '°', 0x4F: '!', 0x51: '{', 0x54: '}', 0x5A: '§', 0x5F: '^', 0x6A: 'ù',
           0x79: 'µ', 0x7B: '£', 0x7C: 'à', 0x90: '[', 0x9F: '€', 0xA0: '`', 0xA1: '¨', 0xB0: '¢', 0xB1: '#',
           0xB5: ']', 0xBA: '¬', 0xBB: '|', 0xBD: '~', 0xC0: 'é', 0xD0: 'è', 0xDD: '¦', 0xE0: 'ç'},
    1148: {0x4A: '[', 0x4F: '!', 0x5A: ']', 0x5F: '^', 0x9F: '€', 0xB0: '¢', 0xBA: '¬', 0xBB: '|'},
    1149: {0x4A: 'Þ', 0x4F: '!', 0x5A: 'Æ', 0x5F: 'Ö', 0x79: 'ð', 0x7C: 'Ð', 0x8C: '`', 0x8E: '{', 0x9C: '}',
           0x9E: ']', 0x9F: '€', 0xA1: 'ö', 0xAC: '@', 0xAE: '[', 0xB0: '¢', 0xBA: '¬', 0xBB: '|', 0xBE: '\\',
           0xC0: 'þ', 0xCC: '~', 0xD0: 'æ', 0xE0: '\u00b4', 0xEC: '^'},  # acute accent
}
#: Base CCSID -> its euro variant (IBM: identical but for € in place of ¤).
EURO_VARIANT: dict[int, int] = {37: 1140, 273: 1141, 277: 1142, 278: 1143, 280: 1144, 284: 1145, 285: 1146,
                                297: 1147, 500: 1148, 871: 1149}


def euro_table(ccsid: int) -> str:
    """The 256-character decoding table of a euro-variant CCSID (1141-1149)."""
    table = list(bytes(range(256)).decode("cp037"))
    for byte, char in _EURO_DIFFS[ccsid].items():
        table[byte] = char
    return "".join(table)


def base_table(ccsid: int) -> str:
    """The decoding table of a base CCSID: its euro variant with € back to ¤."""
    return euro_table(EURO_VARIANT[ccsid]).replace("€", "¤")
