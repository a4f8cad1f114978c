"""Classify database errors by what the caller must do: retry, fix the configuration, skip the record, stop.

Pure lookup tables plus duck-typed code extraction; no driver is imported (they are optional extras), so
any exception object with the right shape works:

- pyodbc: ``args == ('08S01', '[08S01] [IBM][System i Access ODBC Driver]Communication link failure ...')``
- ibm_db / ibm_db_dbi: the message contains ``SQLSTATE=42704``
- psycopg2: ``exc.pgcode`` (psycopg 3 and asyncpg: ``exc.sqlstate``)
- pymysql / MySQLdb: ``args == (2003, "Can't connect ...")``, MySQL errno mapped to a SQLSTATE
- python-oracledb: ``args[0].full_code == 'ORA-03113'`` or ``ORA-nnnnn`` / ``DPY-nnnn`` in the message
- sqlite3 (Python 3.11+): ``exc.sqlite_errorname == 'SQLITE_BUSY'``; a busy or locked database (another
  connection holds it) and an I/O error are transient, anything else without a SQLSTATE stops
- SQLAlchemy ``DBAPIError``: the driver error is ``exc.orig``

Oracle codes are returned by ``sqlstate_of`` as ``'ORA-03113'`` (five digits) or ``'DPY-4011'``.
"""

from __future__ import annotations

import re
from enum import StrEnum

from schemas.errors import ConfigError, CrmhubError, FatalError, RetriableError, SkippableError
from schemas.secrets import mask_text


class Action(StrEnum):
    """What the caller must do about an error."""

    RETRY = "retry"  # transient: back off and try again
    CONFIG = "config"  # a setting is wrong (login, object name, privilege, driver): fail with the reason
    SKIP = "skip"  # this record's data is bad: dead-letter it and go on
    FATAL = "fatal"  # stop the component; an operator must act


# Exact SQLSTATEs win over their two-character class.
_SQLSTATE_CODES: dict[str, Action] = {
    # transaction rollback: serialization failure / deadlock (Db2: 40001 = deadlock or timeout)
    "40001": Action.RETRY,
    "40P01": Action.RETRY,
    # Db2 resource states: 57011 resource limit / virtual storage, 57033 lock timeout or deadlock (IBM i)
    "57011": Action.RETRY,
    "57033": Action.RETRY,
    # PostgreSQL: query canceled (statement_timeout), admin/crash shutdown, cannot connect now
    "57014": Action.RETRY,
    "57P01": Action.RETRY,
    "57P02": Action.RETRY,
    "57P03": Action.RETRY,
    "53300": Action.RETRY,  # PostgreSQL too_many_connections
    # ODBC timeouts
    "HYT00": Action.RETRY,
    "HYT01": Action.RETRY,
    # object not found / column not found / no privilege: the configured names or grants are wrong
    "42S02": Action.CONFIG,
    "42P01": Action.CONFIG,
    "42704": Action.CONFIG,
    "42S22": Action.CONFIG,
    "42703": Action.CONFIG,
    "42501": Action.CONFIG,
    "42502": Action.CONFIG,
    # ODBC driver manager: data source / driver not found, driver could not be loaded
    "IM002": Action.CONFIG,
    "IM003": Action.CONFIG,
}

_SQLSTATE_CLASSES: dict[str, Action] = {
    "08": Action.RETRY,  # connection exception: 08001, 08S01 link failure, 08003, 08004, 08006 ...
    "28": Action.CONFIG,  # invalid authorization specification: 28000, 28P01
    "22": Action.SKIP,  # data exception: bad value in one row
}

