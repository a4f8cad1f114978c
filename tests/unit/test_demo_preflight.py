"""A demo refuses to start (and resets nothing) while another one runs on the same config."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from hub.config import load_config
from hub.demo.hub import _refuse_if_running, busy_groups
from schemas.errors import FatalError, RetriableError

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_port_in_use_is_named_and_nothing_is_reset(tmp_path: Path) -> None:
    cfg = load_config(ROOT / "config/demo.yaml", env={})
    serve = cfg.registry.serve.model_copy(update={"port": free_port()})
    cfg = cfg.model_copy(update={
        "pipelines": None,  # no consumer groups to ask the broker about
        "registry": cfg.registry.model_copy(update={"serve": serve}),
        "admin": cfg.admin.model_copy(update={"port": free_port()})})
    _refuse_if_running(cfg)  # both free: no complaint
    with socket.socket() as held:
        held.bind(("127.0.0.1", cfg.admin.port))
        held.listen()
        with pytest.raises(FatalError) as err:
            _refuse_if_running(cfg)
    assert f"admin API port 127.0.0.1:{cfg.admin.port} is in use" in str(err.value)
    assert "registry" not in str(err.value) and "nothing was reset" in str(err.value)


class _LoadingBroker:
    """An admin client of a broker started a moment ago: its group coordinator is still loading at first."""

    def __init__(self, loading_answers: int) -> None:
        self.loading = loading_answers

    def list_groups(self) -> list[str]:
        if self.loading:
            self.loading -= 1
            raise RetriableError("listing consumer groups: Kafka unreachable or busy (CoordinatorLoadInProgress)")
        return ["demo-canonicalize", "other-group"]

    def group_assignments(self, ids: list[str]) -> dict[str, tuple[str, set[tuple[str, int]]]]:
        assert ids == ["demo-canonicalize"]  # a group the broker does not list is not described
        return {"demo-canonicalize": ("Stable", {("src.ibmi.custmast", 0)})}


def test_busy_groups_waits_for_a_loading_coordinator_and_names_groups_with_members() -> None:
    broker = _LoadingBroker(loading_answers=2)
    problems = busy_groups(broker, ["demo-canonicalize", "demo-unify"], wait_s=10)  # type: ignore[arg-type]
    assert problems == ["consumer group demo-canonicalize has members (Stable)"] and broker.loading == 0
    with pytest.raises(RetriableError):  # a coordinator that never loads: the error, once the wait is over
        busy_groups(_LoadingBroker(loading_answers=1000), ["demo-unify"], wait_s=1)  # type: ignore[arg-type]
