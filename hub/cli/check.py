"""`crmhub check -c FILE [--connect]`: validate a configuration file and list every problem with its path; with
``--connect`` also ask every source and the Kafka broker whether they answer (``hub.cli.check_connect``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli import app, config_at
from schemas.errors import ConfigError

if TYPE_CHECKING:
    from hub.config import HubConfig

EXIT_PROBLEMS = 1
EXIT_NO_FILE = 2


@app.command("check")
def check(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="crmhub YAML configuration file to validate")
    ],
    connect: Annotated[bool, typer.Option("--connect", help=(
        "also connect to every source and the Kafka broker (exit 1 if one does not answer)"))] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=0.5, help="seconds each connection may take")] = 10.0,
) -> None:
    """Validate a configuration file: print OK, or every problem (one per line) and exit 1."""
    if not config.is_file():
        typer.echo(f"error: {config}: no such file", err=True)
        raise typer.Exit(EXIT_NO_FILE)
    from hub.config_checks import file_problems, port_problems

    problems: list[str] = []
    try:
        cfg = config_at(config)
        problems += port_problems(cfg) + file_problems(cfg)
        if cfg.pipelines is not None:
            from hub.pipeline_setup import load_parts

            load_parts(cfg)  # mappings and alert rules, listed with the rest
    except ConfigError as exc:
        problems = [*exc.problems, *problems]
    if problems:
        count = len(problems)
        typer.echo(f"{config}: {count} problem{'' if count == 1 else 's'}")
        for problem in problems:
            typer.echo(problem)
        raise typer.Exit(EXIT_PROBLEMS) from None
    from hub.gateway.guards import exposure_warnings

    for warning in exposure_warnings(cfg):
        typer.echo(f"warning: {warning}", err=True)
    count = len(cfg.connectors)
    typer.echo(f"OK: {config} is valid ({count} connector{'' if count == 1 else 's'})")
    if connect:
        _connect(cfg, timeout)


def _connect(cfg: HubConfig, timeout: float) -> None:
    from hub.cli.check_connect import connect_all

    typer.echo(f"connecting (at most {timeout:g} s each):")
    probes = connect_all(cfg, timeout)
    for probe in probes:
        target = f" {probe.target}" if probe.target else ""
        typer.echo(f"  {'ok  ' if probe.ok else 'FAIL'}  {probe.item}{target}: {probe.detail}")
    failed = sum(not p.ok for p in probes)
    if failed:
        typer.echo(f"{failed} of {len(probes)} did not answer")
        raise typer.Exit(EXIT_PROBLEMS)
    typer.echo(f"all {len(probes)} answered")
