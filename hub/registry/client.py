"""A small client for ANY Confluent-compatible schema registry (crmhub's own or an external one).

Caches make the hot path free of HTTP: ``register`` remembers (subject, schema text) -> id and ``get_by_id`` /
``parsed`` remember id -> schema, so each schema costs at most one request per process. A miss takes a lock,
so concurrent threads asking for the same schema still make one request.

Errors, named by what the caller must do: connection failures, timeouts and 5xx -> ``RetriableError``;
409 -> ``SchemaIncompatibleError`` (a ``ConfigError``: the schema change must be fixed); 401/403 ->
``ConfigError`` (credentials); any other refusal -> ``RegistryRequestError`` with the registry's code.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import fastavro
import httpx

from schemas.errors import ConfigError, CrmhubError, RetriableError

MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"

Schema = Mapping[str, Any] | str


class SchemaIncompatibleError(ConfigError):
    """The registry refused a schema as incompatible with the subject's history (HTTP 409)."""

    def __init__(self, subject: str, message: str) -> None:
        self.subject = subject
        self.message = message
        super().__init__(f"schema for subject {subject!r} is incompatible: {message}")


class RegistryRequestError(CrmhubError):
    """Any other refusal (4xx): not found, invalid schema, invalid level ..."""

    def __init__(self, http_status: int, error_code: int, message: str) -> None:
        self.http_status = http_status
        self.error_code = error_code
        self.message = message
        super().__init__(f"schema registry: {message} (HTTP {http_status}, error code {error_code})")


@dataclass(frozen=True, slots=True)
class RegisteredSchema:
    subject: str
    version: int
    schema_id: int
    schema: str


def schema_text(schema: Schema) -> str:
    """The JSON text sent for ``schema`` (a dict is dumped compactly, in its own key order)."""
    return schema if isinstance(schema, str) else json.dumps(schema, separators=(",", ":"))


class RegistryClient:
    def __init__(self, url: str, *, auth: tuple[str, str] | None = None, token: str | None = None,
                 timeout: float = 10.0, transport: httpx.BaseTransport | None = None) -> None:
        """``auth``: HTTP basic (user, password); ``token``: a bearer token (crmhub's registry takes either, the
        password being a token). Neither is ever part of a message or a log line."""
        self.url = url.rstrip("/")
        headers = {"Accept": MEDIA_TYPE, "Content-Type": MEDIA_TYPE}
        if token is not None and auth is None:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=self.url, auth=auth, timeout=timeout, transport=transport,
                                  headers=headers)
        self._ids: dict[tuple[str, str], int] = {}
        self._schemas: dict[int, str] = {}
        self._parsed: dict[int, Any] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- HTTP ---------------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: object = None, params: dict[str, str] | None = None,
                 *, subject: str = "") -> Any:
        try:
            resp = self._http.request(method, path, json=body, params=params)
        except httpx.HTTPError as exc:
            raise RetriableError(f"schema registry {self.url} unreachable: {type(exc).__name__}: {exc}") from exc
        if resp.status_code < 400:
            return resp.json()
        try:
            data = resp.json()
            code, message = int(data.get("error_code", resp.status_code)), str(data.get("message", data))
        except (ValueError, AttributeError, TypeError):
            code, message = resp.status_code, resp.text[:500]
        if resp.status_code >= 500:
            raise RetriableError(f"schema registry {self.url}: {message} (HTTP {resp.status_code})")
        if resp.status_code == 409:
            raise SchemaIncompatibleError(subject or path, message)
        if resp.status_code in (401, 403):
            raise ConfigError(f"schema registry {self.url} refused the credentials: {message} "
                              f"(HTTP {resp.status_code})")
        raise RegistryRequestError(resp.status_code, code, message)

    @staticmethod
    def _subject_path(subject: str) -> str:
        return f"/subjects/{quote(subject, safe='')}"

    # -- schemas --------------------------------------------------------------------------------------
    def register(self, subject: str, schema: Schema) -> int:
        """The id of ``schema`` under ``subject``, registering it on first use (cached)."""
        text = schema_text(schema)
        cached = self._ids.get((subject, text))
        if cached is not None:
            return cached
        with self._lock:
            cached = self._ids.get((subject, text))
            if cached is None:
                data = self._request("POST", f"{self._subject_path(subject)}/versions", {"schema": text},
                                     subject=subject)
                cached = self._ids[(subject, text)] = int(data["id"])
            return cached

    def get_by_id(self, schema_id: int) -> str:
        """The schema text registered with ``schema_id`` (cached)."""
        text = self._schemas.get(schema_id)
        if text is None:
            data = self._request("GET", f"/schemas/ids/{int(schema_id)}")
            text = self._schemas[schema_id] = str(data["schema"])
        return text

    def parsed(self, schema_id: int) -> Any:
        """The schema of ``schema_id`` parsed by fastavro, ready for reading (cached)."""
        parsed = self._parsed.get(schema_id)
        if parsed is None:
            with self._lock:
                parsed = self._parsed.get(schema_id)
                if parsed is None:
                    parsed = fastavro.parse_schema(json.loads(self.get_by_id(schema_id)))
                    self._parsed[schema_id] = parsed
        return parsed

    def _registered(self, data: Mapping[str, Any]) -> RegisteredSchema:
        rec = RegisteredSchema(str(data["subject"]), int(data["version"]), int(data["id"]), str(data["schema"]))
        self._schemas.setdefault(rec.schema_id, rec.schema)
        return rec

    def latest(self, subject: str) -> RegisteredSchema:
        """The subject's latest version (always asked: it changes)."""
        return self._registered(self._request("GET", f"{self._subject_path(subject)}/versions/latest"))

    def get_version(self, subject: str, version: int | str) -> RegisteredSchema:
        return self._registered(self._request("GET", f"{self._subject_path(subject)}/versions/{version}"))

    def lookup(self, subject: str, schema: Schema) -> RegisteredSchema:
        """Find ``schema`` under ``subject`` without registering it."""
        data = self._request("POST", self._subject_path(subject), {"schema": schema_text(schema)})
        return self._registered(data)

    def subjects(self) -> list[str]:
        return [str(s) for s in self._request("GET", "/subjects")]

    def versions(self, subject: str) -> list[int]:
        return [int(v) for v in self._request("GET", f"{self._subject_path(subject)}/versions")]

    # -- compatibility -------------------------------------------------------------------------------
    def check_compatibility(self, subject: str, schema: Schema, version: int | str = "latest") -> list[str]:
        """Why ``schema`` is incompatible with ``version`` of ``subject``; an empty list = compatible."""
        path = f"/compatibility{self._subject_path(subject)}/versions/{version}"
        data = self._request("POST", path, {"schema": schema_text(schema)}, {"verbose": "true"},
                             subject=subject)
        if data.get("is_compatible"):
            return []
        return [str(m) for m in data.get("messages") or ["incompatible (the registry gave no reason)"]]

    def set_compatibility(self, level: str, subject: str | None = None) -> str:
        path = "/config" if subject is None else f"/config/{quote(subject, safe='')}"
        return str(self._request("PUT", path, {"compatibility": level.upper()})["compatibility"])

    def get_compatibility(self, subject: str | None = None) -> str:
        """The effective level of ``subject`` (its own, else the global one), or the global level."""
        if subject is None:
            return str(self._request("GET", "/config")["compatibilityLevel"])
        path = f"/config/{quote(subject, safe='')}"
        return str(self._request("GET", path, {"defaultToGlobal": "true"})["compatibilityLevel"])
