"""`crmhub run` and `crmhub connectors list|status|pause|resume|restart|snapshot|reset`."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hub.cli import app
from hub.config import HubConfig, load_config

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="crmhub YAML config")]
UrlOpt = Annotated[str | None, typer.Option("--url", help="admin API of the running hub (default from config)")]
NameArg = Annotated[str, typer.Argument(help="connector name")]

connectors_app = typer.Typer(help="Manage the connectors of a running hub (through its admin API).",
                             no_args_is_help=True)
app.add_typer(connectors_app, name="connectors")


def _cfg(path: Path | None) -> HubConfig:
    return load_config(path) if path else HubConfig()


@app.command("run")
def run(config: ConfigOpt = None,
        only: Annotated[list[str] | None, typer.Option(
            "--only", help="roles: registry, connectors, pipelines (or canonicalize, unify), admin, gateway")] = None,
        ) -> None:
    """Run the hub: every configured role in this process, or only the ones named."""
    from hub.cli.serve import exit_if_stuck, wait_for_signal
    from hub.logsetup import configure_logging
    from hub.runtime.gctune import tune_gc
    from hub.runtime.hub import Hub, parse_roles

    cfg = _cfg(config)
    configure_logging(cfg.logging.level, cfg.logging.format, cfg.logging.file)
    hub = Hub(cfg, parse_roles(only))
    hub.start()
    tune_gc()
    console = Console(stderr=True)
    console.print(f"crmhub running roles {', '.join(sorted(hub.roles))}; "
                  f"{len(hub.runners)} connector(s); admin API {hub.admin.url if hub.admin else 'off'}")
    try:
        wait_for_signal()
    finally:
        hub.stop()  # within hub.runtime.hub.STOP_TIMEOUT_S
    exit_if_stuck()


def _admin(config: Path | None, url: str | None) -> httpx.Client:
    """A client of the admin API with a token: ``$CRMHUB_TOKEN`` (an admin token), else the hub's service token
    when this machine holds it (``hub/gateway/guards.py``)."""
    from hub.gateway.guards import service_token_file

    cfg = _cfg(config)
    if url is None:
        url = f"{'https' if cfg.admin.http.tls else 'http'}://{cfg.admin.host}:{cfg.admin.port}"
    token = os.environ.get("CRMHUB_TOKEN", "").strip()
    if not token and service_token_file(cfg).is_file():
        token = service_token_file(cfg).read_text(encoding="utf-8").strip()
    headers = {"X-Requested-With": "crmhub"} | ({"Authorization": f"Bearer {token}"} if token else {})
    return httpx.Client(base_url=url, timeout=10.0, headers=headers)


def _call(config: Path | None, url: str | None, method: str, path: str) -> Any:
    with _admin(config, url) as client:
        try:
            resp = client.request(method, path)
        except httpx.HTTPError as exc:
            typer.echo(f"error: no hub answers at {client.base_url} ({type(exc).__name__}); is `crmhub run` up?",
                       err=True)
            raise typer.Exit(1) from None
    if resp.status_code >= 400:
        body = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}
        detail = body.get("detail", body) if body else resp.text
        message = detail.get("message", detail) if isinstance(detail, dict) else detail
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(1)
    return resp.json()


def status_table(statuses: dict[str, Any]) -> Table:
    table = Table("connector", "state", "events", "dead", "retries", "stopped tables", "last error")
    for name, st in sorted(statuses.items()):
        table.add_row(name, st["state"], str(st["events"]), str(st["dead"]), str(st["retries"]),
                      ", ".join(st["stopped_tables"]) or "-", (st["last_error"] or "-")[:80])
    return table


@connectors_app.command("list")
def list_(config: ConfigOpt = None, url: UrlOpt = None) -> None:
    """The connectors of the running hub with their state."""
    data = _call(config, url, "GET", "/connectors?expand=status")
    Console().print(status_table({n: v["status"] for n, v in data.items()}))


@connectors_app.command("status")
def status(name: NameArg, config: ConfigOpt = None, url: UrlOpt = None) -> None:
    """One connector's state, counters, snapshot progress and last error."""
    st = _call(config, url, "GET", f"/connectors/{name}/status")
    Console().print(status_table({name: st}))
    for table, prog in st["snapshot"].items():
        typer.echo(f"snapshot {table}: {prog['done']}/{prog['total'] if prog['total'] is not None else '?'}")
    for table, reason in st["stopped_tables"].items():
        typer.echo(f"stopped {table}: {reason}")


@connectors_app.command("pause")
def pause(name: NameArg, config: ConfigOpt = None, url: UrlOpt = None) -> None:
    """Stop reading the source (the position is kept)."""
    typer.echo(f"{name}: {_call(config, url, 'PUT', f'/connectors/{name}/pause')['state']}")


@connectors_app.command("resume")
def resume(name: NameArg, config: ConfigOpt = None, url: UrlOpt = None) -> None:
    """Read the source again."""
    typer.echo(f"{name}: {_call(config, url, 'PUT', f'/connectors/{name}/resume')['state']}")


@connectors_app.command("restart")
def restart(name: NameArg, config: ConfigOpt = None, url: UrlOpt = None) -> None:
    """Re-create the connector and resume from its saved position (also retries stopped tables)."""
    _call(config, url, "POST", f"/connectors/{name}/restart")
    typer.echo(f"{name}: restart requested")


@connectors_app.command("reset")
def reset(name: NameArg, config: ConfigOpt = None, url: UrlOpt = None) -> None:
    """Forget the saved position: the connector snapshots again from scratch."""
    _call(config, url, "DELETE", f"/connectors/{name}/offsets")
    typer.echo(f"{name}: position reset; a new snapshot starts")


@connectors_app.command("snapshot")
def snapshot(name: NameArg, config: ConfigOpt = None, url: UrlOpt = None,
             wait: Annotated[bool, typer.Option("--wait/--no-wait", help="show progress until done")] = True,
             timeout: float = 3600.0) -> None:
    """Snapshot every table again, then stream; shows a progress bar per table."""
    runs = _call(config, url, "GET", f"/connectors/{name}/status")["runs"]
    _call(config, url, "POST", f"/connectors/{name}/snapshot")
    typer.echo(f"{name}: snapshot requested")
    if wait:
        follow_snapshot(lambda: _call(config, url, "GET", f"/connectors/{name}/status"), runs, timeout)


def follow_snapshot(fetch: Any, runs_before: int, timeout: float) -> None:
    """Progress bars fed by the status endpoint until the restarted connector streams after its snapshot."""
    deadline = time.monotonic() + timeout
    snap: dict[str, Any] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  disable=not sys.stderr.isatty(), console=Console(stderr=True)) as progress:
        tasks: dict[str, Any] = {}
        while time.monotonic() < deadline:
            st = fetch()
            snap = st["snapshot"]
            for table, p in snap.items():
                if table not in tasks:
                    tasks[table] = progress.add_task(table, total=p["total"])
                progress.update(tasks[table], completed=p["done"], total=p["total"])
            if st["state"] == "FAILED":
                typer.echo(f"error: {st['last_error']}", err=True)
                raise typer.Exit(1)
            if st["runs"] > runs_before and st["snapshot_done"] and st["state"] == "RUNNING":
                break
            time.sleep(0.5)
        else:
            typer.echo("error: the snapshot did not finish in time", err=True)
            raise typer.Exit(1)
    rows = ", ".join(f"{t} {p['done']} rows" for t, p in snap.items()) or "nothing to read (files are the feed)"
    typer.echo(f"snapshot done: {rows}")
