"""Stream position ids (hub/gateway/positions.py) and the start plan of a resuming client; the 400 on a bad id."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.gateway.policy import FieldPolicy
from hub.gateway.positions import Gap, PositionIdError, decode_id, encode_id, plan_start
from hub.gateway.stream import EventFilter, filter_from_query, matches, policy_redact, sse_frame, stream_router
from hub.kafka.clients import KafkaSettings


@pytest.mark.parametrize("positions", [
    {},
    {("c", 0): 0},
    {("c", 0): 12, ("c", 1): 5, ("a", 0): 3},
    {("a", 2): 9_223_372_036_854_775_807, ("c", 0): 1},  # sparse: partitions 0 and 1 of 'a' unknown
])
def test_round_trip(positions: dict[tuple[str, int], int]) -> None:
    text = encode_id(positions)
    assert re.fullmatch(r"[0-9a-z._-]+", text)  # URL-safe, no escaping needed in a query string
    assert decode_id(text) == positions


def test_format_is_compact_and_stable() -> None:
    assert encode_id({("c", 1): 5, ("a", 0): 3, ("c", 0): 12}) == "1.a3.c12-5"
    assert encode_id({("a", 2): 7}) == "1.a_-_-7"
    assert encode_id({}) == "1"


@pytest.mark.parametrize(("text", "says"), [
    ("", "empty"),
    ("2.c1", "version"),
    ("c12", "version"),
    ("1.c", "bad group"),
    ("1.C12", "bad group"),
    ("1.c12-", "bad group"),
    ("1.c-1", "bad group"),
    ("1.cx", "bad group"),
    ("1.c1.c2", "twice"),
    ("1.c" + "9" * 20, "bad group"),
    ("1." + "c1-" * 2000 + "1", "longer"),
])
def test_malformed_ids_are_rejected_with_a_reason(text: str, says: str) -> None:
    with pytest.raises(PositionIdError, match=says):
        decode_id(text)


def test_encode_rejects_bad_keys_and_negative_offsets() -> None:
    with pytest.raises(ValueError, match="one lowercase letter"):
        encode_id({("changes", 0): 1})
    with pytest.raises(ValueError, match="negative"):
        encode_id({("c", 0): -1})


def test_plan_start_resumes_exactly_when_retained() -> None:
    earliest = {("c", 0): 0, ("c", 1): 0}
    latest = {("c", 0): 10, ("c", 1): 4}
    start, gaps = plan_start({("c", 0): 7, ("c", 1): 4}, earliest, latest)
    assert start == {("c", 0): 7, ("c", 1): 4} and gaps == []


def test_plan_start_reports_a_retention_gap_and_continues_at_earliest() -> None:
    start, gaps = plan_start({("c", 0): 2, ("c", 1): 6}, {("c", 0): 5, ("c", 1): 0}, {("c", 0): 9, ("c", 1): 8})
    assert start == {("c", 0): 5, ("c", 1): 6}
    assert gaps == [Gap("c", 0, requested=2, earliest=5, latest=9, resume=5, reason="retention")]


def test_plan_start_past_the_end_means_a_recreated_topic() -> None:
    start, gaps = plan_start({("a", 0): 50}, {("a", 0): 0}, {("a", 0): 3})
    assert start == {("a", 0): 3}
    assert [(g.reason, g.resume) for g in gaps] == [("ahead", 3)]


def test_plan_start_for_partitions_the_id_does_not_name() -> None:
    earliest = {("c", 0): 1, ("c", 1): 1, ("a", 0): 2}
    latest = {("c", 0): 9, ("c", 1): 9, ("a", 0): 8}
    # no id: the end, or everything retained with from=earliest
    assert plan_start({}, earliest, latest)[0] == latest
    assert plan_start({}, earliest, latest, from_earliest=True)[0] == earliest
    # the id names topic c but not its partition 1 (added since): read it whole; topic a not named: the end
    start, gaps = plan_start({("c", 0): 4, ("x", 0): 3}, earliest, latest)
    assert start == {("c", 0): 4, ("c", 1): 1, ("a", 0): 8} and gaps == []


def test_filter_from_query_and_matching() -> None:
    flt = filter_from_query(["alerts"], ["G1,G2"], ["AGT07"], None, ["Critical"], None)
    assert flt == EventFilter(kinds=("alert",), golden_ids=("G1", "G2"), agents=("AGT07",), severities=("Critical",))
    alert = {"golden_id": "G2", "agent": "AGT07", "rule": "credit-frozen", "severity": "critical"}
    assert matches(flt, "alert", alert)
    assert not matches(flt, "alert", {**alert, "agent": "AGT01"})
    assert not matches(flt, "change", {"golden_id": "G2", "fields": []})  # kind not asked for
    with pytest.raises(ValueError, match="unknown kind"):
        filter_from_query(["orders"])


def test_sse_frame_layout() -> None:
    assert sse_frame(event="change", data={"a": "x\ny"}, event_id="1.c3") == \
        'event: change\ndata: {"a":"x\\ny"}\nid: 1.c3\n\n'
    assert sse_frame(comment="keep-alive") == ": keep-alive\n\n"


def test_stream_answers_400_for_a_malformed_last_event_id() -> None:
    # no broker is contacted: the id is checked before a consumer is made
    app = FastAPI()
    app.include_router(stream_router(KafkaSettings(bootstrap_servers="127.0.0.1:1"), serde=None))  # type: ignore[arg-type]
    with TestClient(app) as client:
        resp = client.get("/stream", headers={"Last-Event-ID": "1.c12-x"})
        assert resp.status_code == 400 and "bad group" in resp.json()["detail"]
        resp = client.get("/stream", params={"last_event_id": "7.c1"})
        assert resp.status_code == 400 and "version" in resp.json()["detail"]
        assert client.get("/stream", params={"kind": "orders"}).status_code == 400


def test_policy_redact_applies_the_callers_field_policy_before_filtering() -> None:
    change = {"golden_id": "G1", "fields": [{"field": "credit_limit", "old": "1", "new": "2"},
                                            {"field": "tax_id", "old": None, "new": '"DE123456789"'}]}
    principal = SimpleNamespace(policy=FieldPolicy(masked=frozenset({"tax_id"}), hidden=frozenset({"credit_limit"})))
    seen = policy_redact(principal, "change", change)
    assert seen["fields"] == [{"field": "tax_id", "old": None, "new": '"****6789"'}]
    assert not matches(EventFilter(fields=("credit_limit",)), "change", seen)  # a hidden field cannot be probed
    assert policy_redact(None, "change", change) is change  # no auth, no policy
