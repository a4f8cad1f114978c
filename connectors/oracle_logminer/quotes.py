"""Pure repair of SQL_REDO whose text values carry unescaped single quotes (``relaxed_quotes``, opt-in).

With extended string sizes (``MAX_STRING_SIZE = EXTENDED``) LogMiner sometimes writes a value's own quotes
without doubling them (``values ('1',''Insert1'')`` for the text ``'Insert1'``; ``set "C" = 'j'ai'``), so
the statement no longer tokenises. Which quote ends the value cannot be known for certain; the rule is the
one Debezium's LogMiner DML parser applies behind its opt-in ``log.mining.sql.relaxed.quote.detection``: a
quote ends a value only where the statement's grammar can go on after it, otherwise it belongs to the text.

- insert values: the quote is followed by ``,`` or ``)`` (LogMiner writes no space between values);
- set clause: followed by ``, "C"`` (the next column, also ``, a."C"``) or `` where ``;
- where clause: followed by `` and "C"``, `` and ROWID``, `` or "C"``;
- anywhere: followed by ``||``, ``;`` or the end of the statement.

A doubled quote stays one quote unless its second half is followed by such a boundary (``'abc'''`` is
``abc'``; ``''Insert1'')`` is ``'Insert1'``). Literals inside function calls (``TO_DATE('..', '..')``,
``UNISTR('..')``) are never relaxed: LogMiner writes them itself. So a value whose text really contains
``',`` followed by what looks like the next column is still cut there: that is why the mode is off by default.
"""

from __future__ import annotations

import re

__all__ = ["rebalance_quotes"]

_NAME = r'(?:[A-Za-z_][A-Za-z0-9_$#]*\.)?"'
_ANYWHERE = r"|\s*\|\||\s*;?\s*$"
_INSERT_END = re.compile(r"[,)]" + _ANYWHERE)
_OTHER_END = re.compile(r", " + _NAME + r"| where | and " + _NAME + r"| and ROWID | or " + _NAME + _ANYWHERE)


def rebalance_quotes(sql: str) -> str:
    """``sql`` with every quote that is part of a text value doubled (the module docstring's rule)."""
    boundary = _INSERT_END if sql[:6].lower() == "insert" else _OTHER_END
    base = 1 if boundary is _INSERT_END else 0
    out: list[str] = []
    depth = 0
    i = 0
    n = len(sql)
    while i < n:
        c = sql[i]
        if c == '"':
            end = sql.find('"', i + 1)
            end = n - 1 if end < 0 else end
            out.append(sql[i:end + 1])
            i = end + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "'":
            i = _literal(sql, i + 1, out, boundary if depth <= base else None)
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _literal(sql: str, i: int, out: list[str], boundary: re.Pattern[str] | None) -> int:
    """Copy the literal whose text starts at ``i`` with its quotes doubled; the position after it."""
    out.append("'")
    n = len(sql)
    while i < n:
        c = sql[i]
        if c != "'":
            j = sql.find("'", i)
            j = n if j < 0 else j
            out.append(sql[i:j])
            i = j
            continue
        if boundary is None:  # strict: '' is a quote, a lone ' ends the literal
            if sql.startswith("''", i):
                out.append("''")
                i += 2
                continue
            out.append("'")
            return i + 1
        if sql.startswith("''", i) and not boundary.match(sql, i + 2):
            out.append("''")
            i += 2
        elif boundary.match(sql, i + 1):
            out.append("'")
            return i + 1
        else:
            out.append("''")
            i += 1
    out.append("'")
    return i
