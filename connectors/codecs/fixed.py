"""Fixed-width TEXT layouts (export files on Windows shares, report-style extracts) described in YAML.

```yaml
record_length: 40          # optional; fields may not reach past it
fields:
  - {name: cust_no, start: 1, length: 8, type: int}
  - {name: name, start: 9, length: 20}                       # type str (default): right-trimmed
  - {name: balance, start: 29, length: 9, type: decimal, scale: 2}   # "000012345" -> 123.45
  - {name: opened, start: 38, length: 8, type: date, format: "%Y%m%d"}
```

``start`` is 1-based. Numbers take a leading or trailing sign (``-12.50``, ``12.50-``); a decimal without a
point gets ``scale`` implied places, one with a point is read as written. Blank numbers and blank or all-zero
dates are None. A line shorter than the layout reads as if padded with blanks (editors drop trailing blanks).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Literal, cast

import yaml

from schemas.errors import ConfigError, SkippableError

FixedType = Literal["str", "int", "decimal", "date"]
_TYPES: tuple[str, ...] = ("str", "int", "decimal", "date")
_NUMBER = re.compile(r"([+-]?)(\d+(?:\.\d*)?|\.\d+)([+-]?)")
_KEYS = {"name", "start", "length", "type", "scale", "format"}


@dataclass(frozen=True, slots=True)
class FixedField:
    name: str
    start: int  # 1-based column
    length: int
    type: FixedType = "str"
    scale: int = 0
    format: str = "%Y%m%d"  # dates only, strptime syntax

    @property
    def end(self) -> int:
        """1-based last column."""
        return self.start + self.length - 1


class FixedLayout:
    """A validated fixed-width layout; ``decode_line`` turns one line into a dict."""

    def __init__(self, fields: Sequence[FixedField], *, record_length: int | None = None) -> None:
        problems = _overlaps(fields, record_length)
        if problems:
            raise ConfigError(problems)
        self.fields = tuple(fields)
        self.record_length = record_length
        self._width = max((f.end for f in fields), default=0)

    @classmethod
    def from_yaml(cls, text: str) -> FixedLayout:
        try:
            spec = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"fixed layout: invalid YAML: {exc}") from None
        if not isinstance(spec, Mapping):
            raise ConfigError("fixed layout: expected a mapping with 'fields'")
        return cls.from_mapping(spec)

    @classmethod
    def from_mapping(cls, spec: Mapping[str, object]) -> FixedLayout:
        """Build from already-loaded YAML; every problem is reported at once, each with its path."""
        problems: list[str] = []
        raw_length = spec.get("record_length")
        record_length = raw_length if isinstance(raw_length, int) and raw_length > 0 else None
        if raw_length is not None and record_length is None:
            problems.append(f"record_length: must be a positive integer, not {raw_length!r}")
        raw_fields = spec.get("fields")
        if not isinstance(raw_fields, list) or not raw_fields:
            raise ConfigError([*problems, "fields: a non-empty list of fields is required"])
        fields: list[FixedField] = []
        for index, raw in enumerate(raw_fields):
            field = _field(raw, f"fields[{index}]", problems)
            if field is not None:
                fields.append(field)
        names = [f.name for f in fields]
        problems.extend(f"fields: duplicate name {n!r}" for n in sorted({n for n in names if names.count(n) > 1}))
        problems.extend(_overlaps(fields, record_length))
        if problems:
            raise ConfigError(problems)
        return cls(fields, record_length=record_length)

    def decode_line(self, line: str) -> dict[str, object]:
        """Decode one line; a bad value raises ``SkippableError`` naming the field, its columns and the value."""
        line = line.rstrip("\r\n")
        if len(line) < self._width:
            line = line.ljust(self._width)
        out: dict[str, object] = {}
        for field in self.fields:
            value = line[field.start - 1 : field.end]
            try:
                out[field.name] = _convert(field, value)
            except ValueError as exc:
                raise SkippableError(
                    f"field {field.name} (columns {field.start}-{field.end}): {exc}: {value!r}", record=line
                ) from None
        return out


def _field(raw: object, path: str, problems: list[str]) -> FixedField | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{path}: expected a mapping")
        return None
    before = len(problems)
    problems.extend(f"{path}.{key}: unknown key" for key in sorted(set(map(str, raw)) - _KEYS))
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        problems.append(f"{path}.name: required")
    for key in ("start", "length"):
        value = raw.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            problems.append(f"{path}.{key}: must be a positive integer, not {value!r}")
    kind = raw.get("type", "str")
    if kind not in _TYPES:
        problems.append(f"{path}.type: {kind!r} is not one of {', '.join(_TYPES)}")
    scale = raw.get("scale", 0)
    if not isinstance(scale, int) or scale < 0 or (scale and kind != "decimal"):
        problems.append(f"{path}.scale: a non-negative integer, for decimal fields only")
    fmt = raw.get("format", "%Y%m%d")
    if not isinstance(fmt, str) or ("format" in raw and kind != "date"):
        problems.append(f"{path}.format: a strptime format, for date fields only")
    if len(problems) > before:
        return None
    return FixedField(
        cast(str, name),
        cast(int, raw["start"]),
        cast(int, raw["length"]),
        cast(FixedType, kind),
        cast(int, scale),
        cast(str, fmt),
    )


def _overlaps(fields: Sequence[FixedField], record_length: int | None) -> list[str]:
    problems: list[str] = []
    ordered = sorted(fields, key=lambda f: f.start)
    for first, second in pairwise(ordered):
        if second.start <= first.end:
            problems.append(
                f"fields {first.name!r} (columns {first.start}-{first.end}) and {second.name!r} "
                f"(columns {second.start}-{second.end}) overlap"
            )
    for field in fields:
        if field.start < 1 or field.length < 1:
            problems.append(f"field {field.name!r}: start and length must be positive")
        elif record_length is not None and field.end > record_length:
            problems.append(
                f"field {field.name!r} (columns {field.start}-{field.end}) ends past record_length {record_length}"
            )
    return problems


def _convert(field: FixedField, value: str) -> object:
    if field.type == "str":
        return value.rstrip()
    stripped = value.strip()
    if field.type == "date":
        if not stripped.strip("0"):
            return None
        parsed: date = datetime.strptime(stripped, field.format).date()
        return parsed
    if not stripped:
        return None
    match = _NUMBER.fullmatch(stripped)
    if not match or (match.group(1) and match.group(3)):
        raise ValueError(f"not a {'number' if field.type == 'decimal' else 'whole number'}")
    negative = "-" in (match.group(1), match.group(3))
    digits = match.group(2)
    if field.type == "int":
        if "." in digits:
            raise ValueError("not a whole number")
        return -int(digits) if negative else int(digits)
    number = Decimal(digits) if "." in digits else Decimal(f"{digits}E-{field.scale}")
    return -number if negative and number else number
