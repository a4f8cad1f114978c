"""Registers every sub-command on the Typer app (one import per role)."""

from __future__ import annotations

from hub.cli import (
    asyncapi,  # noqa: F401
    check,  # noqa: F401
    cluster,  # noqa: F401
    connectors,  # noqa: F401
    dlq,  # noqa: F401
    gateway,  # noqa: F401
    kafka,  # noqa: F401
    lag,  # noqa: F401
    mapping,  # noqa: F401
    match,  # noqa: F401
    serve,  # noqa: F401
    unify,  # noqa: F401
)
