"""API tokens: random, shown once, stored only as a SHA-256 hash with a name and a role.

The tokens file (``gateway.tokens_file``, YAML) looks like::

    tokens:
      - {name: crm-web, role: agent, sha256: 9f86d0..., created_ms: 1700000000000}

Why plain SHA-256 and not bcrypt/argon2: a token is 32 random bytes (``secrets.token_urlsafe(32)``, 256
bits), not a password a person chose. Nobody can guess or brute-force such a value, with or without a slow
hash, so the slow hash would only cost CPU per request; a fast hash also lets the gateway find a token by its
hash in a dict instead of checking every entry. Whoever reads the file learns names and roles, not tokens.

The gateway keeps the entries in memory and re-reads the file when it changes (modification time, size,
inode; checked at most once a second, and at once for a token it does not know), so a new token works at once
and a revoked one stops working within a second, without a restart.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hub.web.access import hash_token as hash_token  # the tokens file holds these hashes
from schemas.errors import ConfigError

TOKEN_PREFIX = "crmhub_"


@dataclass(frozen=True)
class TokenEntry:
    name: str
    role: str
    sha256: str
    created_ms: int

    def short_hash(self) -> str:
        """For listings: the first 8 hex digits only."""
        return f"sha256:{self.sha256[:8]}…"


def read_tokens(path: Path) -> list[TokenEntry]:
    """The entries of ``path`` (none when the file does not exist)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return []
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError([f"gateway.tokens_file: cannot read {path}: {type(exc).__name__}"]) from None
    items = data.get("tokens") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ConfigError([f"gateway.tokens_file: {path} must hold a 'tokens' list"])
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("name", "role", "sha256")):
            raise ConfigError([f"gateway.tokens_file: {path}: tokens[{i}] needs name, role and sha256"])
        out.append(TokenEntry(item["name"], item["role"], item["sha256"], int(item.get("created_ms") or 0)))
    return out


def write_tokens(path: Path, entries: list[TokenEntry]) -> None:
    """Replace ``path`` atomically; the file is readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body: dict[str, Any] = {"tokens": [{"name": e.name, "role": e.role, "sha256": e.sha256,
                                        "created_ms": e.created_ms} for e in entries]}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("# crmhub API tokens: SHA-256 hashes only (crmhub token create/list/revoke)\n")
            yaml.safe_dump(body, fh, sort_keys=False)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def create_token(path: Path, name: str, role: str, known_roles: set[str]) -> str:
    """Add a token named ``name`` with ``role``; returns the token itself (the only time it exists in clear)."""
    problems = []
    if role not in known_roles:
        problems.append(f"--role: unknown role '{role}' (known: {', '.join(sorted(known_roles))})")
    entries = read_tokens(path)
    if any(e.name == name for e in entries):
        problems.append(f"--name: a token named '{name}' exists already (revoke it first)")
    if not name.strip():
        problems.append("--name: must not be empty")
    if problems:
        raise ConfigError(problems)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    entries.append(TokenEntry(name, role, hash_token(token), int(time.time() * 1000)))
    write_tokens(path, entries)
    return token


def revoke_token(path: Path, name: str) -> bool:
    entries = read_tokens(path)
    kept = [e for e in entries if e.name != name]
    if len(kept) == len(entries):
        return False
    write_tokens(path, kept)
    return True


class TokenRegistry:
    """Looks tokens up by hash in memory. The file's stamp (modification time, size) is checked at most once per
    ``check_interval_s`` and the file re-read when it changed, so a revoked token stops working within that
    time; a token not found triggers a check at once, so a new token works at once."""

    def __init__(self, path: Path, *, check_interval_s: float = 1.0) -> None:
        self.path = path
        self.check_interval_s = check_interval_s
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._by_hash: dict[str, TokenEntry] = {}
        self._next_check = float("-inf")

    def _current_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    def refresh(self) -> None:
        """Check the file now (re-read it if it changed)."""
        with self._lock:
            stamp = self._current_stamp()
            if stamp != self._stamp:
                entries = read_tokens(self.path) if stamp is not None else []
                self._by_hash = {e.sha256: e for e in entries}
                self._stamp = stamp
            self._next_check = time.monotonic() + self.check_interval_s

    def lookup(self, token: str) -> TokenEntry | None:
        if time.monotonic() >= self._next_check:
            self.refresh()
            return self._by_hash.get(hash_token(token))
        digest = hash_token(token)
        entry = self._by_hash.get(digest)
        if entry is None:  # maybe created since the last check
            self.refresh()
            entry = self._by_hash.get(digest)
        return entry
