"""The real connectors run by the hub on the real broker: file-drop dead letters, SQL schema changes."""

from __future__ import annotations

import json
import sqlite3
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.codecs.encode import packed, text, zoned
from hub.config import validate_config_text
from hub.kafka.local import LocalKafka, free_port
from hub.runtime.hub import Hub
from hub.wiring import registry_client
from tests.kafka.helpers import read_all, wait_for

pytestmark = pytest.mark.kafka

COPYBOOK = """\
       01  CUST-REC.
           05  CUS-NO        PIC 9(5).
           05  CUS-NAME      PIC X(10).
           05  BALANCE       PIC S9(5)V99 COMP-3.
"""


def record(no: int, name: str, balance: str) -> bytes:
    return zoned(no, 5, signed=False) + text(name, 10) + packed(Decimal(balance), 7, 2)


def hub_config(broker: LocalKafka, connectors: str) -> str:
    tag = uuid.uuid4().hex[:6]
    return f"""
kafka: {{bootstrap_servers: "{broker.bootstrap}"}}
registry: {{serve: {{port: {free_port()}, topic: _schemas_{tag}}}}}
admin: {{port: {free_port()}}}
offsets: {{topic: offsets.{tag}}}
connectors:
{connectors}
"""


def test_malformed_ebcdic_record_goes_to_dlq_and_the_rest_flows(kafka_broker: LocalKafka, tmp_path: Path) -> None:
    name = f"exp{uuid.uuid4().hex[:6]}"
    (tmp_path / "cust.cpy").write_text(COPYBOOK)
    drop = tmp_path / "drop"
    drop.mkdir()
    bad = record(3, "BROKEN", "0.00")
    bad = bad[:-4] + b"\xab" + bad[-3:]  # digit nibbles A and B: a malformed packed field
    (drop / "CUST.BIN").write_bytes(record(1, "ALPHA", "10.50") + record(2, "BETA", "-3.25") + bad
                                    + record(4, "DELTA", "7.00"))
    (drop / "CUST.BIN.done").write_text("")
    connectors = f"""
  - kind: filedrop
    name: {name}
    path: {drop}
    complete_when: marker
    state_dir: {tmp_path / "state"}
    poll_interval_ms: 100
    feeds:
      - {{name: cust, pattern: "CUST*.BIN", format: ebcdic, mode: delta, key_columns: [cus_no],
          copybook: {tmp_path / "cust.cpy"}}}
"""
    hub = Hub(validate_config_text(hub_config(kafka_broker, connectors)))
    hub.start()
    try:
        runner = hub.runners[name]
        wait_for(lambda: runner.status.events == 3 and runner.status.dead == 1)
    finally:
        hub.stop()
    dead = read_all(hub.settings, f"dlq.{name}", 1)
    body = json.loads(dead[0].value or b"{}")
    assert body["record"]["file"] == "CUST.BIN" and body["record"]["record"] == 3
    assert "CUST.BIN record 3" in body["reason"] and "balance" in body["reason"].lower()
    assert len(read_all(hub.settings, f"src.{name}.cust", 3)) == 3
    archived = list((drop / "archive").iterdir())
    assert len(archived) == 1 and len(archived[0].name.split(".")[1]) == 64  # CUST.<sha256>.BIN


def test_sql_column_added_evolves_and_dropped_column_stops_the_table(kafka_broker: LocalKafka,
                                                                      tmp_path: Path) -> None:
    name = f"sq{uuid.uuid4().hex[:6]}"
    db = tmp_path / "src.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE cust (id INTEGER PRIMARY KEY, name VARCHAR(20), note VARCHAR(20))")
        c.execute("CREATE TABLE ord (id INTEGER PRIMARY KEY, amount DECIMAL(9,2))")
        c.executemany("INSERT INTO cust VALUES (?, ?, ?)", [(1, "a", "x"), (2, "b", "y")])
        c.execute("INSERT INTO ord VALUES (1, '5.00')")
    connectors = f"""
  - kind: sql
    name: {name}
    url: "sqlite:///{db}"
    poll_interval_ms: 100
    schema_check_interval_s: 1
    tables:
      - {{name: cust, mode: incrementing, incrementing_column: id}}
      - {{name: ord, mode: incrementing, incrementing_column: id}}
"""
    hub = Hub(validate_config_text(hub_config(kafka_broker, connectors)))
    hub.start()
    try:
        runner = hub.runners[name]
        wait_for(lambda: runner.status.events == 3)
        with sqlite3.connect(db) as c:
            c.execute("ALTER TABLE cust ADD COLUMN email VARCHAR(50)")
            c.execute("INSERT INTO cust VALUES (3, 'c', 'z', 'c@example.com')")
        wait_for(lambda: runner.status.events == 4)
        assert hub.registry is not None
        client = registry_client(hub.cfg, hub.registry)  # with the hub's service token
        assert client.versions(f"src.{name}.cust-value") == [1, 2]
        assert "email" in client.latest(f"src.{name}.cust-value").schema

        with sqlite3.connect(db) as c:
            c.execute("ALTER TABLE cust DROP COLUMN note")
            c.execute("INSERT INTO cust VALUES (4, 'd', 'd@example.com')")
            c.execute("INSERT INTO ord VALUES (2, '6.00')")
        wait_for(lambda: "cust" in runner.status.stopped_tables)
        wait_for(lambda: runner.status.events == 5)  # ord goes on; cust row 4 is held back
        assert "column note dropped" in runner.status.stopped_tables["cust"]
        assert runner.status.state.value == "RUNNING"
        assert client.versions(f"src.{name}.cust-value") == [1, 2]  # no version without `note`
    finally:
        hub.stop()
