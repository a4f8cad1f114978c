"""Decoding change events from ``src.*`` topics: Avro through the registry, then back to source column names."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hub.registry.serde import AvroSerde, FirstSeen
from schemas.avro_gen import renames_from_schema
from schemas.envelope import ChangeEvent, from_avro
from schemas.errors import SkippableError


def _as_map(datum: object) -> Mapping[str, Any]:
    if type(datum) is not dict and not isinstance(datum, Mapping):
        raise SkippableError(f"expected an Avro record, got {type(datum).__name__}", record=datum)
    return datum


class ChangeDecoder:
    """Wire-format key + value → :class:`ChangeEvent`, with the column renames of each writer schema cached,
    and the decoded keys while they are among the ``key_limit`` most recently first seen (a source row
    changes again and again; :func:`~schemas.envelope.from_avro` copies the key, so one datum serves all)."""

    def __init__(self, serde: AvroSerde, key_limit: int = 65536) -> None:
        self.serde = serde
        self._renames: dict[int, dict[str, str]] = {}
        self._keys: FirstSeen[bytes, Mapping[str, Any]] = FirstSeen(self._decode_key, key_limit)

    def _renames_for(self, value: bytes) -> dict[str, str]:
        sid = int.from_bytes(value[1:5], "big")
        if sid not in self._renames:
            self._renames[sid] = renames_from_schema(json.loads(self.serde.client.get_by_id(sid)))
        return self._renames[sid]

    def _decode_key(self, key: bytes) -> Mapping[str, Any]:
        return _as_map(self.serde.deserialize(key))

    def _key(self, key: bytes) -> Mapping[str, Any]:
        # a bytearray or memoryview is no dict key
        return self._keys(key) if type(key) is bytes else self._decode_key(key)

    def decode(self, key: bytes, value: bytes) -> ChangeEvent:
        return from_avro(self._key(key), _as_map(self.serde.deserialize(value)), self._renames_for(value))
