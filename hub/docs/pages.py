"""The generated reference pages: what each holds, rendering them all, writing them, and finding stale ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hub.docs import asyncapi_ref, cli_ref, config_ref, http_ref

ROOT = Path(__file__).resolve().parents[2]

PAGES: dict[str, Callable[[Path], str]] = {
    "docs/reference/config.md": lambda root: config_ref.render(),
    "docs/reference/cli.md": lambda root: cli_ref.render(),
    "docs/reference/http.md": lambda root: http_ref.render(),
    "docs/reference/asyncapi.md": asyncapi_ref.render,
}


def render_all(root: Path = ROOT) -> dict[str, str]:
    """Every page's text by its path relative to ``root`` (the repository)."""
    return {path: build(root) for path, build in PAGES.items()}


def stale(root: Path = ROOT, rendered: dict[str, str] | None = None) -> list[str]:
    """The pages whose file differs from what :func:`render_all` gives (or is missing)."""
    pages = render_all(root) if rendered is None else rendered
    out = []
    for path, text in pages.items():
        file = root / path
        if not file.is_file() or file.read_text(encoding="utf-8") != text:
            out.append(path)
    return out


def write(root: Path = ROOT) -> list[str]:
    """Write the pages that changed; their paths."""
    pages = render_all(root)
    changed = stale(root, pages)
    for path in changed:
        file = root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(pages[path], encoding="utf-8")
    return changed
