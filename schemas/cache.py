"""Where crmhub keeps what it can make again (resolved Kafka jars, the name data it keeps): one folder per user."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$CRMHUB_CACHE``, else ``$XDG_CACHE_HOME/crmhub``, else ``~/.cache/crmhub``."""
    env = os.environ.get("CRMHUB_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "crmhub"
