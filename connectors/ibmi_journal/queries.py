"""The SQL the IBM i journal connector issues (Db2 for i, parameter markers ``?``), and snapshot queries."""

from __future__ import annotations

from collections.abc import Sequence

#: Record (R) and commitment-control (C) entries from a position over the receiver chain up to the attached
#: receiver (ENDING_RECEIVER defaults to *CURRENT). Markers: journal library, journal name, receiver library,
#: receiver name, starting sequence, then one ``FILE      LIBRARY   `` (10 + 10) per captured file.
#: Code and type are filtered in WHERE (the captured files' C entries carry no object, so the function's
#: OBJECT_NAME filter would drop them); the function returns entries in journal order, so there is no
#: ORDER BY (which would make the server read the whole chain before FETCH FIRST).
DISPLAY_JOURNAL_SQL = """\
SELECT J.ENTRY_TIMESTAMP, J.SEQUENCE_NUMBER, J.JOURNAL_CODE, J.JOURNAL_ENTRY_TYPE, J.COUNT_OR_RRN,
       J.COMMIT_CYCLE_ID, J.OBJECT, J.OBJECT_TYPE, J.RECEIVER_LIBRARY, J.RECEIVER_NAME,
       J.JOB_NAME, J.JOB_USER, J.JOB_NUMBER, J.PROGRAM_NAME, J.NULL_VALUE_INDICATORS, J.ENTRY_DATA
  FROM TABLE(QSYS2.DISPLAY_JOURNAL(
         JOURNAL_LIBRARY => ?, JOURNAL_NAME => ?,
         STARTING_RECEIVER_LIBRARY => ?, STARTING_RECEIVER_NAME => ?,
         STARTING_SEQUENCE => ?)) AS J
 WHERE (J.JOURNAL_CODE = 'C' AND J.JOURNAL_ENTRY_TYPE IN ('SC', 'CM', 'RB'))
    OR (J.JOURNAL_CODE = 'R' AND J.JOURNAL_ENTRY_TYPE IN ('PT', 'PX', 'UB', 'UP', 'DL', 'DR', 'BR', 'UR')
        AND SUBSTR(J.OBJECT, 1, 20) IN ({objects}))
 FETCH FIRST {limit} ROWS ONLY"""

#: Source lag: the entry at a position (the journal's newest), with its time. Markers: journal library, journal
#: name, receiver library, receiver name, sequence.
ENTRY_AT_SQL = """\
SELECT J.ENTRY_TIMESTAMP, J.SEQUENCE_NUMBER
  FROM TABLE(QSYS2.DISPLAY_JOURNAL(
         JOURNAL_LIBRARY => ?, JOURNAL_NAME => ?,
         STARTING_RECEIVER_LIBRARY => ?, STARTING_RECEIVER_NAME => ?,
         STARTING_SEQUENCE => ?)) AS J
 FETCH FIRST 1 ROWS ONLY"""

#: Source lag: the first change (R entry) of a captured file after a position, with its time: the oldest change
#: not read yet. Markers: those of ``ENTRY_AT_SQL``, the position's sequence again (entries after it), then one
#: ``FILE      LIBRARY   `` per captured file.
FIRST_CHANGE_SQL = """\
SELECT J.ENTRY_TIMESTAMP, J.SEQUENCE_NUMBER
  FROM TABLE(QSYS2.DISPLAY_JOURNAL(
         JOURNAL_LIBRARY => ?, JOURNAL_NAME => ?,
         STARTING_RECEIVER_LIBRARY => ?, STARTING_RECEIVER_NAME => ?,
         STARTING_SEQUENCE => ?)) AS J
 WHERE J.SEQUENCE_NUMBER > ? AND J.JOURNAL_CODE = 'R'
   AND J.JOURNAL_ENTRY_TYPE IN ('PT', 'PX', 'UB', 'UP', 'DL', 'DR', 'BR', 'UR')
   AND SUBSTR(J.OBJECT, 1, 20) IN ({objects})
 FETCH FIRST 1 ROWS ONLY"""