_ORACLE_CODES: dict[int, Action] = {
    # connection lost / network / listener
    3113: Action.RETRY,  # end-of-file on communication channel
    3114: Action.RETRY,  # not connected to ORACLE
    3135: Action.RETRY,  # connection lost contact
    12170: Action.RETRY,  # connect timeout occurred
    12541: Action.RETRY,  # no listener
    12514: Action.RETRY,  # listener does not currently know of service (e.g. database still starting)
    12537: Action.RETRY,  # connection closed
    1033: Action.RETRY,  # initialization or shutdown in progress
    1034: Action.RETRY,  # ORACLE not available
    1089: Action.RETRY,  # immediate shutdown in progress
    60: Action.RETRY,  # deadlock detected while waiting for resource
    1555: Action.RETRY,  # snapshot too old: rerun the query with a fresh snapshot
    # login, privilege, object names
    1017: Action.CONFIG,  # invalid username/password
    28000: Action.CONFIG,  # account is locked
    28001: Action.CONFIG,  # password has expired
    1045: Action.CONFIG,  # user lacks CREATE SESSION privilege
    942: Action.CONFIG,  # table or view does not exist
    904: Action.CONFIG,  # invalid identifier (configured column missing)
    1031: Action.CONFIG,  # insufficient privileges
    # data errors in one row
    1722: Action.SKIP,  # invalid number
    1438: Action.SKIP,  # value larger than specified precision
    12899: Action.SKIP,  # value too large for column
    # LogMiner: the redo/archive log needed is gone; restarting cannot help
    1291: Action.FATAL,  # missing logfile
}

# python-oracledb thin mode raises DPY- errors before any ORA- code exists.
_ORACLE_DPY_CODES: dict[int, Action] = {
    4011: Action.RETRY,  # the database or network closed the connection
    6005: Action.RETRY,  # cannot connect to database
    6000: Action.RETRY,  # listener refused connection
}

# MySQL/MariaDB client and server errno -> the SQLSTATE with the same meaning.
_MYSQL_ERRNO: dict[int, str] = {
    2003: "08001",  # can't connect to server
    2006: "08S01",  # server has gone away
    2013: "08S01",  # lost connection during query
    1040: "08004",  # too many connections
    1045: "28000",  # access denied for user
    1146: "42S02",  # table doesn't exist
    1054: "42S22",  # unknown column
    1213: "40001",  # deadlock found
    1205: "HYT00",  # lock wait timeout exceeded
}

# psycopg2 raises connection-time errors with pgcode None; recognise the libpq texts.
_LIBPQ_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"password authentication failed|no password supplied", re.I), "28P01"),
    (re.compile(r"no pg_hba\.conf entry|role \S+ does not exist", re.I), "28000"),
    (
        re.compile(
            r"could not connect|connection refused|server closed the connection|connection timed out|"
            r"could not translate host name|terminating connection|connection already closed",
            re.I,
        ),
        "08006",
    ),
)

_SQLSTATE_RE = re.compile(r"^[0-9A-Z]{5}$")
_SQLSTATE_IN_TEXT = re.compile(r"SQLSTATE\s*[=:]?\s*([0-9A-Z]{5})\b", re.I)
_ORACLE_IN_TEXT = re.compile(r"\b(ORA|DPY)-(\d{4,5})\b")
_MAX_DEPTH = 5


def action_for_sqlstate(code: str) -> Action:
    """The action for a five-character SQLSTATE: exact code first, then its class, else FATAL."""
    code = code.strip().upper()
    if not _SQLSTATE_RE.match(code):
        return Action.FATAL
    return _SQLSTATE_CODES.get(code) or _SQLSTATE_CLASSES.get(code[:2], Action.FATAL)


def action_for_oracle(code: int) -> Action:
    """The action for an Oracle ``ORA-nnnnn`` error number (unknown numbers are FATAL)."""
    return _ORACLE_CODES.get(code, Action.FATAL)


def action_for_code(code: str | None) -> Action:
    """The action for anything ``sqlstate_of`` returns: a SQLSTATE, ``ORA-nnnnn``, ``DPY-nnnn`` or None."""
    if not code:
        return Action.FATAL
    prefix, _, number = code.partition("-")
    if number.isdigit() and prefix.upper() == "ORA":
        return action_for_oracle(int(number))
    if number.isdigit() and prefix.upper() == "DPY":
        return _ORACLE_DPY_CODES.get(int(number), Action.FATAL)
    return action_for_sqlstate(code)


def _oracle_code(exc: BaseException) -> str | None:
    first = exc.args[0] if exc.args else None
    full_code = getattr(first, "full_code", None)  # oracledb: args[0] is an _Error object
    if isinstance(full_code, str) and _ORACLE_IN_TEXT.fullmatch(full_code):
        return full_code
    match = _ORACLE_IN_TEXT.search(str(exc))
    if match is None:
        return None
    prefix, digits = match.groups()
    return f"{prefix}-{int(digits):05d}" if prefix == "ORA" else f"{prefix}-{int(digits):04d}"


