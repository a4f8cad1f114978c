"""Dead letters in one shape, wherever they wait: parsing, ids, filters and the top reasons. Pure.

A dead letter is a JSON message on a ``dlq.*`` topic, or an outbox row of the golden-record store bound for
one (``crmhub load`` writes them there; the hub publishes them later). Three writers, three bodies:

- a record a mapping target rejected (``dlq.<pipeline>``, :meth:`pipelines.canonicalize.Rejected.to_json`):
  ``source``, ``table``, ``source_key``, ``rule``, ``reason``, ``values``, the ``original`` change event;
- a source row its connector could not read (``dlq.<connector>``): ``connector``, ``table``, ``reason``,
  ``position``, ``record``; its rule is shown as ``dead-row``;
- a change event the pipeline could not decode: ``rule: decode``, ``topic``, ``partition``, ``offset``.

Ids: ``outbox/<row id>`` for an outbox row, ``<topic>/<partition>/<offset>`` for a message (Kafka topic names
have no ``/``).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

OUTBOX: Final = "outbox"
TOPIC: Final = "topic"
DEAD_ROW: Final = "dead-row"
DLQ_PREFIX: Final = "dlq."


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: str
    where: str  # outbox | topic
    topic: str
    source: str
    table: str
    key: str
    rule: str
    reason: str
    body: Any  # the JSON body as written (or {"value_hex": ...} when it is not JSON)


def outbox_id(row_id: int) -> str:
    return f"{OUTBOX}/{row_id}"


def topic_id(topic: str, partition: int, offset: int) -> str:
    return f"{topic}/{partition}/{offset}"


@dataclass(frozen=True, slots=True)
class Ident:
    """A parsed id: an outbox row (``row``) or a message (``topic``, ``partition``, ``offset``)."""

    where: str
    row: int = 0
    topic: str = ""
    partition: int = 0
    offset: int = 0


def parse_id(text: str) -> Ident:
    """``outbox/17`` or ``dlq.canon/0/42``; ``ValueError`` says what an id looks like."""
    parts = text.strip().split("/")
    try:
        if len(parts) == 2 and parts[0] == OUTBOX:
            return Ident(OUTBOX, row=int(parts[1]))
        if len(parts) == 3 and parts[0]:
            return Ident(TOPIC, topic=parts[0], partition=int(parts[1]), offset=int(parts[2]))
    except ValueError:
        pass
    raise ValueError(f"'{text}' is not a dead-letter id (outbox/ROW or TOPIC/PARTITION/OFFSET, as `dlq list` shows)")


def decode_body(value: bytes | str | None) -> Any:
    """A message value as JSON; a value that is not JSON as ``{"value_hex": ...}``."""
    if value is None:
        return {}
    try:
        return json.loads(value)
    except (ValueError, UnicodeDecodeError):
        raw = value.encode() if isinstance(value, str) else value
        return {"value_hex": raw.hex()}


def parse(where: str, ident: str, topic: str, key: str | None, body: Any) -> DeadLetter:
    """One dead letter from its body, whichever writer wrote it."""
    b: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    reason = str(b.get("reason") or "(no reason given)")
    if "connector" in b and "record" in b:  # a row its connector could not read
        position = b.get("position") or {}
        shown = ",".join(f"{k}={v}" for k, v in position.items()) if isinstance(position, Mapping) else ""
        return DeadLetter(ident, where, topic, str(b["connector"]), str(b.get("table") or ""), shown, DEAD_ROW,
                          reason, body)
    source, table = str(b.get("source") or ""), str(b.get("table") or "")
    if not source and str(b.get("topic") or "").startswith("src."):  # an undecodable change event
        parts = str(b["topic"]).split(".", 2)
        source, table = parts[1], parts[2] if len(parts) > 2 else ""
    return DeadLetter(ident, where, topic, source, table, str(b.get("source_key") or key or ""),
                      str(b.get("rule") or "-"), reason, body)


# --- filtering and summarising -------------------------------------------------------------------------------

def matches(letter: DeadLetter, source: str | None = None, table: str | None = None,
            rule: str | None = None) -> bool:
    """Whether ``letter`` passes the filters: source exact, table case-insensitive, rule exact or by its
    kind (``transform`` matches ``transform:email``)."""
    if source is not None and letter.source != source:
        return False
    if table is not None and letter.table.casefold() != table.casefold():
        return False
    return rule is None or letter.rule == rule or letter.rule.split(":", 1)[0] == rule


def select(letters: Iterable[DeadLetter], source: str | None = None, table: str | None = None,
           rule: str | None = None) -> list[DeadLetter]:
    return [x for x in letters if matches(x, source, table, rule)]


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")


def reason_pattern(reason: str) -> str:
    """A reason with its values masked (quoted text as ``'…'``, numbers as ``#``), so that one problem with
    different values counts as one reason: ``birth_date: yyyymmdd: '…' is not a valid date``."""
    return _NUMBER.sub("#", _QUOTED.sub("'…'", reason))


def count_reasons(letters: Iterable[DeadLetter]) -> Counter[tuple[str, str]]:
    return Counter((x.rule, reason_pattern(x.reason)) for x in letters)


def top_reasons(counts: Counter[tuple[str, str]], n: int = 5) -> list[tuple[int, str, str]]:
    """The ``n`` most frequent ``(rule, reason)`` as ``(count, rule, reason)``; ties in rule/reason order."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [(count, rule, reason) for (rule, reason), count in ranked[:n]]
