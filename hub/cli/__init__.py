"""The ``crmhub`` command line (Typer). Each role registers its commands from its own module."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
import typer.core

if TYPE_CHECKING:
    from hub.config import HubConfig


def _flags_as_flags() -> None:
    """Help shows an on/off option as the flag it is (``--serve``, ``--wait/--no-wait``), without the ``<bool>``
    value type Typer's rich help gives every option, flags included."""
    value_type = getattr(typer.core.TyperOption, "display_type_rich", None)
    if value_type is None:  # a Typer without it renders help its own way
        return

    def display_type_rich(self: typer.core.TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag and not self.count else value_type(self, ctx)

    typer.core.TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_as_flags()

app = typer.Typer(
    name="crmhub",
    help="crmhub: real-time hub from legacy systems to CRM front ends over Apache Kafka.",
    no_args_is_help=True,
    add_completion=False,
)


def config_at(path: Path | None) -> HubConfig:
    """The configuration in ``path``, or the defaults without one. The command modules import what a command
    needs when it runs (pydantic's config models, SQLAlchemy, the Kafka client), so ``crmhub --help`` and a
    mistyped command answer at once."""
    from hub.config import HubConfig, load_config

    return load_config(path) if path else HubConfig()


def _register() -> None:
    # Imported here so `crmhub --help` stays fast and modules register in one visible place.
    from hub.cli import commands  # noqa: F401


def main() -> None:
    """Entry point: crmhub errors are printed as one clear message (no traceback) with exit code 1."""
    from schemas.errors import CrmhubError

    _register()
    try:
        app()
    except CrmhubError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
