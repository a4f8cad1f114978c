"""Starting the demo hub: fresh stand-ins, the demo's API tokens, the hub itself, and reading its topics back.

:func:`start_demo_hub` removes what a previous run left (the stand-ins, drop folder, connector state, source
topics, consumer groups, golden-record store), seeds the stand-ins the config names (:class:`DemoPaths`),
creates or reuses the demo's tokens, starts the hub and prints what runs where, with the pages' URLs.
:class:`TopicReader` reads change events back from Kafka, decoded through the registry.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from hub.config import HubConfig
from hub.kafka.clients import Admin, Consumer, KafkaSettings
from hub.registry.decode import ChangeDecoder
from hub.registry.serde import AvroSerde
from hub.wiring import kafka_settings, local_broker
from schemas.envelope import ChangeEvent, table_topic
from schemas.errors import FatalError, RetriableError


@dataclass
class Decoded:
    topic: str
    offset: int
    kafka_ts_ms: int
    event: ChangeEvent


class TopicReader:
    """Reads topics from the beginning and decodes each change event through the registry."""

    def __init__(self, settings: KafkaSettings, serde: AvroSerde, topics: tuple[str, ...]) -> None:
        self.serde = serde
        self.topics = topics
        self.consumer = Consumer(settings, group_id=None)
        self.consumer.assign_topics(topics)
        self.decoder = ChangeDecoder(serde)

    def read_until(self, done: Callable[[list[Decoded]], bool], timeout_s: float = 60.0) -> list[Decoded]:
        out: list[Decoded] = []
        deadline = time.monotonic() + timeout_s
        while not done(out) and time.monotonic() < deadline:
            for m in self.consumer.poll(300):
                if m.value is None or m.key is None:
                    continue
                ev = self.decoder.decode(m.key, m.value)
                out.append(Decoded(m.topic, m.offset, m.timestamp_ms, ev))
        return out

    def close(self) -> None:
        self.consumer.close()


def describe_event(d: Decoded) -> str:
    ev = d.event
    key = ", ".join(f"{k}={v}" for k, v in ev.key.items())
    if ev.op.value == "u" and ev.before and ev.after:
        changed = [f"{k}: {ev.before.get(k)!r} -> {v!r}" for k, v in ev.after.items() if ev.before.get(k) != v]
        what = "; ".join(changed) or "(no visible change)"
    elif ev.after is not None:
        what = ", ".join(f"{k}={v}" for k, v in list(ev.after.items())[:5] if v is not None)
    else:
        what = "deleted"
    return f"{d.topic:<24} op={ev.op.value} {key:<26} {what}"


# --- where the stand-ins are -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoPaths:
    """The SQLite files of connectors ``ibmi`` (required), ``ar`` and ``helpdesk`` (optional) and the drop
    folder of connector ``exports``, from the config."""

    legacy: Path
    drop: Path
    ar: Path | None = None
    helpdesk: Path | None = None


def demo_paths(cfg: HubConfig) -> DemoPaths:
    from connectors.filedrop.config import FileDropConnector
    from connectors.sql.config import SqlConnectorConfig
    from schemas.errors import ConfigError

    dbs = {c.name: Path(c.url.removeprefix("sqlite:///")).resolve() for c in cfg.connectors
           if isinstance(c, SqlConnectorConfig) and c.url.startswith("sqlite:///")}
    drop = next((c.path for c in cfg.connectors if isinstance(c, FileDropConnector) and c.name == "exports"), None)
    if "ibmi" not in dbs or drop is None:
        raise ConfigError("the demo needs connectors 'ibmi' (sql, sqlite:///...) and 'exports' (filedrop), "
                          "as in config/demo.yaml")
    return DemoPaths(dbs["ibmi"], drop.resolve(), dbs.get("ar"), dbs.get("helpdesk"))


def demo_topics(cfg: HubConfig) -> list[str]:
    """The source topics of the config's connectors (what a fresh start deletes)."""
    from connectors.filedrop.config import FileDropConnector
    from connectors.sql.config import SqlConnectorConfig

    topics: list[str] = []
    for c in cfg.connectors:
        if isinstance(c, SqlConnectorConfig):
            topics += [t.topic or table_topic(c.name, t.table_name) for t in c.tables]
        elif isinstance(c, FileDropConnector):
            topics += [table_topic(c.name, f.name) for f in c.feeds]
    return topics


def seed_stand_ins(paths: DemoPaths) -> None:
    """Create the stand-ins afresh and drop the first EBCDIC export."""
    from hub.demo import sources as src
    from hub.demo import stands as demo_stands

    src.seed_legacy_db(paths.legacy)
    if paths.ar is not None:
        demo_stands.seed_ar_db(paths.ar)
    if paths.helpdesk is not None:
        demo_stands.seed_helpdesk_db(paths.helpdesk)
    src.drop_export(paths.drop, "CUSTEXP.20261122.BIN", [
        src.export_record(104711, "MUELLER GMBH", Decimal("1830.55"), 0, ["+49 89 1234567"]),
        src.export_record(104712, "DUPONT SARL", Decimal("-120.00"), 12, ["+33 1 44556677", "+33 6 11223344"]),
        src.export_record(104713, "ROSSI SPA", Decimal("9400.10"), 45, []),
    ])