def _direct_code(exc: BaseException) -> str | None:
    """The SQLSTATE carried by ``exc`` itself (not by a wrapped error), or None."""
    for attr in ("pgcode", "sqlstate"):  # psycopg2 / psycopg 3, asyncpg
        value = getattr(exc, attr, None)
        if isinstance(value, str) and _SQLSTATE_RE.match(value.upper()):
            return value.upper()
    args = exc.args
    if len(args) >= 2 and isinstance(args[0], str) and _SQLSTATE_RE.match(args[0]):  # pyodbc
        return args[0]
    if len(args) >= 2 and isinstance(args[0], int) and not isinstance(exc, OSError):  # pymysql
        mapped = _MYSQL_ERRNO.get(args[0])
        if mapped:
            return mapped
    match = _SQLSTATE_IN_TEXT.search(str(exc))  # ibm_db: "... SQLSTATE=42704 SQLCODE=-204"
    if match:
        return match.group(1).upper()
    if hasattr(exc, "pgcode"):
        text = str(exc)
        return next((code for pattern, code in _LIBPQ_MESSAGES if pattern.search(text)), None)
    return None


def sqlstate_of(exc: BaseException, _depth: int = 0) -> str | None:
    """Extract the SQLSTATE (or ``ORA-nnnnn`` / ``DPY-nnnn``) from a driver exception, duck-typed.

    Looks through SQLAlchemy's ``.orig`` and then ``__cause__``; a general ``HY000`` gives way to a more
    specific Oracle code found in the same message (Oracle over ODBC).
    """
    if _depth > _MAX_DEPTH:
        return None
    orig = getattr(exc, "orig", None)
    if isinstance(orig, BaseException) and orig is not exc:
        found = sqlstate_of(orig, _depth + 1)
        if found:
            return found
    code = _direct_code(exc)
    if code is None or code == "HY000":
        code = _oracle_code(exc) or code
    if code is None and exc.__cause__ is not None:
        code = sqlstate_of(exc.__cause__, _depth + 1)
    return code


_SQLITE_TRANSIENT = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR")


def sqlite_error_name(exc: BaseException, _depth: int = 0) -> str | None:
    """SQLite's result code name (``SQLITE_BUSY``, ``SQLITE_LOCKED_SHAREDCACHE``) of ``exc`` or the error it
    wraps, or None."""
    if _depth > _MAX_DEPTH:
        return None
    name = getattr(exc, "sqlite_errorname", None)
    if isinstance(name, str):
        return name
    inner = getattr(exc, "orig", None) or exc.__cause__
    return sqlite_error_name(inner, _depth + 1) if isinstance(inner, BaseException) and inner is not exc else None


def action_for(exc: BaseException) -> Action:
    """The action for any exception; network-level Python errors without a code are RETRY."""
    code = sqlstate_of(exc)
    if code is None and isinstance(exc, ConnectionError | TimeoutError):
        return Action.RETRY
    if code is None and (sqlite := sqlite_error_name(exc)) is not None:
        return Action.RETRY if sqlite.startswith(_SQLITE_TRANSIENT) else Action.FATAL
    return action_for_code(code)


def classify(exc: BaseException, where: str | None = None) -> CrmhubError:
    """Turn a driver exception into the crmhub error naming what to do, its message scrubbed of secrets.

    ``where`` (e.g. ``"connectors[0] crm_db"``) prefixes the message; for a ``ConfigError`` it is the
    problem's path. Use as ``raise classify(exc, where) from exc``. A ``CrmhubError`` is returned as is.
    """
    if isinstance(exc, CrmhubError):
        return exc
    code = sqlstate_of(exc)
    action = action_for(exc)
    detail = mask_text(str(exc)).strip() or "(no message)"
    label = f"SQLSTATE {code}" if code and "-" not in code else (code or sqlite_error_name(exc) or "no SQLSTATE")
    message = f"{type(exc).__name__} [{label}]: {detail}"
    if where:
        message = f"{where}: {message}"
    if action is Action.RETRY:
        return RetriableError(message)
    if action is Action.CONFIG:
        return ConfigError([message])
    if action is Action.SKIP:
        return SkippableError(message)
    return FatalError(message)
