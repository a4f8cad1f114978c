"""`crmhub check --connect` without services: what answers (a SQLite file, an export folder) and what does not
(a missing database, a broker nobody listens on, a server that refuses), each within its time limit and named
with what was asked."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app
from hub.cli import commands as _commands  # noqa: F401  (registers the commands, as `crmhub` does)
from hub.cli.check_connect import connect_all
from hub.config import validate_config_text


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(tmp_path: Path, *, database: Path, folder: Path, port: int) -> str:
    return f"""
kafka: {{bootstrap_servers: '127.0.0.1:{port}'}}
gateway: {{tokens_file: '{tmp_path / "tokens.json"}'}}
connectors:
  - kind: sql
    name: legacy
    url: sqlite:///{database}
    tables: [{{name: CUSTMAST, key_columns: [CUSNO], mode: timestamp, timestamp_column: CHGTS}}]
  - kind: filedrop
    name: exports
    path: {folder}
    feeds: [{{name: customers, pattern: '*.csv', mode: snapshot, key_columns: [id], csv: {{columns: [id]}}}}]
"""


def test_every_item_gets_a_line_and_a_failure_exits_1(tmp_path: Path) -> None:
    database = tmp_path / "legacy.db"
    sqlite3.connect(database).execute("CREATE TABLE CUSTMAST (CUSNO INTEGER)").connection.commit()
    folder = tmp_path / "drop"
    folder.mkdir()
    config = tmp_path / "hub.yaml"
    config.write_text(_config(tmp_path, database=database, folder=folder, port=_closed_port()))
    result = CliRunner().invoke(app, ["check", "-c", str(config), "--connect", "--timeout", "2"])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("OK: ") and lines[1] == "connecting (at most 2 s each):"
    assert lines[2].startswith("  FAIL  kafka 127.0.0.1:")
    assert lines[3].startswith(f"  ok    connectors[0] legacy (sql) sqlite:///{database}: answered in ")
    assert lines[4].startswith(f"  ok    connectors[1] exports (filedrop) {folder}: answered in ")
    assert lines[5] == "1 of 3 did not answer"


def test_a_missing_sqlite_database_is_not_created(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    cfg = validate_config_text(_config(tmp_path, database=tmp_path / "gone.db", folder=tmp_path / "nofolder",
                                       port=_closed_port()))
    probes = {p.item.split()[0]: p for p in connect_all(cfg, timeout_s=1.0)}
    assert not probes["connectors[0]"].ok and "no such SQLite database" in probes["connectors[0]"].detail
    assert not (tmp_path / "gone.db").exists()
    assert not probes["connectors[1]"].ok and "no such folder" in probes["connectors[1]"].detail
    assert not probes["kafka"].ok


def test_a_server_that_refuses_is_named_and_no_password_is_shown(tmp_path: Path) -> None:
    cfg = validate_config_text(f"""
kafka: {{bootstrap_servers: '127.0.0.1:{_closed_port()}'}}
connectors:
  - kind: sql
    name: crm
    url: postgresql+psycopg://crm:s3cret-pw@127.0.0.1:{_closed_port()}/crm
    tables: [{{name: contacts, key_columns: [id], mode: timestamp, timestamp_column: changed}}]
""")
    [_, crm] = connect_all(cfg, timeout_s=3.0)
    assert not crm.ok and crm.target.startswith("postgresql+psycopg://crm:***@127.0.0.1:")
    assert "s3cret-pw" not in crm.detail + crm.target
