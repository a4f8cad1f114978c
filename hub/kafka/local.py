"""A real single-node Apache Kafka broker (KRaft, combined broker+controller) for development, demo and tests.

The broker's jars are resolved with Maven from the pom kept beside this module into a cache directory
(no Kafka distribution is downloaded by URL); the machine's Java (17+) runs it. ``KAFKA_HOME`` (or
``kafka_home``) points at an installed Kafka instead, whose ``libs/`` is then used.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from hub.kafka import local_secure
from hub.kafka.settings import LOCAL_BROKER_JVM_OPTIONS
from schemas.cache import cache_root
from schemas.errors import ConfigError, FatalError, RetriableError

log = structlog.get_logger(__name__)

POM = Path(__file__).with_name("pom.xml")
MIN_JAVA = 17


def java_major_version(java: str = "java") -> int:
    """The major version of the Java runtime on PATH (``17`` for ``openjdk version "17.0.15"``)."""
    if shutil.which(java) is None:
        raise ConfigError("java: not found on PATH; install a Java 17+ runtime (e.g. openjdk-17-jre-headless)")
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        raise ConfigError(f"java: cannot read the version from {out.strip()!r}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def resolve_jars(cache: Path | None = None, *, quiet: bool = True, pom: Path = POM, name: str = "kafka") -> Path:
    """Resolve the jars of ``pom`` (the broker's) with Maven into ``cache/<name>-<pom hash>/libs``; idempotent."""
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:12]
    libs = (cache or cache_root()) / f"{name}-{digest}" / "libs"
    marker = libs / ".complete"
    if marker.exists():
        return libs
    if shutil.which("mvn") is None:
        raise ConfigError("mvn: not found on PATH; install Maven (apt-get install maven) or set KAFKA_HOME")
    libs.mkdir(parents=True, exist_ok=True)
    cmd = ["mvn", "-B", "-f", str(pom), "dependency:copy-dependencies",
           f"-DoutputDirectory={libs}", "-DincludeScope=runtime"]
    if quiet:
        cmd.insert(1, "-q")
    log.info("kafka.resolve_jars", into=str(libs))
    result = subprocess.run(cmd, capture_output=quiet, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stdout or "")[-2000:] if quiet else ""
        raise RetriableError(f"Maven could not resolve the Kafka jars (exit {result.returncode}): {tail}")
    marker.write_text(digest)
    return libs


