"""Pure, fast parsing of LogMiner's SQL_REDO for one DML row (a hand-written scanner over the string).

What LogMiner writes (lower-case keywords, quoted upper-case identifiers, one space around ``=``)::

    insert into "OWNER"."TABLE"("C1","C2") values ('a''b',NULL);
    update "OWNER"."TABLE" set "C1" = 'x', "C2" = NULL where "C1" = 'y' and "C2" IS NULL and ROWID = 'AAA...';
    delete from "OWNER"."TABLE" where "C1" = '1' and "C2" = TO_DATE('2020-01-02 03:04:05', 'YYYY-MM-DD HH24:MI:SS');

Values: quoted strings (a quote doubled inside), ``NULL`` (``= NULL`` or ``IS NULL`` in a where clause), bare
numbers (``-1.5E-3``; LogMiner quotes NUMBER values, ``'12.5'``), the functions of :mod:`.literals` (``TO_DATE``,
``TO_TIMESTAMP``, ``HEXTORAW``, ``UNISTR``, ``XMLTYPE``, ..) and ``Unsupported Type`` (None). Quoted strings stay
``str``, bare numbers become ``Decimal``: the column's type decides the final value (:mod:`.events`).

:func:`parse_redo` returns a :class:`Redo`: ``before`` from the where clause (update, delete), ``after``
from the values (insert) or the set clause merged over ``before`` (update); ``ROWID = '...'`` goes to
``rowid``, not into the images. The trailing ``;`` is optional (``NO_SQL_DELIMITER``). Keywords are also
accepted in upper case and with other spacing, unquoted names (upper-cased, as Oracle reads them), an alias in
an insert's column list and a lower-case ``null`` (a slower path), so a hand-written statement parses too.

Also taken: a table alias (``update "O"."T" a set a."C" = ..``, ``delete from "O"."T" a where ..``), ``||``
between values (joined, NULL as ''), a ``/* comment */`` before a value; ``relaxed_quotes`` retries a refused
statement after :func:`.quotes.rebalance_quotes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.oracle_logminer.literals import ISO_DATE_FORMAT, LiteralError
from connectors.oracle_logminer.quotes import rebalance_quotes
from connectors.oracle_logminer.redo_values import SPACE as _SPACE
from connectors.oracle_logminer.redo_values import VALUE as _VALUE
from connectors.oracle_logminer.redo_values import VALUE_ALTS as _VALUE_ALTS
from connectors.oracle_logminer.redo_values import RedoParseError
from connectors.oracle_logminer.redo_values import concat as _concat
from connectors.oracle_logminer.redo_values import decoded as _decoded
from connectors.oracle_logminer.redo_values import fail as _fail
from connectors.oracle_logminer.redo_values import value as _value

__all__ = ["Redo", "RedoParseError", "parse_redo"]


@dataclass(slots=True)
class Redo:
    """One parsed DML: ``op`` is ``c``, ``u`` or ``d`` (not frozen: a frozen dataclass costs 4x to build)."""

    op: str
    owner: str
    table: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    rowid: str | None = None


# a where/set term in one match: name, then IS NULL (group 2) or "= value" (groups 3-10)
_TERM = re.compile(r'"([^"]*)" (?:(IS NULL)|= (?:' + _VALUE_ALTS + "))")
_ALIASED_TERM = re.compile(r'(?:[A-Za-z_][A-Za-z0-9_$#]*\.)?"([^"]*)" (?:(IS NULL)|= (?:' + _VALUE_ALTS + "))")
_ALIAS = re.compile(r"\s+([A-Za-z_][A-Za-z0-9_$#]*)(?=\s|;|$)")  # ``update "O"."T" a set a."C" = ..``
_ALIAS_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_$#]*\.(?=[\"A-Za-z_])")
_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_$#]*")
_RESERVED = frozenset({"AND", "OR", "WHERE", "SET", "VALUES", "IS", "NULL"})
_KEYWORDS = frozenset({"set", "where"})
_COLUMNS = re.compile(r'\(\s*((?:"[^"]*"\s*,\s*)*"[^"]*")\s*\)')
_NAME = re.compile(r'"([^"]*)"')
_fromiso = datetime.fromisoformat


def parse_redo(sql: str, *, relaxed_quotes: bool = False) -> Redo:
    """The statement's operation, table and row images; ``RedoParseError`` if it is not such a DML.

    ``relaxed_quotes``: a statement refused as written is parsed again with its unescaped quotes doubled
    (:func:`.quotes.rebalance_quotes`), for the values LogMiner writes without escaping their quotes."""
    head = sql[:12].lower()
    try:
        if head.startswith("insert into "):
            return _insert(sql, 12)
        if head.startswith("update "):
            return _update(sql, 7)
        if head.startswith("delete from "):
            return _delete(sql, 12)
    except (IndexError, LiteralError, RedoParseError) as exc:
        fixed = rebalance_quotes(sql) if relaxed_quotes else sql
        if fixed != sql:
            return parse_redo(fixed)
        if isinstance(exc, RedoParseError):
            raise
        raise RedoParseError(f"{exc} in {sql[:80]!r}") from None
    raise RedoParseError(f"not an insert, update or delete: {sql[:40]!r}")


def _expect(sql: str, pos: int, token: str) -> int:
    """Position after ``token`` at ``pos`` (fast exact match, else whitespace- and case-insensitive)."""
    if sql.startswith(token, pos):
        return pos + len(token)
    pos = _SPACE.match(sql, pos).end()  # type: ignore[union-attr]
    word = token.strip()
    if sql[pos:pos + len(word)].lower() != word.lower():
        raise _fail(sql, pos, repr(word))
    return _SPACE.match(sql, pos + len(word)).end() if token.endswith(" ") else pos + len(word)  # type: ignore[union-attr]


def _ident(sql: str, pos: int) -> tuple[str, int]:
    """A quoted name, or an unquoted one (hand-written SQL), which Oracle reads in upper case."""
    if sql[pos] != '"':
        m = _BARE.match(sql, pos)
        if m is None or m.group().upper() in _RESERVED:
            raise _fail(sql, pos, "a name")
        return m.group().upper(), m.end()
    end = sql.index('"', pos + 1)
    return sql[pos + 1:end], end + 1


def _column_list(sql: str, pos: int) -> tuple[list[str], int]:
    """An insert's column list at ``pos`` the general way (a table alias, ``a."C"``, unquoted names); the
    names and the position of its ``)``."""
    alias = _ALIAS.match(sql, pos)
    if alias is not None and alias.group(1).lower() != "values":
        pos = alias.end()
    pos = _SPACE.match(sql, pos).end()  # type: ignore[union-attr]
    if not sql.startswith("(", pos):
        raise _fail(sql, pos, "a column list")
    names: list[str] = []
    while True:
        pos = _SPACE.match(sql, pos + 1).end()  # type: ignore[union-attr]
        prefix = _ALIAS_PREFIX.match(sql, pos)
        name, pos = _ident(sql, prefix.end() if prefix else pos)
        names.append(name)
        pos = _SPACE.match(sql, pos).end()  # type: ignore[union-attr]
        if sql.startswith(")", pos):
            return names, pos
        if not sql.startswith(",", pos):
            raise _fail(sql, pos, "',' or ')' in the column list")


def _table(sql: str, pos: int) -> tuple[str, str, int]:
    owner, pos = _ident(sql, pos)
    if sql[pos] != ".":
        raise _fail(sql, pos, "'.'")
    table, pos = _ident(sql, pos + 1)
    return owner, table, pos


def _at_end(sql: str, pos: int) -> bool:
    rest = sql[pos:pos + 2]
    return rest in ("", ";") or not sql[pos:].strip(" ;\n\r\t")


def _insert(sql: str, pos: int) -> Redo:
    owner, table, pos = _table(sql, pos)
    m = _COLUMNS.match(sql, pos) or _COLUMNS.match(sql, _SPACE.match(sql, pos).end())  # type: ignore[union-attr]
    if m is not None:
        names = _NAME.findall(m.group(1))
        pos = m.end() - 1
    else:
        names, pos = _column_list(sql, pos)
    pos = _expect(sql, pos + 1, " values (")
    after: dict[str, Any] = {}
    match = _VALUE.match
    for i, name in enumerate(names):
        m = match(sql, pos)
        if m is None:  # a comment before the value
            after[name], pos = _value(sql, pos)
        elif (kind := m.lastindex) == 1:
            text = m.group(1)
            after[name] = text.replace("''", "'") if "''" in text else text
            pos = m.end()
        elif kind == 2:
            after[name] = None
            pos = m.end()
        else:
            after[name], pos = _decoded(sql, m, 0)
        sep = sql[pos]
        if sep == ",":
            pos += 1
            if sql[pos] == " ":
                pos = _SPACE.match(sql, pos).end()  # type: ignore[union-attr]
        elif sep != ")":
            after[name], pos = _concat(sql, pos, after[name])
            pos = _SPACE.match(sql, pos).end()  # type: ignore[union-attr]
            if sql[pos] == ",":
                pos = _SPACE.match(sql, pos + 1).end()  # type: ignore[union-attr]
            elif sql[pos] != ")":
                raise _fail(sql, pos, "',' or ')'")
        if (sql[pos] == ")") != (i == len(names) - 1):
            raise RedoParseError(f"{len(names)} columns but another number of values in {sql[:60]!r}")
    end = pos + 2 if sql.startswith(")'", pos) else pos + 1  # a stray quote after the complete values list
    if not _at_end(sql, end):
        raise _fail(sql, pos + 1, "the end of the statement")
    return Redo("c", owner, table, None, after)


def _skip_alias(sql: str, pos: int) -> tuple[int, re.Pattern[str]]:
    """Past a table alias (``"O"."T" a``: LogMiner writes one for tables with XMLType columns, among others),
    and the term pattern for the clauses that follow (names then come as ``a."C"``)."""
    m = _ALIAS.match(sql, pos)
    if m is None or m.group(1).lower() in _KEYWORDS:
        return pos, _TERM
    return m.end(), _ALIASED_TERM


def _update(sql: str, pos: int) -> Redo:
    owner, table, pos = _table(sql, pos)
    term = _TERM
    if not sql.startswith(" set ", pos):
        pos, term = _skip_alias(sql, pos)
    pos = _expect(sql, pos, " set ")
    changed: dict[str, Any] = {}
    while True:
        name, changed[name], pos = _term(sql, pos, term)
        if sql.startswith(", ", pos):
            pos += 2
            continue
        if sql.startswith(",", pos):
            pos = _SPACE.match(sql, pos + 1).end()  # type: ignore[union-attr]
            continue
        break
    before: dict[str, Any] = {}
    rowid = None
    if not _at_end(sql, pos):
        pos = _expect(sql, pos, " where ")
        rowid, pos = _where(sql, pos, before, term)
    return Redo("u", owner, table, before, {**before, **changed}, rowid)


def _delete(sql: str, pos: int) -> Redo:
    owner, table, pos = _table(sql, pos)
    term = _TERM
    if not sql.startswith(" where ", pos) and not _at_end(sql, pos):
        pos, term = _skip_alias(sql, pos)
    before: dict[str, Any] = {}
    rowid = None
    if not _at_end(sql, pos):
        pos = _expect(sql, pos, " where ")
        rowid, pos = _where(sql, pos, before, term)
    return Redo("d", owner, table, before, None, rowid)


def _term(sql: str, pos: int, term: re.Pattern[str] = _TERM) -> tuple[str, Any, int]:
    """``"C" = value`` or ``"C" IS NULL`` at ``pos``: name, value, end (fast path, else spacing-tolerant)."""
    m = term.match(sql, pos)
    if m is not None:
        value, end = _decoded(sql, m, 2)
        if sql.startswith(" ||", end) or sql.startswith("||", end):
            value, end = _concat(sql, end, value)
        return m.group(1), value, end
    alias = _ALIAS_PREFIX.match(sql, pos)
    if alias is not None:
        pos = alias.end()
    name, pos = _ident(sql, pos)
    pos = _SPACE.match(sql, pos).end()  # type: ignore[union-attr]
    if sql[pos:pos + 7].upper() == "IS NULL":
        return name, None, pos + 7
    value, pos = _value(sql, _expect(sql, pos, "= "))
    return name, value, pos


def _where(sql: str, pos: int, into: dict[str, Any], term: re.Pattern[str] = _TERM) -> tuple[str | None, int]:
    """Fill ``into`` from ``"C" = v and "D" IS NULL and ROWID = '...'``; the rowid and the end position."""
    rowid = None
    match = term.match
    while True:
        m = match(sql, pos)
        if m is not None:  # the hot path, inlined: plain strings and NULLs need no call
            kind = m.lastindex
            if kind == 3:
                name, text = m.group(1, 3)
                into[name] = text if "''" not in text else text.replace("''", "'")
                pos = m.end()
            elif kind == 2 or kind == 4:
                into[m.group(1)] = None
                pos = m.end()
            elif kind == 7 and len(m.group(6)) == 19 and m.group(7) == ISO_DATE_FORMAT:  # the session's: no call
                try:
                    into[m.group(1)] = _fromiso(m.group(6))
                    pos = m.end()
                except ValueError:
                    into[m.group(1)], pos = _decoded(sql, m, 2)
            else:
                into[m.group(1)], pos = _decoded(sql, m, 2)
        elif sql[pos:pos + 5].upper() == "ROWID":
            value, pos = _value(sql, _expect(sql, pos + 5, " = "))
            rowid = None if value is None else str(value)
        elif sql[pos] == '"' or _BARE.match(sql, pos):  # also ``a."C"``, an unquoted name
            name, into[name], pos = _term(sql, pos, term)
        else:
            raise _fail(sql, pos, "a column condition")
        if sql[pos:pos + 5] == " and ":
            pos += 5
            continue
        if _at_end(sql, pos):
            return rowid, pos
        if into and sql.startswith("||", _SPACE.match(sql, pos).end()):  # type: ignore[union-attr]
            last = next(reversed(into))
            into[last], pos = _concat(sql, pos, into[last])
            if sql[pos:pos + 5] == " and ":
                pos += 5
                continue
            if _at_end(sql, pos):
                return rowid, pos
        pos = _expect(sql, pos, " and ")
