"""`crmhub check --connect` against the real broker: it answers, and the check exits 0."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.cli import commands as _commands  # noqa: F401  (registers the commands, as `crmhub` does)
from hub.kafka.local import LocalKafka

pytestmark = pytest.mark.kafka


def test_the_broker_answers(kafka_broker: LocalKafka, tmp_path: Path) -> None:
    config = tmp_path / "hub.yaml"
    config.write_text(f"kafka: {{bootstrap_servers: '{kafka_broker.bootstrap}'}}\n"
                      f"gateway: {{tokens_file: '{tmp_path / 'tokens.json'}'}}\n")
    result = CliRunner().invoke(app, ["check", "-c", str(config), "--connect", "--timeout", "20"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[2].startswith(f"  ok    kafka {kafka_broker.bootstrap}: answered in ")
    assert lines[-1] == "all 1 answered"
