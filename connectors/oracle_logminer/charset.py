"""Pure mapping of Oracle character set names to Python codecs, for text LogMiner writes as ``HEXTORAW``.

LogMiner writes a VARCHAR2/CHAR/CLOB value as ``HEXTORAW('c385c384c396')`` when it cannot render it as text:
those are the value's bytes in the database character set (``NLS_CHARACTERSET``); NCHAR/NVARCHAR2/NCLOB
values are in the national character set (``NLS_NCHAR_CHARACTERSET``). Both are read from
``NLS_DATABASE_PARAMETERS`` at connect (:data:`.sql.NLS_CHARSETS`), rows of (PARAMETER, VALUE).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Charsets", "charsets_from_nls", "python_codec"]

# Oracle name -> Python codec (Oracle Database Globalization Support Guide, appendix A "Locale Data")
_CODECS: dict[str, str] = {
    "AL32UTF8": "utf-8", "UTF8": "utf-8", "AL16UTF16": "utf-16-be", "AL16UTF16LE": "utf-16-le",
    "US7ASCII": "ascii", "WE8ISO8859P1": "latin-1", "WE8ISO8859P15": "iso8859-15", "WE8MSWIN1252": "cp1252",
    "EE8ISO8859P2": "iso8859-2", "EE8MSWIN1250": "cp1250", "CL8ISO8859P5": "iso8859-5", "CL8MSWIN1251": "cp1251",
    "CL8KOI8R": "koi8-r", "EL8ISO8859P7": "iso8859-7", "EL8MSWIN1253": "cp1253", "IW8ISO8859P8": "iso8859-8",
    "IW8MSWIN1255": "cp1255", "AR8ISO8859P6": "iso8859-6", "AR8MSWIN1256": "cp1256", "TR8MSWIN1254": "cp1254",
    "WE8ISO8859P9": "iso8859-9", "BLT8MSWIN1257": "cp1257", "BLT8ISO8859P13": "iso8859-13",
    "NEE8ISO8859P4": "iso8859-4", "VN8MSWIN1258": "cp1258", "TH8TISASCII": "tis-620",
    "JA16SJIS": "shift_jis", "JA16SJISTILDE": "shift_jis", "JA16EUC": "euc_jp", "JA16EUCTILDE": "euc_jp",
    "ZHS16GBK": "gbk", "ZHS32GB18030": "gb18030", "ZHT16BIG5": "big5", "ZHT16HKSCS": "big5hkscs",
    "ZHT16MSWIN950": "cp950", "KO16MSWIN949": "cp949", "KO16KSC5601": "euc_kr", "WE8PC850": "cp850",
    "US8PC437": "cp437", "WE8EBCDIC37": "cp037", "WE8EBCDIC500": "cp500",
}


def python_codec(oracle_name: str) -> str | None:
    """The Python codec for an Oracle character set name (``AL32UTF8`` -> ``utf-8``), None if unknown."""
    return _CODECS.get(oracle_name.strip().upper())


@dataclass(frozen=True, slots=True)
class Charsets:
    """The database's two character sets as Oracle names them, and their Python codecs (None: unknown)."""

    database: str = "AL32UTF8"
    national: str = "AL16UTF16"

    def decode(self, raw: bytes, national: bool) -> str:
        """``raw`` as text of the (national) character set; ``ValueError`` if it cannot be."""
        name = self.national if national else self.database
        codec = python_codec(name)
        if codec is None:
            raise ValueError(f"HEXTORAW text in character set {name}, which has no Python codec")
        try:
            return raw.decode(codec)
        except UnicodeDecodeError as exc:
            raise ValueError(f"HEXTORAW('{raw.hex()[:40]}') is not {name} text: {exc.reason}") from None


def charsets_from_nls(rows: Sequence[Mapping[str, Any]]) -> Charsets:
    """``Charsets`` from NLS_DATABASE_PARAMETERS rows (PARAMETER, VALUE); absent ones keep the defaults."""
    found = {str(r["PARAMETER"]).upper(): str(r["VALUE"]) for r in rows if r.get("VALUE") is not None}
    default = Charsets()
    return Charsets(found.get("NLS_CHARACTERSET", default.database),
                    found.get("NLS_NCHAR_CHARACTERSET", default.national))
