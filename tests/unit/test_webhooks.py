"""Webhooks without Kafka: signing and verifying, filter matching, subscriptions API, delivery with retries
against a real local HTTP server, dead letters."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.config import WebhookConfig
from hub.gateway.settings import GatewayRole
from hub.gateway.stream import EventFilter, StreamEvent, matches
from hub.gateway.subscriptions import SubscriptionIn, WebhookStore, webhooks_router
from hub.gateway.webhook_targets import TargetPolicy
from hub.gateway.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DeadLetter,
    Dispatcher,
    SignatureError,
    role_redactor,
    sign,
    signed_headers,
    verify_signature,
)
from tests.http_receiver import Receiver, serve_receiver

SECRET = "s3cret-s3cret-s3cret"


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"id":"x"}'
    expected = hmac.new(SECRET.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1700000000, body) == f"sha256={expected}"
    headers = signed_headers(SECRET, body, now=1700000000.9)
    assert headers[TIMESTAMP_HEADER] == "1700000000" and headers[SIGNATURE_HEADER] == f"sha256={expected}"


def test_verify_accepts_the_real_thing_and_rejects_tampering_and_replays() -> None:
    body = b'{"id":"x","record":{"credit_status":"FROZEN"}}'
    sig = sign(SECRET, 1700000000, body)
    verify_signature(SECRET, body, "1700000000", sig, now=1700000100)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(SECRET, body.replace(b"FROZEN", b"OK"), "1700000000", sig, now=1700000100)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature("another-secret-value", body, "1700000000", sig, now=1700000100)
    with pytest.raises(SignatureError, match="does not match"):  # the timestamp is part of the signed string
        verify_signature(SECRET, body, "1700000001", sig, now=1700000100)
    with pytest.raises(SignatureError, match="away from now"):
        verify_signature(SECRET, body, "1700000000", sig, now=1700000000 + 301)
    with pytest.raises(SignatureError, match="missing"):
        verify_signature(SECRET, body, None, sig)
    with pytest.raises(SignatureError, match="Unix seconds"):
        verify_signature(SECRET, body, "yesterday", sig)


CHANGE = {"golden_id": "G1", "kind": "update", "related": ["G9"],
          "fields": [{"field": "credit_status", "old": '"OK"', "new": '"FROZEN"'},
                     {"field": "credit_limit", "old": "100", "new": "0"}]}
ALERT = {"golden_id": "G1", "agent": "AGT07", "rule": "credit-frozen", "severity": "critical", "data": {}}


@pytest.mark.parametrize(("flt", "change", "alert"), [
    (EventFilter(), True, True),
    (EventFilter(kinds=("change",)), True, False),
    (EventFilter(golden_ids=("G1",)), True, True),
    (EventFilter(golden_ids=("G9",)), True, False),  # a change matches its related (merged) ids too
    (EventFilter(golden_ids=("G2",)), False, False),
    (EventFilter(fields=("credit_status",)), True, True),  # field: changes only
    (EventFilter(fields=("email",)), False, True),
    (EventFilter(agents=("AGT07",), rules=("credit-frozen",)), True, True),  # alert filters: alerts only
    (EventFilter(agents=("AGT01",)), True, False),
    (EventFilter(rules=("sla-step",)), True, False),
    (EventFilter(severities=("CRITICAL",)), True, True),  # severity ignores case
    (EventFilter(severities=("info",)), True, False),
])
def test_filter_matching(flt: EventFilter, change: bool, alert: bool) -> None:
    assert matches(flt, "change", CHANGE) is change
    assert matches(flt, "alert", ALERT) is alert


# --- a real HTTP receiver --------------------------------------------------------------------------------


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    with serve_receiver() as rec:
        yield rec


def event(offset: int = 7, record: dict[str, Any] | None = None) -> StreamEvent:
    return StreamEvent("change", "customer.changes", 0, offset, 1700000000000, "G1", record or CHANGE)


def dispatcher(store: WebhookStore, letters: list[DeadLetter], **cfg: Any) -> Dispatcher:
    config = WebhookConfig(backoff_initial_s=0.01, backoff_max_s=0.05, max_attempts=3, allow_targets=["127.0.0.1"],
                           **cfg)
    return Dispatcher(store, config, letters.append)


def test_delivery_retries_5xx_then_succeeds_with_a_valid_signature(tmp_path: Path, receiver: Receiver) -> None:
    receiver.script = [500, 500, 200]
    store = WebhookStore(tmp_path / "hooks.json")
    sub = store.add(SubscriptionIn(url=receiver.url, secret=SECRET, filter=EventFilter(golden_ids=("G1",))))
    letters: list[DeadLetter] = []
    d = dispatcher(store, letters)
    try:
        d.dispatch([event(7), event(8, {**CHANGE, "golden_id": "G5", "related": []})])  # the second: no match
    finally:
        d.close()
    assert letters == [] and len(receiver.requests) == 3 and d.stats["delivered"] == 1 and d.stats["retries"] == 2
    headers, body = receiver.requests[-1]
    verify_signature(SECRET, body, headers["x-crmhub-timestamp"], headers["x-crmhub-signature"])
    payload = json.loads(body)
    assert payload["id"] == headers["x-crmhub-event-id"] == "customer.changes-0-7"
    assert payload["subscription"] == sub.id == headers["x-crmhub-subscription"]
    assert payload["record"]["fields"][0]["new"] == '"FROZEN"'


def test_after_max_attempts_the_event_is_dead_lettered_with_the_reason(tmp_path: Path, receiver: Receiver) -> None:
    receiver.script = [503]
    store = WebhookStore(tmp_path / "hooks.json")
    sub = store.add(SubscriptionIn(url=receiver.url, secret=SECRET))
    letters: list[DeadLetter] = []
    d = dispatcher(store, letters)
    try:
        d.dispatch([event(7)])
    finally:
        d.close()
    assert len(receiver.requests) == 3  # max_attempts
    [letter] = letters
    assert (letter.subscription_id, letter.url, letter.attempts) == (sub.id, receiver.url, 3)
    assert "HTTP 503" in letter.reason and letter.event["offset"] == 7
    assert json.loads(letter.to_json())["event_id"] == "customer.changes-0-7"


def test_a_4xx_is_not_retried_and_a_dead_port_is(tmp_path: Path, receiver: Receiver) -> None:
    receiver.script = [410]
    store = WebhookStore(tmp_path / "hooks.json")
    store.add(SubscriptionIn(url=receiver.url, secret=SECRET))
    store.add(SubscriptionIn(url="http://127.0.0.1:1/nothing-listens", secret=SECRET))
    letters: list[DeadLetter] = []
    d = dispatcher(store, letters)
    try:
        d.dispatch([event(7)])
    finally:
        d.close()
    reasons = sorted((x.attempts, x.reason) for x in letters)
    assert len(receiver.requests) == 1
    assert reasons[0][0] == 1 and "HTTP 410" in reasons[0][1] and "not retried" in reasons[0][1]
    assert reasons[1][0] == 3 and "ConnectError" in reasons[1][1]


def test_deliveries_get_the_field_policy_of_the_subscriptions_role(tmp_path: Path, receiver: Receiver) -> None:
    store = WebhookStore(tmp_path / "hooks.json")
    store.add(SubscriptionIn(url=receiver.url, secret=SECRET), role="agent")
    store.add(SubscriptionIn(url=receiver.url, secret=SECRET), role="gone")
    letters: list[DeadLetter] = []
    config = WebhookConfig(backoff_initial_s=0.01, max_attempts=2, allow_targets=["127.0.0.1"])
    d = Dispatcher(store, config, letters.append,
                   redact=role_redactor({"agent": GatewayRole(allow=["webhooks"], hide=["credit_limit"])}))
    try:
        d.dispatch([event(7)])
    finally:
        d.close()
    [(_, body)] = receiver.requests
    assert [f["field"] for f in json.loads(body)["record"]["fields"]] == ["credit_status"]
    assert [x.reason for x in letters] == ["role 'gone' of the subscription is not configured"]


def test_subscriptions_api_and_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "hooks.json"
    app = FastAPI()
    public = TargetPolicy(resolve=lambda host, port: ["93.184.215.14"])  # every name resolves to a public address
    app.include_router(webhooks_router(WebhookStore(path), targets=public))
    with TestClient(app) as client:
        created = client.post("/webhooks", json={"url": "https://crm.example/hook",
                                                 "filter": {"kinds": ["alert"], "severities": ["critical"]}})
        assert created.status_code == 201
        sub = created.json()
        assert len(sub["secret"]) >= 32  # generated, shown once
        listed = client.get("/webhooks").json()
        assert [s["id"] for s in listed] == [sub["id"]] and "secret" not in listed[0]
        assert listed[0]["filter"]["kinds"] == ["alert"]
        assert client.post("/webhooks", json={"url": "ftp://x"}).status_code == 422
        assert client.post("/webhooks", json={"url": "https://x", "secret": "short"}).status_code == 422
        assert client.post("/webhooks", json={"url": "https://x", "filter": {"kind": ["x"]}}).status_code == 422
        # another process (the worker) sees the file
        assert [s.secret for s in WebhookStore(path).list()] == [sub["secret"]]
        assert path.stat().st_mode & 0o777 == 0o600
        assert client.delete(f"/webhooks/{sub['id']}").status_code == 204
        assert client.delete(f"/webhooks/{sub['id']}").status_code == 404
        assert client.get(f"/webhooks/{sub['id']}").status_code == 404
        assert client.get("/webhooks").json() == []
