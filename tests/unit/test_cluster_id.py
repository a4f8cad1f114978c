"""The local broker's KRaft cluster id never starts with '-' (kafka-storage would take it for an option)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from hub.kafka import local


def test_an_id_starting_with_a_dash_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    draws: Iterator[uuid.UUID] = iter([uuid.UUID(bytes=b"\xf8" + bytes(15)), uuid.UUID(bytes=b"\x10" + bytes(15))])
    monkeypatch.setattr(local.uuid, "uuid4", lambda: next(draws))
    cluster_id = local.new_cluster_id()
    assert cluster_id == "EAAAAAAAAAAAAAAAAAAAAA"  # the second draw; the first encodes to "-AAA..."
    assert len(cluster_id) == 22
