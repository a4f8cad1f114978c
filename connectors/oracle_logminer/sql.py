"""The SQL the connector sends to Oracle, as constants and pure builders (binds are named, ``:name``).

LogMiner session over one SCN window (what Debezium's Oracle connector does, written here from the
Oracle documentation of DBMS_LOGMNR):

1. ``CURRENT_SCN`` -> the window's upper end (at most ``window_scns`` past its start).
2. ``LOG_FILES`` -> the archived and online redo logs whose SCN range reaches the window start
   (a sequence both online and archived is added once, from the archive: :func:`.session.pick_log_files`).
3. ``ADD_LOGFILE`` for each (the first with ``NEW``, the others ``ADDFILE``), then ``START_LOGMNR`` with
   ``STARTSCN``/``ENDSCN`` and ``DICT_FROM_ONLINE_CATALOG`` (the dictionary is the live catalog, so a
   column added later is named correctly; dropped columns show as ``COL n``), ``NO_SQL_DELIMITER`` is not
   used (the parser accepts the ``;``).
4. ``contents_query`` -> V$LOGMNR_CONTENTS rows of the captured tables plus every START/COMMIT/ROLLBACK,
   in SCN order (committed and uncommitted: the connector buffers transactions itself, it does not use
   ``COMMITTED_DATA_ONLY``, which would hold a whole transaction in LogMiner's memory and cannot span
   windows).
5. ``END_LOGMNR``.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectors.oracle_logminer.literals import ISO_DATE_FORMAT

__all__ = [
    "CONTENTS_COLUMNS", "CURRENT_SCN", "END_LOGMNR", "HEAD_SCN", "LOG_FILES", "NLS_CHARSETS", "NLS_SETTINGS",
    "OLDEST_OPEN_TX", "SCN_TIME", "START_LOGMNR", "TABLE_COLUMNS", "TABLE_KEY", "add_logfile", "contents_query",
    "snapshot_query",
]

CURRENT_SCN = "SELECT CURRENT_SCN FROM V$DATABASE"
OLDEST_OPEN_TX = "SELECT MIN(START_SCN) FROM V$TRANSACTION"
# source lag: the current SCN and a saved SCN with the database's time for them (SMON_SCN_TIME's mapping, about
# 3 s fine; ORA-08181 for an SCN older than the mapping keeps)
HEAD_SCN = "SELECT CURRENT_SCN, SCN_TO_TIMESTAMP(CURRENT_SCN) AS SCN_TIME FROM V$DATABASE"
SCN_TIME = "SELECT SCN_TO_TIMESTAMP(:scn) AS SCN_TIME FROM DUAL"
# the character sets of HEXTORAW text in SQL_REDO (:mod:`.charset`)
NLS_CHARSETS = """\
SELECT PARAMETER, VALUE FROM NLS_DATABASE_PARAMETERS
 WHERE PARAMETER IN ('NLS_CHARACTERSET', 'NLS_NCHAR_CHARACTERSET')"""

NLS_SETTINGS: tuple[str, ...] = (
    f"ALTER SESSION SET NLS_DATE_FORMAT = '{ISO_DATE_FORMAT}'",  # TO_DATE text in it takes the parser's fast path
    "ALTER SESSION SET NLS_TIMESTAMP_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF'",
    "ALTER SESSION SET NLS_TIMESTAMP_TZ_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF TZH:TZM'",
    "ALTER SESSION SET NLS_NUMERIC_CHARACTERS = '.,'",
)

# Redo logs reaching :start_scn. Online logs not yet archived come from V$LOG/V$LOGFILE (one member per
# group); archived ones from V$ARCHIVED_LOG (local, valid destination, available). Ordered by sequence.
LOG_FILES = """\
SELECT MIN(F.MEMBER) AS FILE_NAME, L.THREAD# AS THREAD, L.SEQUENCE# AS SEQ,
       L.FIRST_CHANGE# AS FIRST_CHANGE, L.NEXT_CHANGE# AS NEXT_CHANGE, 'ONLINE' AS KIND
  FROM V$LOG L JOIN V$LOGFILE F ON F.GROUP# = L.GROUP#
 WHERE L.STATUS <> 'UNUSED' AND (F.STATUS IS NULL OR F.STATUS <> 'INVALID')
 GROUP BY L.THREAD#, L.SEQUENCE#, L.FIRST_CHANGE#, L.NEXT_CHANGE#
