"""`crmhub kafka up | down | status | jars`: the local single-node broker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli import app, config_at

if TYPE_CHECKING:
    from hub.kafka.local import LocalKafka

kafka_app = typer.Typer(help="Run a local single-node Apache Kafka broker (KRaft) for development and demo.",
                        no_args_is_help=True)
app.add_typer(kafka_app, name="kafka")

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="crmhub YAML config (kafka.local section)")]
HomeOpt = Annotated[str | None, typer.Option("--kafka-home", envvar="KAFKA_HOME",
                                             help="use an installed Kafka's libs/ instead of the Maven jars")]
DirOpt = Annotated[Path | None, typer.Option("--data-dir", help="broker folder (default .crmhub/kafka)")]
PortOpt = Annotated[int | None, typer.Option("--port", help="client port (default 9092)")]


def broker_from(config: Path | None, kafka_home: str | None = None, data_dir: Path | None = None,
                port: int | None = None) -> LocalKafka:
    """The local broker described by the config file (if any), with command-line overrides."""
    from hub.wiring import local_broker

    broker = local_broker(config_at(config))
    if kafka_home:
        broker.kafka_home = kafka_home
    if data_dir:
        broker.data_dir = data_dir.resolve()
    if port:
        broker.port = port
    return broker


@kafka_app.command("up")
def up(config: ConfigOpt = None, kafka_home: HomeOpt = None, data_dir: DirOpt = None,
       port: PortOpt = None, timeout: float = 120.0,
       secure: Annotated[bool, typer.Option("--secure", help=(
           "client listener on SASL_SSL: a certificate made with keytool, SCRAM-SHA-512 users made when the "
           "storage is formatted (a fresh --data-dir); prints the kafka.security block clients need"))] = False,
       ) -> None:
    """Start the broker (idempotent) and wait until it answers."""
    from hub.kafka import local_secure

    broker = broker_from(config, kafka_home, data_dir, port)
    if secure:
        formatted = (broker.data_dir / "data" / "meta.properties").exists()
        if formatted and not (local_secure.secure_dir(broker.data_dir) / "credentials.json").exists():
            raise typer.BadParameter(f"{broker.data_dir} holds a broker formatted without SCRAM users; give "
                                     "--secure a fresh --data-dir", param_hint="--secure")
        broker.secure = True
    started = broker.up(timeout=timeout)
    verb = "started" if started else "already running"
    typer.echo(f"Kafka {verb} on {broker.bootstrap} (pid {broker.pid()}); log: {broker.log_file}")
    if secure:
        typer.echo("Clients of this broker need, in their config:\n"
                   + local_secure.security_yaml(broker.data_dir, broker.host))


@kafka_app.command("down")
def down(config: ConfigOpt = None, data_dir: DirOpt = None) -> None:
    """Stop the broker cleanly."""
    broker = broker_from(config, data_dir=data_dir)
    typer.echo("Kafka stopped" if broker.down() else "Kafka was not running")


@kafka_app.command("status")
def status(config: ConfigOpt = None, data_dir: DirOpt = None, port: PortOpt = None,
           as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Say whether the broker runs; exit 1 if it does not."""
    from hub.kafka.local import LocalKafka

    info = LocalKafka.status(broker_from(config, data_dir=data_dir, port=port))
    if as_json:
        typer.echo(json.dumps(info))
    else:
        state = "running" if info["running"] else "stopped"
        typer.echo(f"Kafka {state}: bootstrap {info['bootstrap']}, pid {info['pid']}, log {info['log_file']}")
    raise typer.Exit(0 if info["running"] else 1)


@kafka_app.command("jars")
def jars() -> None:
    """Resolve the broker's jars with Maven into the cache (done by `up` too)."""
    from hub.kafka.local import resolve_jars

    typer.echo(str(resolve_jars(quiet=False)))
