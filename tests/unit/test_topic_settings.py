"""A table's ``topic`` setting: the SQL connector names the topic, canonicalize subscribes to it, the AsyncAPI
document lists it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from connectors.sql.config import SqlConnectorConfig
from connectors.sql.connector import SqlConnector
from hub.config import validate_config_text
from hub.gateway.topic_catalog import source_topics
from hub.pipeline_setup import PipelineParts, pipelines_conf, topic_overrides
from pipelines.mapping import load_mappings

MAPPING = """
source: crm
table: PEOPLE
key: [ID]
targets:
  - entity: customer
    fields:
      family_name: {from: LAST}
"""


def _config(tmp: Path) -> str:
    db = tmp / "crm.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE PEOPLE (ID INTEGER PRIMARY KEY, LAST TEXT)")
        c.execute("CREATE TABLE ORDERS (ID INTEGER PRIMARY KEY, AMOUNT REAL)")
    (tmp / "maps").mkdir()
    (tmp / "maps" / "crm.PEOPLE.yaml").write_text(MAPPING)
    return f"""
connectors:
  - kind: sql
    name: crm
    url: sqlite:///{db}
    tables:
      - {{name: PEOPLE, mode: incrementing, incrementing_column: ID, topic: legacy.people}}
      - {{name: ORDERS, mode: incrementing, incrementing_column: ID}}
pipelines:
  mappings: [{tmp / 'maps'}]
"""


def test_the_sql_connector_names_the_configured_topic(tmp_path: Path) -> None:
    cfg = validate_config_text(_config(tmp_path))
    settings = cfg.connectors[0]
    assert isinstance(settings, SqlConnectorConfig)
    conn = SqlConnector(settings)
    try:
        tables = {t.name: t for t in conn.describe()}
        assert conn.topic_of(tables["PEOPLE"]) == "legacy.people"
        assert conn.topic_of(tables["ORDERS"]) is None  # src.crm.orders
    finally:
        conn.close()


def test_canonicalize_subscribes_to_the_configured_topic(tmp_path: Path) -> None:
    cfg = validate_config_text(_config(tmp_path))
    assert topic_overrides(cfg) == {("crm", "people"): "legacy.people"}
    parts = PipelineParts(pipelines_conf(cfg), load_mappings([tmp_path / "maps"]), None)
    assert parts.source_topics(overrides=topic_overrides(cfg)) == ["legacy.people"]
    assert parts.source_topics() == ["src.crm.people"]


def test_the_asyncapi_catalog_lists_the_configured_topic(tmp_path: Path) -> None:
    cfg = validate_config_text(_config(tmp_path))
    assert sorted(t.topic for t in source_topics(cfg)) == ["legacy.people", "src.crm.orders"]


def test_a_topic_named_for_a_table_under_another_name_is_still_subscribed(tmp_path: Path) -> None:
    """An IBM i file configured by its system name (CUSTM00001) sends events under its SQL name: the mapping
    names the SQL name, so canonicalize subscribes to every named topic of the connector too."""
    cfg = validate_config_text(_config(tmp_path))
    parts = PipelineParts(pipelines_conf(cfg), load_mappings([tmp_path / "maps"]), None)
    overrides = {("crm", "custm00001"): "legacy.customers"}
    assert parts.source_topics(overrides=overrides) == ["legacy.customers", "src.crm.people"]
    assert parts.source_topics(overrides={("other", "x"): "other.x"}) == ["src.crm.people"]


def test_a_table_topic_that_crmhub_writes_itself_or_another_table_has_is_refused(tmp_path: Path) -> None:
    import pytest

    from schemas.errors import ConfigError
    text = _config(tmp_path).replace("topic: legacy.people}", "topic: crmhub.offsets}")
    text = text.replace("incrementing_column: ID}\n", "incrementing_column: ID, topic: crmhub.offsets}\n")
    with pytest.raises((ConfigError, ValueError)) as err:
        validate_config_text(text)
    message = str(err.value)
    assert "connectors[0].tables[0].topic" in message and "crmhub's own" in message
    (tmp_path / "again").mkdir()
    same = _config(tmp_path / "again").replace("incrementing_column: ID}\n",
                                               "incrementing_column: ID, topic: legacy.people}\n")
    with pytest.raises((ConfigError, ValueError), match=r"already the topic of connectors\[0\]\.tables\[0\]\.topic"):
        validate_config_text(same)