HAVING L.NEXT_CHANGE# > :start_scn
UNION ALL
SELECT MIN(A.NAME), A.THREAD#, A.SEQUENCE#, A.FIRST_CHANGE#, A.NEXT_CHANGE#, 'ARCHIVED'
  FROM V$ARCHIVED_LOG A
 WHERE A.NAME IS NOT NULL AND A.ARCHIVED = 'YES' AND A.STATUS = 'A' AND A.NEXT_CHANGE# > :start_scn
   AND A.DEST_ID IN (SELECT DEST_ID FROM V$ARCHIVE_DEST_STATUS WHERE STATUS = 'VALID' AND TYPE = 'LOCAL')
 GROUP BY A.THREAD#, A.SEQUENCE#, A.FIRST_CHANGE#, A.NEXT_CHANGE#
 ORDER BY 2, 3"""

START_LOGMNR = """\
BEGIN SYS.DBMS_LOGMNR.START_LOGMNR(STARTSCN => :start_scn, ENDSCN => :end_scn,
  OPTIONS => SYS.DBMS_LOGMNR.DICT_FROM_ONLINE_CATALOG + SYS.DBMS_LOGMNR.SKIP_CORRUPTION); END;"""
END_LOGMNR = "BEGIN SYS.DBMS_LOGMNR.END_LOGMNR; END;"

CONTENTS_COLUMNS: tuple[str, ...] = (
    "SCN", "COMMIT_SCN", "TIMESTAMP", "COMMIT_TIMESTAMP", "XID", "XIDUSN", "XIDSLT", "XIDSQN",
    "OPERATION_CODE", "SEG_OWNER", "TABLE_NAME", "ROW_ID", "CSF", "SQL_REDO", "RS_ID", "SSN", "ROLLBACK",
)

TABLE_COLUMNS = """\
SELECT COLUMN_NAME, DATA_TYPE, DATA_PRECISION, DATA_SCALE, NULLABLE, DATA_LENGTH, CHAR_LENGTH, COLUMN_ID
  FROM ALL_TAB_COLUMNS WHERE OWNER = :owner AND TABLE_NAME = :name AND HIDDEN_COLUMN = 'NO'
 ORDER BY COLUMN_ID"""

TABLE_KEY = """\
SELECT CC.COLUMN_NAME, CC.POSITION
  FROM ALL_CONSTRAINTS C JOIN ALL_CONS_COLUMNS CC
    ON CC.OWNER = C.OWNER AND CC.CONSTRAINT_NAME = C.CONSTRAINT_NAME AND CC.TABLE_NAME = C.TABLE_NAME
 WHERE C.OWNER = :owner AND C.TABLE_NAME = :name AND C.CONSTRAINT_TYPE = 'P'
 ORDER BY CC.POSITION"""


def add_logfile(first: bool) -> str:
    """``DBMS_LOGMNR.ADD_LOGFILE`` for ``:file_name``: the first file of a session starts a new list."""
    option = "NEW" if first else "ADDFILE"
    return f"BEGIN SYS.DBMS_LOGMNR.ADD_LOGFILE(LOGFILENAME => :file_name, OPTIONS => SYS.DBMS_LOGMNR.{option}); END;"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def contents_query(tables: Sequence[tuple[str, str]]) -> str:
    """V$LOGMNR_CONTENTS rows for ``tables`` ((owner, table) pairs) and every transaction control row
    (6 START, 7 COMMIT, 36 ROLLBACK), between ``:start_scn`` and ``:end_scn`` (inclusive). No ORDER BY:
    LogMiner returns rows in redo (SCN) order, and sorting would make it materialise the whole window."""
    by_owner: dict[str, list[str]] = {}
    for owner, table in tables:
        by_owner.setdefault(owner, []).append(table)
    captured = " OR ".join(f"(SEG_OWNER = {_text(o)} AND TABLE_NAME IN ({', '.join(_text(t) for t in sorted(ts))}))"
                           for o, ts in sorted(by_owner.items()))
    return (
        f"SELECT {', '.join(CONTENTS_COLUMNS)} FROM V$LOGMNR_CONTENTS\n"
        f" WHERE SCN >= :start_scn AND SCN <= :end_scn\n"
        f"   AND (OPERATION_CODE IN (6, 7, 36) OR (OPERATION_CODE IN (1, 2, 3) AND ({captured})))"
    )


def snapshot_query(owner: str, table: str, columns: Sequence[str], key: Sequence[str], *, after: bool,
                   limit: int) -> str:
    """Flashback keyset page: ``SELECT .. FROM t AS OF SCN :scn [WHERE key > :k0..] ORDER BY key`` with
    ``FETCH FIRST n ROWS ONLY`` (12c+). The key predicate is lexicographic (``k0 > :k0 OR (k0 = :k0 AND
    k1 > :k1)``)."""
    cols = ", ".join(_quote(c) for c in columns)
    sql = f"SELECT {cols} FROM {_quote(owner)}.{_quote(table)} AS OF SCN :scn"
    if after and key:
        terms = []
        for i, k in enumerate(key):
            equal = [f"{_quote(key[j])} = :k{j}" for j in range(i)]
            terms.append("(" + " AND ".join([*equal, f"{_quote(k)} > :k{i}"]) + ")")
        sql += " WHERE " + " OR ".join(terms)
    order = ", ".join(_quote(k) for k in key) if key else "ROWID"
    return f"{sql} ORDER BY {order} FETCH FIRST {int(limit)} ROWS ONLY"