#: The journal's receivers, oldest first (the chain, and whether the saved receiver is still there).
RECEIVERS_SQL = """\
SELECT JOURNAL_RECEIVER_LIBRARY, JOURNAL_RECEIVER_NAME, FIRST_SEQUENCE_NUMBER, LAST_SEQUENCE_NUMBER, STATUS,
       ATTACH_TIMESTAMP
  FROM QSYS2.JOURNAL_RECEIVER_INFO
 WHERE JOURNAL_LIBRARY = ? AND JOURNAL_NAME = ?
 ORDER BY ATTACH_TIMESTAMP"""

#: A file's columns in record order. Markers: library (SQL or system name) twice, file (SQL or system) twice.
SYSCOLUMNS_SQL = """\
SELECT COLUMN_NAME, SYSTEM_COLUMN_NAME, ORDINAL_POSITION, DATA_TYPE, LENGTH, NUMERIC_SCALE, CCSID,
       IS_NULLABLE, TABLE_SCHEMA, TABLE_NAME, SYSTEM_TABLE_SCHEMA, SYSTEM_TABLE_NAME
  FROM QSYS2.SYSCOLUMNS
 WHERE (TABLE_SCHEMA = ? OR SYSTEM_TABLE_SCHEMA = ?) AND (TABLE_NAME = ? OR SYSTEM_TABLE_NAME = ?)
 ORDER BY ORDINAL_POSITION"""

#: A table's primary-key columns in key order. Markers: SQL schema, SQL table name.
PRIMARY_KEY_SQL = """\
SELECT K.COLUMN_NAME, K.COLUMN_POSITION
  FROM QSYS2.SYSKEYCST K
  JOIN QSYS2.SYSCST C ON C.CONSTRAINT_SCHEMA = K.CONSTRAINT_SCHEMA AND C.CONSTRAINT_NAME = K.CONSTRAINT_NAME
 WHERE C.CONSTRAINT_TYPE = 'PRIMARY KEY' AND C.TABLE_SCHEMA = ? AND C.TABLE_NAME = ?
 ORDER BY K.COLUMN_POSITION"""


def journal_query(object_count: int, limit: int) -> str:
    """``DISPLAY_JOURNAL_SQL`` for ``object_count`` captured files and at most ``limit`` rows."""
    if object_count < 1 or limit < 1:
        raise ValueError("need at least one file and one row")
    return DISPLAY_JOURNAL_SQL.format(objects=", ".join("?" * object_count), limit=int(limit))


def first_change_query(object_count: int) -> str:
    """``FIRST_CHANGE_SQL`` for ``object_count`` captured files."""
    if object_count < 1:
        raise ValueError("need at least one file")
    return FIRST_CHANGE_SQL.format(objects=", ".join("?" * object_count))


def object_key(library: str, file: str) -> str:
    """The first 20 characters of DISPLAY_JOURNAL's OBJECT for a file: name and library, 10 each."""
    return file.upper().ljust(10) + library.upper().ljust(10)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def snapshot_query(schema: str, table: str, columns: Sequence[str], key: Sequence[str], *, after: bool,
                   limit: int) -> str:
    """Keyset page of a table in key order (``after``: rows past the key given as markers, ``k1 > ? OR
    (k1 = ? AND k2 > ?) ...``). Without a key, the whole table in one statement."""
    select = f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(schema)}.{quote(table)}"
    if not key:
        return select
    where = ""
    if after:
        terms = []
        for i in range(len(key)):
            eq = [f"{quote(k)} = ?" for k in key[:i]]
            terms.append("(" + " AND ".join([*eq, f"{quote(key[i])} > ?"]) + ")")
        where = " WHERE " + " OR ".join(terms)
    return f"{select}{where} ORDER BY {', '.join(quote(k) for k in key)} FETCH FIRST {int(limit)} ROWS ONLY"


def snapshot_params(last_key: Sequence[object]) -> list[object]:
    """The markers of ``snapshot_query(after=True)`` for the last key read."""
    params: list[object] = []
    for i in range(len(last_key)):
        params.extend([*last_key[:i], last_key[i]])
    return params


__all__ = ["DISPLAY_JOURNAL_SQL", "ENTRY_AT_SQL", "FIRST_CHANGE_SQL", "PRIMARY_KEY_SQL", "RECEIVERS_SQL",
           "SYSCOLUMNS_SQL", "first_change_query", "journal_query", "object_key", "quote", "snapshot_params",
           "snapshot_query"]
