"""Registers every sub-command on the Typer app (one import per role)."""

from __future__ import annotations

from hub import (
    cli_check,  # noqa: F401
    cli_connectors,  # noqa: F401
    cli_dlq,  # noqa: F401
    cli_gateway,  # noqa: F401
    cli_kafka,  # noqa: F401
    cli_lag,  # noqa: F401
    cli_mapping,  # noqa: F401
    cli_match,  # noqa: F401
    cli_serve,  # noqa: F401
    cli_unify,  # noqa: F401
)
