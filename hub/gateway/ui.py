"""The pages: ``/ui/agent.html`` (agent console) and ``/ui/ops.html`` (operations dashboard), plain HTML and
JavaScript over the gateway's own API (the token comes once in the URL fragment, ``#token=...``, and stays in
the tab's session storage; the pages themselves hold no data and need no token)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

PAGES = Path(__file__).with_name("ui")


def mount_pages(app: FastAPI) -> None:
    app.mount("/ui", StaticFiles(directory=PAGES), name="ui")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/agent.html")
