"""The layout model shared by the copybook parser and the record decoder: fields, groups, records."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "zoned", "packed", "binary", "float", "edited"]


def snake_name(cobol_name: str) -> str:
    """``CUST-NO`` -> ``cust_no``."""
    return cobol_name.lower().replace("-", "_")


@dataclass(frozen=True, slots=True)
class Field:
    """An elementary item."""

    cobol_name: str
    name: str
    level: int
    line: int
    offset: int
    length: int
    kind: Kind
    picture: str = ""
    usage: str = "DISPLAY"
    digits: int = 0
    scale: int = 0
    signed: bool = False
    sign_leading: bool = False
    sign_separate: bool = False
    occurs: int = 1
    redefines: str | None = None
    depending_on: str | None = None  # OCCURS min TO max DEPENDING ON: the count item; ``occurs`` is max
    occurs_min: int = 0

    @property
    def is_filler(self) -> bool:
        return self.cobol_name == "FILLER"

    @property
    def is_table(self) -> bool:
        """Decoded as a list: OCCURS with a count above one, or any OCCURS DEPENDING ON."""
        return self.occurs > 1 or self.depending_on is not None


@dataclass(frozen=True, slots=True)
class Group:
    """A group item; ``length`` is one occurrence."""

    cobol_name: str
    name: str
    level: int
    line: int
    offset: int
    length: int
    children: tuple[Field | Group, ...]
    occurs: int = 1
    redefines: str | None = None
    depending_on: str | None = None
    occurs_min: int = 0

    @property
    def is_filler(self) -> bool:
        return self.cobol_name == "FILLER"

    @property
    def is_table(self) -> bool:
        return self.occurs > 1 or self.depending_on is not None


Item = Field | Group


@dataclass(frozen=True, slots=True)
class Layout:
    """One record description: the 01 group (or a synthetic ``RECORD`` group around level-05 items)."""

    root: Group
    resized: bool = False  # variable tables set to one record's counts (``depending.resize``)

    @property
    def length(self) -> int:
        """The record's length; with OCCURS DEPENDING ON, its longest (every table at its maximum)."""
        return self.root.length

    @property
    def variable(self) -> bool:
        """True when an item has OCCURS DEPENDING ON: records vary in length, later items shift."""
        return any(item.depending_on for item in self.walk())

    def walk(self) -> Iterator[Item]:
        """Every item, depth first, in copybook order."""
        stack: list[Item] = [self.root]
        while stack:
            item = stack.pop()
            yield item
            if isinstance(item, Group):
                stack.extend(reversed(item.children))

    def find(self, name: str) -> Item:
        """The first item named ``name`` (COBOL or snake_case spelling)."""
        for item in self.walk():
            if name in (item.cobol_name, item.name) or name.upper() == item.cobol_name:
                return item
        raise KeyError(name)
