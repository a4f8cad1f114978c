"""CCSID -> codec resolution for the IBM i journal: which CCSIDs a column may carry and the Python codec of each.

The EBCDIC pages Python lacks (the country-extended family 277-871 and the euro variants 1141-1149) are built
from IBM's published mappings in :mod:`connectors.codecs.ebcdic_tables` and registered with the other code pages
(:mod:`connectors.codecs.codepages`); ``tests/unit/test_ibmi_journal_ccsids.py`` checks them against the
system's ``iconv`` when present.
"""

from __future__ import annotations

from connectors.codecs.ebcdic_tables import EURO_VARIANT, base_table, euro_table
from connectors.codecs.fields import resolve_codepage
from schemas.errors import ConfigError

#: Every single-byte EBCDIC CCSID this connector decodes.
SUPPORTED_EBCDIC: tuple[int, ...] = (37, 273, 277, 278, 280, 284, 285, 297, 500, 871, *range(1140, 1150))
#: Unicode and ASCII CCSIDs: 1200/13488 UTF-16 (GRAPHIC, NCHAR), 1208 UTF-8, 819 Latin-1.
SUPPORTED_OTHER: tuple[int, ...] = (819, 1200, 1208, 13488)
BINARY_CCSID = 65535


def codec_for_ccsid(ccsid: int) -> str:
    """The Python codec for a CCSID, or ``"binary"`` for 65535; ``ConfigError`` for one not supported."""
    if ccsid == BINARY_CCSID:
        return "binary"
    if ccsid not in SUPPORTED_EBCDIC and ccsid not in SUPPORTED_OTHER:
        supported = ", ".join(str(c) for c in (*SUPPORTED_EBCDIC, *SUPPORTED_OTHER, BINARY_CCSID))
        raise ConfigError(f"CCSID {ccsid} is not supported (supported: {supported})")
    return resolve_codepage(ccsid)


__all__ = ["BINARY_CCSID", "EURO_VARIANT", "SUPPORTED_EBCDIC", "SUPPORTED_OTHER", "base_table",
           "codec_for_ccsid", "euro_table"]
