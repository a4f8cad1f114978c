"""`crmhub connectors`: refusals of the admin API explained, snapshot progress after a finished snapshot, and
on/off options shown as flags in every command's help."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from hub.cli import app
from hub.cli import commands as cli_commands  # noqa: F401  (registers the commands)
from hub.cli.connectors import error_message, snapshot_lines


def test_401_says_how_to_give_a_token() -> None:
    message = error_message(401, {"detail": "invalid or missing token"}, "", "http://127.0.0.1:8081")
    assert "refused the token (invalid or missing token)" in message
    assert "CRMHUB_TOKEN" in message and "--token" in message and "HTTP 401" not in message


def test_422_lists_what_was_not_accepted() -> None:
    body = {"detail": [{"loc": ["path", "name"], "msg": "String should match pattern", "type": "x"}]}
    message = error_message(422, body, "", "http://h")
    assert "did not accept the request (name: String should match pattern)" in message
    assert "HTTP 422" not in message


@pytest.mark.parametrize(("status", "hint"), [(403, "admin role"), (404, "crmhub connectors list"),
                                              (409, "crmhub connectors status"), (500, "its log")])
def test_other_refusals_say_what_to_do(status: int, hint: str) -> None:
    assert hint in error_message(status, {"detail": {"message": "unknown connector 'x'"}}, "", "http://h")


def test_a_body_that_is_not_json_is_quoted() -> None:
    assert error_message(418, None, "  teapot \n", "http://h") == "teapot (HTTP 418)"


def test_a_finished_snapshot_shows_its_rows_of_its_total() -> None:
    counted = {"CUSTMAST": {"done": 5, "total": 5}}
    uncounted = {"CUSTMAST": {"done": 5, "total": None}}
    assert snapshot_lines({"snapshot": uncounted, "snapshot_done": True}) == ["snapshot CUSTMAST: 5/5 rows, done"]
    assert snapshot_lines({"snapshot": counted, "snapshot_done": True}) == ["snapshot CUSTMAST: 5/5 rows, done"]
    assert snapshot_lines({"snapshot": {"ORDHDR": {"done": 30, "total": 120}}, "snapshot_done": False}) == [
        "snapshot ORDHDR: 30/120 rows (25 %)"]
    assert snapshot_lines({"snapshot": uncounted, "snapshot_done": False}) == [
        "snapshot CUSTMAST: 5 rows so far (total not known before the end)"]


@pytest.fixture
def refusing_api() -> Iterator[str]:
    """An admin API stand-in that refuses every token the way the hub does (401, JSON detail)."""
    class Handler(BaseHTTPRequestHandler):
        def _refuse(self) -> None:
            body = json.dumps({"detail": "invalid token"}).encode()
            self.send_response(401)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PUT = do_POST = do_DELETE = _refuse

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_refused_token_reaches_the_user_as_what_to_do(refusing_api: str) -> None:
    result = CliRunner().invoke(app, ["connectors", "pause", "ar", "--url", refusing_api, "--token", "wrong"])
    assert result.exit_code == 1
    assert "the admin API at" in result.stderr and "set CRMHUB_TOKEN or pass --token" in result.stderr
    assert "HTTP 401" not in result.output


def _commands(group: Any, path: list[str]) -> Iterator[list[str]]:
    for name, command in group.commands.items():
        yield [*path, name]
        if hasattr(command, "commands"):  # a group of sub-commands
            yield from _commands(command, [*path, name])


def test_every_help_shows_on_off_options_as_flags() -> None:
    root = typer.main.get_command(app)
    seen = 0
    for path in _commands(root, []):
        result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
        assert result.exit_code == 0, (path, result.output)
        assert "<bool>" not in result.output, path
        seen += 1
    assert seen > 20
    demo = CliRunner().invoke(app, ["demo", "--help"], env={"COLUMNS": "120"}).output
    assert any(line.split("│")[1].split()[:1] == ["--serve"] for line in demo.splitlines() if "--serve" in line)
