"""`crmhub unify train` learns a model from the loaded store; `crmhub unify relink` applies it."""

from __future__ import annotations

import json
import random
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app
from hub.cli import commands as cli_commands  # noqa: F401  (registers the commands)
from hub.cli.match import weight_histogram
from tests.unit.test_load_export import PEOPLE, _config, _db

GIVEN = ["Anna", "Peter", "Maria", "Jonas", "Lena", "Felix", "Sara", "Tobias", "Clara", "Emil", "Greta", "Oskar"]
FAMILY = ["Berger", "Huber", "Novak", "Keller", "Wagner", "Roth", "Brandt", "Fuchs", "Vogel", "Lorenz", "Graf"]


def _people(n: int, seed: int) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    rng = random.Random(seed)
    a, b = [], []
    for i in range(n):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        dob = rng.randint(1940, 2000) * 10_000 + rng.randint(1, 12) * 100 + rng.randint(1, 28)
        mail = f"{given}.{family}{i}@example.com".lower()
        a.append((i + 1, given.upper(), family.upper(), dob, mail))
        if rng.random() < 0.6:  # the same person in the second source, sometimes mistyped
            typo = given[:-1] + "x" if rng.random() < 0.2 else given
            b.append((1000 + i, typo, family, dob, mail.upper() if rng.random() < 0.5 else None))
    return a, b


def _people_config(tmp_path: Path, n: int, seed: int) -> Path:
    """The load-and-export config with ``n`` generated people in source A (about 60 % of them in B too)."""
    config = _config(tmp_path)
    rows_a, rows_b = _people(n, seed)
    for name, rows in (("a.db", rows_a), ("b.db", rows_b)):
        (tmp_path / name).unlink()
        _db(tmp_path / name, rows)
    return config


def test_train_writes_a_model_and_relink_applies_it(tmp_path: Path) -> None:
    config = _people_config(tmp_path, 300, 3)
    runner = CliRunner()
    assert runner.invoke(app, ["load", "-c", str(config)]).exit_code == 0
    model = tmp_path / "hub.model.json"
    result = runner.invoke(app, ["unify", "train", "-c", str(config), "--sample", "20000"])
    assert result.exit_code == 0, result.output
    assert "match weights learned from" in result.output and "dob" in result.output
    assert f"model written to {model}" in result.output
    assert "pipelines.unify.match.model" in result.output  # how to use it
    assert "│█" in result.output and " link" in result.output  # the weight chart marks the threshold
    learned = json.loads(model.read_text())
    assert learned["weights"]["dob.exact"] > 0 > learned["weights"]["dob.disagree"]

    text = config.read_text().replace("  unify: {", f"  unify: {{match: {{model: '{model}'}}, ")
    config.write_text(text)
    result = runner.invoke(app, ["unify", "relink", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "relinked in" in result.output and "golden record(s) changed" in result.output


def test_train_refuses_a_store_with_too_few_records(tmp_path: Path) -> None:
    config = _config(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["load", "-c", str(config)]).exit_code == 0
    result = runner.invoke(app, ["unify", "train", "-c", str(config)])
    assert result.exit_code != 0
    assert "too few records to train on" in result.output
    assert len(PEOPLE) < 10


def test_weight_histogram_counts_every_pair_and_marks_thresholds() -> None:
    totals = [-5.0, -4.5, 1.0, 11.0, 11.5, 30.0]
    lines = weight_histogram(totals, link=11.0, review=7.0, step=2.0)
    counts = [int(line.rsplit(" ", 2)[-2].replace(",", "")) if line.endswith(("link", "review"))
              else int(line.rsplit(" ", 1)[-1].replace(",", "")) for line in lines]
    assert sum(counts) == len(totals)
    assert any(line.endswith(" link") and "+10" in line for line in lines)
    assert any(line.endswith(" review") and "+6" in line for line in lines)


def test_train_writes_the_model_the_config_names_before_it_exists(tmp_path: Path) -> None:
    config = _people_config(tmp_path, 120, 5)
    model = tmp_path / "models" / "match.json"
    config.write_text(config.read_text().replace("  unify: {", f"  unify: {{match: {{model: '{model}'}}, "))
    runner = CliRunner()
    assert "cannot read match model" in str(runner.invoke(app, ["load", "-c", str(config)]).exception)
    config.write_text(config.read_text().replace(f"match: {{model: '{model}'}}, ", ""))
    assert runner.invoke(app, ["load", "-c", str(config)]).exit_code == 0
    config.write_text(config.read_text().replace("  unify: {", f"  unify: {{match: {{model: '{model}'}}, "))
    result = runner.invoke(app, ["unify", "train", "-c", str(config), "--sample", "5000"])
    assert result.exit_code == 0, result.output
    assert model.is_file() and f"model written to {model}" in result.output
    assert "to use it, set" not in result.output  # the config names it already
    assert runner.invoke(app, ["unify", "relink", "-c", str(config)]).exit_code == 0
