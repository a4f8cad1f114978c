"""COBOL source text of a copybook: fixed or free format, comments and continuation lines, period-ended
statements split into tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal

SourceFormat = Literal["auto", "fixed", "free"]
_TOKEN = re.compile(r"'[^']*'?|\"[^\"]*\"?|[^\s]+")


def _is_fixed(lines: list[str]) -> bool:
    for line in lines:
        if not line.strip():
            continue
        if len(line) > 6 and line[6] not in " *-/Dd":
            return False
        if " " in line[:6].strip():
            return False
    return True


def source_lines(text: str, source_format: SourceFormat) -> list[tuple[int, str]]:
    """(line number, code) pairs with comments, sequence areas and continuations resolved."""
    raw = text.expandtabs(8).splitlines()
    fixed = _is_fixed(raw) if source_format == "auto" else source_format == "fixed"
    out: list[tuple[int, str]] = []
    for number, line in enumerate(raw, start=1):
        if fixed:
            indicator = line[6:7]
            code = line[7:72]
            if indicator in ("*", "/"):
                continue
            if indicator == "-" and out:
                first, previous = out[-1]
                stripped = code.lstrip()
                if stripped[:1] in ("'", '"'):  # a continued literal goes on after the quote (col 72 kept)
                    out[-1] = (first, previous.ljust(65) + stripped[1:])
                else:  # a continued word goes on right after the last non-blank character
                    out[-1] = (first, previous.rstrip() + stripped)
                continue
        else:
            code = line
            if code.lstrip().startswith("*"):
                continue
        code = code.split("*>", 1)[0]
        if code.strip():
            out.append((number, code))
    return out


def statements(lines: list[tuple[int, str]]) -> Iterator[tuple[int, list[str]]]:
    """Yield (line of first token, tokens) for each period-terminated statement."""
    tokens: list[str] = []
    start = 0
    for number, code in lines:
        for match in _TOKEN.finditer(code):
            token = match.group()
            if not tokens:
                start = number
            if token.upper() in ("EJECT", "SKIP1", "SKIP2", "SKIP3") and not tokens:
                continue
            ends = token.endswith(".") and token[0] not in "'\""
            token = token[:-1] if ends else token
            token = token.rstrip(",;") if token[:1] not in "'\"" else token
            if token:
                tokens.append(token)
            if ends and tokens:
                yield start, tokens
                tokens = []
    if tokens:
        yield start, tokens
