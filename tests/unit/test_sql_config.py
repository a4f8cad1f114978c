"""connectors.sql.config: the SQL connector's settings, each error located at its field's path."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from connectors.sql.config import SqlConnectorConfig, SqlTableConfig


def connector(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": "sql", "name": "crm_db", "url": "postgresql+psycopg2://crm@db:5432/crm",
        "tables": [{"name": "public.customers", "mode": "timestamp+incrementing",
                    "timestamp_column": "changed", "incrementing_column": "id"}],
    }
    base.update(over)
    return base


def errors(data: Any, adapter: TypeAdapter[Any] | None = None) -> dict[tuple[Any, ...], str]:
    with pytest.raises(ValidationError) as info:
        (adapter or TypeAdapter(SqlConnectorConfig)).validate_python(data)
    return {tuple(e["loc"]): e["msg"] for e in info.value.errors()}


def test_defaults_and_parsed_names() -> None:
    cfg = SqlConnectorConfig.model_validate(connector(password="s3cret"))
    assert (cfg.poll_interval_ms, cfg.batch_size, cfg.heartbeat_interval_ms) == (1000, 1000, 10000)
    table = cfg.tables[0]
    assert (table.schema_name, table.table_name, table.safety_delay_ms) == ("public", "customers", 2000)
    assert table.key_columns is None and table.soft_delete is None and table.trim_char is False
    assert "s3cret" not in repr(cfg) and cfg.password is not None
    assert cfg.password.get_secret_value() == "s3cret"
    assert SqlTableConfig(name="customers", mode="incrementing", incrementing_column="id").schema_name is None


@pytest.mark.parametrize(("mode", "missing"), [
    ("timestamp", ["timestamp_column"]),
    ("incrementing", ["incrementing_column"]),
    ("timestamp+incrementing", ["timestamp_column", "incrementing_column"]),
])
def test_columns_required_by_the_mode_are_reported_at_their_own_path(mode: str, missing: list[str]) -> None:
    data = connector(tables=[{"name": "ok", "mode": "incrementing", "incrementing_column": "id"},
                             {"name": "orders", "mode": mode}])
    found = errors([connector(), data], TypeAdapter(list[SqlConnectorConfig]))
    assert found == {(1, "tables", 1, col): f"field required for mode '{mode}'" for col in missing}


def test_a_bad_mode_is_reported_alone() -> None:
    found = errors(connector(tables=[{"name": "orders", "mode": "journal"}]))
    assert list(found) == [("tables", 0, "mode")]


def test_unknown_keys_and_bad_names_are_located() -> None:
    data = connector(name="crm db", polling=5)
    data["tables"][0]["timestamp_colum"] = "x"
    found = errors(data)
    assert set(found) == {("name",), ("polling",), ("tables", 0, "timestamp_colum")}


def test_url_error_never_echoes_the_url() -> None:
    data = connector(url="crm:hunter2@db/crm")
    with pytest.raises(ValidationError) as info:
        SqlConnectorConfig.model_validate(data)
    assert [e["loc"] for e in info.value.errors()] == [("url",)]
    assert "hunter2" not in str(info.value)


def test_reconciliation_needs_a_state_dir_and_tables_are_unique() -> None:
    table = {"name": "orders", "mode": "incrementing", "incrementing_column": "id", "reconcile_deletes_every_s": 60}
    assert errors(connector(tables=[table])) == {
        ("state_dir",): "field required when a table sets reconcile_deletes_every_s"}
    assert SqlConnectorConfig.model_validate(connector(tables=[table], state_dir="/var/lib/crmhub")).state_dir
    dup = {"name": "ORDERS", "mode": "incrementing", "incrementing_column": "id"}
    assert list(errors(connector(tables=[dup, dict(dup, name="orders")]))) == [("tables", 1, "name")]


def test_soft_delete_and_limits() -> None:
    found = errors(connector(batch_size=0, tables=[{
        "name": "t", "mode": "incrementing", "incrementing_column": "id", "safety_delay_ms": -1,
        "soft_delete": {"column": "deleted", "deleted_values": []}, "topic": "bad topic"}]))
    assert set(found) == {("batch_size",), ("tables", 0, "safety_delay_ms"),
                          ("tables", 0, "soft_delete", "deleted_values"), ("tables", 0, "topic")}


@pytest.mark.parametrize(("url", "pinged"), [("sqlite:///x.db", False),
                                             ("postgresql+psycopg2://crm@db.example/erp", True)])
def test_pooled_connections_are_tested_before_use_except_on_a_sqlite_file(url: str, pinged: bool) -> None:
    from connectors.sql.config import create_engine

    engine = create_engine(SqlConnectorConfig.model_validate(connector(url=url)))
    try:
        assert engine.pool._pre_ping is pinged
    finally:
        engine.dispose()


def test_snapshot_settings_default_to_one_worker_and_a_table_may_override_them() -> None:
    cfg = SqlConnectorConfig.model_validate(connector())
    assert (cfg.snapshot.workers, cfg.snapshot.chunk_rows) == (1, 100_000)
    assert cfg.snapshot_of(cfg.tables[0]) is cfg.snapshot
    data = connector(snapshot={"workers": 4})
    data["tables"].append({"name": "orders", "mode": "incrementing", "incrementing_column": "id",
                           "snapshot": {"workers": 2, "chunk_rows": 500}})
    cfg = SqlConnectorConfig.model_validate(data)
    assert [(cfg.snapshot_of(t).workers, cfg.snapshot_of(t).chunk_rows) for t in cfg.tables] == [
        (4, 100_000), (2, 500)]


def test_snapshot_setting_errors_are_reported_at_their_path() -> None:
    data = connector(snapshot={"workers": 0, "chunk_rows": 0})
    data["tables"][0]["snapshot"] = {"workers": 33, "chunk_size": 10}
    found = errors(data)
    assert set(found) == {("snapshot", "workers"), ("snapshot", "chunk_rows"), ("tables", 0, "snapshot", "workers"),
                          ("tables", 0, "snapshot", "chunk_size")}
    assert "greater than or equal to 1" in found[("snapshot", "workers")]
    assert "less than or equal to 32" in found[("tables", 0, "snapshot", "workers")]
    assert "did you mean 'chunk_rows'" in found[("tables", 0, "snapshot", "chunk_size")]


def test_the_hub_config_loader_names_the_snapshot_settings_path() -> None:
    from hub.config import validate_config_text
    from schemas.errors import ConfigError

    text = """
connectors:
  - kind: sql
    name: crm
    url: sqlite:///crm.db
    snapshot: {workers: 0}
    tables:
      - {name: customers, mode: incrementing, incrementing_column: id, snapshot: {chunk_rows: -5}}
"""
    with pytest.raises(ConfigError) as caught:
        validate_config_text(text, "test.yaml", {})
    problems = caught.value.problems
    assert any(p.startswith("connectors[0].snapshot.workers: ") for p in problems), problems
    assert any(p.startswith("connectors[0].tables[0].snapshot.chunk_rows: ") for p in problems), problems