# --- tokens ---------------------------------------------------------------------------------------------------------

@dataclass
class DemoTokens:
    agent: str
    admin: str


DEMO_TOKEN_NAMES = {"agent": "demo-agent", "admin": "demo-admin"}


def demo_tokens(cfg: HubConfig) -> DemoTokens:
    """The demo's agent and admin tokens: reused while ``gateway.tokens_file`` still holds them, else (re)created
    with ``create_token``. The tokens in clear are kept in ``demo-tokens.json`` next to the tokens file (mode
    0600), so the printed page URLs stay valid from one run to the next."""
    from hub.gateway.tokens import create_token, hash_token, read_tokens, revoke_token

    path = cfg.gateway.tokens_file
    keep = path.parent / "demo-tokens.json"
    try:
        saved = json.loads(keep.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        saved = {}
    entries = {e.name: e for e in read_tokens(path)}
    roles = set(cfg.gateway.effective_roles())
    out: dict[str, str] = {}
    for role, name in DEMO_TOKEN_NAMES.items():
        token = saved.get(role) if isinstance(saved, dict) else None
        entry = entries.get(name)
        if isinstance(token, str) and entry is not None and entry.role == role and entry.sha256 == hash_token(token):
            out[role] = token
            continue
        revoke_token(path, name)
        out[role] = create_token(path, name, role, roles)
    keep.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(keep, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(out, fh)
    return DemoTokens(agent=out["agent"], admin=out["admin"])


# --- the hub --------------------------------------------------------------------------------------------------------

@dataclass
class DemoHub:
    """A running demo hub on freshly seeded stand-ins; ``base_url`` and ``tokens`` when the gateway runs."""

    hub: Any
    db: Path
    drop: Path
    base_url: str | None
    tokens: DemoTokens | None
    ar: Path | None = None
    helpdesk: Path | None = None


def start_demo_hub(cfg: HubConfig, console: Console, *, start_broker: bool = True,
                   processes: Path | None = None) -> DemoHub:
    """Start the broker (optionally), re-seed the legacy stand-ins, create or reuse the demo's API tokens, start
    the hub and say what runs where (with the pages' URLs when the config has ``pipelines:``). With
    ``processes`` (the config file's path) the pipeline stages run as ``crmhub run --only`` child processes
    (``hub/demo/stages.py``), kept on the hub as ``hub.stages``."""
    from hub.runtime.hub import PIPELINE_ROLES, ROLES, Hub

    if start_broker:
        broker = local_broker(cfg)
        started = broker.up()
        console.print(f"[bold]Kafka[/] {'started' if started else 'already running'} on {broker.bootstrap} "
                      f"(single node, KRaft; log {broker.log_file})")
    paths = demo_paths(cfg)
    _refuse_if_running(cfg)
    _fresh_start(cfg, paths)
    seed_stand_ins(paths)
    console.print(f"[bold]Legacy stand-ins[/] IBM i {paths.legacy} (CUSTMAST, ORDHDR + ORDLIN as view ORDHDRV, "
                  f"ITMBAL)" + (f", Oracle AR {paths.ar} (AR_CUSTOMERS)" if paths.ar else "")
                  + (f", SQL Server helpdesk {paths.helpdesk} (Contacts, Tickets)" if paths.helpdesk else "")
                  + f" and EBCDIC drop folder {paths.drop}", highlight=False)
    tokens = demo_tokens(cfg) if cfg.pipelines is not None else None
    split = processes if cfg.pipelines is not None else None  # a config without pipelines has no stages
    hub = Hub(cfg, frozenset(ROLES) - PIPELINE_ROLES) if split is not None else Hub(cfg)
    hub.start()
    stages = None
    if split is not None:
        from hub.demo.stages import StageProcesses

        hub.stages = stages = StageProcesses(split, paths.legacy.parent / "processes")
        stages.start_pipelines()
    console.print(f"[bold]Hub[/] running: registry {hub.registry.url if hub.registry else '-'}, admin API "
                  f"{hub.admin.url if hub.admin else '-'}, connectors {', '.join(hub.runners)}")
    base = hub.gateway.url if hub.gateway is not None else None
    if cfg.pipelines is not None:
        console.print(f"[bold]Pipelines[/] canonicalize + unify (store {cfg.pipelines.store.url}, alerts "
                      f"{cfg.pipelines.alerts or '-'}): golden records in customer.unified, customer.changes, "
                      "customer.alerts")
        if stages is not None:
            console.print("  each in a process of its own: " + ", ".join(
                f"{s.name} (pid {s.proc.pid}, log {s.log})" for s in stages.stages), highlight=False)
    if base is not None and tokens is not None:
        console.print(f"[bold]Gateway[/] {base}  (API docs {base}/docs; tokens demo-agent / demo-admin in "
                      f"{cfg.gateway.tokens_file})")
        for label, url in (("agent console", f"{base}/ui/agent.html#token={tokens.agent}"),
                           ("ops dashboard", f"{base}/ui/ops.html#token={tokens.admin}"),
                           ("API docs     ", f"{base}/docs")):
            console.print(f"  {label} : {url}", highlight=False, markup=False, soft_wrap=True)
    return DemoHub(hub, paths.legacy, paths.drop, base, tokens, paths.ar, paths.helpdesk)


def _port_taken(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind: TIME-WAIT is free
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def busy_groups(admin: Admin, group_ids: list[str], wait_s: float = 60.0) -> list[str]:
    """A problem for each of ``group_ids`` that has members. Only groups the broker lists are described (a new
    broker has no coordinator for the others), and a broker started a moment ago, still loading its group
    coordinator, is waited for (up to ``wait_s``)."""
    for attempt in Retrying(retry=retry_if_exception_type(RetriableError), stop=stop_after_delay(wait_s),
                            wait=wait_fixed(0.5), reraise=True):
        with attempt:
            listed = set(admin.list_groups())
            groups = admin.group_assignments([g for g in group_ids if g in listed])
    return [f"consumer group {g} has members ({state})" for g, (state, _) in groups.items()
            if state not in ("", "Empty", "Dead")]


def _refuse_if_running(cfg: HubConfig) -> None:
    """Before anything is reset: a demo (or hub) still running on this config would lose its sources, topics
    and store under it. Its ports and its pipelines' consumer groups tell."""
    servers = (("schema registry", cfg.registry.serve.host, cfg.registry.serve.port, cfg.registry.serve.enabled),
               ("admin API", cfg.admin.host, cfg.admin.port, True),
               ("gateway", cfg.gateway.host, cfg.gateway.port, cfg.pipelines is not None))
    problems = [f"{what} port {host}:{port} is in use" for what, host, port, wanted in servers
                if wanted and _port_taken(host, port)]
    if cfg.pipelines is not None:
        prefix = cfg.pipelines.group_id_prefix
        admin = Admin(kafka_settings(cfg))
        try:
            problems += busy_groups(admin, [f"{prefix}-canonicalize", f"{prefix}-unify"])
        finally:
            admin.close()
    if problems:
        raise FatalError("another demo or hub seems to run on this config; nothing was reset: " + "; ".join(problems)
                         + ". Stop it first (the members of a process killed without stopping stay in their "
                         "groups until the broker's session timeout, some seconds).")


def _fresh_start(cfg: HubConfig, paths: DemoPaths) -> None:
    """Each run starts from new sources: the previous run's databases, drop folder, connector state, topics
    and positions are removed (only those the demo config names)."""
    for db in (paths.legacy, paths.ar, paths.helpdesk):
        for suffix in ("", "-wal", "-shm", "-journal"):
            if db is not None:
                Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(paths.drop, ignore_errors=True)
    for conf in cfg.connectors:
        state_dir = getattr(conf, "state_dir", None)
        if state_dir is not None:
            shutil.rmtree(Path(state_dir) / conf.name if conf.kind == "filedrop" else Path(state_dir),
                          ignore_errors=True)
    admin = Admin(kafka_settings(cfg))
    try:
        existing = set(admin.list_topics())
        names = (*demo_topics(cfg), cfg.offsets.topic, *(f"dlq.{c.name}" for c in cfg.connectors))
        stale = [t for t in names if t in existing]
        if stale:
            admin.delete_topics(stale)
            time.sleep(1.0)
    finally:
        admin.close()
    if cfg.pipelines is not None:
        url = cfg.pipelines.store.url
        if url.startswith("sqlite:///"):
            store = Path(url.removeprefix("sqlite:///"))
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{store}{suffix}").unlink(missing_ok=True)
        prefix = cfg.pipelines.group_id_prefix
        admin = Admin(kafka_settings(cfg))
        try:  # committed offsets survive the deletion of their topics: the recreated src.* would be skipped
            admin.delete_groups([f"{prefix}-canonicalize", f"{prefix}-unify"])
        finally:
            admin.close()
        _skip_past_canon(cfg, f"{prefix}-unify")


def _skip_past_canon(cfg: HubConfig, group_id: str) -> None:
    """The store starts empty, so its unify group starts at the end of ``canon.*``: canonical records of
    earlier runs (or of other hubs on the same broker) are not unified again."""
    from hub.runtime.pipeline_workers import CANON_TOPICS

    settings = kafka_settings(cfg)
    admin = Admin(settings)
    try:
        topics = [t for t in CANON_TOPICS if t in set(admin.list_topics())]
    finally:
        admin.close()
    if not topics:
        return
    consumer = Consumer(settings, group_id=group_id)
    try:
        consumer.assign_topics(topics, from_beginning=False)
        for topic in topics:
            for partition, end in consumer.end_offsets(topic).items():
                consumer.seek(topic, partition, end)
        consumer.commit()
    finally:
        consumer.close()
