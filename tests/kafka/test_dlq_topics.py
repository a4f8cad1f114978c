"""`crmhub dlq list|show` on the real broker: dead letters read from the dlq.* topics, no group committed."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from typer.testing import CliRunner, Result

from connectors.base import DeadRow
from hub.cli import app
from hub.cli import commands as cli_commands  # noqa: F401  (registers the commands)
from hub.kafka.clients import Admin, KafkaSettings, Producer, Record
from hub.kafka.local import LocalKafka
from hub.runtime.encode import dlq_record
from tests.unit.test_canonicalize import event, row, run


def _config(tmp: Path, broker: LocalKafka, pipeline: str, connector: str) -> Path:
    path = tmp / "hub.yaml"
    path.write_text(f"""\
kafka: {{bootstrap_servers: "{broker.bootstrap}"}}
connectors:
  - kind: sql
    name: {connector}
    url: sqlite:///{tmp / 'none.db'}
    tables: [{{name: PEOPLE, mode: incrementing, incrementing_column: ID}}]
pipelines:
  name: {pipeline}
  store: {{url: 'sqlite:///{tmp / 'store.db'}'}}
""")
    return path


def _produce(settings: KafkaSettings, pipeline: str, connector: str) -> None:
    admin = Admin(settings)
    admin.ensure_topic(f"dlq.{pipeline}", partitions=2)
    admin.ensure_topic(f"dlq.{connector}")
    admin.close()
    records = []
    for partition, (cusno, code) in enumerate([(104711, "Q"), (104712, "Z")]):
        [rejected] = [r for r in run(event("u", after=row(CUSNO=cusno, CRSTAT=code))).rejected
                      if r.entity == "customer"]
        value = json.dumps(rejected.to_json(), default=str, sort_keys=True).encode()
        records.append(Record(f"dlq.{pipeline}", f"ibmi/{cusno}".encode(), value, partition=partition))
    dead = DeadRow("CUSTMAST", "packed decimal CRLIMIT has a bad sign nibble", {"CUSNO": "0x1F"}, {"seq": "77"})
    records.append(dlq_record(connector, dead))
    producer = Producer(settings)
    producer.send_batch(records)
    producer.close()


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_dlq_list_and_show_read_the_dead_letter_topics(tmp_path: Path, kafka_broker: LocalKafka,
                                                       kafka_settings: KafkaSettings) -> None:
    pipeline, connector = f"p{uuid.uuid4().hex[:8]}", f"c{uuid.uuid4().hex[:8]}"
    _produce(kafka_settings, pipeline, connector)
    config = str(_config(tmp_path, kafka_broker, pipeline, connector))

    result = invoke("dlq", "list", "-c", config, "--timeout", "30")
    assert result.exit_code == 0, result.output
    assert "3 of 3 rejected record(s)" in result.output
    lines = [line for line in result.output.splitlines() if f"dlq.{pipeline}/" in line or f"dlq.{connector}/" in line]
    assert len(lines) == 3 and all("│ topic " in line for line in lines)
    [dead] = [line for line in lines if "dead-row" in line]
    assert connector in dead and "seq=77" in dead and "bad sign nibble" in dead
    assert {line.split("│")[1].strip() for line in lines if "transform:code" in line} == {
        f"dlq.{pipeline}/0/0", f"dlq.{pipeline}/1/0"}

    only = invoke("dlq", "list", "-c", config, "--from", "topics", "--source", "ibmi", "--timeout", "30")
    assert "2 of 2 rejected record(s)" in only.output and "unknown code 'Z'" in only.output

    shown = invoke("dlq", "show", f"dlq.{pipeline}/1/0", "-c", config, "--timeout", "30")
    assert shown.exit_code == 0, shown.output
    assert "key:     104712" in shown.output and "rule:    transform:code" in shown.output
    body = json.loads(shown.output[shown.output.index("{"):])
    assert body["original"]["after"]["CRSTAT"] == "Z"
    assert invoke("dlq", "show", f"dlq.{pipeline}/1/5", "-c", config, "--timeout", "2").exit_code == 1

    admin = Admin(kafka_settings)
    try:
        assert not [g for g in admin.list_groups() if "dlq" in g]  # read without a consumer group
    finally:
        admin.close()
