"""Decoding change events from ``src.*`` topics: Avro through the registry, then back to source column names."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hub.registry.serde import AvroSerde
from schemas.avro_gen import renames_from_schema
from schemas.envelope import ChangeEvent, from_avro
from schemas.errors import SkippableError


def _as_map(datum: object) -> Mapping[str, Any]:
    if type(datum) is not dict and not isinstance(datum, Mapping):
        raise SkippableError(f"expected an Avro record, got {type(datum).__name__}", record=datum)
    return datum


class ChangeDecoder:
    """Wire-format key + value → :class:`ChangeEvent`, with the column renames of each writer schema cached."""

    def __init__(self, serde: AvroSerde) -> None:
        self.serde = serde
        self._renames: dict[int, dict[str, str]] = {}

    def _renames_for(self, value: bytes) -> dict[str, str]:
        sid = int.from_bytes(value[1:5], "big")
        if sid not in self._renames:
            self._renames[sid] = renames_from_schema(json.loads(self.serde.client.get_by_id(sid)))
        return self._renames[sid]

    def decode(self, key: bytes, value: bytes) -> ChangeEvent:
        return from_avro(_as_map(self.serde.deserialize(key)), _as_map(self.serde.deserialize(value)),
                         self._renames_for(value))
