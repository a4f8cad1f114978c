"""`crmhub unify train` and `crmhub unify relink`: learn the match parameters from the store, then apply them.

``train`` reads the features of every live source record in the golden-record store, estimates the weight of
each comparison level without labels (:mod:`pipelines.identity.training`), writes a model file and prints the
levels and the distribution of match weights. ``relink`` re-scores every record under the config's current
match settings (name the model in ``pipelines.unify.match.model`` first) and publishes the merges and splits.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.console import Console
from rich.table import Table

from hub.cli import app, config_at

if TYPE_CHECKING:
    from hub.config import HubConfig
    from pipelines.identity import Features
    from pipelines.identity.training import Training

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="crmhub YAML config")]
unify_app = typer.Typer(help="Identity resolution: learn the match parameters, re-link with them.",
                        no_args_is_help=True)
app.add_typer(unify_app, name="unify")


def config_for_training(config: Path) -> tuple[HubConfig, str | None]:
    """The config, and the model file it names that does not exist yet (training writes it): without that
    file the config would not validate, so it is read without the ``model`` key then."""
    import yaml

    from hub.config import validate_config_text

    text = config.read_text(encoding="utf-8") if config.is_file() else ""
    raw = yaml.safe_load(text) if text else None
    match = (((raw or {}).get("pipelines") or {}).get("unify") or {}).get("match") if isinstance(raw, dict) else None
    named = match.get("model") if isinstance(match, dict) else None
    if not isinstance(match, dict) or not isinstance(named, str) or not named or Path(named).exists():
        return config_at(config), None
    del match["model"]
    return validate_config_text(yaml.safe_dump(raw, sort_keys=False), str(config), base_dir=config.parent), named


def default_model_path(config: Path, cfg: HubConfig) -> Path:
    """Where ``train`` writes: the model the config already names, else ``<config>.model.json`` beside it."""
    from hub.pipeline_setup import pipelines_conf

    named = pipelines_conf(cfg).unify.match.model
    return Path(named) if named else config.with_name(f"{config.stem}.model.json")


def _levels_table(result: Training) -> Table:
    from pipelines.identity.training import MIN_EVIDENCE

    table = Table(title=f"match weights learned from {result.records:,} records")
    for column in ("field", "level", "pairs", "m", "u", "weight", "default"):
        table.add_column(column, justify="left" if column in ("field", "level") else "right")
    for s in result.levels:
        kept = " (kept)" if s.pairs < MIN_EVIDENCE else ""
        table.add_row(s.field, s.level, f"{s.pairs:,}", f"{s.m:.4f}", f"{s.u:.2e}", f"{s.weight:+.2f}{kept}",
                      f"{s.default:+.1f}")
    return table


def weight_histogram(totals: Sequence[float], link: float, review: float, width: int = 50, step: float = 2.0
                     ) -> list[str]:
    """Lines of a terminal bar chart of match weights in bins of ``step``, the thresholds marked."""
    if not totals:
        return ["(no pairs)"]
    low = int(max(min(totals), -40.0) // step)
    high = int(min(max(totals), 80.0) // step)
    counts = [0] * (high - low + 1)
    for t in totals:
        counts[min(max(int(t // step), low), high) - low] += 1
    peak = max(counts)
    lines = []
    for i, n in enumerate(counts):
        start = (low + i) * step
        mark = " link" if start <= link < start + step else " review" if start <= review < start + step else ""
        bar = "█" * max(1 if n else 0, round(n / peak * width))
        lines.append(f"{start:+6.0f} .. {start + step:+4.0f} │{bar} {n:,}{mark}")
    return lines


@unify_app.command("train")
def train_command(
    config: ConfigOpt,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="model file to write")] = None,
    sample: Annotated[int, typer.Option(help="random pairs for the u-probabilities")] = 50_000,
    seed: Annotated[int, typer.Option(help="seed of the random pairs")] = 0,
) -> None:
    """Estimate the match parameters from the records in the store (no labels) and write a model file."""
    from hub.pipeline_setup import open_unifier, pipelines_conf
    from hub.runtime.pairpool import map_pairs
    from pipelines.identity import MatchConfig
    from pipelines.identity.model import save_model
    from pipelines.identity.scoring import total_score
    from pipelines.identity.training import blocked_pairs, comparison, train
    from pipelines.store import records as rec

    cfg, named = config_for_training(config)
    match = pipelines_conf(cfg).unify.match
    unifier = open_unifier(pipelines_conf(cfg))
    with unifier.store.tx() as conn:
        feats = [cast("Features", f) for _i, _ref, f in rec.live_features(conn)]
    start = time.perf_counter()
    try:
        result = train(feats, match, sample=sample, seed=seed, compare=partial(map_pairs, comparison))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    path = output or (Path(named) if named else default_model_path(config, cfg))
    save_model(result.model, path)
    console = Console(width=120)
    console.print(_levels_table(result))
    for note in result.notes:
        typer.echo(f"  {note}")
    learned = MatchConfig.model_validate({**match.model_dump(exclude_unset=True), "model": str(path)})
    totals = map_pairs(total_score, feats, blocked_pairs(feats, learned.max_candidates), learned)
    typer.echo(f"match weights of the {len(totals):,} blocked pairs under the new model:")
    for line in weight_histogram(totals, learned.link_threshold, learned.review_threshold):
        typer.echo(f"  {line}")
    typer.echo(f"link >= {learned.link_threshold:g}, review >= {learned.review_threshold:g} "
               f"(true pairs among blocked pairs: {result.share_blocked:.1%}); "
               f"trained in {time.perf_counter() - start:.1f} s")
    typer.echo(f"model written to {path}")
    if (named or match.model) != str(path):
        typer.echo(f"to use it, set pipelines.unify.match.model: {path} in {config}, then run "
                   f"`crmhub unify relink -c {config}`")


@unify_app.command("relink")
def relink_command(
    config: ConfigOpt,
    publish: Annotated[bool, typer.Option(help="publish the merges and splits to Kafka now")] = False,
) -> None:
    """Re-score every record under the config's match settings; merges and splits go to the outbox."""
    from hub.pipeline_setup import open_unifier, pipelines_conf
    from pipelines.unify import steward

    cfg = config_at(config)
    unifier = open_unifier(pipelines_conf(cfg))
    start = time.perf_counter()
    stats = steward.relink(unifier)
    typer.echo(f"relinked in {time.perf_counter() - start:.1f} s: {stats.golden_changed} golden record(s) "
               f"changed, {stats.merges} merge(s), {stats.splits} split(s)")
    if publish:
        from hub.cli.unify import _publish_outbox
        _publish_outbox(cfg, unifier)
    else:
        typer.echo("outputs are in the store's outbox; the pipelines role of `crmhub run` publishes them")
