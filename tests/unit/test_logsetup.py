"""hub.logsetup and schemas.secrets: every secret pattern masked, everything else left alone."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from hub.logsetup import configure_logging, mask_secrets, mask_text
from schemas.secrets import is_secret_key, mask_value

SECRET = "Hunter2-s3cret"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    structlog.reset_defaults()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "DRIVER={IBM i Access ODBC Driver};SYSTEM=ibmi;UID=crm;PWD=Hunter2-s3cret;",
            "DRIVER={IBM i Access ODBC Driver};SYSTEM=ibmi;UID=crm;PWD=***;",
        ),
        (
            "Driver=FreeTDS;Server=sql1;pwd={Hunter2;s3cret};Database=crm",
            "Driver=FreeTDS;Server=sql1;pwd={***};Database=crm",
        ),
        (
            "jdbc:as400://ibmi;user=crm;password=Hunter2-s3cret;naming=system",
            "jdbc:as400://ibmi;user=crm;password=***;naming=system",
        ),
        (
            "jdbc:oracle:thin:@h:1521/ORCL?user=crm&password=Hunter2-s3cret&ssl=true",
            "jdbc:oracle:thin:@h:1521/ORCL?user=crm&password=***&ssl=true",
        ),
        (
            "host=pg dbname=crm password='Hunter2 s3cret' sslmode=require",
            "host=pg dbname=crm password='***' sslmode=require",
        ),
        ("postgresql://u:Hunter2-s3cret@h/db", "postgresql://u:***@h/db"),
        (
            "connect failed: db2+ibm_db://crm:Hunter2@s3cret@ibmi:446/S1 (timeout)",
            "connect failed: db2+ibm_db://crm:***@ibmi:446/S1 (timeout)",
        ),
        ("Authorization: Bearer eyJhbGciOi.Hunter2-s3cret", "Authorization: Bearer ***"),
        ("Authorization: Basic dXNlcjpIdW50ZXIy", "Authorization: Basic ***"),
        ("got 401 with bearer abc.def-ghi_jkl", "got 401 with bearer ***"),
        (
            "connect args {'user': 'crm', 'password': 'Hunter2-s3cret', 'port': 446}",
            "connect args {'user': 'crm', 'password': '***', 'port': 446}",
        ),
        ('{"api_key": "Hunter2-s3cret", "n": 1}', '{"api_key": "***", "n": 1}'),
        ("client_secret=Hunter2-s3cret", "client_secret=***"),
    ],
)
def test_mask_text_masks_each_pattern(text: str, expected: str) -> None:
    assert mask_text(text) == expected
    assert mask_text(expected) == expected  # idempotent


@pytest.mark.parametrize(
    "text",
    [
        "",
        "polled 500 rows from CRMLIB.CUSTOMER at position 000000000123456 in 12:30:01",
        "DRIVER={IBM i Access ODBC Driver};SYSTEM=ibmi;UID=crm;DATABASE=S1",
        "http://registry:8081/subjects/src.crm.customers-value/versions",
        "sqlite:///.crmhub/demo/legacy.db",
        "user crm@example.com logged in; token count is unknown",
        "Basic settings loaded",
    ],
)
def test_mask_text_leaves_non_secrets_alone(text: str) -> None:
    assert mask_text(text) == text


def test_secret_keys_and_nested_values() -> None:
    for key in (
        "password",
        "DB_PASSWORD",
        "Passwd",
        "pwd",
        "client_secret",
        "access_token",
        "X-Api-Key",
        "api_key",
        "Authorization",
        "credentials",
    ):
        assert is_secret_key(key), key
    for key in ("user", "host", "position", "table", "connector"):
        assert not is_secret_key(key), key
    event: dict[str, Any] = {
        "event": "connecting to postgresql://u:Hunter2-s3cret@h/db",
        "connector": "crm",
        "Password": SECRET,
        "settings": {"user": "crm", "token": SECRET, "inner": {"API_KEY": SECRET, "port": 446}},
        "dsns": ["PWD=Hunter2-s3cret;", "SYSTEM=ibmi"],
        "password_hint": None,
    }
    out = mask_secrets(None, "info", event)
    assert out["event"] == "connecting to postgresql://u:***@h/db"
    assert out["connector"] == "crm" and out["Password"] == "***"
    assert out["settings"] == {"user": "crm", "token": "***", "inner": {"API_KEY": "***", "port": 446}}
    assert out["dsns"] == ["PWD=***;", "SYSTEM=ibmi"]
    assert out["password_hint"] is None
    assert SECRET not in repr(mask_value(event))


def _json_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_json_log_file_never_contains_the_password(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "hub.log"
    configure_logging(level="DEBUG", fmt="json", file=log_file)
    log = structlog.get_logger("crmhub.test")
    log.info(
        "connecting",
        connector="crm",
        password=SECRET,
        dsn=f"SYSTEM=ibmi;UID=crm;PWD={SECRET};",
        options={"sasl_plain_password": SECRET, "sasl_mechanism": "PLAIN"},
    )
    logging.getLogger("kafka.conn").warning("lost postgresql://u:%s@h/db", SECRET)
    try:
        raise RuntimeError(f"login failed for DRIVER=x;UID=crm;PWD={SECRET};")
    except RuntimeError:
        log.exception("connect failed", connector="crm")
    for handler in logging.getLogger().handlers:
        handler.flush()

    raw = log_file.read_text()
    assert SECRET not in raw
    first, foreign, failed = _json_lines(log_file)
    assert first["event"] == "connecting" and first["connector"] == "crm" and first["level"] == "info"
    assert first["password"] == "***" and first["dsn"] == "SYSTEM=ibmi;UID=crm;PWD=***;"
    assert first["options"] == {"sasl_plain_password": "***", "sasl_mechanism": "PLAIN"}
    stamp = datetime.fromisoformat(first["timestamp"])
    assert stamp.utcoffset() == timedelta(0)
    assert foreign["event"] == "lost postgresql://u:***@h/db" and foreign["logger"] == "kafka.conn"
    assert foreign["level"] == "warning"
    assert "RuntimeError" in failed["exception"] and "PWD=***;" in failed["exception"]


def test_console_format_to_stderr_and_level_filter(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="warning", fmt="console")
    configure_logging(level="warning", fmt="console")  # reconfiguring does not duplicate handlers
    log = structlog.get_logger("crmhub.test")
    log.info("hidden below the level")
    log.warning("polled", table="CUSTOMER", token=SECRET)
    err = capsys.readouterr().err
    assert "hidden below the level" not in err
    assert err.count("polled") == 1 and "table=CUSTOMER" in err
    assert SECRET not in err and "token=***" in err


def test_bad_level_or_format_rejected() -> None:
    with pytest.raises(ValueError, match="log level"):
        configure_logging(level="LOUD")
    with pytest.raises(ValueError, match="log format"):
        configure_logging(fmt="xml")


def test_the_console_handler_follows_stderr_when_it_is_swapped_and_closed(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import io
    first = io.StringIO()
    monkeypatch.setattr("sys.stderr", first)
    configure_logging("INFO", "json")
    structlog.get_logger("t").info("into the first stream")
    assert "into the first stream" in first.getvalue()
    first.close()  # e.g. a CLI runner's stand-in, closed once its command returned
    second = io.StringIO()
    monkeypatch.setattr("sys.stderr", second)
    structlog.get_logger("t").info("into the second stream")
    assert json.loads(second.getvalue().strip())["event"] == "into the second stream"
