"""The live stream (SSE) and the webhook worker against the real broker and crmhub's registry."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from kafka import KafkaAdminClient, TopicPartition

from hub.config import StreamConfig, WebhookConfig
from hub.gateway.positions import decode_id, encode_id
from hub.gateway.stream import stream_router
from hub.gateway.subscriptions import SubscriptionIn, WebhookStore
from hub.gateway.webhooks import (
    Dispatcher,
    WebhookWorker,
    kafka_dead_letter,
    verify_signature,
)
from hub.kafka.clients import Admin, KafkaSettings, Producer, Record
from hub.registry.client import RegistryClient
from hub.registry.serde import AvroSerde
from hub.registry.server import RegistryService, ServerHandle, serve_in_thread
from schemas.unified import KEY_SCHEMA, changes_schema
from tests.http_receiver import Receiver, serve_receiver
from tests.kafka.helpers import read_all, wait_for

pytestmark = pytest.mark.kafka


@dataclass
class Env:
    settings: KafkaSettings
    serde: AvroSerde
    changes: str
    alerts: str
    producer: Producer

    def produce(self, *golden_ids: str, partition: int | None = None) -> None:
        records = []
        for i, gid in enumerate(golden_ids):
            value = {"golden_id": gid, "version": 1, "ts_ms": int(time.time() * 1000), "kind": "update",
                     "fields": [{"field": "credit_status", "old": '"OK"', "new": '"FROZEN"'}], "cause": None,
                     "related": []}
            part = partition if partition is not None else i % 2
            records.append(Record(self.changes, self.serde.serialize(self.changes, KEY_SCHEMA, gid, is_key=True),
                                  self.serde.serialize(self.changes, changes_schema(), value), partition=part))
        self.producer.send_batch(records)


@pytest.fixture()
def env(kafka_settings: KafkaSettings, registry: RegistryService) -> Iterator[Env]:
    tag = uuid.uuid4().hex[:8]
    changes, alerts = f"customer.changes.{tag}", f"customer.alerts.{tag}"
    admin = Admin(kafka_settings)
    admin.ensure_topic(changes, partitions=2)
    admin.ensure_topic(alerts)
    admin.close()
    client = RegistryClient(registry.url)
    producer = Producer(kafka_settings)
    yield Env(kafka_settings, AvroSerde(client), changes, alerts, producer)
    producer.close()
    client.close()


@dataclass
class Stream:
    http: ServerHandle
    sessions: set[Any]

    @property
    def url(self) -> str:
        return f"{self.http.url}/stream"


@pytest.fixture()
def stream(env: Env) -> Iterator[Stream]:
    cfg = StreamConfig(changes_topic=env.changes, alerts_topic=env.alerts, heartbeat_s=0.3, poll_ms=100)
    router = stream_router(env.settings, env.serde, config=cfg)
    app = FastAPI()
    app.include_router(router)
    handle = serve_in_thread(app)
    yield Stream(handle, router.open_sessions)  # type: ignore[attr-defined]
    handle.stop()


@dataclass
class Frame:
    event: str | None
    id: str | None
    data: Any


def read_frames(url: str, count: int, *, params: dict[str, Any] | None = None, last_id: str | None = None,
                until_id: bool = False, timeout: float = 30.0) -> list[Frame]:
    """SSE frames (comments dropped) until ``count`` events with data were read (or, with ``until_id``,
    ``count`` frames of any kind); then the connection is closed."""
    frames: list[Frame] = []
    headers = {"Last-Event-ID": last_id} if last_id else {}
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=httpx.Timeout(10.0)) as client, \
            client.stream("GET", url, params=params, headers=headers) as resp:
        assert resp.status_code == 200, resp.read()
        assert resp.headers["content-type"].startswith("text/event-stream")
        current: dict[str, str] = {}
        for line in resp.iter_lines():
            assert time.monotonic() < deadline, f"only {frames} in {timeout} s"
            if line.startswith(":"):
                continue
            if line:
                name, _, value = line.partition(":")
                current[name] = value[1:] if value.startswith(" ") else value
                continue
            if "id" in current or "data" in current:
                frames.append(Frame(current.get("event"), current.get("id"),
                                    json.loads(current["data"]) if "data" in current else None))
            current = {}
            if len([f for f in frames if until_id or f.data is not None]) >= count:
                return frames
    raise AssertionError(f"stream ended after {frames}")


def events(frames: list[Frame]) -> list[Frame]:
    return [f for f in frames if f.event in ("change", "alert")]


def gids(frames: list[Frame]) -> list[str]:
    return sorted(f.data["record"]["golden_id"] for f in events(frames))


def test_reconnect_with_last_event_id_gets_exactly_the_missed_events(env: Env, stream: Stream) -> None:
    env.produce("G1", "G2", "G3")
    first = read_frames(stream.url, 3, params={"from": "earliest"})
    assert first[0].data is None and first[0].id is not None  # the opening frame: the start position, no event
    got = events(first)
    assert gids(got) == ["G1", "G2", "G3"]
    assert all(f.id for f in got) and got[0].data["key"] == got[0].data["record"]["golden_id"]
    assert decode_id(got[-1].id or "") == {("c", 0): 2, ("c", 1): 1, ("a", 0): 0}
    wait_for(lambda: not stream.sessions)  # the client went away: its consumer was closed
    env.produce("G4", "G5", "G6")
    env.produce("G7", partition=1)
    again = events(read_frames(stream.url, 4, last_id=got[-1].id))
    assert gids(again) == ["G4", "G5", "G6", "G7"]  # nothing missed, nothing twice
    # from the id after the first event: the rest, in partition order
    rest = events(read_frames(stream.url, 6, last_id=got[0].id))
    assert gids(rest) == sorted({"G1", "G2", "G3", "G4", "G5", "G6", "G7"} - {got[0].data["record"]["golden_id"]})
    assert decode_id(rest[-1].id or "") == {("c", 0): 4, ("c", 1): 3, ("a", 0): 0}  # G1 G3 G4 G6 | G2 G5 G7


def test_without_an_id_the_stream_starts_at_the_end_and_its_first_id_resumes(env: Env, stream: Stream) -> None:
    env.produce("OLD1", "OLD2")
    [opening] = read_frames(stream.url, 1, until_id=True, params={"kind": "changes"})
    assert opening.data is None and decode_id(opening.id or "") == {("c", 0): 1, ("c", 1): 1}
    env.produce("NEW1")  # while disconnected
    got = events(read_frames(stream.url, 1, last_id=opening.id, params={"kind": "changes"}))
    assert gids(got) == ["NEW1"]


def test_golden_id_filter_and_filtered_events_still_advance_the_position(env: Env, stream: Stream) -> None:
    env.produce("A", "B", "C", "D", partition=0)
    frames = read_frames(stream.url, 3, until_id=True, params={"from": "earliest", "golden_id": "B,Z"})
    assert [f.event for f in frames] == [None, "change", None]  # opening, B, a keep-alive carrying an id
    assert gids(frames) == ["B"] and frames[1].data["offset"] == 1
    assert decode_id(frames[1].id or "")[("c", 0)] == 2
    assert decode_id(frames[2].id or "")[("c", 0)] == 4  # C and D were read, filtered out
    env.produce("E", partition=0)
    assert gids(read_frames(stream.url, 1, last_id=frames[2].id)) == ["E"]


def test_an_id_older_than_retained_gets_a_reset_event(env: Env, stream: Stream) -> None:
    env.produce("R0", "R1", "R2", "R3", "R4", partition=0)
    admin = KafkaAdminClient(**env.settings.common())
    try:
        admin.delete_records({TopicPartition(env.changes, 0): 3})
    finally:
        admin.close()
    stale = encode_id({("c", 0): 1, ("c", 1): 0})
    frames = read_frames(stream.url, 3, last_id=stale, params={"kind": "changes"})
    reset = frames[0]
    assert reset.event == "reset"
    assert reset.data == {"partitions": [{"topic": env.changes, "partition": 0, "requested": 1, "earliest": 3,
                                          "latest": 5, "resume": 3, "reason": "retention"}]}
    assert decode_id(reset.id or "") == {("c", 0): 3, ("c", 1): 0}
    assert gids(frames) == ["R3", "R4"]


# --- webhooks --------------------------------------------------------------------------------------------


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    with serve_receiver() as rec:
        yield rec


def test_webhook_worker_delivers_signed_dead_letters_and_commits(env: Env, receiver: Receiver,
                                                                 tmp_path: Path) -> None:
    secret = "a-long-enough-secret"
    dlq = f"dlq.webhooks.{uuid.uuid4().hex[:8]}"
    admin = Admin(env.settings)  # the worker makes the dead-letter topic itself
    store = WebhookStore(tmp_path / "hooks.json")
    good = store.add(SubscriptionIn(url=receiver.url, secret=secret))
    dead = store.add(SubscriptionIn(url="http://127.0.0.1:1/nobody", secret=secret))
    group = f"crmhub-webhooks-{uuid.uuid4().hex[:6]}"
    config = WebhookConfig(group_id=group, start_from="earliest", max_attempts=2, backoff_initial_s=0.05,
                           dlq_topic=dlq, allow_targets=["127.0.0.1"])  # the receivers listen on loopback
    producer = Producer(env.settings)
    dispatcher = Dispatcher(store, config, kafka_dead_letter(producer, dlq))
    worker = WebhookWorker(env.settings, env.serde, dispatcher, config, changes_topic=env.changes,
                           alerts_topic=env.alerts, poll_ms=200)
    env.produce("W1", partition=1)
    worker.start()
    try:
        def committed() -> dict[tuple[str, int], int]:
            try:
                return admin.group_offsets(group)
            except Exception:  # the group coordinator may not be ready yet on a fresh broker
                return {}

        wait_for(lambda: (env.changes, 1) in committed(), state=lambda: worker.last_error)
        assert committed()[(env.changes, 1)] == 1  # committed after the delivery and the dead letter
    finally:
        worker.stop()
        producer.close()
        admin.close()
    [(headers, body)] = receiver.requests
    verify_signature(secret, body, headers["x-crmhub-timestamp"], headers["x-crmhub-signature"])
    payload = json.loads(body)
    assert payload["subscription"] == good.id and payload["record"]["golden_id"] == "W1"
    [letter] = read_all(env.settings, dlq, 1)
    dead_letter = json.loads(letter.value or b"")
    assert dead_letter["subscription_id"] == dead.id and dead_letter["attempts"] == 2
    assert "ConnectError" in dead_letter["reason"] and dead_letter["event"]["record"]["golden_id"] == "W1"
    assert letter.key == dead.id.encode()
