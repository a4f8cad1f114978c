"""Pure SQL text and row decoding for reading Db2 ASN CD tables.

Commit sequences are bound as hex literals (``X'00...'``, built from bytes only, so nothing from outside
reaches the SQL text): ibm_db binds Python bytes to CHAR FOR BIT DATA unreliably across releases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from connectors.changetables.pairing import Kind, RawChange
from connectors.changetables.position import Position

__all__ = ["changes_sql", "commit_ms", "decode_change", "hexlit", "quote", "uow_time_at_sql", "uow_times_sql"]

_KINDS = {"I": Kind.INSERT, "D": Kind.DELETE, "U": Kind.UPDATE}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def hexlit(value: bytes) -> str:
    """``X'0a0b...'`` for a binary value."""
    return f"X'{bytes(value).hex().upper()}'"


def changes_sql(cd_owner: str, cd_table: str, pos: Position, upper: bytes, limit: int) -> str:
    """The next ``limit`` CD rows after ``pos`` up to ``upper`` (inclusive), in commit order."""
    c = hexlit(pos.commit)
    if pos.seq is None:
        after = f"IBMSNAP_COMMITSEQ > {c}"
    else:
        after = f"(IBMSNAP_COMMITSEQ > {c} OR (IBMSNAP_COMMITSEQ = {c} AND IBMSNAP_INTENTSEQ > {hexlit(pos.seq)}))"
    return (f"SELECT * FROM {quote(cd_owner)}.{quote(cd_table)} WHERE IBMSNAP_COMMITSEQ <= {hexlit(upper)} AND "
            f"{after} ORDER BY IBMSNAP_COMMITSEQ, IBMSNAP_INTENTSEQ FETCH FIRST {int(limit)} ROWS ONLY")


def uow_times_sql(asn: str, commits: Sequence[bytes]) -> str:
    """Commit times from ``IBMSNAP_UOW`` for the given commit sequences, with the server's zone."""
    values = ", ".join(hexlit(c) for c in commits)
    return (f"SELECT IBMSNAP_COMMITSEQ, IBMSNAP_LOGMARKER, CURRENT TIMEZONE AS TZ FROM {asn}.IBMSNAP_UOW "
            f"WHERE IBMSNAP_COMMITSEQ IN ({values})")


def uow_time_at_sql(asn: str, commit: bytes) -> str:
    """The newest ``IBMSNAP_UOW`` commit at or before ``commit`` (a CD row's COMMITSEQ or a synchpoint), with its
    time and the server's zone: the time the position stands for."""
    return (f"SELECT IBMSNAP_COMMITSEQ, IBMSNAP_LOGMARKER, CURRENT TIMEZONE AS TZ FROM {asn}.IBMSNAP_UOW "
            f"WHERE IBMSNAP_COMMITSEQ <= {hexlit(commit)} ORDER BY IBMSNAP_COMMITSEQ DESC FETCH FIRST 1 ROW ONLY")


def commit_ms(local: datetime, tz: Decimal | int) -> int:
    """Epoch ms of a server-local timestamp; ``tz`` is Db2's CURRENT TIMEZONE, a signed ``hhmmss`` number."""
    value = int(tz)
    sign = -1 if value < 0 else 1
    value = abs(value)
    offset = timedelta(hours=value // 10000, minutes=value // 100 % 100, seconds=value % 100) * sign
    return int((local - offset).replace(tzinfo=UTC).timestamp() * 1000)


def decode_change(raw: Mapping[str, Any], captured: Sequence[str], before: Mapping[str, str], cd_table: str,
                  key: Sequence[str] = ()) -> RawChange:
    """One CD row (ibm_db's shapes: bytes for the FOR BIT DATA columns) -> :class:`RawChange`.

    A ``U`` row gets a ``before`` image when every captured non-key column has a before-image column
    (``before``: column -> ``X`` column); key columns without one take the row's value (a key change with
    before images registered only for some columns cannot be told). Otherwise ``before`` is None, never
    guessed."""
    code = str(raw["IBMSNAP_OPERATION"]).strip().upper()
    kind = _KINDS.get(code)
    if kind is None:
        raise ValueError(f"unknown IBMSNAP_OPERATION {code!r}")
    row = {c: raw.get(c) for c in captured}
    image = None
    if kind is Kind.UPDATE and before and all(c in before or c in key for c in captured):
        image = {c: raw.get(before[c]) if c in before else row[c] for c in captured}
    return RawChange(commit=bytes(raw["IBMSNAP_COMMITSEQ"]), seq=bytes(raw["IBMSNAP_INTENTSEQ"]), op=0, kind=kind,
                     row=row, before=image, meta={"cd_table": cd_table, "operation": code}, raw=raw)
