"""`crmhub load`, `crmhub export golden`, `crmhub review list|show|accept|reject`, `crmhub link`, `crmhub unlink`.

These work on the golden-record store named by ``pipelines.store`` in the config; what they change is
written to the store's outbox and published by the running hub's pipelines role (or by ``load --publish``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from hub.cli import app, config_at

if TYPE_CHECKING:
    from connectors.base import Batch
    from hub.config import HubConfig
    from hub.runtime.loader import LoadSummary
    from pipelines.unify.engine import ApplyStats, Unifier

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="crmhub YAML config")]
ByOpt = Annotated[str, typer.Option("--by", help="who decides (kept with the decision)")]

review_app = typer.Typer(help="Possible matches waiting for a data steward.", no_args_is_help=True)
export_app = typer.Typer(help="Export from the golden-record store.", no_args_is_help=True)
app.add_typer(review_app, name="review")
app.add_typer(export_app, name="export")


def _unifier(config: Path) -> Unifier:
    from hub.pipeline_setup import open_unifier, pipelines_conf

    return open_unifier(pipelines_conf(config_at(config)))


@app.command("load")
def load_command(config: ConfigOpt,
                 publish: Annotated[bool, typer.Option(help="publish the outputs to Kafka now")] = False) -> None:
    """Initial load: snapshot every configured source through the pipelines into the golden-record store."""
    from hub.pipeline_setup import load_parts
    from hub.runtime.gctune import tune_gc
    from hub.runtime.loader import load

    cfg = config_at(config)
    parts = load_parts(cfg)
    unifier = parts.unifier()
    tune_gc()
    console = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  disable=not sys.stderr.isatty()) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(connector: str, batch: Batch) -> None:
            task = tasks.get(connector)
            if task is None:
                task = tasks[connector] = bar.add_task(connector, total=None)
            bar.advance(task, len(batch.events))
            done = int(bar.tasks[task].completed)
            bar.update(task, description=f"{connector}: {done} records")

        summary = load(cfg, parts, unifier, progress)
    if publish:
        _publish_outbox(cfg, unifier)
    table = Table(title="load summary")
    for column in ("records", "canonical", "golden records", "merges", "DLQ", "seconds"):
        table.add_column(column, justify="right")
    table.add_row(str(summary.records), str(summary.canonical), str(summary.golden), str(summary.merges),
                  str(summary.dlq), f"{summary.seconds:.1f}")
    Console().print(table)
    for name, n in summary.per_connector.items():
        typer.echo(f"  {name}: {n} records")
    _print_quality(summary)
    if not publish:
        typer.echo("outputs are in the store's outbox; the pipelines role of `crmhub run` publishes them")


def _print_quality(summary: LoadSummary) -> None:
    """The top reasons of the rejects (values masked) and the warnings on the records kept."""
    from hub.runtime.dlq_read import top_reasons

    if summary.reasons:
        table = Table(title="top reasons of rejects (`crmhub dlq list` shows them)")
        table.add_column("count", justify="right")
        table.add_column("rule")
        table.add_column("reason", overflow="fold")
        for count, rule, reason in top_reasons(summary.reasons, 5):
            table.add_row(str(count), rule, reason)
        Console(width=160).print(table)
    if summary.warnings:
        top = ", ".join(f"{rule} {n}" for rule, n in summary.warnings.most_common(5))
        typer.echo(f"warnings on records kept: {summary.warnings.total()} ({top})")


def _publish_outbox(cfg: HubConfig, unifier: object) -> None:
    from hub.kafka.clients import Producer
    from hub.runtime.pipeline_workers import make_publisher
    from hub.wiring import avro_serde, kafka_settings

    producer = Producer(kafka_settings(cfg))
    try:
        sent = unifier.flush(make_publisher(avro_serde(cfg), producer))  # type: ignore[attr-defined]
    finally:
        producer.close()
    typer.echo(f"published {sent} records")


@export_app.command("golden")
def export_golden(config: ConfigOpt,
                  fmt: Annotated[str, typer.Option("--format", help="csv or jsonl")] = "csv",
                  output: Annotated[Path | None, typer.Option("--output", "-o", help="file (default stdout)")] = None,
                  ) -> None:
    """Write the active golden records: CSV has one row per member source record, JSONL one line per record."""
    if fmt not in ("csv", "jsonl"):
        raise typer.BadParameter("--format must be csv or jsonl")
    from hub.cli.export import export_csv, export_jsonl

    unifier = _unifier(config)
    writer = export_csv if fmt == "csv" else export_jsonl
    with unifier.store.tx() as conn:
        if output is None:
            count = writer(conn, sys.stdout)
        else:
            with output.open("w", encoding="utf-8", newline="") as fh:
                count = writer(conn, fh)
    typer.echo(f"{count} golden records exported", err=True)


@review_app.command("list")
def review_list(config: ConfigOpt, limit: Annotated[int, typer.Option(help="at most this many")] = 50) -> None:
    """Open possible matches, best score first."""
    from pipelines.store import records as rec

    unifier = _unifier(config)
    with unifier.store.tx() as conn:
        items = rec.list_reviews(conn, limit=limit)
        rows = rec.get_records(conn, {i["a"] for i in items} | {i["b"] for i in items})
    table = Table(title=f"{len(items)} open review(s)")
    for column in ("id", "score", "record a", "record b", "why"):
        table.add_column(column)
    for item in items:
        detail = item["detail"] or {}
        why = ", ".join(f"{k} {v:+.1f}" for k, v in (detail.get("contributions") or {}).items())
        table.add_row(str(item["id"]), f"{item['score']:.1f}", rows[item["a"]].ref, rows[item["b"]].ref, why)
    Console(width=200).print(table)


@review_app.command("show")
def review_show(config: ConfigOpt, review_id: Annotated[int, typer.Argument(help="review id")]) -> None:
    """One possible match: both records side by side and the score's explanation."""
    from pipelines.identity import MatchScore, explain
    from pipelines.store import records as rec

    unifier = _unifier(config)
    with unifier.store.tx() as conn:
        item = rec.get_review(conn, review_id)
        if item is None:
            raise typer.BadParameter(f"no review {review_id}")
        rows = rec.get_records(conn, [item["a"], item["b"]])
    detail = item["detail"] or {}
    score = MatchScore(total=item["score"], decision="review", contributions=detail.get("contributions") or {},
                       deterministic=detail.get("deterministic"), notes=detail.get("notes") or [])
    typer.echo(f"review {review_id} ({item['status']}): {explain(score)}")
    a, b = rows[item["a"]], rows[item["b"]]
    table = Table()
    table.add_column("field")
    table.add_column(a.ref)
    table.add_column(b.ref)
    for name in (a.data or {}):
        va, vb = (a.data or {}).get(name), (b.data or {}).get(name)
        if va or vb:
            table.add_row(name, str(va), str(vb))
    Console(width=200).print(table)


