"""hub.config: every problem at once with its path, interpolation, secrets kept out of errors and reprs."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from pydantic import SecretStr
from typer.core import TyperGroup
from typer.testing import CliRunner, Result

from connectors.sql.config import SqlConnectorConfig
from hub.cli import app
from hub.config import (
    CONNECTOR_KINDS,
    FileDropConnector,
    HubConfig,
    load_config,
    validate_config_text,
)
from schemas.errors import ConfigError

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"

THREE_MISTAKES = """
kafka:
  bootstrap_servers: 127.0.0.1:9092
  local:
    port: not-a-port
connectors:
  - kind: sql
    name: crm
    url: sqlite:///crm.db
    tables:
      - {name: customers, mode: incrementing, incrementing_column: id}
  - kind: sql
    name: erp
    url: sqlite:///erp.db
    poll_intervall_ms: 500
    tables:
      - name: erp.orders
        mode: timestamp
"""
EXPECTED_THREE = [
    "kafka.local.port: input should be a valid integer",
    "connectors[1].poll_intervall_ms: unknown key (did you mean 'poll_interval_ms'?)",
    "connectors[1].tables[0].timestamp_column: field required",
]


def _problems(text: str, env: dict[str, str] | None = None, base_dir: Path | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate_config_text(text, "test.yaml", env or {}, base_dir=base_dir)
    return caught.value.problems


def _has(problems: list[str], expected: str) -> bool:
    return any(p.startswith(expected) for p in problems)


def _invoke_check(path: Path) -> Result:
    from hub.cli import commands as cli_commands  # noqa: F401  (registers the commands, as `crmhub` does)

    command = typer.main.get_command(app)
    args = ["check", "-c", str(path)] if isinstance(command, TyperGroup) else ["-c", str(path)]
    return CliRunner().invoke(app, args)


def test_empty_file_is_a_valid_demo_config() -> None:
    config = validate_config_text("", "empty.yaml", {})
    assert config.kafka.bootstrap_servers == "127.0.0.1:9092"
    assert config.kafka.local.port == 9092 and config.kafka.local.controller_port == 9093
    assert config.registry.url is None and config.registry.serve.enabled is True
    assert config.registry.default_compatibility == "BACKWARD"
    assert config.registry.effective_url() == "http://127.0.0.1:8081"
    assert config.offsets.topic == "crmhub.offsets"
    assert config.connectors == []


def test_three_mistakes_all_reported_with_paths(tmp_path: Path) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text(THREE_MISTAKES)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    problems = caught.value.problems
    assert len(problems) == 3, problems
    for expected in EXPECTED_THREE:
        assert _has(problems, expected), (expected, problems)


def test_cli_check_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text(THREE_MISTAKES)
    result = _invoke_check(path)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    for expected in EXPECTED_THREE:
        assert any(line.startswith(expected) for line in lines), (expected, lines)


def test_cli_check_ok_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(
        "connectors:\n  - {kind: filedrop, name: drop, path: in, feeds: [{name: f, pattern: '*.csv', "
        "mode: delta, key_columns: [id]}]}\n"
    )
    result = _invoke_check(path)
    assert result.exit_code == 0, result.output
    assert f"OK: {path} is valid (1 connector)" in result.stdout
    assert _invoke_check(tmp_path / "missing.yaml").exit_code == 2


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_validate(path: Path) -> None:
    config = load_config(path, env={})
    assert isinstance(config, HubConfig)


def test_shipped_examples_cover_every_connector_kind() -> None:
    config = load_config(CONFIG_DIR / "crmhub.example.yaml", env={})
    assert {type(c) for c in config.connectors} == {SqlConnectorConfig, FileDropConnector}
    logbased = load_config(CONFIG_DIR / "logcapture.example.yaml", env={})
    shown = {c.kind for c in config.connectors} | {c.kind for c in logbased.connectors}
    assert shown == set(CONNECTOR_KINDS)


def test_the_example_shows_the_pipelines_section_with_its_defaults() -> None:
    from hub.config import PipelinesConfig

    config = load_config(CONFIG_DIR / "crmhub.example.yaml", env={})
    assert config.pipelines is not None
    assert config.pipelines.model_dump() == PipelinesConfig().model_dump()
    assert set(config.pipelines.unify.match.model_fields_set) == set(type(config.pipelines.unify.match).model_fields)


def test_mode_dependent_columns_and_discriminator_paths() -> None:
    problems = _problems(
        """
connectors:
  - kind: sql
    name: a
    url: sqlite://
    tables:
      - {name: t1, mode: timestamp+incrementing}
      - {name: t2, mode: sometimes}
  - {kind: journal, name: j}
  - {name: nokind}
  - kind: filedrop
    name: files
    path: in
    feeds:
      - {name: f, pattern: "*.txt", format: fixed, mode: delta, key_columns: []}
"""
    )
    assert _has(problems, "connectors[0].tables[0].timestamp_column: field required for mode")
    assert _has(problems, "connectors[0].tables[0].incrementing_column: field required for mode")
    assert _has(problems, "connectors[0].tables[1].mode: input should be")
    assert not _has(problems, "connectors[0].tables[1].timestamp_column")  # mode invalid: no guess
    assert _has(problems, "connectors[1].kind: unknown connector kind 'journal'")
    assert _has(problems, "connectors[2].kind: field required")
    assert _has(problems, "connectors[3].feeds[0].layout: field required for format 'fixed'")
    assert _has(problems, "connectors[3].feeds[0].key_columns: list should have at least 1 item")
    assert not any(".sql." in p or ".filedrop." in p for p in problems), problems


def test_duplicate_names_reported_alongside_field_errors() -> None:
    problems = _problems(
        """
