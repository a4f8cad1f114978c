"""The reference tool of ``bench/bench_capture.py``: Debezium's PostgreSQL connector on a Kafka Connect worker.

Jars: ``bench/debezium/pom.xml`` (Kafka Connect of the local broker's version, Debezium, log4j) resolved with
Maven into ``.crmhub/debezium-<pom hash>/libs`` by the same function that resolves the broker's jars. The
worker runs in standalone mode (``ConnectStandalone``, offsets in a file of the run's folder), JSON converter
with its default settings (schemas in every message), REST on a free port; the connector streams with
``pgoutput`` from a slot and a publication of the run, without a snapshot (``snapshot.mode=no_data``).

``python bench/capture_debezium.py jars`` resolves the jars and prints their folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub.kafka.local import LOG4J2, free_port, resolve_jars

ROOT = Path(__file__).resolve().parent.parent
POM = ROOT / "bench" / "debezium" / "pom.xml"
CONNECTOR_CLASS = "io.debezium.connector.postgresql.PostgresConnector"


def jars() -> Path:
    """The folder of the resolved jars (Maven runs once per version of the pom)."""
    return resolve_jars(ROOT / ".crmhub", quiet=True, pom=POM, name="debezium")


def properties(values: dict[str, str]) -> str:
    return "".join(f"{k}={v}\n" for k, v in values.items())


@dataclass
class PgTarget:
    """The database Debezium reads (the password is written only to the run's private properties file)."""

    host: str
    port: int
    user: str
    password: str
    dbname: str


@dataclass
class ConnectWorker:
    """One Kafka Connect standalone worker with one Debezium connector, in ``folder``."""

    folder: Path
    bootstrap: str
    pg: PgTarget
    name: str  # connector name, topic prefix, slot and publication suffix
    table: str  # schema.table
    poll_ms: int | None  # Debezium's poll.interval.ms; None: its default
    rest_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def topic(self) -> str:
        return f"{self.name}.{self.table}"

    @property
    def slot(self) -> str:
        return f"{self.name}_slot"

    @property
    def publication(self) -> str:
        return f"{self.name}_pub"

    def worker_properties(self) -> dict[str, str]:
        return {"bootstrap.servers": self.bootstrap, "listeners": f"http://127.0.0.1:{self.rest_port}",
                "key.converter": "org.apache.kafka.connect.json.JsonConverter",
                "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                "offset.storage.file.filename": str(self.folder / "connect.offsets"),
                "plugin.discovery": "service_load"}

    def connector_properties(self) -> dict[str, str]:
        props = {"name": self.name, "connector.class": CONNECTOR_CLASS, "tasks.max": "1",
                 "database.hostname": self.pg.host, "database.port": str(self.pg.port),
                 "database.user": self.pg.user, "database.password": self.pg.password,
                 "database.dbname": self.pg.dbname, "topic.prefix": self.name, "plugin.name": "pgoutput",
                 "slot.name": self.slot, "publication.name": self.publication,
                 "publication.autocreate.mode": "disabled", "table.include.list": self.table,
                 "snapshot.mode": "no_data", "tombstones.on.delete": "false"}
        if self.poll_ms is not None:
            props["poll.interval.ms"] = str(self.poll_ms)
        return props

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        worker, connector = self.folder / "worker.properties", self.folder / "connector.properties"
        worker.write_text(properties(self.worker_properties()))
        connector.touch(mode=0o600)
        connector.write_text(properties(self.connector_properties()))
        log4j = self.folder / "log4j2.properties"
        log4j.write_text(LOG4J2.format(log_file=self.folder / "connect.log"))
        cmd = ["java", "-Xms256m", "-Xmx1g", "-XX:+UseG1GC", "-Djava.awt.headless=true",
               f"-Dlog4j2.configurationFile={log4j}", "-cp", f"{jars()}/*",
               "org.apache.kafka.connect.cli.ConnectStandalone", str(worker), str(connector)]
        out = open(self.folder / "connect.out", "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True, cwd=self.folder)
        out.close()

    def wait_running(self, timeout: float = 180.0) -> None:
        """Until the connector's task reports RUNNING (its slot is then created and streaming)."""
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.rest_port}/connectors/{self.name}/status"
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"Kafka Connect exited ({self.proc.returncode}); see {self.folder}/connect.log")
            try:
                response = httpx.get(url, timeout=2)
                status = response.json() if response.status_code == 200 else {}
                tasks = status.get("tasks") or []
                if any(t.get("state") == "FAILED" for t in tasks):
                    raise RuntimeError(f"Debezium task failed: {json.dumps(tasks)[:1500]}")
                if status.get("connector", {}).get("state") == "RUNNING" and tasks and all(
                        t.get("state") == "RUNNING" for t in tasks):
                    return
            except (httpx.HTTPError, ValueError):  # not up yet, or not answering JSON yet
                pass
            time.sleep(0.2)
        raise RuntimeError(f"Debezium did not start within {timeout:.0f}s; see {self.folder}/connect.log")

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


if __name__ == "__main__":
    if sys.argv[1:] != ["jars"]:
        sys.exit("usage: bench/capture_debezium.py jars")
    print(jars())