def kafka_classpath(kafka_home: str | None = None, cache: Path | None = None) -> str:
    """Classpath for the broker: an installed Kafka's libs if given (or $KAFKA_HOME), else the Maven cache."""
    home = kafka_home or os.environ.get("KAFKA_HOME")
    if home:
        libs = Path(home) / "libs"
        if not libs.is_dir():
            raise ConfigError(f"kafka.local.kafka_home: {home} has no libs/ folder")
        return f"{libs}/*"
    return f"{resolve_jars(cache)}/*"


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (22 chars). Like Kafka's own
    ``Uuid.randomUuid()``, never one starting with ``-``: the storage tool would read it as an option."""
    while True:
        cluster_id = urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


LOG4J2 = """\
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {log_file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.state.name = state.change.logger
logger.state.level = WARN
"""


@dataclass
class LocalKafka:
    """One broker in ``data_dir``: config, storage, pid file and log file all live there."""

    data_dir: Path
    port: int = 9092
    controller_port: int = 9093
    host: str = "127.0.0.1"
    heap: str = "512m"
    jvm_options: tuple[str, ...] = LOCAL_BROKER_JVM_OPTIONS
    kafka_home: str | None = None
    cache: Path | None = None
    secure: bool = False  # the client listener on SASL_SSL with SCRAM users (hub/kafka/local_secure.py)

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "logs" / "server.log"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "kafka.pid"

    def server_properties(self) -> str:
        logs = self.data_dir / "data"
        lines = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{self.host}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{self.host}:{self.port},CONTROLLER://{self.host}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{self.host}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(logs),
            "num.partitions": "1",
            # One node: every internal topic has a single replica.
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
            "log.cleaner.min.compaction.lag.ms": "0",
        }
        if self.secure:
            lines.update(local_secure.server_properties(self.data_dir, self.host, self.port, self.controller_port))
        return "".join(f"{k}={v}\n" for k, v in lines.items())

    def pid(self) -> int | None:
        """The broker's pid if its pid file names a live process."""
        try:
            pid = int(self.pid_file.read_text().strip())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None
        return pid

    def running(self) -> bool:
        return self.pid() is not None and port_open(self.host, self.port)

    def _prepare(self) -> tuple[str, Path, Path]:
        major = java_major_version()
        if major < MIN_JAVA:
            raise ConfigError(f"java: Kafka 4 needs Java {MIN_JAVA}+, found {major}")
        classpath = kafka_classpath(self.kafka_home, self.cache)
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        props = self.data_dir / "server.properties"
        props.write_text(self.server_properties())
        log4j = self.data_dir / "log4j2.properties"
        log4j.write_text(LOG4J2.format(log_file=self.log_file))
        return classpath, props, log4j

    def _format_storage(self, classpath: str, props: Path, log4j: Path) -> None:
        if (self.data_dir / "data" / "meta.properties").exists():
            return
        cmd = ["java", f"-Dlog4j2.configurationFile={log4j}", "-cp", classpath, "kafka.tools.StorageTool",
               "format", "-t", new_cluster_id(), "-c", str(props),
               *(local_secure.scram_arguments(self.data_dir) if self.secure else [])]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise FatalError(f"formatting Kafka storage in {self.data_dir} failed: {result.stderr[-1500:]}")
        log.info("kafka.storage_formatted", data_dir=str(self.data_dir))

    def up(self, timeout: float = 90.0) -> bool:
        """Start the broker unless it already runs; wait until it answers. Returns False if it was running."""
        if self.running():
            return False
        if self.pid() is None and port_open(self.host, self.port):
            raise ConfigError(f"kafka.local.port: {self.port} is already used by another process")
        classpath, props, log4j = self._prepare()
        self._format_storage(classpath, props, log4j)
        cmd = ["java", f"-Xms{self.heap}", f"-Xmx{self.heap}", "-XX:+UseG1GC", *self.jvm_options,
               "-Djava.awt.headless=true", f"-Dlog4j2.configurationFile={log4j}",
               "-cp", classpath, "kafka.Kafka", str(props)]
        out = open(self.data_dir / "logs" / "kafka.out", "ab")  # noqa: SIM115 - owned by the child
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=self.data_dir)
        out.close()
        self.pid_file.write_text(str(proc.pid))
        log.info("kafka.starting", pid=proc.pid, bootstrap=self.bootstrap, log_file=str(self.log_file))
        self.wait_ready(timeout, proc)
        return True

    def wait_ready(self, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
        """Wait until the broker answers a metadata request (not merely an open port)."""
        from kafka import KafkaAdminClient

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise FatalError(f"Kafka exited with code {proc.returncode}; see {self.log_file}")
            if port_open(self.host, self.port):
                try:
                    admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000,
                                             **self.client_security())
                    admin.describe_cluster()
                    admin.close()
                    return
                except Exception:
                    pass
            time.sleep(0.5)
        raise RetriableError(f"Kafka did not answer on {self.bootstrap} within {timeout:.0f}s; see {self.log_file}")

    def down(self, timeout: float = 30.0) -> bool:
        """Stop the broker cleanly (SIGTERM, then SIGKILL after ``timeout``). Returns False if not running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                break
            time.sleep(0.2)
        else:
            log.warning("kafka.kill", pid=pid, reason=f"no exit within {timeout:.0f}s of SIGTERM")
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True

    def client_security(self) -> dict[str, Any]:
        """What a client needs in ``kafka.security`` for this broker (nothing for a plaintext one)."""
        return local_secure.client_security(self.data_dir, self.host) if self.secure else {}

    def status(self) -> dict[str, object]:
        pid = self.pid()
        return {"running": pid is not None and port_open(self.host, self.port), "pid": pid,
                "bootstrap": self.bootstrap, "data_dir": str(self.data_dir), "log_file": str(self.log_file)}


def _alive(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
