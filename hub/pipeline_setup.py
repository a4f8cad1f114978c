"""Building the pipelines a config describes: mappings, alert rules, the store and the unifier.

Every file is read and checked up front; problems of the mapping files, the alert rules and the store are
listed together in one ``ConfigError`` (``crmhub check`` prints them with the config's own problems).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hub.config import HubConfig, PipelinesConfig
from pipelines.alert_rules import load_alert_rules
from pipelines.alerts import AlertEngine
from pipelines.mapping import MappingSet, load_mappings
from pipelines.store.engine import Store
from pipelines.store.timers import SqlTimerStore
from pipelines.unify.engine import Unifier
from schemas.envelope import table_topic
from schemas.errors import ConfigError

DEFAULT_PIPELINES = PipelinesConfig()


@dataclass
class PipelineParts:
    conf: PipelinesConfig
    mappings: MappingSet
    alerts: AlertEngine | None

    def source_topics(self, prefix: str = "src", overrides: Mapping[tuple[str, str], str] | None = None) -> list[str]:
        """The topics some mapping reads: ``src.<connector>.<table>``, or what the table's ``topic`` names
        (``overrides``: :func:`topic_overrides`)."""
        named = overrides or {}
        topics = {named.get((m.source.lower(), m.table.lower())) or table_topic(m.source, m.table, prefix)
                  for m in self.mappings}
        # a table configured by another name than its events carry (an IBM i system name): every named topic
        # of a connector some mapping reads (events of a table without a mapping are ignored)
        sources = {m.source.lower() for m in self.mappings}
        topics |= {topic for (connector, _table), topic in named.items() if connector in sources}
        return sorted(topics)

    def unifier(self) -> Unifier:
        return open_unifier(self.conf, self.alerts)


def topic_overrides(cfg: HubConfig) -> dict[tuple[str, str], str]:
    """(connector, table) in lower case -> the topic a table's ``topic`` setting names instead of
    ``src.<connector>.<table>``."""
    out: dict[tuple[str, str], str] = {}
    for conn in cfg.connectors:
        for table in getattr(conn, "tables", None) or ():
            topic = getattr(table, "topic", None)
            if topic:
                out[(conn.name.lower(), str(table.name).rsplit(".", 1)[-1].lower())] = topic
    return out


def pipelines_conf(cfg: HubConfig) -> PipelinesConfig:
    return cfg.pipelines or DEFAULT_PIPELINES


def load_parts(cfg: HubConfig) -> PipelineParts:
    """Mappings and alert rules of ``cfg``; one ``ConfigError`` with every problem of every file."""
    conf = pipelines_conf(cfg)
    problems: list[str] = []
    mappings = None
    alerts = None
    try:
        mappings = load_mappings([Path(p) for p in conf.mappings])
    except ConfigError as exc:
        problems += [f"pipelines.mappings: {p}" for p in exc.problems]
    if conf.alerts is not None:
        try:
            alerts = AlertEngine(load_alert_rules(conf.alerts))
        except ConfigError as exc:
            problems += [f"pipelines.alerts: {p}" for p in exc.problems]
    if problems or mappings is None:
        raise ConfigError(problems)
    return PipelineParts(conf, mappings, alerts)


def open_store(conf: PipelinesConfig) -> Store:
    url = conf.store.url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return Store(url)


def open_unifier(conf: PipelinesConfig, alerts: AlertEngine | None = None) -> Unifier:
    return Unifier(open_store(conf), conf.unify, alerts=alerts, timers=SqlTimerStore)
