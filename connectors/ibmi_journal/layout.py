"""A journaled file's record image, from its ``QSYS2.SYSCOLUMNS`` rows, compiled once into a decoder.

The entry-specific data of a record entry (``ENTRY_DATA``) is the record as the physical file stores it:
columns in ``ORDINAL_POSITION`` order, back to back, each in its storage form:

=====================  ==========================  =============================================
SYSCOLUMNS DATA_TYPE    bytes in the image          value
=====================  ==========================  =============================================
CHAR(n)                 n                           text in the column's CCSID (65535: bytes)
VARCHAR(n)              2 + n                       2-byte length, then the text, slot padded
GRAPHIC(n)              2n                          UTF-16 (CCSID 1200/13488)
VARGRAPHIC/VARG(n)      2 + 2n                      2-byte length in characters, then UTF-16
DECIMAL(p,s)            p // 2 + 1                  packed decimal
NUMERIC(p,s)            p                           zoned decimal
SMALLINT/INTEGER/BIGINT 2 / 4 / 8                   big-endian binary (a scale gives a Decimal)
FLOAT(4|8)/REAL/DOUBLE  4 / 8                       IEEE big-endian
DATE                    10 (DDS: 8 or 6)            text in the field's DATFMT (``datetimes``)
TIME                    8                           text in the field's TIMFMT
TIMESTMP(p)             19 (p = 0) or 20 + p        yyyy-mm-dd-hh.mm.ss.ffffff (micros kept)
BINARY(n)/VARBIN(n)     n / 2 + n                   bytes
=====================  ==========================  =============================================

LOBs, XML, DATALINK, ROWID, DECFLOAT and BOOLEAN are not decoded (a ``ConfigError`` names the column).
Null columns are flagged by the entry's null-value indicators (one ``'0'``/``'1'`` per column; see
:func:`parse_null_map`), never by their bytes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.codecs import Column as CodecColumn
from connectors.codecs import RecordDecoder, compile_columns
from connectors.ibmi_journal.ccsids import BINARY_CCSID, codec_for_ccsid
from connectors.ibmi_journal.datetimes import date_parser, parse_time, parse_timestamp
from schemas.columns import Column, ColumnType
from schemas.errors import ConfigError, SkippableError

Record = dict[str, object]
Post = Callable[[Any], object]

_ALIASES = {"VARG": "VARGRAPHIC", "TIMESTMP": "TIMESTAMP", "VARBIN": "VARBINARY", "INT": "INTEGER",
            "CHARACTER": "CHAR", "NCHAR": "GRAPHIC", "NVARCHAR": "VARGRAPHIC"}
_UNSUPPORTED = frozenset({"BLOB", "CLOB", "DBCLOB", "XML", "DATALINK", "ROWID", "DECFLOAT", "BOOLEAN"})
_UTF16 = frozenset({1200, 13488})


@dataclass(frozen=True, slots=True)
class CatalogColumn:
    """One ``QSYS2.SYSCOLUMNS`` row, the fields the decoder needs."""

    name: str
    ordinal: int
    data_type: str
    length: int
    scale: int | None
    ccsid: int | None
    nullable: bool

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CatalogColumn:
        scale = row.get("NUMERIC_SCALE")
        ccsid = row.get("CCSID")
        return cls(name=str(row["COLUMN_NAME"]).strip(), ordinal=int(row["ORDINAL_POSITION"]),
                   data_type=str(row["DATA_TYPE"]).strip().upper(), length=int(row["LENGTH"]),
                   scale=None if scale is None else int(scale), ccsid=None if ccsid is None else int(ccsid),
                   nullable=str(row.get("IS_NULLABLE") or "N").strip().upper() in ("Y", "YES"))


@dataclass(frozen=True, slots=True)
class _Slot:
    codec: CodecColumn
    meta: Column
    post: Post | None


def parse_null_map(value: object) -> tuple[bool, ...] | None:
    """The null-value indicators of an entry as one flag per column, or None when there are none.

    ``DISPLAY_JOURNAL`` returns ``NULL_VALUE_INDICATORS`` as one character per column, ``'0'`` (not null) or
    ``'1'`` (null); through a driver that is text, or bytes when the column comes back FOR BIT DATA (EBCDIC
    X'F0'/X'F1'; ASCII and X'00'/X'01' accepted too). Blank or empty means the file has no null-capable
    columns. ``'9'`` (field not recorded: the file is journaled with MINENTDTA) raises ``SkippableError``."""
    if value is None:
        return None
    if isinstance(value, str):
        if "1" not in value and "9" not in value:  # the common case: no column is null
            return None
        text = value
    else:
        raw = bytes(value)  # type: ignore[call-overload]
        if not any(flag in raw for flag in _FLAG_BYTES):
            return None
        text = raw.translate(_NULL_BYTES).decode("latin-1")
    if "9" in text:
        raise SkippableError("the entry's record image is minimized (null indicator '9'); journal the file "
                             "with MINENTDTA(*NONE)")
    return tuple(c == "1" for c in text)


_NULL_BYTES = bytes.maketrans(b"\xf0\xf1\xf9\x00\x01\x40", b"019010")
_FLAG_BYTES = (b"\xf1", b"\xf9", b"\x01", b"1", b"9")


class TableDecoder:
    """A file's record image compiled once: ``decode(entry_data, null_indicators) -> row dict``."""

    def __init__(self, columns: Sequence[CatalogColumn], *, ccsid_overrides: Mapping[str, int] | None = None,
                 binary_ccsid: int | None = None, trim_char: bool = True, where: str = "",
                 date_formats: Mapping[str, str] | None = None) -> None:
        """``date_formats``: a DDS date field's ``DATFMT`` by column (``MDY``, ``*JUL`` ...; default ISO)."""
        overrides = {k.upper(): v for k, v in (ccsid_overrides or {}).items()}
        formats = {k.upper(): v for k, v in (date_formats or {}).items()}
        record_ccsid = _record_ccsid(columns, overrides)
        self.record_codec = codec_for_ccsid(record_ccsid)
        slots: list[_Slot] = []
        problems: list[str] = []
        offset = 0
        for col in sorted(columns, key=lambda c: c.ordinal):
            try:
                slot = _slot(col, offset, overrides.get(col.name.upper()), binary_ccsid, trim_char,
                             formats.get(col.name.upper(), "ISO"))
            except ConfigError as exc:
                problems.extend(f"{where}column {col.name}: {p}" for p in exc.problems)
                continue
            slots.append(slot)
            offset += slot.codec.length
        unknown = sorted(set(overrides) - {c.name.upper() for c in columns})
        problems.extend(f"{where}ccsid.{name}: no such column" for name in unknown)
        dates = {c.name.upper() for c in columns if _ALIASES.get(c.data_type, c.data_type) == "DATE"}
        problems.extend(f"{where}date_format.{name}: no such DATE column" for name in sorted(set(formats) - dates))
        if problems:
            raise ConfigError(problems)
        self.length = offset
        self.columns: tuple[Column, ...] = tuple(s.meta for s in slots)
        self._decoder: RecordDecoder = compile_columns([s.codec for s in slots], self.record_codec, trim=trim_char)
        self._post = tuple((s.meta.name, s.post) for s in slots if s.post is not None)
        self._count = len(slots)
        self._fast = self._decoder.decode

    def decode(self, data: bytes | bytearray | memoryview | str, nulls: object = None) -> Record:
        """One record image -> ``{column: value}``; ``SkippableError`` (naming the field) when it is bad."""
        # The common entry first: bytes, indicators as text with no null column (parse_null_map -> None).
        if type(data) is bytes and not self._post and (
            nulls is None or (type(nulls) is str and "1" not in nulls and "9" not in nulls)
        ):
            return self._fast(data)
        return self._decode(data, nulls)

    def _decode(self, data: bytes | bytearray | memoryview | str, nulls: object) -> Record:
        if isinstance(data, str):  # HEX(ENTRY_DATA) or a driver returning the BLOB as hex text
            data = bytes.fromhex(data)
        flags = parse_null_map(nulls)
        if flags is not None and len(flags) < self._count:
            flags = flags + (False,) * (self._count - len(flags))
        values = self._decoder.decode(data, flags)
        for name, post in self._post:
            value = values[name]
            if value is not None:
                try:
                    values[name] = post(value)
                except ValueError as exc:
                    raise SkippableError(f"column {name}: {exc} ({value!r})", record=bytes(data)) from None
        return values


