"""``crmhub demo --processes``: the pipeline stages and the change generator in processes of their own.

A Python process runs Python code on one core at a time (the GIL). At a few hundred changes a second the
single demo process is saturated, and its threads then wait for one another: the unify thread, whose SQLite
statements each release and re-take the GIL, spent three quarters of its time waiting at 300 changes/s. With
``--processes`` the demo process keeps the registry, the connectors, the admin API with the lag monitor and
the gateway; ``crmhub run --only canonicalize`` and ``crmhub run --only unify`` run the two stages, as a
deployment spreading the roles would, and ``python -m hub.demo.generator`` makes the changes (so a generator
transaction is never held open waiting for the hub's threads: see the safety delay in config/demo.yaml).

The children write their Prometheus metrics into one directory (prometheus_client's multiprocess mode,
``PROMETHEUS_MULTIPROC_DIR``), which :attr:`StageProcesses.registry` reads: the demo's live summary and the
ops dashboard take freshness, golden changes, messages, rejects and the generated changes from there. Their
output goes to ``<run_dir>/<name>.log``. The canonicalize stage writes its data-quality view (rule failures over
time with samples) to ``<run_dir>/dq.json`` every 2 s (``CRMHUB_DQ_SUMMARY_FILE``), which the dashboard reads.
They run in sessions of their own, so Ctrl-C reaches the demo alone, which stops the generator first, then the
stages (each finishes its batch and commits), then its own hub.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from hub.runtime.pipeline_workers import DQ_FILE_ENV
from pipelines.dq_stats import load_summary

PIPELINE_STAGES = ("canonicalize", "unify")


@dataclass
class Stage:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    out: IO[bytes]

    def state(self) -> str:
        code = self.proc.poll()
        return "RUNNING" if code is None else f"EXITED ({code})"


class StageProcesses:
    """Child processes of the demo and the metrics they write (see the module docstring)."""

    def __init__(self, config_path: Path, run_dir: Path) -> None:
        self.config_path = config_path
        self.run_dir = run_dir
        self.metrics_dir = run_dir / "metrics"
        shutil.rmtree(self.metrics_dir, ignore_errors=True)  # counters of an earlier run would add up
        self.metrics_dir.mkdir(parents=True)
        self.registry = CollectorRegistry()
        MultiProcessCollector(self.registry, path=str(self.metrics_dir))  # type: ignore[no-untyped-call]
        self.stages: list[Stage] = []
        self.dq_file = run_dir / "dq.json"  # canonicalize's data-quality summary (pipelines/dq_stats.py)
        self.dq_file.unlink(missing_ok=True)

    def _spawn(self, name: str, argv: list[str]) -> Stage:
        log = self.run_dir / f"{name}.log"
        out = log.open("wb")
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir), DQ_FILE_ENV: str(self.dq_file)}
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
        stage = Stage(name, proc, log, out)
        self.stages.append(stage)
        return stage

    def start_pipelines(self) -> list[Stage]:
        """``crmhub run -c CONFIG --only canonicalize`` and ``--only unify``."""
        return [self._spawn(s, [sys.executable, "-m", "hub", "run", "-c", str(self.config_path), "--only", s])
                for s in PIPELINE_STAGES]

    def start_generator(self, legacy: Path, ar: Path | None, helpdesk: Path | None, rate: float,
                        seed: int | None = None) -> Stage:
        argv = [sys.executable, "-m", "hub.demo.generator", "--legacy", str(legacy), "--rate", f"{rate:g}"]
        for flag, value in (("--ar", ar), ("--helpdesk", helpdesk), ("--seed", seed)):
            if value is not None:
                argv += [flag, str(value)]
        return self._spawn("generator", argv)

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM to the generator first, then to the stages; a child still running after ``timeout_s`` is
        killed."""
        order = sorted(self.stages, key=lambda s: s.name != "generator")
        for stage in order:
            if stage.proc.poll() is None:
                stage.proc.send_signal(signal.SIGTERM)
            if stage.name == "generator":
                self._wait(stage, timeout_s)
        for stage in order:
            self._wait(stage, timeout_s)
            stage.out.close()

    @staticmethod
    def _wait(stage: Stage, timeout_s: float) -> None:
        try:
            stage.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            stage.proc.kill()
            stage.proc.wait()

    # --- what they measured -----

    def samples(self) -> list[Any]:
        """Every sample the children wrote (one read of the metrics directory)."""
        return [s for family in self.registry.collect() for s in family.samples]

    def value(self, sample: str, samples: list[Any] | None = None, **labels: str) -> float:
        """The sum of the children's samples named ``sample`` whose labels include ``labels`` (from ``samples``
        when given, so one status reads the directory once)."""
        return float(sum(s.value for s in (self.samples() if samples is None else samples)
                         if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())))

    def generated(self) -> int:
        return int(self.value("crmhub_demo_changes_total"))

    def dq(self) -> list[dict[str, Any]]:
        """The data-quality view of the canonicalize stage, as it last wrote it (every 2 s)."""
        return load_summary(self.dq_file)

    def rejected(self) -> int:
        return int(self.value("crmhub_dq_results_total", level="error"))

    def statuses(self) -> list[dict[str, Any]]:
        """The pipeline stages as the ops snapshot lists its workers."""
        samples = self.samples()
        out: list[dict[str, Any]] = []
        for stage in (s for s in self.stages if s.name in PIPELINE_STAGES):
            extra: dict[str, Any] = {"pid": stage.proc.pid, "log": str(stage.log)}
            if stage.name == "unify":
                extra["golden_changed"] = int(self.value("crmhub_golden_changes_total", samples))
            running = stage.proc.poll() is None
            out.append({"name": stage.name, "state": stage.state(),
                        "messages": int(self.value("crmhub_pipeline_messages_total", samples, pipeline=stage.name)),
                        "batches": None, "last_error": None if running else f"see {stage.log}", "extra": extra})
        return out
