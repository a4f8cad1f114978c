"""Db2's ASN Capture catalog: registrations (``<asn>.IBMSNAP_REGISTER``), CD-table and source-table columns
(``SYSCAT.COLUMNS`` on LUW, ``SYSIBM.SYSCOLUMNS`` on z/OS), typed as crmhub columns (pure functions).

A CD table holds ``IBMSNAP_COMMITSEQ``, ``IBMSNAP_INTENTSEQ`` (CHAR(10) FOR BIT DATA, VARCHAR(16) FOR BIT
DATA on newer releases), ``IBMSNAP_OPERATION`` ('I'/'U'/'D'), the captured columns and, for columns
registered with before images, the same names with the before-image prefix (``XNAME``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from schemas.columns import Column, ColumnType

__all__ = ["Registration", "columns_sql", "describe_columns", "head_sql", "register_sql", "registration_of"]

Platform = Literal["luw", "zos"]


def register_sql(asn: str) -> str:
    return ("SELECT SOURCE_OWNER, SOURCE_TABLE, CD_OWNER, CD_TABLE, CD_OLD_SYNCHPOINT, CD_NEW_SYNCHPOINT, "
            f"BEFORE_IMG_PREFIX, CHG_UPD_TO_DEL_INS, STATE FROM {asn}.IBMSNAP_REGISTER WHERE GLOBAL_RECORD <> 'Y'")


def head_sql(asn: str) -> str:
    """The newest commit sequence whose CD rows are all written (Debezium's choice: the greatest of every
    registration's CD_NEW_SYNCHPOINT and the global SYNCHPOINT)."""
    return (f"SELECT MAX(t.SYNCHPOINT) AS SYNCHPOINT FROM (SELECT CD_NEW_SYNCHPOINT AS SYNCHPOINT FROM "
            f"{asn}.IBMSNAP_REGISTER UNION ALL SELECT SYNCHPOINT AS SYNCHPOINT FROM {asn}.IBMSNAP_REGISTER) AS t")


def columns_sql(platform: Platform) -> str:
    """Columns of one table (owner, name as parameters) in column order, with the primary-key position."""
    if platform == "zos":
        return ("SELECT NAME AS COLNAME, COLNO, COLTYPE AS TYPENAME, LENGTH, SCALE, NULLS, KEYSEQ, FOREIGNKEY "
                "FROM SYSIBM.SYSCOLUMNS WHERE TBCREATOR = ? AND TBNAME = ? ORDER BY COLNO")
    return ("SELECT COLNAME, COLNO, TYPENAME, LENGTH, SCALE, NULLS, KEYSEQ, CODEPAGE FROM SYSCAT.COLUMNS "
            "WHERE TABSCHEMA = ? AND TABNAME = ? ORDER BY COLNO")


@dataclass(frozen=True, slots=True)
class Registration:
    """One registration row."""

    source_owner: str
    source_table: str
    cd_owner: str
    cd_table: str
    old_synchpoint: bytes | None
    prefix: str | None
    upd_as_del_ins: bool
    state: str


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def registration_of(rows: Sequence[Mapping[str, Any]], owner: str, table: str) -> Registration | None:
    """The registration of ``owner.table`` (exact names first, else case-insensitive), or None."""
    def matches(r: Mapping[str, Any], fold: bool) -> bool:
        o, t = _text(r["SOURCE_OWNER"]), _text(r["SOURCE_TABLE"])
        return (o.upper(), t.upper()) == (owner.upper(), table.upper()) if fold else (o, t) == (owner, table)
    row = next((r for r in rows if matches(r, False)), None) or next((r for r in rows if matches(r, True)), None)
    if row is None:
        return None
    old = row.get("CD_OLD_SYNCHPOINT")
    return Registration(_text(row["SOURCE_OWNER"]), _text(row["SOURCE_TABLE"]), _text(row["CD_OWNER"]),
                        _text(row["CD_TABLE"]), None if old is None else bytes(old),
                        _text(row.get("BEFORE_IMG_PREFIX")) or None, _text(row.get("CHG_UPD_TO_DEL_INS")) == "Y",
                        _text(row.get("STATE")) or "A")


_INTS = {"SMALLINT": ColumnType.INT16, "INTEGER": ColumnType.INT32, "INT": ColumnType.INT32,
         "BIGINT": ColumnType.INT64}
_TIMES = {"DATE": ColumnType.DATE, "TIME": ColumnType.TIME, "TIMESTAMP": ColumnType.TIMESTAMP,
          "TIMESTMP": ColumnType.TIMESTAMP, "TIMESTZ": ColumnType.TIMESTAMP_TZ}
_FIXED = frozenset({"CHARACTER", "CHAR", "GRAPHIC"})
_TEXT = frozenset({"VARCHAR", "LONG VARCHAR", "LONGVAR", "CLOB", "VARGRAPHIC", "VARG", "DBCLOB", "LONG VARGRAPHIC",
                   "XML", "DECFLOAT", "ROWID"})
_BINARY = frozenset({"BINARY", "VARBINARY", "VARBIN", "BLOB"})
Mapped = tuple[ColumnType, int | None, int | None, int | None, str | None]


def _mapped(info: Mapping[str, Any]) -> Mapped:
    """(type, precision, scale, length, warning) of one catalog row (LUW TYPENAME or z/OS COLTYPE)."""
    tname = _text(info["TYPENAME"]).upper()
    length = int(info.get("LENGTH") or 0) or None
    bit_data = info.get("CODEPAGE") == 0 or _text(info.get("FOREIGNKEY")) == "B"
    if tname in ("DECIMAL", "NUMERIC"):
        return ColumnType.DECIMAL, length, int(info.get("SCALE") or 0), None, None
    if tname in _INTS:
        return _INTS[tname], None, None, None, None
    if tname in ("REAL", "DOUBLE", "FLOAT"):
        return ColumnType.FLOAT32 if tname == "REAL" or length == 4 else ColumnType.FLOAT64, None, None, None, None
    if tname == "BOOLEAN":
        return ColumnType.BOOLEAN, None, None, None, None
    if tname in _TIMES:
        return _TIMES[tname], None, None, None, None
    if tname in _BINARY or (bit_data and tname in _FIXED | {"VARCHAR"}):
        return ColumnType.BYTES, None, None, length, None
    if tname in _FIXED:
        return ColumnType.CHAR, None, None, length, None
    warning = None if tname in _TEXT else f"unknown Db2 type {tname}: values are passed as text"
    return ColumnType.STRING, None, None, length, warning


def _type_text(info: Mapping[str, Any]) -> str:
    tname = _text(info["TYPENAME"]).upper()
    if tname in ("DECIMAL", "NUMERIC"):
        return f"{tname}({info.get('LENGTH')},{info.get('SCALE') or 0})"
    if tname in _FIXED | _BINARY | {"VARCHAR", "VARGRAPHIC", "VARG"}:
        return f"{tname}({info.get('LENGTH')})"
    return tname


def source_key(source: Sequence[Mapping[str, Any]]) -> list[str]:
    """The primary-key columns of a source table in key order (KEYSEQ > 0)."""
    keyed = [(int(r["KEYSEQ"]), _text(r["COLNAME"])) for r in source if r.get("KEYSEQ") not in (None, 0)]
    return [name for _, name in sorted(keyed)]


def describe_columns(cd: Sequence[Mapping[str, Any]], source: Sequence[Mapping[str, Any]], key: Sequence[str]
                     ) -> tuple[list[Column], list[str]]:
    """The captured columns: the CD table's columns that are source-table columns, in CD order, typed from the
    CD table, nullable as the source column is (``NULLS`` = 'Y'). Returns the columns and the warnings."""
    src_null = {_text(r["COLNAME"]): _text(r.get("NULLS")) == "Y" for r in source}
    columns: list[Column] = []
    warnings: list[str] = []
    for info in cd:
        name = _text(info["COLNAME"])
        if name.startswith("IBMSNAP_") or name not in src_null:
            continue
        kind, precision, scale, length, warning = _mapped(info)
        columns.append(Column(name=name, type=kind, nullable=src_null[name] and name not in key, precision=precision,
                              scale=scale, length=length, primary_key=name in key, source_type=_type_text(info)))
        if warning:
            warnings.append(f"{name}: {warning}")
    return columns, warnings


def before_columns(cd: Sequence[Mapping[str, Any]], columns: Sequence[Column], prefix: str | None) -> dict[str, str]:
    """Captured column -> its before-image column in the CD table (``NAME`` -> ``XNAME``)."""
    if not prefix:
        return {}
    names = {_text(r["COLNAME"]) for r in cd}
    captured = {c.name for c in columns}
    return {c.name: prefix + c.name for c in columns if prefix + c.name in names and prefix + c.name not in captured}
