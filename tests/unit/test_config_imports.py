"""Reading a config loads no connector's code, no SQLAlchemy and no Kafka client (every ``crmhub`` command reads
one at start-up); the command line's help loads not even the config models; and the connector packages still
export their connector classes, loaded when asked for."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

HEAVY = ("sqlalchemy", "kafka", "numpy", "connectors.sql.connector", "connectors.oracle_logminer.connector",
         "connectors.filedrop.connector", "connectors.ibmi_journal.connector")


def printed_json(code: str) -> Any:
    """What ``code``, run in a fresh interpreter, prints as JSON."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def test_importing_the_config_loads_no_connector_sqlalchemy_or_kafka() -> None:
    assert printed_json(f"import json, sys, hub.config; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
                        ) == []


def test_the_command_line_registers_its_commands_without_loading_what_they_run() -> None:
    """Every command is registered (``crmhub --help`` lists them), and none of pydantic's config models,
    SQLAlchemy, the Kafka client, numpy, httpx or structlog is loaded for that: each command imports them."""
    heavy = (*HEAVY, "hub.config", "pydantic", "httpx", "structlog", "fastavro", "pipelines.identity")
    code = ("import json, sys\nfrom hub.cli import _register, app\n_register()\n"
            "names = sorted([c.name for c in app.registered_commands] + [g.name for g in app.registered_groups])\n"
            f"print(json.dumps([names, [m for m in {heavy!r} if m in sys.modules]]))")
    names, loaded = printed_json(code)
    assert loaded == []
    assert {"run", "load", "check", "link", "dlq", "unify", "kafka", "lag", "token", "mapping"} <= set(names)


@pytest.mark.parametrize(("package", "name", "module"), [
    ("connectors.sql", "SqlConnector", "connectors.sql.connector"),
    ("connectors.oracle_logminer", "OracleLogminerConnector", "connectors.oracle_logminer.connector"),
    ("connectors.filedrop", "FileDropSource", "connectors.filedrop.connector"),
    ("connectors.filedrop", "make_state", "connectors.filedrop.connector"),
    ("connectors.ibmi_journal", "IbmiJournalConnector", "connectors.ibmi_journal.connector"),
])
def test_a_package_exports_its_connector_on_first_use(package: str, name: str, module: str) -> None:
    exported = getattr(__import__(package, fromlist=[name]), name)
    assert exported is getattr(__import__(module, fromlist=[name]), name)


def test_a_name_a_package_does_not_export_is_an_attribute_error() -> None:
    import connectors.sql

    with pytest.raises(AttributeError, match="has no attribute 'SqlConnecter'"):
        _ = connectors.sql.SqlConnecter  # type: ignore[attr-defined]