logging: {level: LOUD}
connectors:
  - {kind: sql, name: crm, url: "sqlite://", tables: [{name: t, mode: incrementing, incrementing_column: id},
                                                     {name: T, mode: incrementing, incrementing_column: id}]}
  - {kind: sql, name: crm, url: "sqlite://", tables: [{name: t, mode: incrementing, incrementing_column: id}]}
"""
    )
    assert _has(problems, "logging.level: input should be")
    assert _has(problems, "connectors[1].name: duplicate connector name 'crm'")
    assert _has(problems, "connectors[0].tables[1].name: duplicate table name 'T'")
    assert len(problems) == 3, problems


def test_yaml_syntax_error_has_line_and_column() -> None:
    problems = _problems("kafka:\n  bootstrap_servers: [a, b\nregistry: {}\n")
    assert len(problems) == 1
    assert problems[0].startswith("test.yaml: line ") and "column" in problems[0]


def test_duplicate_yaml_key_and_wrong_top_level() -> None:
    assert _problems("kafka: {}\nkafka: {}\n") == ["test.yaml: line 2, column 1: duplicate key 'kafka'"]
    assert "top level must be a mapping" in _problems("- a\n- b\n")[0]


def test_interpolation_env_default_and_file(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "db.pw").write_text("s3cr3t-from-file\n")
    text = """
kafka:
  bootstrap_servers: ${BOOT:-localhost:9999}
  local: {port: "${KPORT}", kafka_home: "${KAFKA_HOME:-}"}
registry: {url: "http://${REG_HOST}:8081", basic_auth: {user: u, password: "${file:secrets/db.pw}"}}
gateway: {host: "$${literal}"}
"""
    config = validate_config_text(text, "x.yaml", {"KPORT": "19092", "REG_HOST": "reg"}, base_dir=tmp_path)
    assert config.kafka.bootstrap_servers == "localhost:9999"
    assert config.kafka.local.port == 19092
    assert config.kafka.local.kafka_home is None
    assert config.registry.url == "http://reg:8081"
    assert config.registry.basic_auth is not None
    assert config.registry.basic_auth.password.get_secret_value() == "s3cr3t-from-file"
    assert config.gateway.host == "${literal}"


def test_interpolation_problems_collected_with_paths(tmp_path: Path) -> None:
    text = """
kafka: {bootstrap_servers: "${NOT_SET}", client_id: "${ALSO_NOT_SET}"}
connectors:
  - kind: sql
    name: crm
    url: sqlite://
    password: ${file:missing.pw}
    tables: [{name: t, mode: incrementing, incrementing_column: "${bad name}"}]
"""
    problems = _problems(text, {}, base_dir=tmp_path)
    assert _has(problems, "kafka.bootstrap_servers: environment variable NOT_SET is not set")
    assert _has(problems, "kafka.client_id: environment variable ALSO_NOT_SET is not set")
    assert _has(problems, "connectors[0].password: cannot read file 'missing.pw'")
    assert _has(problems, "connectors[0].tables[0].incrementing_column: invalid reference")
    # the emptied values are not reported a second time as "too short"
    assert len(problems) == 4, problems


def test_secret_never_in_error_text_or_model_repr(tmp_path: Path) -> None:
    secret = "Pa55w0rd-XYZ"
    (tmp_path / "pw").write_text(secret)
    env = {"DB_PASSWORD": secret}
    bad = """
kafka: {local: {port: "${DB_PASSWORD}"}, security: {sasl_plain_password: "${DB_PASSWORD}"}}
registry: {basic_auth: {user: u, password: 42}}
connectors:
  - {kind: sql, name: a, url: "postgresql://u:${DB_PASSWORD}@h/db", password: {x: 1}, tables: []}
  - {kind: sql, name: b, url: "${file:pw}", tables: [{name: t, mode: incrementing, incrementing_column: i}]}
"""
    with pytest.raises(ConfigError) as caught:
        validate_config_text(bad, "bad.yaml", env, base_dir=tmp_path)
    error = caught.value
    assert len(error.problems) >= 4
    assert secret not in str(error) and secret not in repr(error)
    assert error.__cause__ is None and error.__suppress_context__  # no ValidationError (with inputs) chained

    good = """
kafka: {security: {sasl_plain_password: "${DB_PASSWORD}", security_protocol: SASL_PLAINTEXT}}
registry: {url: "https://u:${DB_PASSWORD}@reg", basic_auth: {user: u, password: "${file:pw}"}}
connectors:
  - kind: sql
    name: a
    url: "postgresql://u:${DB_PASSWORD}@h/db"
    password: ${DB_PASSWORD}
    tables: [{name: t, mode: incrementing, incrementing_column: i}]
"""
    config = validate_config_text(good, "good.yaml", env, base_dir=tmp_path)
    assert secret not in repr(config) and secret not in str(config)
    connector = config.connectors[0]
    assert isinstance(connector, SqlConnectorConfig)
    assert isinstance(connector.password, SecretStr) and connector.password.get_secret_value() == secret
    assert connector.url == f"postgresql://u:{secret}@h/db"  # the value itself is intact for the driver
    assert "postgresql://u:***@h/db" in repr(connector)
    assert config.kafka.security_options() == {
        "sasl_plain_password": secret,
        "security_protocol": "SASL_PLAINTEXT",
    }


def test_models_are_frozen() -> None:
    config = validate_config_text("", "x.yaml", {})
    with pytest.raises(ValueError):
        config.kafka.local.port = 1


def test_load_config_unreadable_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.yaml")
    assert "cannot read" in caught.value.problems[0]
