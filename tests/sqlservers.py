"""Fixtures for real SQL servers: PostgreSQL and MariaDB (started by ``scripts/services.sh``) and SQLite.

The URLs come from ``CRMHUB_TEST_PG_URL`` / ``CRMHUB_TEST_MARIADB_URL`` when set; otherwise the first test
that needs a server runs ``scripts/services.sh start`` (and the session stops what it started). A test is
skipped only when the server's binaries are not installed (exit code 3 of the script); any other failure to
start is an error. Use as a plugin (``pytest_plugins = ["tests.sqlservers"]``) or import the fixtures.

``sql_db`` is parametrized over sqlite, postgresql and mariadb; it hands out fresh table names and drops the
tables at the end of the test.
"""

from __future__ import annotations

import os
import subprocess
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from connectors.base import Batch
from connectors.sql import SqlConnector, SqlConnectorConfig
from schemas.envelope import ChangeEvent

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ROOT / "scripts" / "services.sh"
ENV_VARS = {"postgresql": "CRMHUB_TEST_PG_URL", "mariadb": "CRMHUB_TEST_MARIADB_URL"}
MISSING_BINARIES = 3

_lock = threading.Lock()
_started: dict[str, str] | None = None


def _run_services(action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SERVICES), action], capture_output=True, text=True, timeout=300,
                          check=False)


def _start_services() -> dict[str, str]:
    """Start both servers once per session; the env lines of ``services.sh env``."""
    global _started
    with _lock:
        if _started is None:
            before = _run_services("status").stdout
            result = _run_services("start")
            if result.returncode not in (0, MISSING_BINARIES):
                pytest.fail(f"scripts/services.sh start failed ({result.returncode}):\n{result.stderr[-2000:]}")
            env = _run_services("env").stdout.splitlines()
            _started = dict(line.split("=", 1) for line in env if "=" in line)
            _started["_missing"] = result.stderr if result.returncode == MISSING_BINARIES else ""
            _started["_was_running"] = "yes" if before.count(": running") == 2 else ""
        return _started


def server_url(kind: str) -> str:
    """The URL of the real ``kind`` server (postgresql or mariadb), starting it if needed."""
    url = os.environ.get(ENV_VARS[kind])
    if url:
        return url
    started = _start_services()
    url = started.get(ENV_VARS[kind], "")
    probe = sa.create_engine(url)
    try:
        with probe.connect():
            pass
    except sa.exc.OperationalError:
        if started.get("_missing"):
            pytest.skip(f"{kind} server binaries are not installed: {started['_missing'].strip()}")
        raise
    finally:
        probe.dispose()
    return url


@pytest.fixture(scope="session")
def pg_url() -> str:
    return server_url("postgresql")


@pytest.fixture(scope="session")
def mariadb_url() -> str:
    return server_url("mariadb")


@pytest.fixture(scope="session", autouse=True)
def _stop_started_services() -> Iterator[None]:
    """Stop at the end of the test run the servers this run started (not ones already running)."""
    yield
    if _started is not None and not _started.get("_was_running"):
        _run_services("stop")


@dataclass
class SqlDb:
    """One test database: its URL, an engine for setting up data, fresh table names."""

    kind: str
    url: str
    engine: sa.Engine
    created: list[str] = field(default_factory=list)

    @property
    def url_without_password(self) -> str:
        return sa.make_url(self.url).set(password=None).render_as_string(hide_password=False)

    @property
    def password(self) -> str | None:
        return sa.make_url(self.url).password

    def table_name(self, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        self.created.append(name)
        return name

    def execute(self, stmt: Any, rows: Sequence[dict[str, Any]] | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(stmt, rows) if rows is not None else conn.execute(stmt)

    def drop_all(self) -> None:
        meta = sa.MetaData()
        with self.engine.begin() as conn:
            for name in self.created:
                sa.Table(name, meta).drop(conn, checkfirst=True)


@pytest.fixture(params=[
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.pg),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
])
def sql_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlDb]:
    kind: str = request.param
    url = f"sqlite:///{tmp_path / 'source.db'}" if kind == "sqlite" else server_url(kind)
    engine = sa.create_engine(url)
    db = SqlDb(kind, url, engine)
    try:
        yield db
    finally:
        db.drop_all()
        engine.dispose()


