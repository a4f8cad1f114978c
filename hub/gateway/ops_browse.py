"""What the dashboard's topic and message browser and its schema view read, read-only and bounded.

Pure: :func:`decode_payload` (a message key or value as the browser shows it: Avro in the Confluent wire format
decoded through the registry, else JSON, text or hex), :func:`key_matches` (a decoded key against the key an
operator typed), :func:`schema_fields` and :func:`schema_diff` (two Avro schemas compared field by field, and
line by line). Kafka: :func:`topic_list` (partitions with their first and end offsets) and
:func:`read_messages` (at most :data:`MAX_MESSAGES` from an offset, or the newest matches of a key among at
most :data:`MAX_SCAN` messages per partition), each within a few seconds, with a consumer of no group.
"""

from __future__ import annotations

import base64
import difflib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dtime
from decimal import Decimal
from typing import Any

from hub.kafka.clients import Admin, Consumer, KafkaSettings, Message

MAX_MESSAGES = 50
MAX_SCAN = 2000
READ_TIMEOUT_S = 5.0


def json_safe(value: Any) -> Any:
    """A decoded Avro value as JSON: decimals exact as text, dates and times ISO, bytes base64."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | dtime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def decode_payload(data: bytes | None, deserialize: Callable[[bytes], object]) -> dict[str, Any]:
    """``{"format", "value"}`` (and ``schema_id`` for Avro) of a message key or value: ``avro`` when it starts
    with the wire format's magic byte and ``deserialize`` reads it, else ``json``, ``text`` or ``bytes`` (hex);
    ``null`` for a tombstone or a missing key."""
    if data is None:
        return {"format": "null", "value": None}
    if len(data) >= 5 and data[0] == 0:
        try:
            return {"format": "avro", "schema_id": int.from_bytes(data[1:5], "big"),
                    "value": json_safe(deserialize(data))}
        except Exception:  # not Avro after all, or an unknown schema id: shown as it is below
            pass
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {"format": "bytes", "value": data.hex()}
    try:
        return {"format": "json", "value": json.loads(text)}
    except ValueError:
        return {"format": "text", "value": text}


def key_matches(decoded: Mapping[str, Any], wanted: str) -> bool:
    """Whether a decoded key is the one typed: its text, its JSON, the value of a one-field record, or
    ``field=value`` pairs separated by commas (every pair must hold)."""
    value = decoded.get("value")
    wanted = wanted.strip()
    if value is None:
        return False
    if not isinstance(value, Mapping):
        return str(value) == wanted or json.dumps(value) == wanted
    if json.dumps(value, separators=(",", ":")) == wanted.replace(" ", ""):
        return True
    if len(value) == 1 and str(next(iter(value.values()))) == wanted:
        return True
    pairs = [p.split("=", 1) for p in wanted.split(",") if "=" in p]
    return bool(pairs) and all(str(value.get(k.strip())) == v.strip() for k, v in pairs)


# --- schemas -------------------------------------------------------------------------------------------------

def _type_text(t: Any) -> str:
    if isinstance(t, list):
        return " | ".join(_type_text(b) for b in t)
    if isinstance(t, Mapping):
        if t.get("type") in ("record", "enum", "fixed"):
            return str(t.get("name"))
        if t.get("logicalType"):
            extra = f"({t['precision']},{t.get('scale', 0)})" if "precision" in t else ""
            return f"{t['logicalType']}{extra}"
        if t.get("type") == "array":
            return f"array<{_type_text(t.get('items'))}>"
        if t.get("type") == "map":
            return f"map<{_type_text(t.get('values'))}>"
        return _type_text(t.get("type"))
    return str(t)


def schema_fields(schema: Any, prefix: str = "", seen: frozenset[str] = frozenset()) -> dict[str, str]:
    """Every field of an Avro schema by its dotted path (records inside unions and arrays too), with its type
    and default as text: ``{"after.CRSTAT": "null | string = null"}``."""
    out: dict[str, str] = {}
    branches = schema if isinstance(schema, list) else [schema]
    for node in branches:
        if isinstance(node, Mapping) and node.get("type") == "array":
            out.update(schema_fields(node.get("items"), prefix, seen))
        if not (isinstance(node, Mapping) and node.get("type") == "record") or str(node.get("name")) in seen:
            continue
        inner = seen | {str(node.get("name"))}
        for f in node.get("fields", []):
            path = f"{prefix}{f['name']}"
            out[path] = _type_text(f["type"]) + (f" = {json.dumps(f['default'])}" if "default" in f else "")
            out.update(schema_fields(f["type"], path + ".", inner))
    return out


@dataclass(frozen=True, slots=True)
class FieldChange:
    path: str
    change: str  # added | removed | changed
    old: str | None
    new: str | None


def schema_diff(old: Any, new: Any) -> tuple[list[FieldChange], list[str]]:
    """Field changes from ``old`` to ``new`` (sorted by path), and a unified diff of both pretty-printed."""
    a, b = schema_fields(old), schema_fields(new)
    changes = [FieldChange(p, "added" if p not in a else "removed" if p not in b else "changed", a.get(p), b.get(p))
               for p in sorted(a.keys() | b.keys()) if a.get(p) != b.get(p)]
    lines = list(difflib.unified_diff(json.dumps(old, indent=2).splitlines(), json.dumps(new, indent=2).splitlines(),
                                      "old", "new", lineterm=""))
    return changes, lines


# --- Kafka ---------------------------------------------------------------------------------------------------

def topic_list(settings: KafkaSettings) -> list[dict[str, Any]]:
    """Every topic (internal ones left out) with its partitions' first and end offsets."""
    admin = Admin(settings)
    try:
        names = [t for t in admin.list_topics() if not t.startswith("__")]
        bounds = admin.bounds(names)
    finally:
        admin.close()
    by_topic: dict[str, list[tuple[int, int, int]]] = {t: [] for t in names}
    for (t, p), (first, end) in sorted(bounds.items()):
        by_topic[t].append((p, first, end))
    return [{"topic": t, "partitions": [{"partition": p, "earliest": first, "end": end} for p, first, end in parts],
             "messages": sum(end - first for _, first, end in parts)}
            for t, parts in sorted(by_topic.items())]


