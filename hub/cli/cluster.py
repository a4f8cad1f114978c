"""`crmhub cluster status`: the workers of ``cluster.group`` and the connectors each runs, as Kafka's group
coordinator assigned them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.cli import app, config_at

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="crmhub YAML config")]

cluster_app = typer.Typer(help="Workers sharing the connectors (cluster.group).", no_args_is_help=True)
app.add_typer(cluster_app, name="cluster")


@cluster_app.command("status")
def status(config: ConfigOpt = None) -> None:
    """Each worker of the group (client id, host) and the connectors it runs; connectors nobody runs."""
    from hub.kafka.group import members
    from hub.wiring import kafka_settings

    cfg = config_at(config)
    if cfg.cluster.group is None:
        typer.echo("cluster.group is not set: every crmhub run process runs all of its connectors")
        raise typer.Exit(1)
    names = sorted(c.name for c in cfg.connectors)
    state, workers = members(kafka_settings(cfg), cfg.cluster.group)
    table = Table(title=f"cluster {cfg.cluster.group} ({state or 'unknown'}, {len(workers)} worker(s))")
    for column in ("worker", "host", "connectors"):
        table.add_column(column)
    running: set[str] = set()
    for client, host, partitions in workers:
        mine = [names[p] for p in partitions if p < len(names)]
        running.update(mine)
        table.add_row(client, host, ", ".join(mine) or "-")
    console = Console()
    console.print(table)
    idle = [n for n in names if n not in running]
    if idle:
        console.print(f"not running anywhere: {', '.join(idle)}")
        raise typer.Exit(2)
