"""The manual under docs/ builds with mkdocs in strict mode, and the README's links lead somewhere.

mkdocs.yml turns broken links between pages, missing anchors and pages left out of the nav into warnings, and
``strict: true`` makes any warning fail the build; this test runs that build, so `make test` fails on a dead
internal link. The README is not part of the site, so its relative links are checked here directly.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = Path(sys.executable).parent / "mkdocs"
README_LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_docs_build_strict_without_warnings(tmp_path: Path) -> None:
    assert MKDOCS.exists(), f"{MKDOCS} is missing: install the dev extras (pip install -e '.[dev]')"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [str(MKDOCS), "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "WARNING" not in output, output
    assert (tmp_path / "site" / "connectors" / "index.html").is_file()


def test_link_checking_stays_on() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["strict"] is True
    assert config["validation"]["links"] == {
        "not_found": "warn", "anchors": "warn", "absolute_links": "warn", "unrecognized_links": "warn"}
    assert config["validation"]["nav"]["omitted_files"] == "warn"


def test_readme_links_exist_and_reach_the_connector_guide_from_the_first_screen() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    local = [t for t in README_LINK.findall(text) if "://" not in t and not t.startswith(("#", "mailto:"))]
    assert local, "the README links into the docs"
    missing = [t for t in local if not (ROOT / t.split("#", 1)[0]).exists()]
    assert not missing, f"README links to files that do not exist: {missing}"
    first_screen = "\n".join(text.splitlines()[:40])
    assert "(docs/connectors/index.md)" in first_screen
