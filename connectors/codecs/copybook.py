"""Parse a COBOL copybook (record description) into a ``Layout`` with IBM COBOL offsets and lengths.

Supported: fixed format (sequence area columns 1-6 and 73-80 dropped, ``*``/``/`` in column 7 is a comment,
``-`` a continuation) and free format (``*>`` comments); levels 01-49 with group items; ``PIC X/A/9/S/V``
with repeat counts; numeric-edited pictures (decoded to numbers, ``connectors.codecs.edited``); ``USAGE``
DISPLAY, COMP/COMPUTATIONAL, COMP-0, BINARY, COMP-4, COMP-5, COMP-3/PACKED-DECIMAL, COMP-1, COMP-2 (also
inherited from a group);
``SIGN [IS] LEADING|TRAILING [SEPARATE [CHARACTER]]``; ``FILLER``; ``OCCURS n [TIMES]``; ``OCCURS [min TO] max
[TIMES] DEPENDING ON count`` (see ``connectors.codecs.depending``); ``REDEFINES``.
Ignored: 88 and 66 levels, ``VALUE``, ``JUSTIFIED``, ``BLANK WHEN ZERO``, ``INDEXED BY``, ``KEY IS``.
Scaling positions ``P`` (leading or trailing, every usage) give the item its scale and take no storage.
Rejected with a ``ConfigError`` naming the line: ``SYNCHRONIZED``, ``PIC N``,
level 77, bad level nesting, unknown clauses and pictures.

Storage lengths follow IBM Enterprise COBOL: zoned = digits (+1 with SEPARATE), packed = digits // 2 + 1,
binary = 2/4/8 bytes for 1-4/5-9/10-18 digits, COMP-1 = 4, COMP-2 = 8. Offsets are those of the first
occurrence of every enclosing OCCURS, counted from the start of the record (as in a compiler listing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from connectors.codecs.cobol_source import SourceFormat, source_lines, statements
from connectors.codecs.depending import check_depending
from connectors.codecs.layout import Field, Group, Item, Kind, Layout, snake_name
from connectors.codecs.picture import Picture, parse_picture
from schemas.errors import ConfigError

_USAGE_WORDS = {
    "DISPLAY": "DISPLAY",
    "BINARY": "COMP COMPUTATIONAL BINARY COMP-0 COMPUTATIONAL-0 COMP-4 COMPUTATIONAL-4",
    "COMP-5": "COMP-5 COMPUTATIONAL-5",
    "PACKED": "COMP-3 COMPUTATIONAL-3 PACKED-DECIMAL",
    "COMP-1": "COMP-1 COMPUTATIONAL-1",
    "COMP-2": "COMP-2 COMPUTATIONAL-2",
}
_USAGES = {word: usage for usage, words in _USAGE_WORDS.items() for word in words.split()}
# fmt: off
_SKIPPED_CLAUSES = frozenset((
    "VALUE", "VALUES", "JUST", "JUSTIFIED", "BLANK", "INDEXED", "ASCENDING", "DESCENDING", "GLOBAL", "EXTERNAL",
))
_CLAUSES = _SKIPPED_CLAUSES | set(_USAGES) | {
    "PIC", "PICTURE", "USAGE", "OCCURS", "SIGN", "LEADING", "TRAILING", "REDEFINES", "SYNC", "SYNCHRONIZED",
}
# fmt: on
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass(slots=True)
class _Entry:
    line: int
    level: int
    name: str = "FILLER"
    picture: Picture | None = None
    usage: str | None = None
    occurs: int = 1
    occurs_min: int = 0
    depending_on: str | None = None
    redefines: str | None = None
    sign_leading: bool = False
    sign_separate: bool = False
    sign_clause: bool = False
    children: list[_Entry] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------- clauses


def _parse_entry(line: int, tokens: list[str], decimal_comma: bool = False) -> _Entry | None:
    """One data description entry; None for the ignored 66/88 levels. Raises ValueError with the problem."""
    if not tokens[0].isdigit():
        raise ValueError(f"expected a level number, found {tokens[0]!r}")
    level = int(tokens[0])
    if level in (66, 88):
        return None
    if level == 77:
        raise ValueError("level 77 (independent item) is not part of a record layout")
    if not 1 <= level <= 49:
        raise ValueError(f"level number {tokens[0]} is not 01-49, 66, 77 or 88")
    entry = _Entry(line, level)
    rest = tokens[1:]
    if rest and rest[0].upper() not in _CLAUSES:
        if not _NAME.match(rest[0]) or rest[0].isdigit():
            raise ValueError(f"invalid data name {rest[0]!r}")
        entry.name = rest[0].upper()
        rest = rest[1:]
    _parse_clauses(entry, rest, decimal_comma)
    return entry


def _parse_clauses(entry: _Entry, tokens: list[str], decimal_comma: bool) -> None:
    words = [token.upper() for token in tokens]
    i = 0

    def take(optional: str = "") -> str:
        nonlocal i
        if optional and i < len(words) and words[i] == optional:
            i += 1
        if i >= len(words):
            raise ValueError(f"clause {words[-1]} is incomplete")
        i += 1
        return tokens[i - 1]

    while i < len(words):
        word = words[i]
        i += 1
        if word in ("PIC", "PICTURE"):
            entry.picture = parse_picture(take("IS"), decimal_comma=decimal_comma)
        elif word == "USAGE":
            usage = take("IS").upper()
            if usage not in _USAGES:
                raise ValueError(f"unsupported USAGE {usage}")
            entry.usage = _USAGES[usage]
        elif word in _USAGES:
            entry.usage = _USAGES[word]
        elif word == "REDEFINES":
            entry.redefines = take().upper()
        elif word == "OCCURS":
            i = _parse_occurs(entry, tokens, words, i)
        elif word in ("SIGN", "LEADING", "TRAILING"):
            if word == "SIGN":
                take("IS")
                word = words[i - 1]
            if word not in ("LEADING", "TRAILING"):
                raise ValueError("SIGN must be LEADING or TRAILING")
            entry.sign_clause, entry.sign_leading = True, word == "LEADING"
            if i < len(words) and words[i] == "SEPARATE":
                entry.sign_separate = True
                i += 2 if i + 1 < len(words) and words[i + 1] == "CHARACTER" else 1
        elif word in ("SYNC", "SYNCHRONIZED"):
            raise ValueError("SYNCHRONIZED (slack bytes) is not supported")
        elif word in _SKIPPED_CLAUSES:
            while i < len(words) and words[i] not in _CLAUSES:
                i += 1
        else:
            raise ValueError(f"unknown clause {tokens[i - 1]!r}")


def _parse_occurs(entry: _Entry, tokens: list[str], words: list[str], i: int) -> int:
    """``OCCURS [min TO] max [TIMES] [DEPENDING [ON] name]`` from ``words[i]``; the index after the clause."""
    numbers: list[str] = []
    ranged = False  # min TO max: only with DEPENDING ON
    while i < len(words) and (words[i].isdigit() or words[i] == "TO"):
        ranged = ranged or words[i] == "TO"
        if words[i] != "TO":
            numbers.append(words[i])
        i += 1
    if i < len(words) and words[i] == "TIMES":
        i += 1
    if i < len(words) and words[i] == "DEPENDING":
        i += 2 if i + 1 < len(words) and words[i + 1] == "ON" else 1
        if i >= len(words) or not _NAME.match(tokens[i]) or len(numbers) not in (1, 2):
            raise ValueError("OCCURS [min TO] max [TIMES] DEPENDING ON needs its counts and a data name")
        entry.depending_on = tokens[i].upper()
        entry.occurs, entry.occurs_min = _occurs(numbers[-1]), int(numbers[0]) if ranged else 0
        if entry.occurs_min > entry.occurs:
            raise ValueError(f"OCCURS {entry.occurs_min} TO {entry.occurs}: the minimum exceeds the maximum")
        return i + 1
    if ranged:
        raise ValueError("OCCURS min TO max needs DEPENDING ON")
    if len(numbers) != 1:
        found = tokens[i] if i < len(tokens) else "nothing"
        raise ValueError(f"OCCURS needs a count, found {found!r}")
    entry.occurs = _occurs(numbers[0])
    return i


def _occurs(token: str) -> int:
    if not token.isdigit() or int(token) < 1:
        raise ValueError(f"OCCURS needs a positive count, found {token!r}")
    return int(token)


# ------------------------------------------------------------------------------------------------- nesting


def _records(entries: list[_Entry]) -> list[_Entry]:
    """Nest entries by level; a copybook starting below 01 is wrapped in a synthetic RECORD group."""
    roots: list[_Entry] = []
    stack: list[_Entry] = []
    for entry in entries:
        if entry.level == 1 or not roots:
            if entry.level != 1 and roots:
                raise _LineError(entry.line, "bad level nesting")
            root = entry if entry.level == 1 else _Entry(entry.line, 0, "RECORD")
            roots.append(root)
            stack = [root]
            if entry.level == 1:
                continue
        while stack and stack[-1].level >= entry.level:
            stack.pop()
        if not stack:
            raise _LineError(entry.line, f"level {entry.level:02d} is lower than the first level of the copybook")
        parent = stack[-1]
        if parent.children and parent.children[0].level != entry.level:
            raise _LineError(
                entry.line,
                f"bad level nesting: level {entry.level:02d} does not match its "
                f"sibling level {parent.children[0].level:02d}",
            )
        if parent.picture is not None:
            raise _LineError(parent.line, f"{parent.name} has a PICTURE but also subordinate items")
        parent.children.append(entry)
        stack.append(entry)
    return roots


# -------------------------------------------------------------------------------------------------- layout


def _item(entry: _Entry, offset: int, usage: str | None) -> Item:
    usage = entry.usage or usage
    if entry.children:
        return _group(entry, offset, usage)
    return _field(entry, offset, usage or "DISPLAY")


def _group(entry: _Entry, offset: int, usage: str | None) -> Group:
    children: list[Item] = []
    position = end = offset
    for child_entry in entry.children:
        start = position
        if child_entry.redefines:
            target = next((c for c in reversed(children) if c.redefines is None), None)
            if target is None or target.cobol_name != child_entry.redefines:
                raise _LineError(
                    child_entry.line,
                    f"REDEFINES {child_entry.redefines}: it must name the preceding item at the same level",
                )
            start = target.offset
        child = _item(child_entry, start, usage)
        children.append(child)
        end = max(end, child.offset + child.length * child.occurs)
        position = end
    name, length = entry.name, end - offset
    return Group(name, snake_name(name), entry.level, entry.line, offset, length, tuple(children), entry.occurs,
                 entry.redefines, entry.depending_on, entry.occurs_min)  # fmt: skip


def _make(entry: _Entry, offset: int, length: int, kind: Kind, **details: object) -> Field:
    return Field(
        entry.name, snake_name(entry.name), entry.level, entry.line, offset, length, kind,
        occurs=entry.occurs, redefines=entry.redefines, depending_on=entry.depending_on,
        occurs_min=entry.occurs_min, **details,  # type: ignore[arg-type]
    )  # fmt: skip


def _field(entry: _Entry, offset: int, usage: str) -> Field:
    pic = entry.picture
    if usage in ("COMP-1", "COMP-2"):
        if pic is not None:
            raise _LineError(entry.line, f"{entry.name}: {usage} takes no PICTURE")
        return _make(entry, offset, 4 if usage == "COMP-1" else 8, "float", usage=usage, signed=True)
    if pic is None:
        raise _LineError(entry.line, f"{entry.name}: elementary item without a PICTURE clause")
    if pic.category != "numeric" or usage == "DISPLAY":
        return _display_field(entry, offset, usage, pic)
    if entry.sign_clause:
        raise _LineError(entry.line, f"{entry.name}: SIGN clause needs USAGE DISPLAY")
    if usage == "PACKED":
        kind: Kind = "packed"
        length = pic.digits // 2 + 1
    else:
        if pic.digits > 18:
            raise _LineError(entry.line, f"{entry.name}: binary items hold at most 18 digits")
        kind, length = "binary", 2 if pic.digits <= 4 else 4 if pic.digits <= 9 else 8
    numeric = {"digits": pic.digits, "scale": pic.scale, "signed": pic.signed}
    return _make(entry, offset, length, kind, picture=pic.text, usage=usage, **numeric)


def _display_field(entry: _Entry, offset: int, usage: str, pic: Picture) -> Field:
    if usage != "DISPLAY":
        raise _LineError(entry.line, f"{entry.name}: USAGE {usage} needs a numeric PICTURE, not {pic.text}")
    if pic.category != "numeric":
        if entry.sign_clause:
            raise _LineError(entry.line, f"{entry.name}: SIGN clause on a non-numeric item")
        if pic.category == "edited":
            numeric = {"digits": pic.digits, "scale": pic.scale, "signed": pic.signed}
            return _make(entry, offset, pic.length, "edited", picture=pic.text, **numeric)
        return _make(entry, offset, pic.length, "text", picture=pic.text)
    if entry.sign_clause and not pic.signed:
        raise _LineError(entry.line, f"{entry.name}: SIGN clause on an unsigned PICTURE {pic.text}")
    length = pic.digits + (1 if entry.sign_separate else 0)
    sign = {"sign_leading": entry.sign_leading, "sign_separate": entry.sign_separate}
    numeric = {"digits": pic.digits, "scale": pic.scale, "signed": pic.signed}
    return _make(entry, offset, length, "zoned", picture=pic.text, usage=usage, **numeric, **sign)


class _LineError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(message)


def parse_copybook(
    text: str, *, source_format: SourceFormat = "auto", record: str | None = None, decimal_comma: bool = False
) -> Layout:
    """Parse a copybook into a ``Layout``; every problem found is reported in one ``ConfigError``.

    A copybook with several 01 records needs ``record`` (its COBOL name) to choose one. ``decimal_comma``: the
    programs say DECIMAL-POINT IS COMMA (``PIC ZZ.ZZ9,99``; compile the layout with it too).
    """
    problems: list[str] = []
    entries: list[_Entry] = []
    for line, tokens in statements(source_lines(text, source_format)):
        try:
            entry = _parse_entry(line, tokens, decimal_comma)
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        if entry is not None:
            entries.append(entry)
    if problems:
        raise ConfigError(problems)
    if not entries:
        raise ConfigError("copybook: no data description entries found")
    try:
        root = _choose(_records(entries), record)
        if root.occurs != 1 or root.depending_on:
            raise _LineError(root.line, "OCCURS is not allowed on a level-01 record")
        layout = Layout(_group(root, 0, root.usage) if root.children else _as_root(root))
    except _LineError as exc:
        raise ConfigError(f"line {exc.line}: {exc}") from None
    odo_problems = check_depending(layout)
    if odo_problems:
        raise ConfigError(odo_problems)
    return layout


def _as_root(entry: _Entry) -> Group:
    field_ = _field(entry, 0, entry.usage or "DISPLAY")
    return Group(entry.name, snake_name(entry.name), 1, entry.line, 0, field_.length, (field_,))


def _choose(roots: list[_Entry], record: str | None) -> _Entry:
    if record is None:
        if len(roots) > 1:
            names = ", ".join(root.name for root in roots)
            raise ConfigError(f"copybook defines {len(roots)} records ({names}); choose one with record=")
        return roots[0]
    for root in roots:
        if root.name == record.upper():
            return root
    raise ConfigError(f"copybook has no record {record!r}; it defines {', '.join(r.name for r in roots)}")
