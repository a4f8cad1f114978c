"""`crmhub run` and `crmhub connectors list|status|pause|resume|restart|snapshot|reset`."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hub.cli import app, config_at

if TYPE_CHECKING:
    import httpx

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="crmhub YAML config")]
UrlOpt = Annotated[str | None, typer.Option("--url", help="admin API of the running hub (default from config)")]
NameArg = Annotated[str, typer.Argument(help="connector name")]
TokenOpt = Annotated[str | None, typer.Option("--token", envvar="CRMHUB_TOKEN", show_envvar=True,
                                               help="an admin token of the hub (or CRMHUB_TOKEN; default: the "
                                                    "hub's service token when this machine holds it)")]

connectors_app = typer.Typer(help="Manage the connectors of a running hub (through its admin API).",
                             no_args_is_help=True)
app.add_typer(connectors_app, name="connectors")


@app.command("run")
def run(config: ConfigOpt = None,
        only: Annotated[list[str] | None, typer.Option(
            "--only", help="roles: registry, connectors, pipelines (or canonicalize, unify), admin, gateway")] = None,
        ) -> None:
    """Run the hub: every configured role in this process, or only the ones named."""
    from hub.cli.serve import StopSignals, exit_if_stuck
    from hub.logsetup import configure_logging
    from hub.runtime.gctune import tune_gc
    from hub.runtime.hub import STOP_TIMEOUT_S, Hub, parse_roles

    cfg = config_at(config)
    configure_logging(cfg.logging.level, cfg.logging.format, cfg.logging.file)
    signals = StopSignals(STOP_TIMEOUT_S)  # caught while the hub starts, too
    hub = Hub(cfg, parse_roles(only))
    hub.start()
    tune_gc()
    console = Console(stderr=True)
    console.print(f"crmhub running roles {', '.join(sorted(hub.roles))}; "
                  f"{len(hub.runners)} connector(s); admin API {hub.admin.url if hub.admin else 'off'}")
    try:
        signals.wait()
    finally:
        hub.stop()  # within hub.runtime.hub.STOP_TIMEOUT_S
    exit_if_stuck()


def _admin(config: Path | None, url: str | None, token: str | None = None) -> httpx.Client:
    """A client of the admin API with a token: ``--token`` or ``$CRMHUB_TOKEN`` (an admin token), else the hub's
    service token when this machine holds it (``hub/gateway/guards.py``)."""
    import httpx

    from hub.gateway.guards import service_token_file

    cfg = config_at(config)
    if url is None:
        url = f"{'https' if cfg.admin.http.tls else 'http'}://{cfg.admin.host}:{cfg.admin.port}"
    token = (token if token is not None else os.environ.get("CRMHUB_TOKEN", "")).strip()
    if not token and service_token_file(cfg).is_file():
        token = service_token_file(cfg).read_text(encoding="utf-8").strip()
    headers = {"X-Requested-With": "crmhub"} | ({"Authorization": f"Bearer {token}"} if token else {})
    return httpx.Client(base_url=url, timeout=10.0, headers=headers)


def _call(config: Path | None, url: str | None, method: str, path: str, token: str | None = None) -> Any:
    import httpx

    with _admin(config, url, token) as client:
        try:
            resp = client.request(method, path)
        except httpx.HTTPError as exc:
            typer.echo(f"error: no hub answers at {client.base_url} ({type(exc).__name__}); is `crmhub run` up?",
                       err=True)
            raise typer.Exit(1) from None
    if resp.status_code >= 400:
        try:
            body: Any = resp.json()
        except ValueError:
            body = None
        typer.echo(f"error: {error_message(resp.status_code, body, resp.text, str(client.base_url))}", err=True)
        raise typer.Exit(1)
    return resp.json()


def _detail(body: Any, text: str) -> str:
    """The admin API's own words: ``detail`` (a message, a dict with ``message``, or FastAPI's list of
    validation errors as ``where: what``), else the body's text."""
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, dict):
        detail = detail.get("message", detail)
    if isinstance(detail, list):
        return "; ".join(f"{'.'.join(str(x) for x in d.get('loc', ()) if x not in ('path', 'query', 'body'))}: "
                         f"{d.get('msg', d)}" if isinstance(d, dict) else str(d) for d in detail)
    return str(detail if detail not in (None, "", {}) else text.strip())[:300]


