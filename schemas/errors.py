"""The error categories every part of crmhub raises, named by what the caller must do.

- ``ConfigError``: fail at start and list every problem with its path; retrying cannot help.
- ``RetriableError``: transient (link down, broker not reachable, lock timeout); back off and try again.
  The backoff lives in one place (the hub's runner), never scattered through connectors.
- ``SkippableError``: this one record is bad; send it to the dead-letter topic with the reason and go on.
- ``FatalError``: the component must stop (e.g. a source log was purged before it was read).
"""

from __future__ import annotations

from collections.abc import Iterable


class CrmhubError(Exception):
    """Base of every error crmhub raises on purpose."""


class ConfigError(CrmhubError):
    """The configuration (or a connection setting) is wrong; carries every problem found, each with its path."""

    def __init__(self, problems: Iterable[str] | str) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        count = len(self.problems)
        head = "1 configuration problem" if count == 1 else f"{count} configuration problems"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


class RetriableError(CrmhubError):
    """A transient failure: the same call may succeed later."""


class SkippableError(CrmhubError):
    """One record cannot be processed; it goes to the dead-letter topic with ``reason``."""

    def __init__(self, reason: str, *, record: object = None) -> None:
        self.reason = reason
        self.record = record
        super().__init__(reason)


class FatalError(CrmhubError):
    """The component cannot go on; an operator must act."""
