"""Masking of secrets in text and in nested data, shared by logging (hub) and error scrubbing (schemas).

Pure functions, no dependencies: ``schemas`` may not import ``hub``, so the one implementation lives here.

- ``mask_text(s)`` hides secrets inside free text: ``PWD=...;`` / ``password=...`` in ODBC/JDBC/libpq
  connection strings, ``'password': '...'`` in dict/JSON reprs, ``user:password@`` in URLs,
  ``Bearer ...`` tokens and ``Authorization: <scheme> ...`` headers.
- ``is_secret_key(name)`` tells whether a mapping key names a secret (password, token, api_key ...).
- ``mask_value(obj)`` walks dicts/lists/tuples: secret keys get ``MASK``, every string goes through
  ``mask_text``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

MASK = "***"

# Words that make a key (or a ``key=value`` name inside text) secret, matched as substrings after
# lower-casing and turning '-' into '_': db_password, client_secret, X-Api-Key, access_token ...
_SECRET_WORDS = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "credential",
)

_KEY = r"[A-Za-z0-9_\-]*(?:password|passwd|pwd|secret|token|api[_-]?key|credentials?)[A-Za-z0-9_\-]*"

# postgresql://user:secret@host/db -> postgresql://user:***@host/db (greedy so '@' inside the password
# still ends at the last '@' of the authority part).
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+_.\-]*://[^:/?#@\s]*):([^/?#\s]*)@")
# 'password': 'x'  /  "token": "x"  /  'pwd': x   (dict reprs, JSON)
_QUOTED_KEY = re.compile(
    rf"""(?ix)
    (?P<head>(?P<q>["'])(?:{_KEY}|authorization)(?P=q)\s*[:=]\s*)
    (?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^,}}\]\s]+)
    """
)
# PWD={se;cret}  PWD=secret;  password=secret&  password='x y'  (ODBC, JDBC, libpq keyword/value)
_PLAIN_KEY = re.compile(
    rf"""(?ix)
    (?P<head>(?<![A-Za-z0-9_\-])(?:{_KEY})\s*=\s*)
    (?P<value>\{{[^}}]*\}}|"[^"]*"|'[^']*'|[^;&\s,'"]+)
    """
)
# Authorization: Basic dXNlcjpwYXNz  /  authorization=Token abc
_AUTH_HEADER = re.compile(r"(?i)\b(authorization\s*[:=]\s*)((?:bearer|basic|token|digest)\s+)?[^\s,;'\"]+")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*")


def _keep_quotes(match: re.Match[str]) -> str:
    value = match.group("value")
    if value[:1] in "\"'{" and len(value) >= 2:
        return f"{match.group('head')}{value[0]}{MASK}{value[-1]}"
    return f"{match.group('head')}{MASK}"


def mask_text(s: str) -> str:
    """Return ``s`` with every recognised secret replaced by ``***`` (structure around it kept)."""
    if not s:
        return s
    s = _URL_USERINFO.sub(rf"\1:{MASK}@", s)
    s = _QUOTED_KEY.sub(_keep_quotes, s)
    s = _PLAIN_KEY.sub(_keep_quotes, s)
    s = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2) or ''}{MASK}", s)
    return _BEARER.sub(rf"\1{MASK}", s)


def is_secret_key(name: object) -> bool:
    """True when a mapping key names a secret (case-insensitive, '-' treated as '_')."""
    if not isinstance(name, str):
        return False
    key = name.lower().replace("-", "_")
    return any(word in key for word in _SECRET_WORDS)


def mask_value(obj: object) -> object:
    """Deep copy of ``obj`` with secret-keyed values replaced by ``MASK`` and strings scrubbed."""
    if isinstance(obj, str):
        return mask_text(obj)
    if isinstance(obj, Mapping):
        return {k: (MASK if is_secret_key(k) and v is not None else mask_value(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [mask_value(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(mask_value(v) for v in obj)
    return obj