def error_message(status: int, body: Any, text: str, url: str) -> str:
    """What an admin API refusal means and what to do about it, instead of a bare HTTP status."""
    said = _detail(body, text)
    if status == 401:
        return (f"the admin API at {url} refused the token ({said or 'no token'}): set CRMHUB_TOKEN or pass "
                "--token with an admin token (`crmhub token create --role admin` makes one), or run the command "
                "on the hub's machine, which holds its service token")
    if status == 403:
        return f"the token may not do this ({said}): use a token with the admin role (--token or CRMHUB_TOKEN)"
    if status == 404:
        return f"{said}; `crmhub connectors list` shows the connectors the hub runs"
    if status == 409:
        return f"{said}; check the connector's state with `crmhub connectors status NAME`"
    if status == 422:
        return (f"the admin API did not accept the request ({said}); check the connector name and options, and "
                "that this crmhub is the same version as the hub's")
    if status >= 500:
        return f"the hub failed to do it ({said}); its log says why"
    return f"{said} (HTTP {status})"


def status_table(statuses: dict[str, Any]) -> Table:
    table = Table("connector", "state", "events", "dead", "retries", "stopped tables", "last error")
    for name, st in sorted(statuses.items()):
        table.add_row(name, st["state"], str(st["events"]), str(st["dead"]), str(st["retries"]),
                      ", ".join(st["stopped_tables"]) or "-", (st["last_error"] or "-")[:80])
    return table


@connectors_app.command("list")
def list_(config: ConfigOpt = None, url: UrlOpt = None, token: TokenOpt = None) -> None:
    """The connectors of the running hub with their state."""
    data = _call(config, url, "GET", "/connectors?expand=status", token)
    Console().print(status_table({n: v["status"] for n, v in data.items()}))


@connectors_app.command("status")
def status(name: NameArg, config: ConfigOpt = None, url: UrlOpt = None, token: TokenOpt = None) -> None:
    """One connector's state, counters, snapshot progress and last error."""
    st = _call(config, url, "GET", f"/connectors/{name}/status", token)
    Console().print(status_table({name: st}))
    for line in snapshot_lines(st):
        typer.echo(line)
    for table, reason in st["stopped_tables"].items():
        typer.echo(f"stopped {table}: {reason}")


def snapshot_lines(st: dict[str, Any]) -> list[str]:
    """One line per snapshot table: rows read of how many, and whether the snapshot finished. A table whose
    size the connector cannot count (a file, a source without a cheap COUNT) shows its total once finished."""
    finished = bool(st.get("snapshot_done"))
    lines = []
    for table, prog in st["snapshot"].items():
        done, total = prog["done"], prog["total"]
        if finished:
            text = f"{done}/{done if total is None else total} rows, done"
        elif total is None:
            text = f"{done} rows so far (total not known before the end)"
        else:
            text = f"{done}/{total} rows ({100 * done // max(total, 1)} %)"
        lines.append(f"snapshot {table}: {text}")
    return lines


@connectors_app.command("pause")
def pause(name: NameArg, config: ConfigOpt = None, url: UrlOpt = None, token: TokenOpt = None) -> None:
    """Stop reading the source (the position is kept)."""
    typer.echo(f"{name}: {_call(config, url, 'PUT', f'/connectors/{name}/pause', token)['state']}")


@connectors_app.command("resume")
def resume(name: NameArg, config: ConfigOpt = None, url: UrlOpt = None, token: TokenOpt = None) -> None:
    """Read the source again."""
    typer.echo(f"{name}: {_call(config, url, 'PUT', f'/connectors/{name}/resume', token)['state']}")


@connectors_app.command("restart")
def restart(name: NameArg, config: ConfigOpt = None, url: UrlOpt = None, token: TokenOpt = None) -> None:
    """Re-create the connector and resume from its saved position (also retries stopped tables)."""
    _call(config, url, "POST", f"/connectors/{name}/restart", token)
    typer.echo(f"{name}: restart requested")


@connectors_app.command("reset")
def reset(name: NameArg, config: ConfigOpt = None, url: UrlOpt = None, token: TokenOpt = None) -> None:
    """Forget the saved position: the connector snapshots again from scratch."""
    _call(config, url, "DELETE", f"/connectors/{name}/offsets", token)
    typer.echo(f"{name}: position reset; a new snapshot starts")


@connectors_app.command("snapshot")
def snapshot(name: NameArg, config: ConfigOpt = None, url: UrlOpt = None, token: TokenOpt = None,
             wait: Annotated[bool, typer.Option("--wait/--no-wait", help="show progress until done")] = True,
             timeout: float = 3600.0) -> None:
    """Snapshot every table again, then stream; shows a progress bar per table."""
    runs = _call(config, url, "GET", f"/connectors/{name}/status", token)["runs"]
    _call(config, url, "POST", f"/connectors/{name}/snapshot", token)
    typer.echo(f"{name}: snapshot requested")
    if wait:
        follow_snapshot(lambda: _call(config, url, "GET", f"/connectors/{name}/status", token), runs, timeout)


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
