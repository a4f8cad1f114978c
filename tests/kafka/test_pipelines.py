"""The whole flow on the real broker: SQL connector → canonicalize (mappings, DQ, DLQ) → unify (store) →
``customer.unified`` / ``customer.changes`` / ``customer.alerts``; then a replay of every topic from the
beginning leaves the store and the output topics unchanged."""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from hub.config import validate_config_text
from hub.demo.sources import freeze_credit, seed_legacy_db
from hub.kafka.clients import Consumer, KafkaSettings
from hub.kafka.local import LocalKafka, free_port
from hub.registry.serde import AvroSerde
from hub.runtime.hub import Hub
from hub.wiring import registry_client
from schemas.errors import SkippableError
from schemas.unified import ALERTS_TOPIC, CHANGES_TOPIC, UNIFIED_TOPIC
from tests.kafka.helpers import thread_stacks, wait_for

pytestmark = pytest.mark.kafka
ROOT = Path(__file__).resolve().parents[2]


def _mappings(folder: Path, source: str) -> Path:
    """The demo's IBM i mappings, for a connector with a name of this test's own."""
    folder.mkdir()
    for name in ("ibmi.CUSTMAST.yaml", "ibmi.ORDHDR.yaml"):
        text = (ROOT / "config" / "mappings" / name).read_text()
        text = re.sub(r"^source: ibmi$", f"source: {source}", text, flags=re.M)
        (folder / name).write_text(re.sub(r"customer_source: ibmi$", f"customer_source: {source}", text, flags=re.M))
    return folder


def _config(broker: LocalKafka, tmp: Path, source: str, group: str, registry_port: int, tag: str,
            gateway_port: int | None = None) -> str:
    return f"""
kafka: {{bootstrap_servers: "{broker.bootstrap}"}}
registry: {{serve: {{port: {registry_port}, topic: _schemas_{tag}}}}}
admin: {{port: {free_port()}}}
gateway: {{port: {gateway_port or free_port()}, tokens_file: {tmp / "tokens.yaml"},
          webhooks: {{subscriptions_file: {tmp / "webhooks.json"}}}}}
offsets: {{topic: offsets.{tag}}}
connectors:
  - kind: sql
    name: {source}
    url: sqlite:///{tmp / "legacy.db"}
    poll_interval_ms: 100
    state_dir: {tmp / "state"}
    tables:
      - {{name: CUSTMAST, mode: timestamp, timestamp_column: CHGTS, key_columns: [CUSNO], safety_delay_ms: 100,
         trim_char: true}}
      - {{name: ORDHDR, mode: incrementing, incrementing_column: ORDNO, safety_delay_ms: 100}}
pipelines:
  mappings: [{tmp / "mappings"}]
  alerts: {ROOT / "config" / "rules" / "alerts.yaml"}
  store: {{url: "sqlite:///{tmp / "store.db"}"}}
  group_id_prefix: {group}
  poll_interval_ms: 50
"""


class Outputs:
    """Reads the output topics from the beginning, decoded, keeping only this test's golden records."""

    def __init__(self, settings: KafkaSettings, serde: AvroSerde, source: str) -> None:
        self.serde = serde
        self.source = source
        self.consumer = Consumer(settings, group_id=None)
        self.consumer.assign_topics([UNIFIED_TOPIC, CHANGES_TOPIC, ALERTS_TOPIC, "dlq.canon"])
        self.seen: dict[str, list[dict[str, Any]]] = {t: [] for t in (UNIFIED_TOPIC, CHANGES_TOPIC, ALERTS_TOPIC,
                                                                       "dlq.canon")}
        self.mine: set[str] = set()

    def poll(self) -> None:
        for m in self.consumer.poll(200):
            if m.value is None:
                continue
            if m.topic == "dlq.canon":
                body = json.loads(m.value)
                if body.get("source") == self.source:
                    self.seen[m.topic].append(body)
                continue
            try:
                value = self.serde.deserialize(m.value)
            except SkippableError:  # written by another test's hub, with another registry's schema ids
                continue
            assert isinstance(value, dict)
            if m.topic == UNIFIED_TOPIC and any(x["source"] == self.source for x in value["members"]):
                self.mine.add(value["golden_id"])
            if value.get("golden_id") in self.mine:
                self.seen[m.topic].append(value)

    def until(self, cond: Any, timeout: float = 60.0) -> None:
        def check() -> bool:
            self.poll()
            return bool(cond())
        wait_for(check, timeout)


