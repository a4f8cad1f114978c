"""Logging for the whole hub: structlog in front, stdlib ``logging`` underneath, secrets masked on the way.

``configure_logging`` installs one handler on the root logger (stderr, plus a file if asked) whose formatter
runs the structlog chain, so records from libraries using stdlib ``logging`` (kafka-python, SQLAlchemy,
uvicorn) come out in the same format and through the same secret masking as crmhub's own events.

Exceptions are rendered to plain text *before* masking (never with rich's locals display, which could print
a password held in a local variable), so tracebacks are scrubbed too.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, Literal, cast

import structlog
from structlog.typing import Processor

from schemas.secrets import mask_text, mask_value

__all__ = ["configure_logging", "mask_secrets", "mask_text"]

_MARK = "_crmhub_handler"
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def mask_secrets(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask values of secret-looking keys (nested too) and secrets inside strings."""
    masked = cast(dict[str, Any], mask_value(dict(event_dict)))
    event_dict.clear()
    event_dict.update(masked)
    return event_dict


def _level_number(level: str | int) -> int:
    if isinstance(level, int):
        return level
    name = level.strip().upper()
    if name not in _LEVELS:
        raise ValueError(f"unknown log level {level!r}; expected one of {', '.join(_LEVELS)}")
    return int(logging.getLevelName(name))


def _shared_processors() -> list[Processor]:
    """Processors run for structlog events and for foreign stdlib records alike."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        mask_secrets,
    ]


def _renderer(fmt: str, colors: bool) -> Processor:
    if fmt == "json":
        return structlog.processors.JSONRenderer(default=str)
    if fmt == "console":
        return structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=structlog.dev.plain_traceback)
    raise ValueError(f"unknown log format {fmt!r}; expected 'console' or 'json'")


def _handler(handler: logging.Handler, fmt: str, colors: bool) -> logging.Handler:
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_shared_processors(),
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _renderer(fmt, colors)],
        )
    )
    setattr(handler, _MARK, True)
    return handler


NOISY_LIBRARIES = ("kafka", "httpx", "httpcore", "uvicorn.access")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a line is emitted, not the stream it was at set-up: a CLI
    runner or a test harness that swaps stderr and later closes its stand-in must not silence the log."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(
    level: str | int = "INFO",
    fmt: Literal["console", "json"] | str = "console",
    file: str | Path | None = None,
) -> None:
    """Route structlog and stdlib logging to stderr (and ``file``), rendered for humans or as JSON lines.

    Timestamps are ISO 8601 UTC. The file, if given, gets the same format without colours. Calling again
    replaces the handlers this function installed earlier (others, e.g. pytest's, are left alone).
    """
    number = _level_number(level)
    _renderer(fmt, colors=False)  # validate fmt before touching global state
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(_handler(_StderrHandler(), fmt, colors=sys.stderr.isatty()))
    if file is not None:
        path = Path(file)
        path.parent.mkdir(parents=True, exist_ok=True)
        root.addHandler(_handler(logging.FileHandler(path, encoding="utf-8"), fmt, colors=False))
    root.setLevel(number)
    for name in NOISY_LIBRARIES:  # their INFO lines are connection chatter; warnings still show
        logging.getLogger(name).setLevel(max(number, logging.WARNING))
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
