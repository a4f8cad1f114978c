"""`crmhub token create|list|revoke`: API tokens of the HTTP gateway (hashes in ``gateway.tokens_file``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.cli import app, config_at

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="crmhub YAML config")]
NameOpt = Annotated[str, typer.Option("--name", help="who or what uses the token (shown in the audit log)")]

token_app = typer.Typer(help="API tokens of the HTTP gateway.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(config: ConfigOpt, name: NameOpt,
                 role: Annotated[str, typer.Option("--role", help="a role of gateway.roles")]) -> None:
    """Create a token and print it once; only its SHA-256 hash is stored."""
    from hub.gateway.tokens import create_token

    cfg = config_at(config)
    path = cfg.gateway.tokens_file
    token = create_token(path, name, role, set(cfg.gateway.effective_roles()))
    typer.echo(token)
    typer.echo(f"token '{name}' (role {role}) added to {path}; it is shown only this once", err=True)


@token_app.command("list")
def token_list(config: ConfigOpt) -> None:
    """Names, roles and hash prefixes of the tokens (never the tokens or full hashes)."""
    from hub.gateway.tokens import read_tokens

    cfg = config_at(config)
    entries = read_tokens(cfg.gateway.tokens_file)
    table = Table(title=f"{len(entries)} token(s) in {cfg.gateway.tokens_file}")
    for column in ("name", "role", "hash", "created"):
        table.add_column(column)
    for e in entries:
        created = datetime.fromtimestamp(e.created_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        table.add_row(e.name, e.role, e.short_hash(), created)
    Console(width=160).print(table)


@token_app.command("revoke")
def token_revoke(config: ConfigOpt, name: NameOpt) -> None:
    """Remove a token; the gateway refuses it from its next request on."""
    from hub.gateway.tokens import revoke_token

    cfg = config_at(config)
    if not revoke_token(cfg.gateway.tokens_file, name):
        typer.echo(f"error: no token named '{name}'", err=True)
        raise typer.Exit(1)
    typer.echo(f"token '{name}' revoked")
