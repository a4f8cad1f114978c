"""The generated reference pages (docs/reference/config.md, cli.md, http.md, asyncapi.md) match the code: a page
left stale by a change to the config models, the commands, the HTTP routes or the topics fails here; `python -m
hub.docs` rewrites them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.docs import __main__ as docs_main
from hub.docs.markdown import cell, code, escape
from hub.docs.pages import PAGES, render_all, stale

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return render_all(ROOT)


def test_the_reference_pages_are_current(rendered: dict[str, str]) -> None:
    assert stale(ROOT, rendered) == [], "reference pages are stale: run `python -m hub.docs` and commit them"


def test_the_output_is_deterministic(rendered: dict[str, str]) -> None:
    assert render_all(ROOT) == rendered
    for path, text in rendered.items():
        assert text.endswith("\n") and not text.endswith("\n\n"), path
        assert str(ROOT) not in text and "/tmp" not in text, path


def test_check_mode_names_the_stale_page_and_writing_fixes_it(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "config").mkdir()
    shutil.copy(ROOT / "config" / "demo.yaml", tmp_path / "config" / "demo.yaml")
    shutil.copytree(ROOT / "docs" / "reference", tmp_path / "docs" / "reference")
    assert docs_main.main(["--check", "--root", str(tmp_path)]) == 0
    page = tmp_path / "docs" / "reference" / "cli.md"
    page.write_text(page.read_text(encoding="utf-8").replace("crmhub check", "crmhub verify", 1), encoding="utf-8")
    capsys.readouterr()
    assert docs_main.main(["--check", "--root", str(tmp_path)]) == 1
    assert "stale: docs/reference/cli.md" in capsys.readouterr().err
    assert docs_main.main(["--root", str(tmp_path)]) == 0
    assert docs_main.main(["--check", "--root", str(tmp_path)]) == 0
    assert page.read_text(encoding="utf-8") == (ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")


def _documented_keys(text: str) -> list[str]:
    return re.findall(r"^\| `([a-z_][^`]*)` \|", text, flags=re.MULTILINE)


def _yaml_paths(node: Any, path: str, leaves: set[str]) -> list[str]:
    """The path of every key holding a value in a config file, as the reference spells it (``[]`` for a list
    item); a mapping that is a documented leaf (free keys, like kafka.security) is not entered."""
    if path in leaves or not isinstance(node, (dict, list)) or not node:
        return [path]
    if isinstance(node, list):
        items = [i for i in node if isinstance(i, dict)]
        return [p for item in items for p in _yaml_paths(item, f"{path}[]", leaves)] if items else [path]
    return [p for key, value in node.items() for p in _yaml_paths(value, f"{path}.{key}" if path else key, leaves)]


def test_every_key_of_the_example_config_is_in_the_configuration_reference(rendered: dict[str, str]) -> None:
    keys = _documented_keys(rendered["docs/reference/config.md"])
    assert "connectors[].tables[].timestamp_column" in keys and "pipelines.unify.match.link" in keys
    patterns = [re.compile("^" + re.escape(k).replace(re.escape("<name>"), r"[^.]+") + "$") for k in keys]
    leaves = {k for k in keys if not any(other.startswith(k + ".") or other.startswith(k + "[]") for other in keys)}
    example = yaml.safe_load((ROOT / "config" / "crmhub.example.yaml").read_text(encoding="utf-8"))
    paths = [p for p in _yaml_paths(example, "", leaves) if p]
    missing = [p for p in paths if not any(pattern.match(p) for pattern in patterns)]
    assert len(paths) > 60
    assert missing == []


def test_every_page_has_its_parts(rendered: dict[str, str]) -> None:
    assert set(rendered) == set(PAGES)
    cli, http, topics = (rendered[f"docs/reference/{p}.md"] for p in ("cli", "http", "asyncapi"))
    assert "## crmhub asyncapi" in cli and "### crmhub connectors snapshot" in cli
    assert "| `--wait` / `--no-wait` | `flag` | `--wait` |" in cli
    for section in ("## Gateway", "## Admin API", "## Schema registry", "### GET /asyncapi.json",
                    "### PUT /connectors/{name}/pause", "### POST /subjects/{subject}/versions"):
        assert section in http
    assert "| `customer.unified` |" in topics and "cleanup.policy `compact`" in topics
    assert "`src.ibmi.custmast-value`" in topics


def test_markdown_cells_survive_any_text() -> None:
    assert code("a`b") == "``a`b``"
    assert cell("a | b `x|y`\nc") == "a \\| b `x|y` c"
    assert escape("dlq.<name> `<kept>`") == "dlq.&lt;name&gt; `<kept>`"
