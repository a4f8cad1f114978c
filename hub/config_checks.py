"""What ``crmhub check`` verifies beyond the config's own shape: no two servers on one port, and every file or
folder the config names exists (or, where crmhub creates it, can be created). Pure over a validated config."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

from hub.config import HubConfig


def port_problems(cfg: HubConfig) -> list[str]:
    """Two servers of this config on the same host port."""
    used: list[tuple[str, int]] = [("gateway.port", cfg.gateway.port), ("admin.port", cfg.admin.port)]
    if cfg.registry.url is None and cfg.registry.serve.enabled:
        used.append(("registry.serve.port", cfg.registry.serve.port))
    if _local_broker(cfg):
        used += [("kafka.local.port", cfg.kafka.local.port),
                 ("kafka.local.controller_port", cfg.kafka.local.controller_port)]
    seen: dict[int, str] = {}
    problems = []
    for path, port in used:
        if port in seen:
            problems.append(f"{path}: port {port} is also {seen[port]}")
        else:
            seen[port] = path
    return problems


def _local_broker(cfg: HubConfig) -> bool:
    host, _, port = cfg.kafka.bootstrap_servers.split(",")[0].rpartition(":")
    return host in ("127.0.0.1", "localhost") and port == str(cfg.kafka.local.port)


def _creatable(folder: Path) -> bool:
    """The folder exists and is writable, or its nearest existing parent is."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return candidate.is_dir() and os.access(candidate, os.W_OK)
    return False


def file_problems(cfg: HubConfig) -> list[str]:
    """Files the config names that are missing, and folders crmhub would write that it cannot create."""
    problems: list[str] = []

    def need_file(path: Path | None, where: str) -> None:
        if path is not None and not path.is_file():
            problems.append(f"{where}: no such file: {path}")

    def need_folder(path: Path | None, where: str, *, create: bool) -> None:
        if path is None:
            return
        if path.is_dir() or (create and _creatable(path)):
            return
        problems.append(f"{where}: {'cannot create' if create and not path.exists() else 'no such folder'}: "
                        f"{path}")

    for i, conn in enumerate(cfg.connectors):
        where = f"connectors[{i}]"
        if conn.kind == "filedrop":
            need_folder(conn.path, f"{where}.path", create=True)
            for j, feed in enumerate(conn.feeds):
                need_file(feed.copybook, f"{where}.feeds[{j}].copybook")
                need_file(feed.layout, f"{where}.feeds[{j}].layout")
        url = getattr(conn, "url", None)
        if isinstance(url, str) and url.startswith("sqlite"):
            database = sa.engine.make_url(url).database
            if database and database != ":memory:" and not Path(database).is_file():
                problems.append(f"{where}.url: no such SQLite database: {database}")
    if cfg.pipelines is not None:
        need_file(cfg.pipelines.alerts, "pipelines.alerts")
        store = cfg.pipelines.store.url
        if store.startswith("sqlite"):
            database = sa.engine.make_url(store).database
            if database and database != ":memory:":
                need_folder(Path(database).parent, "pipelines.store.url", create=True)
    need_folder(cfg.gateway.tokens_file.parent, "gateway.tokens_file", create=True)
    return problems
