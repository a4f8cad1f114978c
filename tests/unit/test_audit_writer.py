"""The gateway's audit log off the request path: the batching writer, its full-queue behaviour (503, counted,
logged), flush on close; and the token cache's refresh."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from hub.config import HubConfig, validate_config_text
from hub.gateway.app import close_gateway_app, create_gateway_app
from hub.gateway.audit import read_audit, strip_token
from hub.gateway.audit_writer import AuditEntry, AuditWriter, insert_entries
from hub.gateway.auth import Principal, require
from hub.gateway.tokens import TokenRegistry, create_token, revoke_token
from pipelines.store.engine import Store
from pipelines.unify.engine import Unifier
from tests.unify_helpers import event, golden_of, person


def entry(i: int, **kw: Any) -> AuditEntry:
    return AuditEntry(**{"token_name": f"app-{i % 3}", "role": "agent", "method": "GET", "path": f"/customers/G{i}",
                         "query": None, "status": 200, "golden_ids": [f"G{i}"], **kw})


def rows(store: Store, limit: int = 10_000) -> list[dict[str, Any]]:
    with store.read() as conn:
        return read_audit(conn, limit=limit)


def counter(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


class BlockingWrite:
    """A batch insert that waits for ``release`` (the store is slow or down), then writes for real."""

    def __init__(self, store: Store) -> None:
        self.store, self.entered, self.release = store, threading.Event(), threading.Event()

    def __call__(self, entries: list[AuditEntry]) -> None:
        self.entered.set()
        assert self.release.wait(10)
        insert_entries(self.store, entries)


# --- the writer ---------------------------------------------------------------------------------------------------


def test_close_writes_every_queued_entry(store: Store) -> None:
    writer = AuditWriter(store, batch_rows=7, interval_s=30.0)  # nothing would be written for 30 s but for close()
    before = counter("crmhub_gateway_audit_written_total")
    for i in range(50):
        assert writer.offer(entry(i, query="name=x" if i == 3 else None))
    assert writer.pending == 50
    assert writer.close(timeout=10)
    written = rows(store)
    assert len(written) == 50 and writer.written == 50 and writer.pending == 0
    assert sorted(r["path"] for r in written) == sorted(f"/customers/G{i}" for i in range(50))
    g3 = next(r for r in written if r["path"] == "/customers/G3")
    assert (g3["token_name"], g3["role"], g3["method"], g3["status"], g3["query"], g3["golden_ids"]) == (
        "app-0", "agent", "GET", 200, "name=x", ["G3"]) and g3["ts_ms"] > 0
    assert counter("crmhub_gateway_audit_written_total") - before == 50
    assert not writer.offer(entry(99)) and not writer.submit(entry(99))  # closed: nothing more is accepted


def test_rows_are_batched_and_flush_waits_for_them(store: Store) -> None:
    batches: list[int] = []

    def write(entries: list[AuditEntry]) -> None:
        batches.append(len(entries))
        insert_entries(store, entries)

    writer = AuditWriter(store, batch_rows=500, interval_s=30.0, write=write)
    for i in range(120):
        writer.offer(entry(i))
    assert writer.flush(timeout=10) and len(rows(store)) == 120
    assert batches == [120]  # one transaction for all of them
    writer.close()


def test_a_failing_store_is_retried_without_losing_rows(store: Store) -> None:
    failures = [2]

    def flaky(entries: list[AuditEntry]) -> None:
        if failures[0]:
            failures[0] -= 1
            raise RuntimeError("database is locked")
        insert_entries(store, entries)

    writer = AuditWriter(store, interval_s=0.0, write=flaky)
    errors = counter("crmhub_gateway_audit_write_errors_total")
    for i in range(5):
        writer.offer(entry(i))
    assert writer.flush(timeout=10)
    assert len(rows(store)) == 5 and counter("crmhub_gateway_audit_write_errors_total") - errors == 2
    writer.close()


def test_full_queue_refuses_counts_and_logs(store: Store) -> None:
    blocking = BlockingWrite(store)
    writer = AuditWriter(store, max_rows=3, interval_s=0.0, block_s=0.05, write=blocking)
    refused = counter("crmhub_gateway_audit_rejected_total")
    assert writer.submit(entry(0))
    assert blocking.entered.wait(5)  # entry 0 is being written (slowly); the queue holds 3 more
    assert all(writer.submit(entry(i)) for i in (1, 2, 3))
    assert not writer.offer(entry(4))  # offer never waits and does not count
    with structlog.testing.capture_logs() as logs:
        started = time.monotonic()
        assert not writer.submit(entry(5))  # waited block_s for room, then refused
        assert time.monotonic() - started >= 0.04
    assert writer.rejected == 1 and counter("crmhub_gateway_audit_rejected_total") - refused == 1
    assert [e["event"] for e in logs] == ["gateway.audit_queue_full"] and logs[0]["refused"] == 1
    blocking.release.set()
    assert writer.close(timeout=10)
    assert sorted(r["path"] for r in rows(store)) == [f"/customers/G{i}" for i in range(4)]


def test_close_gives_up_on_a_dead_store_and_counts_the_loss(store: Store) -> None:
    def dead(entries: list[AuditEntry]) -> None:
        raise RuntimeError("no such table: audit_log")

    writer = AuditWriter(store, interval_s=0.0, write=dead)
    lost = counter("crmhub_gateway_audit_lost_total")
    for i in range(3):
        writer.offer(entry(i))
    assert not writer.close(timeout=0.3)
    assert writer.lost == 3 and counter("crmhub_gateway_audit_lost_total") - lost == 3


def test_strip_token_however_the_name_is_encoded() -> None:
    assert strip_token("access_token=s3cret&kind=both") == "kind=both"
    assert strip_token("kind=both&access%5Ftoken=s3cret&access%5ftoken=x") == "kind=both"
    assert strip_token("access_token=s3cret") == ""


# --- the gateway app ----------------------------------------------------------------------------------------------


@pytest.fixture
def cfg(tmp_path: Path) -> HubConfig:
    return validate_config_text(f"gateway: {{tokens_file: {tmp_path / 'tokens.yaml'}}}\n"
                                f"pipelines: {{store: {{url: 'sqlite:///{tmp_path / 'store.db'}'}}}}\n")


@pytest.fixture
def john(store: Store) -> str:
    unifier = Unifier(store)
    unifier.apply([event("ibmi", "1", person("John", "Smith", "1980-01-02", "john@example.com"), 100)])
    unifier.flush(lambda records: None)
    return golden_of(store, "ibmi", "1") or ""


def test_gateway_answers_503_when_the_audit_log_cannot_keep_up(cfg: HubConfig, store: Store, john: str) -> None:
    blocking = BlockingWrite(store)
    writer = AuditWriter(store, max_rows=1, interval_s=0.0, block_s=0.05, write=blocking)
    token = create_token(cfg.gateway.tokens_file, "crm", "agent", set(cfg.gateway.effective_roles()))
    app = create_gateway_app(cfg, store, audit=writer)
    client = TestClient(app, base_url="http://localhost", headers={"Authorization": f"Bearer {token}"})
    assert client.get(f"/customers/{john}").status_code == 200  # its row is being written (slowly)
    assert blocking.entered.wait(5)
    assert client.get(f"/customers/{john}").status_code == 200  # its row waits in the queue (1 place)
    refused = client.get(f"/customers/{john}")
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert refused.json()["error"] == "service_unavailable" and "Smith" not in refused.text  # nothing disclosed
    blocking.release.set()
    close_gateway_app(app)
    assert [(r["path"], r["status"]) for r in rows(store)] == [(f"/customers/{john}", 200)] * 2
    assert writer.rejected == 1


def test_audit_rows_of_the_app_are_written_on_close(cfg: HubConfig, store: Store, john: str) -> None:
    token = create_token(cfg.gateway.tokens_file, "crm", "agent", set(cfg.gateway.effective_roles()))
    app = create_gateway_app(cfg, store, audit=AuditWriter(store, interval_s=30.0))
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(app, base_url="http://localhost", headers=auth) as client:  # runs the lifespan
        for _ in range(5):
            assert client.get(f"/customers/{john}", params={"access_token": "x", "a": "1"}).status_code == 200
        assert rows(store) == []  # queued, not yet written
    written = rows(store)
    assert len(written) == 5 and {(r["token_name"], r["query"]) for r in written} == {("crm", "a=1")}


def stream_router() -> APIRouter:
    router = APIRouter()

    @router.get("/stream")
    async def stream(principal: Principal = Depends(require("stream"))) -> StreamingResponse:
        async def events() -> AsyncIterator[bytes]:
            for i in range(3):
                yield f"id: {i}\ndata: {principal.name}\n\n".encode()

        return StreamingResponse(events(), media_type="text/event-stream")

    return router


def test_stream_token_in_the_query_is_never_audited(cfg: HubConfig, store: Store) -> None:
    token = create_token(cfg.gateway.tokens_file, "browser", "agent", set(cfg.gateway.effective_roles()))
    app = create_gateway_app(cfg, store, [stream_router()])
    client = TestClient(app, base_url="http://localhost")
    response = client.get(f"/stream?kind=both&access_token={token}")
    assert response.status_code == 200 and response.text.count("data: browser") == 3
    close_gateway_app(app)
    [row] = rows(store)
    assert (row["path"], row["query"], row["token_name"]) == ("/stream", "kind=both", "browser")
    assert token not in str(row)


def test_a_refused_stream_sends_nothing_but_the_503(cfg: HubConfig, store: Store) -> None:
    blocking = BlockingWrite(store)
    writer = AuditWriter(store, max_rows=1, interval_s=0.0, block_s=0.05, write=blocking)
    token = create_token(cfg.gateway.tokens_file, "browser", "agent", set(cfg.gateway.effective_roles()))
    app = create_gateway_app(cfg, store, [stream_router()], audit=writer)
    client = TestClient(app, base_url="http://localhost", headers={"Authorization": f"Bearer {token}"})
    assert client.get("/stream").status_code == 200
    assert blocking.entered.wait(5)
    assert client.get("/stream").status_code == 200
    refused = client.get("/stream")
    assert refused.status_code == 503 and "data:" not in refused.text
    blocking.release.set()
    close_gateway_app(app)
    assert len(rows(store)) == 2


# --- tokens ---------------------------------------------------------------------------------------------


def test_revoked_token_stops_working_after_the_cache_refresh(tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    token = create_token(path, "crm", "agent", {"agent"})
    registry = TokenRegistry(path, check_interval_s=0.3)
    checks = 0
    real_stamp = registry._current_stamp

    def counted() -> tuple[int, int, int] | None:
        nonlocal checks
        checks += 1
        return real_stamp()

    registry._current_stamp = counted  # type: ignore[method-assign]
    assert all(registry.lookup(token) is not None for _ in range(1000))
    assert checks == 1  # one file check for 1000 look-ups
    newer = create_token(path, "web", "agent", {"agent"})
    assert registry.lookup(newer) is not None  # unknown token: checked at once
    assert revoke_token(path, "crm")
    deadline = time.monotonic() + 2.0
    while registry.lookup(token) is not None:
        assert time.monotonic() < deadline, "the revoked token still works"
        time.sleep(0.05)
    assert registry.lookup(newer) is not None and registry.lookup("crmhub_guess") is None
