"""`crmhub lag`: consumer-group lag in messages and seconds, with Burrow-style statuses, straight from Kafka.

Without ``--watch`` it samples ``--samples`` times (default ``lag.window``, 10) ``--interval`` seconds apart
(default 1) and prints the last one; those samples are the status window, so every partition the group has
committed on gets a verdict. With ``--watch`` it keeps sampling and redraws, over ``lag.window`` samples.
``--group`` naming no consumer group exits 1. One table per group, narrow enough for an 80-column terminal.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from hub.cli import app, config_at
from hub.lag.model import GroupStatus, LagSnapshot, Status

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="crmhub YAML config")]

_STYLE = {Status.OK: "green", Status.WARN: "yellow", Status.REWIND: "magenta", Status.STALL: "red",
          Status.STOP: "bold red"}
_GROUP_STYLE = {GroupStatus.OK: "green", GroupStatus.WARN: "yellow", GroupStatus.ERR: "bold red"}


def render(snapshot: LagSnapshot) -> Group:
    """Per group: a line with its status, then its partitions (topic, partition, end, committed, lag, lag s,
    status; ``-`` while the partition's status window is not complete)."""
    parts: list[Text | Table] = []
    incomplete = False
    for g in snapshot.groups:
        line = Text(f"{g.group}: ", style="bold")
        line.append(g.status.value, style=_GROUP_STYLE[g.status])
        line.append(f" ({len(g.partitions)} partitions, {g.state or 'state ?'}, max lag {g.max_lag} / "
                    f"{_secs(g.max_lag_seconds)} s, sum {g.sum_lag})", style="not bold")
        table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False)
        table.add_column("topic", overflow="fold", ratio=1)
        for column in ("part", "end", "committed", "lag", "lag s"):
            table.add_column(column, justify="right", no_wrap=True)
        table.add_column("status", no_wrap=True)
        for p in g.partitions:
            incomplete |= not p.complete
            status = Text(p.status.value, style=_STYLE[p.status]) if p.complete else Text("-", style="dim")
            table.add_row(p.topic, str(p.partition), str(p.end), "-" if p.committed is None else str(p.committed),
                          str(p.lag), _secs(p.lag_seconds), status)
        parts += [line, table]
    if not snapshot.groups:
        parts.append(Text("no consumer groups"))
    if incomplete:
        parts.append(Text("status -: no verdict yet (fewer samples with a commit than the window)", style="dim"))
    return Group(*parts)


def _secs(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f}"


@app.command("lag")
def lag_command(
    config: ConfigOpt = None,
    group: Annotated[str | None, typer.Option("--group", "-g", help="only this consumer group")] = None,
    watch: Annotated[bool, typer.Option("--watch", help="keep sampling and redraw (Ctrl-C stops)")] = False,
    interval: Annotated[float, typer.Option("--interval", min=0.05, help="seconds between samples")] = 1.0,
    samples: Annotated[int | None, typer.Option("--samples", min=2, help=(
        "samples taken without --watch, the status window (default lag.window)"))] = None,
    allowed_lag: Annotated[int | None, typer.Option("--allowed-lag", min=0, help=(
        "lag in messages that counts as none in the statuses (Burrow's allowed-lag; default lag.allowed_lag)"))]
        = None,
) -> None:
    """Lag of every consumer group (end, committed, lag, lag seconds, status per partition and group)."""
    from hub.lag.collector import LagCollector
    from hub.logsetup import configure_logging
    from hub.wiring import kafka_settings

    cfg = config_at(config)
    configure_logging(cfg.logging.level, cfg.logging.format, cfg.logging.file)  # alerts are logged to stderr
    count = cfg.lag.window if samples is None else samples
    lag_cfg = cfg.lag if watch else cfg.lag.model_copy(update={"window": count})
    if group is not None:
        groups = lag_cfg.groups.model_copy(update={"include": [re.escape(group)], "exclude": []})
        lag_cfg = lag_cfg.model_copy(update={"groups": groups})
    collector = LagCollector(kafka_settings(cfg, client_id=f"{cfg.kafka.client_id}-lag"), lag_cfg,
                             allowed_lag=allowed_lag)
    console = Console()
    try:
        snapshot = collector.sample()
        if group is not None and snapshot.group(group) is None:
            typer.echo(f"no consumer group {group!r}", err=True)
            raise typer.Exit(1)
        if not watch:
            with Console(stderr=True).status(f"sampling {count} times {interval:g} s apart for the statuses"):
                for _ in range(count - 1):
                    time.sleep(interval)
                    snapshot = collector.sample()
            console.print(render(snapshot))
            return
        with Live(render(snapshot), console=console, auto_refresh=False) as live:
            while True:
                time.sleep(interval)
                live.update(render(collector.sample()), refresh=True)
    except KeyboardInterrupt:
        pass
    finally:
        collector.close()