def test_source_change_flows_to_golden_record_changes_and_alerts(hub_broker: LocalKafka, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:6]
    source = f"ibmi{tag}"
    seed_legacy_db(tmp_path / "legacy.db")
    _mappings(tmp_path / "mappings", source)
    port = free_port()
    hub = Hub(validate_config_text(_config(hub_broker, tmp_path, source, f"g1{tag}", port, tag)))
    hub.start()
    try:
        out = Outputs(hub.settings, AvroSerde(registry_client(hub.cfg)), source)  # with the hub's service token
        out.until(lambda: len(out.mine) == 5)
        golden = {v["members"][0]["source_key"]: v for v in out.seen[UNIFIED_TOPIC]}
        mueller = golden["104711"]
        assert mueller["customer"]["org_name"] == "Mueller GmbH"
        assert mueller["customer"]["credit_status"] == "OK"
        assert mueller["lineage"]["credit_status"]["source"] == source
        # the IBM i side freezes the credit: a field-level change and an alert for the account's agent
        freeze_credit(tmp_path / "legacy.db", 104711)
        gid = mueller["golden_id"]
        out.until(lambda: any(a["rule"] == "credit-frozen" and a["golden_id"] == gid for a in out.seen[ALERTS_TOPIC]))
        changes = [c for c in out.seen[CHANGES_TOPIC] if c["golden_id"] == gid and c["kind"] == "update"]
        fields = {f["field"]: (f["old"], f["new"]) for c in changes for f in c["fields"]}
        assert fields["credit_status"] == ('"OK"', '"FROZEN"')
        alert = next(a for a in out.seen[ALERTS_TOPIC] if a["rule"] == "credit-frozen")
        assert alert["agent"] == "AGT07" and alert["severity"] == "critical"
        # a row the mapping cannot take goes to the DLQ with the rule and the original row
        with sqlite3.connect(tmp_path / "legacy.db") as db:
            db.execute("INSERT INTO CUSTMAST VALUES (104799, 'BAD STATUS AG', 'X', '10.00', 'DE', 'AGT01', "
                       "strftime('%Y-%m-%d %H:%M:%f', 'now'))")  # the precision of the other changes
        out.until(lambda: out.seen["dlq.canon"])
        dead = out.seen["dlq.canon"][0]
        assert dead["source_key"] == "104799" and "code" in dead["rule"]
        assert dead["original"]["after"]["CRSTAT"] == "X"
        counts = {t: len(v) for t, v in out.seen.items()}
        # freshness (source commit → outputs acknowledged) was observed for every applied change of this source
        # (snapshot reads left out: their age is not freshness) once unify took the acknowledgement from its
        # window, which may come a poll after the outputs reached this consumer
        def fresh() -> float:
            return REGISTRY.get_sample_value("crmhub_freshness_seconds_count", {"source": source}) or 0
        out.until(lambda: fresh() >= 2, timeout=10)  # the freeze: the customer and its credit
        assert (REGISTRY.get_sample_value("crmhub_freshness_seconds_sum", {"source": source}) or 0) > 0
        # source lag was observed per delivered batch, and the connector ended caught up
        assert (REGISTRY.get_sample_value("crmhub_source_lag_seconds_count", {"connector": source}) or 0) >= 2
        assert REGISTRY.get_sample_value("crmhub_source_lag_rows", {"connector": source, "table": "ORDHDR"}) == 0
    finally:
        hub.stop()

    # replay: new consumer groups read every src and canon event again; the store skips them all
    # (a fresh registry port: the first one may still be held; the schemas come from the same _schemas topic).
    # The two stages now run as separate hubs (`--only registry,canonicalize` and `--only unify`).
    replay_cfg = validate_config_text(_config(hub_broker, tmp_path, source, f"g2{tag}", free_port(), tag))
    hub = Hub(replay_cfg, frozenset({"registry", "canonicalize"}))
    hub.start()
    unify_hub = Hub(replay_cfg, frozenset({"unify"}))
    unify_hub.start()
    try:
        assert [w.name for w in hub.workers] == ["canonicalize"] and [w.name for w in unify_hub.workers] == ["unify"]
        unify = unify_hub.workers[0]
        canon = hub.workers[0]
        def replayed() -> bool:
            for w in (canon, unify):
                assert w.status.state != "FAILED", f"{w.name} failed: {w.status.last_error}"
            return canon.status.messages >= 7 and unify.status.messages >= 12
        wait_for(replayed, 90, lambda: f"{ {w.name: w.status for w in (canon, unify)} }\n{thread_stacks()}")
        wait_for(lambda: canon.status.batches > 0 and unify.status.state == "RUNNING", 10)
        out.poll()
        out.poll()
    finally:
        unify_hub.stop()
        hub.stop()
    replayed = {t: len(v) for t, v in out.seen.items()}
    assert replayed[UNIFIED_TOPIC] == counts[UNIFIED_TOPIC]
    assert replayed[CHANGES_TOPIC] == counts[CHANGES_TOPIC]
    assert replayed[ALERTS_TOPIC] == counts[ALERTS_TOPIC]
