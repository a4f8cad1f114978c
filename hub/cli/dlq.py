"""`crmhub dlq list|show`: rejected records, wherever they wait.

Dead letters wait in the golden-record store's outbox after ``crmhub load`` (until the hub publishes them) and
then on the ``dlq.<pipeline>`` and ``dlq.<connector>`` topics. Both are read: the outbox from the store the
config names, the topics from the beginning with a consumer of no group (nothing is committed), for at most
``--timeout`` seconds (:mod:`hub.runtime.dlq_topics`). Parsing, filters and ids: :mod:`hub.runtime.dlq_read`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hub.cli import app, config_at
from hub.runtime.dlq_read import OUTBOX, DeadLetter, Ident, outbox_id, parse, parse_id
from hub.runtime.dlq_read import select as select_letters
from schemas.errors import CrmhubError

if TYPE_CHECKING:
    from hub.config import HubConfig
    from hub.kafka.clients import KafkaSettings
    from pipelines.store.engine import Store

dlq_app = typer.Typer(help="Rejected records: in the store's outbox after `crmhub load`, or on the dlq.* topics.",
                      no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="crmhub YAML config")]
FromOpt = Annotated[str, typer.Option("--from", help="where to look: all, outbox or topics")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", min=0.1, help="seconds to wait for Kafka")]
PLACES = ("all", OUTBOX, "topics")


# --- the store's outbox --------------------------------------------------------------------------------------

def _store(cfg: HubConfig) -> Store | None:
    """The configured store; None for an SQLite file that does not exist (nothing was loaded)."""
    from hub.pipeline_setup import open_store, pipelines_conf

    conf = pipelines_conf(cfg)
    url = conf.store.url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    return open_store(conf)


def outbox_letters(cfg: HubConfig, row: int | None = None) -> list[DeadLetter]:
    """The dead letters in the outbox (only row ``row`` when given), oldest first."""
    from sqlalchemy import select

    from pipelines.store.raw import jload
    from pipelines.store.tables import outbox

    store = _store(cfg)
    if store is None:
        return []
    query = select(outbox.c.id, outbox.c.topic, outbox.c.key, outbox.c.value).where(outbox.c.topic.like("dlq.%"))
    query = query.where(outbox.c.id == row) if row is not None else query.order_by(outbox.c.id)
    try:
        with store.read() as conn:
            rows = list(conn.execute(query))
    finally:
        store.dispose()
    return [parse(OUTBOX, outbox_id(i), t, k, jload(v)) for i, t, k, v in rows]


# --- the dead-letter topics ----------------------------------------------------------------------------------

def dlq_topics(cfg: HubConfig) -> list[str]:
    from hub.pipeline_setup import pipelines_conf

    return sorted({f"dlq.{pipelines_conf(cfg).name}", *(f"dlq.{c.name}" for c in cfg.connectors)})


def _settings(cfg: HubConfig) -> KafkaSettings:
    from hub.wiring import kafka_settings

    return kafka_settings(cfg, client_id=f"{cfg.kafka.client_id}-dlq")


def topic_letters(cfg: HubConfig, timeout_s: float) -> tuple[list[DeadLetter], list[str]]:
    """Every message on the dead-letter topics up to their current end, and notes on what was not read."""
    from hub.runtime import dlq_topics as dlq_topics_read

    return dlq_topics_read.topic_letters(_settings(cfg), dlq_topics(cfg), timeout_s)


def topic_letter(cfg: HubConfig, ident: Ident, timeout_s: float) -> DeadLetter | None:
    """The message an id names, or None when it is not (or no longer) on the topic."""
    from hub.runtime import dlq_topics as dlq_topics_read

    return dlq_topics_read.topic_letter(_settings(cfg), ident, timeout_s)


# --- commands ------------------------------------------------------------------------------------------------

def gather(cfg: HubConfig, place: str, timeout_s: float) -> tuple[list[DeadLetter], list[str]]:
    """The dead letters of ``place`` (all, outbox or topics), and notes on what could not be read."""
    letters: list[DeadLetter] = []
    notes: list[str] = []
    if place in ("all", OUTBOX):
        letters += outbox_letters(cfg)
    if place in ("all", "topics"):
        try:
            found, notes = topic_letters(cfg, timeout_s)
            letters += found
        except CrmhubError as exc:
            notes.append(f"the dead-letter topics were not read: {exc}")
    return letters, notes


def render(letters: list[DeadLetter], title: str) -> Table:
    table = Table(title=title)
    for column in ("id", "where", "source", "table", "key", "rule"):
        table.add_column(column, overflow="fold")
    table.add_column("reason", overflow="fold", ratio=1)
    for x in letters:  # plain text: values from the source are never read as rich markup ("[/b]")
        table.add_row(*(Text(str(v)) for v in (x.id, x.where, x.source, x.table, x.key, x.rule, x.reason)))
    return table


@dlq_app.command("list")
def dlq_list(config: ConfigOpt,
             source: Annotated[str | None, typer.Option("--source", help="only this source (connector)")] = None,
             table: Annotated[str | None, typer.Option("--table", help="only this table")] = None,
             rule: Annotated[str | None, typer.Option("--rule", help="only this rule, or kind (transform)")] = None,
             limit: Annotated[int, typer.Option("--limit", min=1, help="show at most the last N")] = 50,
             place: FromOpt = "all", timeout: TimeoutOpt = 5.0) -> None:
    """One line per rejected record: id, where it waits, source, table, key, rule and reason."""
    if place not in PLACES:
        raise typer.BadParameter(f"--from must be one of {', '.join(PLACES)}")
    letters, notes = gather(config_at(config), place, timeout)
    chosen = select_letters(letters, source, table, rule)
    shown = chosen[-limit:]
    Console(width=200).print(render(shown, f"{len(shown)} of {len(chosen)} rejected record(s)"))
    for note in notes:
        typer.echo(f"note: {note}", err=True)


@dlq_app.command("show")
def dlq_show(config: ConfigOpt, reject_id: Annotated[str, typer.Argument(help="an id `crmhub dlq list` shows")],
             timeout: TimeoutOpt = 5.0) -> None:
    """One rejected record whole: where it waits, the rule and reason, and the body with the original record."""
    try:
        ident = parse_id(reject_id)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    cfg = config_at(config)
    found = outbox_letters(cfg, ident.row) if ident.where == OUTBOX else [topic_letter(cfg, ident, timeout)]
    letter = found[0] if found else None
    if letter is None:
        typer.echo(f"no dead letter {reject_id}" + (" (published from the outbox already?)"
                                                    if ident.where == OUTBOX else ""), err=True)
        raise typer.Exit(1)
    for name in ("id", "where", "topic", "source", "table", "key", "rule", "reason"):
        typer.echo(f"{name + ':':8} {getattr(letter, name)}")
    typer.echo(json.dumps(letter.body, indent=2, ensure_ascii=False, default=str))
