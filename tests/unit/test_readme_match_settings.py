"""The README's match settings are the code's: every key of ``pipelines.unify.match`` with its default, and
every default weight."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from pipelines.identity.config import DEFAULT_WEIGHTS, MatchConfig

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Identity match settings", 1)[1].split("\n## ", 1)[0]


def test_every_match_key_is_in_the_readme_with_its_default() -> None:
    defaults = MatchConfig()
    for name in MatchConfig.model_fields:
        value = getattr(defaults, name)
        shown = json.dumps(value) if not isinstance(value, float) else f"{value:.1f}"
        assert f"| `{name}` | `{shown}` |" in SECTION, name


def test_every_default_weight_is_in_the_readme() -> None:
    by_field: dict[str, list[str]] = defaultdict(list)
    for key, weight in DEFAULT_WEIGHTS.items():
        field, level = key.split(".", 1)
        by_field[field].append(f"{level} {weight:+g}")
    for field, levels in by_field.items():
        assert f"- `{field}`: {', '.join(levels)}\n" in SECTION, field
