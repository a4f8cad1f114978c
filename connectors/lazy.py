"""Names a connector package exports from modules loaded on first use.

``hub.config`` reads every connector's settings model, so importing a package must not load its connector
(SQLAlchemy, the drivers' code, the decoders): every ``crmhub`` command would pay for all of them at start-up.
A package lists those names here and gets the module ``__getattr__`` (PEP 562) that imports them when asked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``names`` maps an exported name to the module defining it."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(names[name]), name)

    return __getattr__