@pytest.fixture()
def sqlite_db(tmp_path: Path) -> Iterator[SqlDb]:
    """A SQLite file database alone (for what only SQLite allows, e.g. a value its column cannot hold)."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'source.db'}")
    db = SqlDb("sqlite", str(engine.url), engine)
    try:
        yield db
    finally:
        engine.dispose()


# --- table shapes used by the tests ------------------------------------------------------------------------

TIMESTAMP6 = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def customers_table(name: str, *, with_deleted: bool = False) -> sa.Table:
    """``id`` INTEGER PK, ``changed`` TIMESTAMP(6), and the types whose faithfulness the tests check."""
    cols: list[sa.Column[Any]] = [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("code", sa.CHAR(10)),
        sa.Column("credit", sa.Numeric(11, 2)),
        sa.Column("born", sa.Date),
        sa.Column("changed", TIMESTAMP6, nullable=False),
    ]
    if with_deleted:
        cols.append(sa.Column("deleted", sa.CHAR(1), nullable=False, server_default="N"))
    return sa.Table(name, sa.MetaData(), *cols)


def create(db: SqlDb, table: sa.Table) -> sa.Table:
    table.metadata.create_all(db.engine)
    if table.name not in db.created:
        db.created.append(table.name)
    return table


# --- driving the connector ---------------------------------------------------------------------------------

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456)


class Clock:
    """A wall clock that moves 10 ms at every reading."""

    def __init__(self) -> None:
        self.now = 1_714_560_000.0

    def __call__(self) -> float:
        self.now += 0.01
        return self.now


def make_config(db: SqlDb, table: str, *, batch_size: int = 10, state_dir: Path | None = None,
                **table_kw: Any) -> SqlConnectorConfig:
    """One table in mode timestamp+incrementing on ``changed``/``id`` unless ``table_kw`` says otherwise;
    the password given apart from the URL (merged at connect time)."""
    spec: dict[str, Any] = {"name": table, "mode": "timestamp+incrementing", "timestamp_column": "changed",
                            "incrementing_column": "id", **table_kw}
    return SqlConnectorConfig.model_validate({
        "kind": "sql", "name": "crm", "url": db.url_without_password, "password": db.password,
        "batch_size": batch_size, "heartbeat_interval_ms": 1, "poll_interval_ms": 1, "tables": [spec],
        "state_dir": state_dir,
    })


def connector(cfg: SqlConnectorConfig, **kw: Any) -> SqlConnector:
    """A connector with a test clock and no sleeping between polls."""
    return SqlConnector(cfg, clock=Clock(), sleep=lambda _s: None, **kw)


def rows(n: int, start: int = 1, ts: datetime = T0, *, step: timedelta = timedelta(seconds=1)
         ) -> list[dict[str, Any]]:
    """``n`` customer rows with ids from ``start``, ``changed`` = ts + id * step."""
    return [{"id": i, "name": f"customer {i}", "code": "AB", "credit": Decimal("12345.60") + i,
             "born": date(1980, 2, 29), "changed": ts + i * step} for i in range(start, start + n)]


def is_heartbeat(batch: Batch) -> bool:
    return not batch.events and not batch.dead and bool(batch.source_head) and "db_now" in (batch.source_head or {})


def collect(batches: Iterator[Batch], limit: int = 10_000) -> list[Batch]:
    """The batches up to the next heartbeat (left out): everything the source had. The iterator stays open."""
    out: list[Batch] = []
    for batch in batches:
        if is_heartbeat(batch):
            break
        out.append(batch)
        if len(out) >= limit:
            break
    return out


def events_of(batches: Sequence[Batch]) -> list[ChangeEvent]:
    return [e for b in batches for e in b.events]
