"""Pure decoding of one value in LogMiner's SQL_REDO at a position (the statement scanner is :mod:`.redo`).

A value is a quoted string (a quote doubled inside), ``NULL``, a bare number, ``Unsupported Type`` (None) or a
function call of :mod:`.literals` (``TO_DATE``, ``TO_TIMESTAMP``, ``HEXTORAW``, ``UNISTR``, ``XMLTYPE``, ..),
after any ``/* comment */``, joined with what ``||`` appends to it. ``TO_DATE`` in the session's ISO format
and ``TO_TIMESTAMP`` in ISO are decoded without a call (``datetime.fromisoformat``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.oracle_logminer.literals import (
    ISO_DATE_FORMAT,
    hextoraw,
    to_binary_double,
    to_binary_float,
    to_date,
    to_timestamp,
    to_timestamp_tz,
    unistr,
    xmltype,
)

__all__ = ["SPACE", "VALUE", "VALUE_ALTS", "RedoParseError", "concat", "decoded", "fail", "value"]


class RedoParseError(ValueError):
    """SQL_REDO that is not a DML statement of the expected shape (the row goes to the DLQ)."""


_VALUE_ALTS = (
    r"'([^']*(?:''[^']*)*)'"  # +1 quoted string, quotes doubled
    r"|(NULL)\b"  # +2
    r"|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"  # +3 bare number
    r"|TO_DATE\('([^']*)', '([^']*)'\)"  # +4 text, +5 format (the common form, decoded without a call)
    r"|TO_TIMESTAMP\('([^']*)'\)"  # +6
    r"|([A-Za-z_][A-Za-z_0-9]*)\s*\("  # +7 any other function call
    r"|(Unsupported Type)"  # +8
)
_VALUE = re.compile(_VALUE_ALTS)
_SPACE = re.compile(r"\s*")
_fromiso = datetime.fromisoformat
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "TO_DATE": to_date,
    "TO_TIMESTAMP": to_timestamp,
    "TO_TIMESTAMP_TZ": to_timestamp_tz,
    "HEXTORAW": hextoraw,
    "UNISTR": unistr,
    "EMPTY_CLOB": lambda: "",
    "EMPTY_BLOB": lambda: b"",
    "TO_DSINTERVAL": lambda text: text,
    "TO_YMINTERVAL": lambda text: text,
    "TO_BINARY_DOUBLE": to_binary_double,
    "TO_BINARY_FLOAT": to_binary_float,
    "XMLTYPE": xmltype,
}

def _fail(sql: str, pos: int, expected: str) -> RedoParseError:
    return RedoParseError(f"expected {expected} at {pos}: ...{sql[pos:pos + 30]!r}")


def _value(sql: str, pos: int) -> tuple[Any, int]:
    """The value at ``pos`` (after any ``/* comment */``), joined with what ``||`` appends to it."""
    m = _VALUE.match(sql, pos)
    while m is None and sql.startswith("/*", pos):
        end = sql.find("*/", pos + 2)
        if end < 0:
            raise _fail(sql, pos, "the end of the comment")
        pos = _SPACE.match(sql, end + 2).end()  # type: ignore[union-attr]
        m = _VALUE.match(sql, pos)
    if m is None:
        if sql[pos:pos + 4].upper() == "NULL" and not sql[pos + 4:pos + 5].isalnum():  # hand-written ``null``
            return _concat(sql, pos + 4, None)
        raise _fail(sql, pos, "a value")
    value, pos = _decoded(sql, m, 0)
    return _concat(sql, pos, value)


def _concat(sql: str, pos: int, value: Any) -> tuple[Any, int]:
    """``value || next || ..`` from ``pos`` (LogMiner splits long national strings into ``UNISTR(..) ||
    UNISTR(..)``); NULL is the empty string there, as in Oracle; text and numbers join as text."""
    while True:
        at = _SPACE.match(sql, pos).end()  # type: ignore[union-attr]
        if not sql.startswith("||", at):
            return value, pos
        more, pos = _value(sql, _SPACE.match(sql, at + 2).end())  # type: ignore[union-attr]
        if more is None:
            continue
        if value is None:
            value = more
        elif isinstance(value, bytes) and isinstance(more, bytes):
            value += more
        else:
            value = _text(value) + _text(more)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        raise RedoParseError("|| joins raw bytes with text")
    return str(value)


def _decoded(sql: str, m: re.Match[str], base: int) -> tuple[Any, int]:
    """The value matched by the ``_VALUE_ALTS`` groups of ``m`` (numbered from ``base`` + 1)."""
    kind = (m.lastindex or 0) - base
    if kind == 1:
        text = m.group(base + 1)
        return (text.replace("''", "'") if "''" in text else text), m.end()
    if kind == 5 or kind == 6:
        text = m.group(base + 4) if kind == 5 else m.group(base + 6)
        iso = len(text) == 19 or (len(text) > 20 and text[19] == "." and text[-1] != ".")
        if iso and (kind == 6 or m.group(base + 5) == ISO_DATE_FORMAT):
            try:  # the session's NLS format: C-speed parse
                return _fromiso(text), m.end()
            except ValueError:
                pass
        if kind == 5:
            return to_date(text, m.group(base + 5)), m.end()
        return to_timestamp(text), m.end()
    if kind == 3:
        try:
            return Decimal(m.group(base + 3)), m.end()
        except InvalidOperation:
            raise _fail(sql, m.start(), "a number") from None
    if kind == 7:
        return _call(sql, m.group(base + 7).upper(), m.end())
    return None, m.end()  # NULL, Unsupported Type


def _call(sql: str, name: str, pos: int) -> tuple[Any, int]:
    func = _FUNCTIONS.get(name)
    if func is None:
        raise RedoParseError(f"unsupported function {name} at {pos}")
    args: list[Any] = []
    while True:
        pos = _SPACE.match(sql, pos).end()  # type: ignore[union-attr]
        if sql[pos] == ")":
            break
        arg, pos = _value(sql, pos)
        args.append(arg)
        pos = _SPACE.match(sql, pos).end()  # type: ignore[union-attr]
        if sql[pos] == ",":
            pos += 1
        elif sql[pos] != ")":
            raise _fail(sql, pos, "',' or ')'")
    try:
        return func(*args), pos + 1
    except TypeError:
        raise RedoParseError(f"{name} with {len(args)} argument(s)") from None


VALUE_ALTS = _VALUE_ALTS
VALUE = _VALUE
SPACE = _SPACE
fail = _fail
value = _value
concat = _concat
decoded = _decoded
