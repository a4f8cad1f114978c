"""`crmhub kafka up | status | down` on a second, real broker: idempotent, clean stop, data kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import _register, app
from hub.kafka.clients import Admin, Consumer, KafkaSettings, Producer, Record
from hub.kafka.local import LocalKafka, free_port, port_open

pytestmark = pytest.mark.kafka
_register()


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_up_is_idempotent_down_is_clean_and_data_survives(tmp_path: Path) -> None:
    port = free_port()
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(f"kafka:\n  local:\n    port: {port}\n    controller_port: {free_port()}\n"
                   f"    data_dir: {tmp_path / 'broker'}\n"
                   "    jvm_options: ['-XX:TieredStopAtLevel=1', '-Dcrmhub.test=jvm-options']\n")
    code, out = _cli("kafka", "up", "-c", str(cfg))
    try:
        assert code == 0, out
        pid = int((tmp_path / "broker" / "kafka.pid").read_text())
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert b"-XX:TieredStopAtLevel=1" in argv and b"-Dcrmhub.test=jvm-options" in argv  # the options reach the JVM
        assert "started" in out and str(tmp_path / "broker" / "logs" / "server.log") in out
        assert (tmp_path / "broker" / "data" / "meta.properties").exists()
        code, out = _cli("kafka", "up", "-c", str(cfg))
        assert code == 0 and "already running" in out
        assert _cli("kafka", "status", "-c", str(cfg))[0] == 0

        settings = KafkaSettings(bootstrap_servers=f"127.0.0.1:{port}")
        admin = Admin(settings)
        admin.ensure_topic("kept")
        admin.close()
        Producer(settings).send(Record("kept", b"k", b"survives a restart"))
    finally:
        code, out = _cli("kafka", "down", "-c", str(cfg))
    assert code == 0 and "stopped" in out
    assert not port_open("127.0.0.1", port)
    assert _cli("kafka", "status", "-c", str(cfg))[0] == 1
    assert _cli("kafka", "down", "-c", str(cfg))[1].strip() == "Kafka was not running"

    meta = (tmp_path / "broker" / "data" / "meta.properties").read_text()
    assert _cli("kafka", "up", "-c", str(cfg))[0] == 0
    try:
        assert (tmp_path / "broker" / "data" / "meta.properties").read_text() == meta  # not reformatted
        consumer = Consumer(settings, group_id=None)
        consumer.assign("kept")
        values: list[bytes | None] = []
        for _ in range(20):
            values += [m.value for m in consumer.poll(500)]
            if values:
                break
        consumer.close()
        assert values == [b"survives a restart"]
    finally:
        _cli("kafka", "down", "-c", str(cfg))


def test_up_refuses_a_port_taken_by_another_process(kafka_broker: LocalKafka, tmp_path: Path) -> None:
    other = LocalKafka(data_dir=tmp_path, port=kafka_broker.port, controller_port=free_port())
    from schemas.errors import ConfigError

    with pytest.raises(ConfigError, match="already used"):
        other.up()


def test_session_broker_reports_running(kafka_broker: LocalKafka) -> None:
    if kafka_broker.data_dir == Path("/nonexistent"):
        pytest.skip("external broker")
    assert kafka_broker.up() is False
    status = kafka_broker.status()
    assert status["running"] is True and status["pid"] == kafka_broker.pid()
