"""`crmhub check` beyond the config's shape: servers sharing a port, files the config names, a duplicate key
listed together with the other problems, the count first and on the same stream."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app
from hub.cli import commands as _commands  # noqa: F401  (registers the commands, as `crmhub` does)


def check(path: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["check", "-c", str(path)])
    return result.exit_code, result.stdout.splitlines()


def test_two_servers_on_one_port_are_a_problem(tmp_path: Path) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(f"admin: {{port: 8080}}\ngateway: {{tokens_file: {tmp_path / 'tokens.yaml'}}}\n")
    code, lines = check(cfg)
    assert code == 1
    assert lines[0] == f"{cfg}: 1 problem"
    assert lines[1] == "admin.port: port 8080 is also gateway.port"


def test_missing_files_are_named_with_their_paths(tmp_path: Path) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(f"""
gateway: {{tokens_file: {tmp_path / 'tokens.yaml'}}}
connectors:
  - kind: sql
    name: legacy
    url: "sqlite:///{tmp_path / 'nope' / 'legacy.db'}"
    tables: [{{name: T, mode: incrementing, incrementing_column: ID}}]
  - kind: filedrop
    name: drop
    path: {tmp_path / 'in'}
    feeds: [{{name: f, pattern: '*.dat', format: ebcdic, mode: delta, key_columns: [ID],
             copybook: {tmp_path / 'CUST.cpy'}}}]
""")
    code, lines = check(cfg)
    assert code == 1, lines
    assert lines[0].endswith("2 problems"), lines
    assert f"connectors[0].url: no such SQLite database: {tmp_path / 'nope' / 'legacy.db'}" in lines
    assert f"connectors[1].feeds[0].copybook: no such file: {tmp_path / 'CUST.cpy'}" in lines


def test_a_duplicate_key_is_listed_with_the_other_problems(tmp_path: Path) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text("admin: {port: 9000}\nadmin: {port: 9001}\nlag: {interval_s: -1}\n")
    code, lines = check(cfg)
    assert code == 1
    assert lines[0] == f"{cfg}: 2 problems", lines
    assert any("duplicate key" in line and "admin" in line for line in lines[1:]), lines
    assert any(line.startswith("lag.interval_s") for line in lines[1:]), lines
