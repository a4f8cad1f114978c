"""A demo refuses to start (and resets nothing) while another one runs on the same config."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from hub.config import load_config
from hub.demo_hub import _refuse_if_running
from schemas.errors import FatalError

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
