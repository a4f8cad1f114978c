"""`crmhub demo` and `crmhub registry serve`."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from hub.cli import app, config_at

if TYPE_CHECKING:
    from hub.config import HubConfig

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="crmhub YAML config")]

registry_app = typer.Typer(help="crmhub's Confluent-compatible schema registry.", no_args_is_help=True)
app.add_typer(registry_app, name="registry")


def _config(path: Path | None) -> HubConfig:
    cfg = config_at(path)
    from hub.logsetup import configure_logging

    configure_logging(cfg.logging.level, cfg.logging.format, cfg.logging.file)
    return cfg


class StopSignals:
    """SIGINT and SIGTERM caught from construction on. :meth:`wait` blocks until one came (at once when one came
    already). One that comes before :meth:`wait` (the hub still starting) stops the hub once it has started, or
    ends the process after ``start_deadline_s`` if starting takes longer (a broker that does not answer): like a
    kill, which loses nothing, as no position is saved past what Kafka acknowledged. A second signal while the
    hub stops ends the process at once."""

    def __init__(self, start_deadline_s: float = 5.0) -> None:
        self.start_deadline_s = start_deadline_s
        self._done = threading.Event()
        self._started = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handler)

    def _handler(self, signum: int, _frame: object) -> None:
        if self._done.is_set():
            os._exit(128 + signum)
        self._done.set()
        if not self._started.is_set():
            threading.Thread(target=self._exit_unless_started, args=(signum,), name="crmhub-start-deadline",
                             daemon=True).start()

    def _exit_unless_started(self, signum: int) -> None:
        if not self._started.wait(self.start_deadline_s):
            logging.getLogger("crmhub").warning("stopped while starting: still starting after %.0f s, exiting",
                                                self.start_deadline_s)
            logging.shutdown()
            os._exit(128 + signum)

    def wait(self) -> None:
        self._started.set()
        self._done.wait()


def wait_for_signal() -> None:
    """Block until SIGINT or SIGTERM."""
    StopSignals().wait()


def exit_if_stuck(code: int = 0) -> None:
    """After a stop: end the process now if a thread is still running (a client waiting on a broker that does
    not answer would otherwise keep it alive past its stop deadline)."""
    stuck = [t.name for t in threading.enumerate() if t.is_alive() and not t.daemon
             and t is not threading.main_thread()]
    if stuck:
        logging.getLogger("crmhub").warning("exiting with threads still running: %s", ", ".join(stuck))
        logging.shutdown()
        os._exit(code)


@app.command("demo")
def demo(config: ConfigOpt = None,
         serve: Annotated[bool, typer.Option("--serve", help="keep the hub running until Ctrl-C")] = False,
         scenario: Annotated[str | None, typer.Option(
             "--scenario", help="run a scripted story instead and exit: credit-freeze (IBM i credit freeze -> "
                                "agent's live stream, with measured times)")] = None,
         timeout: Annotated[float, typer.Option("--timeout", help="seconds a scenario waits for each step")] = 60.0,
         generate: Annotated[float, typer.Option("--generate", metavar="RATE", help="keep running (as --serve) "
                                                 "with RATE realistic source changes a second")] = 0.0,
         processes: Annotated[bool, typer.Option(
             "--processes", help="run canonicalize, unify and the generator as processes of their own (what "
                                 "1,000 changes/s needs; one Python process runs on one core)")] = False,
         ) -> None:
    """Start Kafka, the registry and the hub on legacy stand-ins; change them and show the change events."""
    from hub.demo.run import run_capture_demo
    from hub.runtime.gctune import tune_gc

    console = Console()
    cfg = _config(config)
    tune_gc()
    stop_hint = "Kafka keeps running; stop it with: crmhub kafka down" + (f" -c {config}" if config else "")
    if scenario is not None:
        from hub.demo.scenario import run_scenario

        code = run_scenario(scenario, cfg, console, timeout_s=timeout)
        console.print(stop_hint)
        raise typer.Exit(code)
    if processes and config is None:
        raise typer.BadParameter("--processes needs --config (the stage processes read the same file)")
    events = run_capture_demo(cfg, console, keep_running=wait_for_signal if serve or generate > 0 else None,
                              generate=generate, processes=config.resolve() if processes and config else None)
    console.print(stop_hint)
    raise typer.Exit(0 if events else 1)


@registry_app.command("serve")
def registry_serve(config: ConfigOpt = None) -> None:
    """Serve the registry API (schemas in the compacted `_schemas` topic) until Ctrl-C."""
    from hub.wiring import kafka_settings, serve_registry

    cfg = _config(config)
    served = serve_registry(cfg, kafka_settings(cfg))
    if served is None:
        typer.echo(f"registry.url is set ({cfg.registry.url}): an external registry is used, nothing to serve")
        raise typer.Exit(1)
    typer.echo(f"Schema registry serving at {served.url} (topic {cfg.registry.serve.topic}); Ctrl-C stops")
    wait_for_signal()
    served.stop()
