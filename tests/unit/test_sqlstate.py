"""schemas.sqlstate: driver errors of the real shapes, classified by what the caller must do."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from schemas.errors import ConfigError, FatalError, RetriableError, SkippableError
from schemas.sqlstate import (
    Action,
    action_for,
    action_for_code,
    action_for_oracle,
    action_for_sqlstate,
    classify,
    sqlstate_of,
)

# --- exception shapes of the real drivers (never imported) ---------------------------------------------


class PyodbcError(Exception):
    """pyodbc: args == (sqlstate, message)."""


class IbmDbError(Exception):
    """ibm_db_dbi: one message carrying SQLSTATE= and SQLCODE=."""


class Psycopg2Error(Exception):
    def __init__(self, message: str, pgcode: str | None) -> None:
        super().__init__(message)
        self.pgcode = pgcode


class PyMySQLError(Exception):
    """pymysql: args == (errno, message)."""


class OracleError(Exception):
    """python-oracledb: args[0] is an _Error object with code/full_code/message."""

    def __init__(self, code: int, message: str) -> None:
        full = f"ORA-{code:05d}"
        super().__init__(SimpleNamespace(code=code, full_code=full, message=f"{full}: {message}"))

    def __str__(self) -> str:
        return str(self.args[0].message)


class DBAPIError(Exception):
    """SQLAlchemy: the driver's exception is .orig."""

    def __init__(self, statement: str, orig: BaseException) -> None:
        super().__init__(f"({type(orig).__name__}) {orig}\n[SQL: {statement}]")
        self.orig = orig


IBM_I_LINK = PyodbcError(
    "08S01",
    "[08S01] [IBM][System i Access ODBC Driver]Communication link failure. comm rc=10054 - CWBCO1047 "
    "- The IBM i server application disconnected the connection (10054) (SQLExecDirectW)",
)


@pytest.mark.parametrize(
    ("code", "action"),
    [
        ("08001", Action.RETRY),
        ("08S01", Action.RETRY),
        ("08003", Action.RETRY),
        ("08004", Action.RETRY),
        ("08006", Action.RETRY),
        ("40001", Action.RETRY),
        ("40P01", Action.RETRY),
        ("57033", Action.RETRY),
        ("57011", Action.RETRY),
        ("HYT00", Action.RETRY),
        ("hyt01", Action.RETRY),
        ("28000", Action.CONFIG),
        ("28P01", Action.CONFIG),
        ("42S02", Action.CONFIG),
        ("42P01", Action.CONFIG),
        ("42704", Action.CONFIG),
        ("42501", Action.CONFIG),
        ("42502", Action.CONFIG),
        ("IM002", Action.CONFIG),
        ("22001", Action.SKIP),
        ("22007", Action.SKIP),
        ("22P02", Action.SKIP),
        ("42601", Action.FATAL),
        ("HY000", Action.FATAL),
        ("40002", Action.FATAL),
        ("XX000", Action.FATAL),
        ("", Action.FATAL),
        ("not-a-code", Action.FATAL),
    ],
)
def test_sqlstate_table(code: str, action: Action) -> None:
    assert action_for_sqlstate(code) is action


@pytest.mark.parametrize(
    ("code", "action"),
    [
        (3113, Action.RETRY),
        (3114, Action.RETRY),
        (3135, Action.RETRY),
        (12170, Action.RETRY),
        (12541, Action.RETRY),
        (12514, Action.RETRY),
        (12537, Action.RETRY),
        (1555, Action.RETRY),
        (1017, Action.CONFIG),
        (28000, Action.CONFIG),
        (942, Action.CONFIG),
        (1031, Action.CONFIG),
        (1291, Action.FATAL),
        (600, Action.FATAL),
    ],
)
def test_oracle_table(code: int, action: Action) -> None:
    assert action_for_oracle(code) is action
    assert action_for_code(f"ORA-{code:05d}") is action


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (IBM_I_LINK, "08S01"),
        (
            PyodbcError(
                "28000", "[28000] [Microsoft][ODBC Driver 18 for SQL Server]Login failed for user 'crm'."
            ),
            "28000",
        ),
        (PyodbcError("IM002", "[IM002] [unixODBC][Driver Manager]Data source name not found"), "IM002"),
        (
            PyodbcError(
                "HY000", "[HY000] [Oracle][ODBC][Ora]ORA-03113: end-of-file on communication channel"
            ),
            "ORA-03113",
        ),
        (
            IbmDbError(
                '[IBM][CLI Driver][DB2/LINUXX8664] SQL0204N  "CRM.CUSTOMERS" is an undefined name.  '
                "SQLSTATE=42704 SQLCODE=-204"
            ),
            "42704",
        ),
        (
            IbmDbError(
                "[IBM][CLI Driver][AS] SQL0913N  Row or object CUSTOMER in CRMLIB type *FILE in use. "
                "SQLSTATE=57033 SQLCODE=-913"
            ),
            "57033",
        ),
        (Psycopg2Error('relation "customers" does not exist', "42P01"), "42P01"),
        (Psycopg2Error('FATAL:  password authentication failed for user "crm"', None), "28P01"),
        (Psycopg2Error("could not connect to server: Connection refused", None), "08006"),
        (Psycopg2Error("something unexpected", None), None),
        (
            PyMySQLError(2003, "Can't connect to MySQL server on 'db' ([Errno 111] Connection refused)"),
            "08001",
        ),
        (PyMySQLError(2006, "MySQL server has gone away"), "08S01"),
        (PyMySQLError(2013, "Lost connection to MySQL server during query"), "08S01"),
        (PyMySQLError(1045, "Access denied for user 'crm'@'10.0.0.1' (using password: YES)"), "28000"),
        (PyMySQLError(1146, "Table 'crm.customers' doesn't exist"), "42S02"),
        (PyMySQLError(1213, "Deadlock found when trying to get lock; try restarting transaction"), "40001"),
        (OracleError(1017, "invalid username/password; logon denied"), "ORA-01017"),
        (Exception("DPY-4011: the database or network closed the connection"), "DPY-4011"),
        (DBAPIError("SELECT 1", IBM_I_LINK), "08S01"),
        (OSError(2003, "not mysql, an OSError"), None),
        (ValueError("plain bug"), None),
    ],
)
def test_sqlstate_of_driver_shapes(exc: BaseException, code: str | None) -> None:
    assert sqlstate_of(exc) == code