def _report(stats: ApplyStats, what: str) -> None:
    typer.echo(f"{what}: {stats.golden_changed} golden record(s) changed, {stats.merges} merge(s), "
               f"{stats.splits} split(s)")


@review_app.command("accept")
def review_accept(config: ConfigOpt, review_id: Annotated[int, typer.Argument()], by: ByOpt = "steward") -> None:
    """Accept a possible match: the two records are linked from now on."""
    from pipelines.unify import steward

    _report(steward.decide(_unifier(config), review_id, True, by), "accepted")


@review_app.command("reject")
def review_reject(config: ConfigOpt, review_id: Annotated[int, typer.Argument()], by: ByOpt = "steward") -> None:
    """Reject a possible match: the two records are never linked automatically."""
    from pipelines.unify import steward

    _report(steward.decide(_unifier(config), review_id, False, by), "rejected")


@app.command("link")
def link_command(config: ConfigOpt, ref_a: Annotated[str, typer.Argument(help="SOURCE/KEY")],
                 ref_b: Annotated[str, typer.Argument(help="SOURCE/KEY")], by: ByOpt = "steward") -> None:
    """Link two source records by hand (they end up in one golden record and stay there)."""
    from pipelines.unify import steward

    _report(steward.link(_unifier(config), ref_a, ref_b, by), "linked")


@app.command("unlink")
def unlink_command(config: ConfigOpt, ref: Annotated[str, typer.Argument(help="SOURCE/KEY")],
                   by: ByOpt = "steward") -> None:
    """Detach a source record from its golden record (it will not link to those members again)."""
    from pipelines.unify import steward

    _report(steward.unlink(_unifier(config), ref, by), "unlinked")
