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

    @property
    def is_filler(self) -> bool:
        return self.cobol_name == "FILLER"


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

    @property
    def is_filler(self) -> bool:
        return self.cobol_name == "FILLER"


Item = Field | Group


@dataclass(frozen=True, slots=True)
class Layout:
    """One record description: the 01 group (or a synthetic ``RECORD`` group around level-05 items)."""

    root: Group

    @property
    def length(self) -> int:
        return self.root.length

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
