"""`crmhub asyncapi -c FILE [-o FILE] [--registry]`: the AsyncAPI 3.0 document of every topic crmhub writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hub.cli import app, config_at
from schemas.errors import CrmhubError

if TYPE_CHECKING:
    from hub.config import HubConfig


def registered_source_schemas(cfg: HubConfig, timeout: float = 3.0) -> dict[str, Any]:
    """The latest key and value schemas of the config's source topics in its registry, by subject (the subjects
    not registered yet are left out). Raises ``CrmhubError`` when the registry cannot be asked."""
    from hub.gateway.guards import registry_credentials
    from hub.gateway.topic_catalog import source_topics
    from hub.registry.client import RegistryClient

    auth, token = registry_credentials(cfg)
    wanted = {s for t in source_topics(cfg) for s in (f"{t.topic}-key", f"{t.topic}-value")}
    found: dict[str, Any] = {}
    with RegistryClient(cfg.registry.effective_url(), auth=auth, token=token, timeout=timeout) as client:
        for subject in sorted(wanted & set(client.subjects())):
            found[subject] = json.loads(client.latest(subject).schema)
    return found


@app.command("asyncapi")
def asyncapi(
    config: Annotated[Path, typer.Option("--config", "-c", help="crmhub YAML config")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file to write (default stdout)")] = None,
    registry: Annotated[bool, typer.Option(
        "--registry", help="take the source topics' schemas from the config's schema registry (their row fields); "
                           "without it, or when the registry cannot be reached, the document is built offline")
    ] = False,
) -> None:
    """Write the AsyncAPI 3.0 document (JSON) of every topic crmhub writes for a config: channels, keys, Avro
    payload schemas, Kafka bindings. The gateway serves the same document at /asyncapi.json."""
    from hub.gateway.asyncapi import build_asyncapi

    cfg = config_at(config)
    registered: dict[str, Any] = {}
    if registry:
        try:
            registered = registered_source_schemas(cfg)
        except CrmhubError as exc:
            typer.echo(f"warning: {exc}; the source topics keep their placeholder schemas", err=True)
        else:
            typer.echo(f"{len(registered)} source subject(s) from the registry", err=True)
    text = json.dumps(build_asyncapi(cfg, registered), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output} ({len(text.splitlines())} lines)", err=True)
