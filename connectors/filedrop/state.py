"""The file-drop connector's JSON-safe state (the file being delivered) and where it stands for source lag.

Delivered files leave the drop folder (archived), so what is not yet captured is exactly what still waits
there: the source lag of a feed is the age of its oldest waiting file. :func:`folder_heads` gives each
feed's head as the folder is read now (``ts`` = now, ``file`` = its newest waiting file);
:func:`oldest_waiting` where the saved state stands (``ts`` = the modification time of the oldest file still
waiting, the ``record`` reached when the state is delivering that file; ``ts`` = now when nothing waits).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import structlog

from connectors.base import State
from connectors.filedrop.config import Feed

log = structlog.get_logger(__name__)

__all__ = ["Cursor", "folder_heads", "load_cursor", "make_state", "oldest_waiting", "waiting_by_feed"]

Waiting = Mapping[str, Sequence[tuple[int, str]]]
"""Feed name -> the ``(mtime_ns, file name)`` of its files in the drop folder, oldest first."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Delivery progress of one file: ``items`` outputs (events + dead rows) acknowledged, up to ``record``."""

    name: str
    sha256: str
    feed: str
    items: int = 0
    record: int = 0
    done: bool = False


def make_state(cursor: Cursor | None = None) -> State:
    """The connector's state: ``{"v": 1, "file": None | {name, sha256, feed, items, record, done}}``."""
    return {"v": 1, "file": None if cursor is None else asdict(cursor)}


def load_cursor(state: Mapping[str, object] | None) -> Cursor | None:
    raw = (state or {}).get("file")
    if not isinstance(raw, Mapping):
        return None
    try:
        return Cursor(str(raw["name"]), str(raw["sha256"]), str(raw["feed"]), int(raw["items"]),
                      int(raw.get("record", 0)), bool(raw.get("done", False)))  # fmt: skip
    except (KeyError, TypeError, ValueError):
        log.warning("filedrop.state_ignored", state=dict(raw))
        return None


def waiting_by_feed(files: Iterable[tuple[str, int]], feeds: Sequence[Feed]) -> dict[str, list[tuple[int, str]]]:
    """The drop folder's files (``(name, mtime_ns)``) by the feed that takes each (the first whose pattern
    matches, case-insensitively), oldest first; every feed is present, files no feed takes are left out."""
    out: dict[str, list[tuple[int, str]]] = {f.name: [] for f in feeds}
    for name, mtime_ns in files:
        feed = next((f for f in feeds if fnmatch.fnmatchcase(name.lower(), f.pattern.lower())), None)
        if feed is not None:
            out[feed.name].append((mtime_ns, name))
    return {feed: sorted(found) for feed, found in out.items()}


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def folder_heads(waiting: Waiting, now: float) -> list[dict[str, str]]:
    """Each feed's head: the folder as read at ``now`` (epoch seconds), with its newest waiting file."""
    heads = []
    for feed, files in waiting.items():
        head = {"table": feed, "ts": _iso(now)}
        if files:
            head["file"] = files[-1][1]
        heads.append(head)
    return heads


def oldest_waiting(waiting: Waiting, cursor: Cursor | None, now: float) -> dict[str, dict[str, str]]:
    """Per feed, where the saved state stands: at its oldest waiting file's modification time (with the
    ``record`` the state reached when it is delivering that file), or at ``now`` when no file waits."""
    out: dict[str, dict[str, str]] = {}
    for feed, files in waiting.items():
        if not files:
            out[feed] = {"table": feed, "ts": _iso(now)}
            continue
        mtime_ns, name = files[0]
        out[feed] = {"table": feed, "ts": _iso(mtime_ns / 1e9), "file": name}
        if cursor is not None and cursor.name == name and not cursor.done:
            out[feed]["record"] = str(cursor.record)
    return out
