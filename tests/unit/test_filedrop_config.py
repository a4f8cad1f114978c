"""File-drop settings: the moved models keep their rules; the additions have defaults and located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.filedrop.config import FileDropConnector
from hub.config import validate_config_text
from schemas.errors import ConfigError

MINIMAL = "connectors:\n  - {kind: filedrop, name: drop, path: in, feeds: [%s]}\n"


def problems(feed: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate_config_text(MINIMAL % feed, "t.yaml", {})
    return caught.value.problems


def test_additions_have_defaults() -> None:
    config = validate_config_text(MINIMAL % "{name: f, pattern: '*.csv', mode: delta, key_columns: [id]}", "t", {})
    (conn,) = config.connectors
    assert isinstance(conn, FileDropConnector)
    feed = conn.feeds[0]
    assert (conn.batch_size, conn.poll_interval_ms, conn.state_dir) == (1000, 1000, Path(".crmhub/filedrop"))
    assert conn.archive_path == Path("in/archive") and conn.quarantine_path == Path("in/quarantine")
    assert conn.store_path(feed) == Path(".crmhub/filedrop/drop/f.sqlite")
    assert feed.trim and feed.op_column is None and feed.csv.columns is None and feed.op_values["D"] == "d"


def test_csv_columns_by_name_or_mapping() -> None:
    feed = ("{name: f, pattern: '*', mode: delta, key_columns: [id], csv: {columns: [id, "
            "{name: amount, type: decimal, precision: 9, scale: 2}]}}")
    (conn,) = validate_config_text(MINIMAL % feed, "t", {}).connectors
    assert isinstance(conn, FileDropConnector)
    columns = conn.feeds[0].csv.columns or []
    assert [(c.name, c.type, c.precision) for c in columns] == [("id", "string", None), ("amount", "decimal", 9)]


@pytest.mark.parametrize(
    ("feed", "expected"),
    [
        ("{name: f, pattern: '*', mode: delta, key_columns: [id], csv: {header: false}}",
         "connectors[0].feeds[0].csv.columns: field required when header is false"),
        ("{name: f, pattern: '*', mode: delta, key_columns: [id], csv: {columns: [{name: a, type: decimal}]}}",
         "connectors[0].feeds[0].csv.columns[0].precision: field required for type 'decimal'"),
        ("{name: f, pattern: '*', mode: snapshot, key_columns: [id], op_column: chg}",
         "connectors[0].feeds[0].op_column: only delta feeds carry an op column"),
        ("{name: f, pattern: '*', mode: delta, key_columns: [id], csv: {columns: [id, id]}}",
         "connectors[0].feeds[0].csv.columns: column listed more than once: id"),
        ("{name: f, pattern: '*', mode: delta, key_columns: [id], encoding: klingon}",
         "connectors[0].feeds[0].encoding: unknown encoding 'klingon'"),
    ],
    ids=["no-header-no-columns", "decimal-precision", "op-column-snapshot", "duplicate-column", "encoding"],
)
def test_problems_are_located(feed: str, expected: str) -> None:
    found = problems(feed)
    assert any(p.startswith(expected) for p in found), found
