"""Stream positions as SSE event ids: pure encode/decode and the start plan of a (re)connecting client.

A position maps ``(topic key, partition)`` to the next offset to read. Topic keys are one lowercase letter
(``c`` = the changes topic, ``a`` = the alerts topic), so ids stay short and do not depend on topic names.

Id format (version 1), URL-safe, only ``[0-9a-z.-]``::

    1.c12-5.a3        changes: partition 0 -> offset 12, partition 1 -> offset 5; alerts: partition 0 -> 3
    1.c12-_-7         a partition whose position is unknown (never seen) is written ``_``

``1`` is the format version; each ``.``-separated group is a topic key followed by the next offsets of its
partitions 0, 1, 2, ... joined by ``-``. Topics and partitions are written in a fixed order, so equal
positions give equal ids.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

Positions = dict[tuple[str, int], int]
VERSION = "1"
MAX_ID_LENGTH = 4096
_GROUP = re.compile(r"^([a-z])((?:\d{1,19}|_)(?:-(?:\d{1,19}|_))*)$")


class PositionIdError(ValueError):
    """A malformed position id (the stream answers 400 with this message)."""


def encode_id(positions: Mapping[tuple[str, int], int]) -> str:
    """The id of ``positions``; raises ``ValueError`` for a bad topic key or a negative offset/partition."""
    by_key: dict[str, dict[int, int]] = {}
    for (key, partition), offset in positions.items():
        if not re.fullmatch(r"[a-z]", key):
            raise ValueError(f"topic key must be one lowercase letter, not {key!r}")
        if partition < 0 or offset < 0:
            raise ValueError(f"negative partition or offset: {key}/{partition} -> {offset}")
        by_key.setdefault(key, {})[partition] = offset
    groups = []
    for key in sorted(by_key):
        parts = by_key[key]
        offsets = [str(parts[p]) if p in parts else "_" for p in range(max(parts) + 1)]
        groups.append(key + "-".join(offsets))
    return ".".join([VERSION, *groups])


def decode_id(text: str) -> Positions:
    """The positions of an id made by :func:`encode_id`; raises :class:`PositionIdError` saying what is wrong."""
    if not text:
        raise PositionIdError("empty event id")
    if len(text) > MAX_ID_LENGTH:
        raise PositionIdError(f"event id longer than {MAX_ID_LENGTH} characters")
    version, _, rest = text.partition(".")
    if version != VERSION:
        raise PositionIdError(f"event id {_short(text)!r}: unknown format version {version[:10]!r} (expected "
                              f"{VERSION!r}, e.g. '1.c12-5.a3')")
    positions: Positions = {}
    seen: set[str] = set()
    for group in rest.split(".") if rest else ():
        match = _GROUP.match(group)
        if match is None:
            raise PositionIdError(f"event id {_short(text)!r}: bad group {_short(group)!r} (expected a topic "
                                  "letter then offsets joined by '-', e.g. 'c12-5')")
        key, offsets = match.group(1), match.group(2)
        if key in seen:
            raise PositionIdError(f"event id {_short(text)!r}: topic key {key!r} appears twice")
        seen.add(key)
        for partition, offset in enumerate(offsets.split("-")):
            if offset != "_":
                positions[(key, partition)] = int(offset)
    return positions


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True, slots=True)
class Gap:
    """A partition whose requested position is not available: ``requested`` was deleted (below ``earliest``,
    reason ``retention``) or is past the end (``ahead``: the topic was recreated); reading goes on at ``resume``."""

    key: str
    partition: int
    requested: int
    earliest: int
    latest: int
    resume: int
    reason: str


def plan_start(requested: Mapping[tuple[str, int], int], earliest: Mapping[tuple[str, int], int],
               latest: Mapping[tuple[str, int], int], *, from_earliest: bool = False) -> tuple[Positions, list[Gap]]:
    """Where to start reading each partition of ``earliest`` (the partitions streamed), and the gaps.

    A partition in ``requested`` starts there when that offset is still retained (``earliest <= requested <=
    latest``); below ``earliest`` it starts at ``earliest`` and above ``latest`` at ``latest``, each reported
    as a :class:`Gap`. A partition not in ``requested`` starts at ``earliest`` if ``from_earliest`` (or if
    the id named other partitions of its topic: a partition added since then is read whole), else at
    ``latest``. Partitions in ``requested`` but not streamed are ignored."""
    start: Positions = {}
    gaps: list[Gap] = []
    keys_named = {key for key, _ in requested}
    for tp in sorted(earliest):
        first, end = earliest[tp], latest.get(tp, earliest[tp])
        want = requested.get(tp)
        if want is None:
            start[tp] = first if from_earliest or tp[0] in keys_named else end
        elif want < first:
            start[tp] = first
            gaps.append(Gap(tp[0], tp[1], want, first, end, first, "retention"))
        elif want > end:
            start[tp] = end
            gaps.append(Gap(tp[0], tp[1], want, first, end, end, "ahead"))
        else:
            start[tp] = want
    return start, gaps