def _record_ccsid(columns: Sequence[CatalogColumn], overrides: Mapping[str, int]) -> int:
    """The CCSID most character columns use (single-byte EBCDIC), 37 when there is none."""
    counts = Counter(overrides.get(c.name.upper(), c.ccsid) for c in columns
                     if c.data_type in ("CHAR", "VARCHAR") and c.ccsid not in (None, BINARY_CCSID, *_UTF16, 1208))
    for ccsid, _ in counts.most_common():
        if ccsid is not None and ccsid not in (BINARY_CCSID, 1208, *_UTF16):
            try:
                codec_for_ccsid(ccsid)
            except ConfigError:
                continue  # reported with its column
            return ccsid
    return 37


def _slot(col: CatalogColumn, offset: int, override: int | None, binary_ccsid: int | None, trim: bool,
          date_format: str = "ISO") -> _Slot:
    kind = _ALIASES.get(col.data_type, col.data_type)
    if kind in _UNSUPPORTED:
        raise ConfigError(f"{col.data_type} is not decoded from journal entries (not built)")
    ccsid = override if override is not None else col.ccsid
    if ccsid == BINARY_CCSID and binary_ccsid is not None and kind in ("CHAR", "VARCHAR"):
        ccsid = binary_ccsid
    if kind in ("CHAR", "VARCHAR") and ccsid == BINARY_CCSID:
        kind = "BINARY" if kind == "CHAR" else "VARBINARY"
    if ccsid is not None and ccsid != BINARY_CCSID and kind not in ("GRAPHIC", "VARGRAPHIC"):
        codec_for_ccsid(ccsid)  # ConfigError for one not supported
    def mk(codec_kind: str, length: int, ctype: ColumnType, *, precision: int = 0, scale: int = 0,
           cc: int | None = None, post: Post | None = None, meta_len: int | None = None) -> _Slot:
        codec = CodecColumn(col.name, codec_kind, offset, length, precision, scale, cc, col.nullable)
        decimal = ctype is ColumnType.DECIMAL
        meta = Column(col.name, ctype, nullable=col.nullable, precision=precision if decimal else None,
                      scale=scale if decimal else None, length=meta_len, source_type=_source_type(col))
        return _Slot(codec, meta, post)
    n, scale = col.length, col.scale or 0
    if kind in ("CHAR", "GRAPHIC"):
        size = 2 * n if kind == "GRAPHIC" else n
        cc = 1200 if kind == "GRAPHIC" and ccsid not in _UTF16 else ccsid
        if kind == "GRAPHIC" and ccsid not in _UTF16 and ccsid is not None:
            raise ConfigError(f"GRAPHIC CCSID {ccsid} (DBCS) is not supported (not built); UTF-16 1200/13488 only")
        return mk("text", size, ColumnType.CHAR, cc=cc, meta_len=n)
    if kind in ("VARCHAR", "VARGRAPHIC"):
        if kind == "VARGRAPHIC" and ccsid not in _UTF16 and ccsid is not None:
            raise ConfigError(f"VARGRAPHIC CCSID {ccsid} (DBCS) is not supported (not built)")
        cc = 1200 if kind == "VARGRAPHIC" else ccsid
        return mk("varchar", 2 + (2 * n if kind == "VARGRAPHIC" else n), ColumnType.STRING, cc=cc, meta_len=n)
    if kind == "BINARY":
        return mk("bytes", n, ColumnType.BYTES, meta_len=n)
    if kind == "VARBINARY":
        return mk("bytes", 2 + n, ColumnType.BYTES, post=_varbinary, meta_len=n)
    if kind == "DECIMAL":
        return mk("packed", n // 2 + 1, ColumnType.DECIMAL, precision=n, scale=scale)
    if kind == "NUMERIC":
        return mk("zoned", n, ColumnType.DECIMAL, precision=n, scale=scale)
    if kind in ("SMALLINT", "INTEGER", "BIGINT"):
        size = {"SMALLINT": 2, "INTEGER": 4, "BIGINT": 8}[kind]
        if scale:
            return mk("binary", size, ColumnType.DECIMAL, precision={2: 4, 4: 9, 8: 18}[size], scale=scale)
        return mk("binary", size, {2: ColumnType.INT16, 4: ColumnType.INT32, 8: ColumnType.INT64}[size])
    if kind in ("FLOAT", "REAL", "DOUBLE"):
        size = 4 if kind == "REAL" or (kind == "FLOAT" and n == 4) else 8
        return mk("float", size, ColumnType.FLOAT32 if size == 4 else ColumnType.FLOAT64)
    if kind == "DATE":
        try:
            size, parse = date_parser(date_format)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        return mk("text", size, ColumnType.DATE, post=parse)
    if kind == "TIME":
        return mk("text", 8, ColumnType.TIME, post=parse_time)
    if kind == "TIMESTAMP":
        precision = 6 if col.scale is None else col.scale
        return mk("text", 19 if precision == 0 else 20 + precision, ColumnType.TIMESTAMP, post=parse_timestamp)
    raise ConfigError(f"unknown data type {col.data_type} (not built)")


def _source_type(col: CatalogColumn) -> str:
    if col.data_type in ("DECIMAL", "NUMERIC"):
        return f"{col.data_type}({col.length},{col.scale or 0})"
    text = f"{col.data_type}({col.length})"
    return text + (f" CCSID {col.ccsid}" if col.ccsid else "")


def _varbinary(raw: bytes) -> bytes:
    count = int.from_bytes(raw[:2], "big")
    if count > len(raw) - 2:
        raise ValueError(f"varbinary length {count} exceeds the column's {len(raw) - 2}")
    return raw[2 : 2 + count]


__all__ = ["CatalogColumn", "TableDecoder", "parse_null_map"]
