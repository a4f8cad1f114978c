"""``crmhub check --connect``: does every source and the Kafka broker answer?

One probe per item, all at once, each in a thread of its own with a time limit: a source that does not
answer (a firewall dropping packets, a server still starting) is reported as such instead of hanging the
check. A probe opens a connection the way the connector will (same driver, same credentials) and closes it;
it reads nothing. A SQLite source is opened read-only, so a mistyped path is not created empty; an export
folder must exist and be readable.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.config import HubConfig
from schemas.errors import CrmhubError
from schemas.secrets import mask_text


@dataclass(frozen=True, slots=True)
class Probe:
    item: str  # kafka, or connectors[i] <name> (<kind>)
    target: str  # what was asked: bootstrap servers, host, folder (never a password)
    ok: bool
    detail: str  # how long the answer took, or why there was none


def _sql(conf: Any) -> Callable[[], None]:
    import sqlalchemy as sa

    url = sa.engine.make_url(conf.url)
    if url.get_backend_name() == "sqlite":
        def sqlite() -> None:
            database = url.database or ""
            if not Path(database).is_file():
                raise FileNotFoundError(f"no such SQLite database: {database}")
            sqlite3.connect(f"file:{database}?mode=ro", uri=True).execute("SELECT 1").fetchall()
        return sqlite

    def server() -> None:
        from connectors.sql.config import create_engine

        engine = create_engine(conf)
        try:
            engine.connect().close()
        finally:
            engine.dispose()
    return server


def _dbapi(connect: Callable[[], Any]) -> Callable[[], None]:
    return lambda: connect().close()


def _folder(path: Path) -> Callable[[], None]:
    def probe() -> None:
        if not path.is_dir():
            raise FileNotFoundError(f"no such folder: {path}")
        if not os.access(path, os.R_OK | os.X_OK):
            raise PermissionError(f"cannot read {path}")
    return probe


def source_probe(conf: Any) -> tuple[str, Callable[[], None]]:
    """(target, probe) for one connector's source."""
    kind = conf.kind
    if kind == "filedrop":
        return str(conf.path), _folder(Path(conf.path))
    if kind == "sql":
        import sqlalchemy as sa

        return sa.engine.make_url(conf.url).render_as_string(hide_password=True), _sql(conf)
    if kind == "oracle_logminer":
        from connectors.oracle_logminer.session import oracledb_factory

        password = conf.password.get_secret_value() if conf.password else None
        return f"{conf.user}@{conf.dsn}", _dbapi(oracledb_factory(conf.dsn, conf.user, password))
    if kind == "mssql_cdc":
        from connectors.mssql_cdc.driver import pyodbc_factory

        return mask_text(getattr(conf, "dsn", "") or conf.name), _dbapi(lambda: pyodbc_factory(conf)())
    if kind == "db2_asn":
        from connectors.db2_asn.driver import ibm_db_factory

        return mask_text(getattr(conf, "dsn", "") or conf.name), _dbapi(lambda: ibm_db_factory(conf)())
    from connectors.ibmi_journal import db

    return mask_text(conf.dsn), _dbapi(lambda: db.default_factory(conf)())


def broker_probe(cfg: HubConfig, timeout_s: float) -> Callable[[], None]:
    def probe() -> None:
        from hub.kafka.clients import Admin
        from hub.wiring import kafka_settings

        limit = max(500, int(timeout_s * 800))  # the client gives up (and says why) before the probe does
        admin = Admin(kafka_settings(cfg, client_id=f"{cfg.kafka.client_id}-check"),
                      request_timeout_ms=limit, bootstrap_timeout_ms=limit)
        try:
            admin.list_topics()
        finally:
            admin.close()
    return probe


def _run(probe: Callable[[], None], timeout_s: float) -> tuple[bool, str]:
    outcome: list[tuple[bool, str]] = []

    def target() -> None:
        started = time.monotonic()
        try:
            probe()
            outcome.append((True, f"answered in {(time.monotonic() - started) * 1000:.0f} ms"))
        except Exception as exc:
            text = " ".join(str(exc).split())
            said = text if isinstance(exc, CrmhubError) and text else f"{type(exc).__name__}: {text}"
            outcome.append((False, mask_text(said)[:300]))

    thread = threading.Thread(target=target, name="crmhub-check-connect", daemon=True)
    thread.start()
    thread.join(timeout_s)
    return outcome[0] if outcome else (False, f"no answer within {timeout_s:g} s")


def connect_all(cfg: HubConfig, timeout_s: float = 10.0) -> list[Probe]:
    """Probe the broker and every connector's source at once; each gets ``timeout_s`` seconds."""
    items: list[tuple[str, str, Callable[[], None]]] = [("kafka", cfg.kafka.bootstrap_servers,
                                                         broker_probe(cfg, timeout_s))]
    for i, conf in enumerate(cfg.connectors):
        item = f"connectors[{i}] {conf.name} ({conf.kind})"
        try:
            target, probe = source_probe(conf)
        except Exception as exc:  # e.g. the driver is not installed: the extra to install is in the message
            items.append((item, "", _raise(exc)))
            continue
        items.append((item, target, probe))
    results: list[tuple[bool, str] | None] = [None] * len(items)

    def run(index: int) -> None:
        results[index] = _run(items[index][2], timeout_s)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(items))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout_s + 5)
    return [Probe(item, target, *(result or (False, f"no answer within {timeout_s:g} s")))
            for (item, target, _), result in zip(items, results, strict=True)]


def _raise(exc: Exception) -> Callable[[], None]:
    def probe() -> None:
        raise exc
    return probe