def test_sqlstate_of_follows_cause() -> None:
    try:
        try:
            raise IBM_I_LINK
        except PyodbcError as inner:
            raise RuntimeError("poll failed") from inner
    except RuntimeError as outer:
        assert sqlstate_of(outer) == "08S01"


@pytest.mark.parametrize(
    ("exc", "error_type"),
    [
        (IBM_I_LINK, RetriableError),
        (DBAPIError("SELECT 1", OracleError(3135, "connection lost contact")), RetriableError),
        (OracleError(1555, "snapshot too old: rollback segment number 9 too small"), RetriableError),
        (PyodbcError("28000", "[28000] Login failed for user 'crm'."), ConfigError),
        (OracleError(942, "table or view does not exist"), ConfigError),
        (Psycopg2Error('invalid input syntax for type integer: "abc"', "22P02"), SkippableError),
        (OracleError(1291, "missing logfile"), FatalError),
        (ValueError("plain bug"), FatalError),
        (ConnectionResetError(104, "Connection reset by peer"), RetriableError),
        (TimeoutError("timed out"), RetriableError),
    ],
)
def test_classify_picks_the_error_type(exc: BaseException, error_type: type[Exception]) -> None:
    assert type(classify(exc)) is error_type


def test_classify_message_has_code_context_and_no_secret() -> None:
    exc = PyodbcError(
        "28000",
        "[28000] [IBM][System i Access ODBC Driver]Login failed: DSN=ibmi;UID=crm;PWD=Hunter2-s3cret;",
    )
    error = classify(exc, where="connectors[0] (crm)")
    assert isinstance(error, ConfigError)
    (problem,) = error.problems
    assert problem.startswith("connectors[0] (crm): PyodbcError [SQLSTATE 28000]:")
    assert "PWD=***;" in problem and "Hunter2" not in str(error)

    url_error = DBAPIError(
        "SELECT 1", Psycopg2Error("could not connect to postgresql://u:Hunter2@h/db", None)
    )
    retry = classify(url_error)
    assert isinstance(retry, RetriableError)
    assert "Hunter2" not in str(retry) and "u:***@h" in str(retry)
    assert "[SQLSTATE 08006]" in str(retry)

    oracle = classify(OracleError(1017, "invalid username/password; logon denied"))
    assert "[ORA-01017]" in str(oracle)


def test_crmhub_errors_pass_through_and_action_for_exceptions() -> None:
    original = SkippableError("bad row")
    assert classify(original) is original
    assert action_for(IBM_I_LINK) is Action.RETRY
    assert action_for(KeyError("x")) is Action.FATAL


def test_a_busy_or_locked_sqlite_database_is_retried_and_other_sqlite_errors_stop(tmp_path: object) -> None:
    import sqlite3
    from pathlib import Path

    import sqlalchemy as sa

    db = Path(str(tmp_path)) / "legacy.db"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("CREATE TABLE T (A INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the database: nobody else can read it
    engine = sa.create_engine(f"sqlite:///{db}", connect_args={"timeout": 0.05})
    try:
        with pytest.raises(sa.exc.OperationalError) as locked, engine.connect() as conn:
            conn.execute(sa.text("SELECT * FROM T"))
        error = classify(locked.value, "connector ibmi: reading T")
        assert isinstance(error, RetriableError) and "SQLITE_BUSY" in str(error)
        holder.execute("ROLLBACK")
        with pytest.raises(sa.exc.OperationalError) as missing, engine.connect() as conn:
            conn.execute(sa.text("SELECT * FROM NO_SUCH_TABLE"))
        assert isinstance(classify(missing.value), FatalError)
    finally:
        engine.dispose()
        holder.close()