def _bounds(settings: KafkaSettings, topic: str) -> dict[int, tuple[int, int]]:
    admin = Admin(settings)
    try:
        return {p: bounds for (_, p), bounds in admin.bounds([topic]).items()}
    finally:
        admin.close()


def _read(consumer: Consumer, topic: str, ranges: dict[int, tuple[int, int]], keep: Callable[[Message], bool],
          deadline: float) -> list[Message]:
    """The messages of ``ranges`` (partition -> [from, to)) that ``keep`` keeps, until ``deadline``."""
    out: list[Message] = []
    left = {p: r for p, r in ranges.items() if r[0] < r[1]}
    if not left:
        return out
    consumer.assign(topic, sorted(left), from_beginning=False)
    for p, (start, _) in left.items():
        consumer.seek(topic, p, start)
    while left and time.monotonic() < deadline:
        for m in consumer.poll(timeout_ms=200):
            r = left.get(m.partition)
            if r is None or m.offset >= r[1]:
                continue
            if keep(m):
                out.append(m)
            if m.offset + 1 >= r[1]:
                del left[m.partition]
    return out


def read_messages(settings: KafkaSettings, topic: str, *, partition: int | None = None, offset: int | None = None,
                  key: str | None = None, decode_key: Callable[[bytes | None], dict[str, Any]] | None = None,
                  limit: int = 10, timeout_s: float = READ_TIMEOUT_S) -> list[Message]:
    """From ``offset`` of ``partition`` (default: the newest ``limit``): up to ``limit`` messages. With ``key``:
    the newest ``limit`` messages whose key ``decode_key`` decodes to it, among the newest :data:`MAX_SCAN` of
    each partition (or of ``partition``)."""
    limit = max(1, min(limit, MAX_MESSAGES))
    deadline = time.monotonic() + timeout_s
    bounds = _bounds(settings, topic)
    if partition is not None:
        bounds = {p: b for p, b in bounds.items() if p == partition}
    if key is not None:
        window = {p: (max(lo, hi - MAX_SCAN), hi) for p, (lo, hi) in bounds.items()}
        decode = decode_key or (lambda data: decode_payload(data, lambda _: None))
        keep: Callable[[Message], bool] = lambda m: key_matches(decode(m.key), key)  # noqa: E731
    else:
        window = {p: ((max(lo, offset) if offset is not None else max(lo, hi - limit)), hi)
                  for p, (lo, hi) in bounds.items()}
        window = {p: (start, min(hi, start + limit)) for p, (start, hi) in window.items()}
        keep = lambda _m: True  # noqa: E731
    consumer = Consumer(settings, None)
    try:
        found = _read(consumer, topic, window, keep, deadline)
    finally:
        consumer.close()
    if key is not None:
        found.sort(key=lambda m: (m.timestamp_ms, m.partition, m.offset))
        return found[-limit:]
    found.sort(key=lambda m: (m.partition, m.offset))
    return found[:limit]
