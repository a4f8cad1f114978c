"""The schema registry's state, persisted in a compacted Kafka topic (``_schemas`` by default).

Records are keyed like the Confluent registry's own, so the topic reads the same to tools that know it:

- ``{"keytype":"SCHEMA","subject":s,"version":n,"magic":1}`` ->
  ``{"subject":s,"version":n,"id":i,"schema":"...","deleted":false}`` (a tombstone = permanently deleted);
- ``{"keytype":"CONFIG","subject":s|null,"magic":0}`` -> ``{"compatibilityLevel":"BACKWARD"}`` (null subject
  = the global level; a tombstone = back to the default).

On ``start`` the whole topic is read from the beginning up to its end offset. Every change is produced with
``acks=all`` and applied to memory only after the broker acknowledged it, so memory never holds what a restart
would lose. One lock serializes all operations: the HTTP server calls in from worker threads, and writes
must assign ids and versions one at a time.

Leadership: exactly ONE process writes a given topic. Alone, a registry is its own writer. Several registries of
one ``cluster.group`` elect the writer through Kafka's group protocol (``hub/registry/leader.py``); the others
forward changes to it and ``reload`` the topic every second and after each forwarded change; a new leader
reloads before it writes, so no id is handed out twice.

Ids are global and monotonic (max + 1); an identical schema (same ``compat.canonical`` text) under another
subject gets the existing id, as in Confluent. A permanently deleted schema's id is not reused while the
process runs; after its tombstones are compacted away, a restart may hand it out again (Confluent too).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import structlog

from hub.kafka.clients import KafkaSettings
from hub.registry import compat
from hub.registry.schema_log import KafkaSchemaLog, SchemaLog
from schemas.errors import CrmhubError

log = structlog.get_logger(__name__)

MAX_VERSION = 2**31 - 1


class RegistryError(CrmhubError):
    """A request the registry refuses, with the Confluent HTTP status and error code."""

    def __init__(self, http_status: int, error_code: int, message: str) -> None:
        self.http_status = http_status
        self.error_code = error_code
        self.message = message
        super().__init__(message)


def subject_not_found(subject: str) -> RegistryError:
    return RegistryError(404, 40401, f"Subject '{subject}' not found.")


def version_not_found(version: int | str) -> RegistryError:
    return RegistryError(404, 40402, f"Version {version} not found.")


def schema_not_found(what: int | str = "") -> RegistryError:
    return RegistryError(404, 40403, f"Schema {what} not found." if what != "" else "Schema not found.")


def invalid_schema(detail: str) -> RegistryError:
    return RegistryError(422, 42201, detail if detail.startswith("Invalid schema") else f"Invalid schema {detail}")


def invalid_version(text: object) -> RegistryError:
    return RegistryError(422, 42202, f"The specified version '{text}' is not a valid version id. Allowed values "
                                     f"are between [1, {MAX_VERSION}] and the string \"latest\"")


def invalid_level(detail: str) -> RegistryError:
    return RegistryError(422, 42203, detail)


def incompatible(subject: str, messages: Sequence[str]) -> RegistryError:
    return RegistryError(409, 409, f"Schema being registered is incompatible with an earlier schema for "
                                   f"subject \"{subject}\", details: [{'; '.join(messages)}]")


def parse_version(text: str | int) -> int | None:
    """``"latest"`` or ``-1`` -> None; an int in 1..2^31-1 -> itself; anything else -> 42202."""
    if text in ("latest", -1, "-1"):
        return None
    try:
        number = int(text)
    except (TypeError, ValueError):
        raise invalid_version(text) from None
    if not 1 <= number <= MAX_VERSION:
        raise invalid_version(text)
    return number


@dataclass(frozen=True, slots=True)
class SchemaVersion:
    subject: str
    version: int
    schema_id: int
    schema: str
    deleted: bool = False


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def schema_key(subject: str, version: int) -> bytes:
    return _dumps({"keytype": "SCHEMA", "subject": subject, "version": version, "magic": 1})


def config_key(subject: str | None) -> bytes:
    return _dumps({"keytype": "CONFIG", "subject": subject, "magic": 0})


def schema_value(rec: SchemaVersion) -> bytes:
    return _dumps({"subject": rec.subject, "version": rec.version, "id": rec.schema_id, "schema": rec.schema,
                   "deleted": rec.deleted})


class SchemaStore:
    """Subjects, versions, ids and compatibility levels; see the module docstring."""

    def __init__(self, log_: SchemaLog, *, default_compatibility: str = compat.DEFAULT_MODE) -> None:
        self._log = log_
        self._default = compat.normalize_mode(default_compatibility)
        self._lock = threading.RLock()
        self._subjects: dict[str, dict[int, SchemaVersion]] = {}
        self._schemas: dict[int, str] = {}
        self._ids: dict[str, int] = {}  # canonical text -> id
        self._config: dict[str | None, str] = {}
        self._max_id = 0

    @classmethod
    def on_kafka(cls, settings: KafkaSettings, topic: str = "_schemas", **kwargs: Any) -> SchemaStore:
        return cls(KafkaSchemaLog(settings, topic), **kwargs)

    # -- loading and applying records ------------------------------------------------------------------
    def start(self) -> None:
        """Rebuild the state from the log (call once, before serving)."""
        records = self._log.load()
        with self._lock:
            for key, value in records:
                self._apply_raw(key, value)
        log.info("schema registry loaded", records=len(records), subjects=len(self._subjects),
                 max_id=self._max_id)

    def reload(self) -> None:
        """Read the log again and take its state (a registry that does not write: another one does)."""
        fresh = SchemaStore(self._log, default_compatibility=self._default)
        records = self._log.load()
        for key, value in records:
            fresh._apply_raw(key, value)
        with self._lock:
            self._subjects, self._schemas, self._ids = fresh._subjects, fresh._schemas, fresh._ids
            self._config, self._max_id = fresh._config, max(self._max_id, fresh._max_id)

    def close(self) -> None:
        self._log.close()

    def _apply_raw(self, key: bytes | None, value: bytes | None) -> None:
        try:
            k = json.loads(key) if key else None
            v = json.loads(value) if value else None
            if isinstance(k, dict):
                self._apply(k, v if isinstance(v, dict) else None)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("schema record skipped", key=key, error=str(exc))

    def _apply(self, key: dict[str, Any], value: dict[str, Any] | None) -> None:
        kind = key.get("keytype")
        if kind == "SCHEMA":
            subject, version = str(key["subject"]), int(key["version"])
            if value is None:
                self._subjects.get(subject, {}).pop(version, None)
                return
            rec = SchemaVersion(subject, version, int(value["id"]), str(value["schema"]),
                                bool(value.get("deleted", False)))
            self._subjects.setdefault(subject, {})[version] = rec
            self._index(rec.schema_id, rec.schema)
        elif kind == "CONFIG":
            scope = key.get("subject")
            if value is None:
                self._config.pop(scope, None)
            else:
                self._config[scope] = str(value["compatibilityLevel"]).upper()
        elif kind == "DELETE_SUBJECT" and value is not None:  # written by Confluent's registry
            versions = self._subjects.get(str(value["subject"]), {})
            for number, rec in list(versions.items()):
                if number <= int(value["version"]):
                    versions[number] = replace(rec, deleted=True)

    def _index(self, schema_id: int, text: str) -> None:
        self._schemas[schema_id] = text
        self._max_id = max(self._max_id, schema_id)
        # A non-Avro schema (another registry's JSON/Protobuf) is kept but never matched for de-duplication.
        with contextlib.suppress(compat.InvalidSchemaError):
            self._ids.setdefault(compat.canonical(text), schema_id)

    def _write(self, key: bytes, value: bytes | None) -> None:
        """Produce (acks=all), then apply: memory never runs ahead of the topic."""
        self._log.append(key, value)
        self._apply_raw(key, value)

    # -- reads ------------------------------------------------------------------------------------------
    def _versions(self, subject: str, *, deleted: bool = False) -> list[SchemaVersion]:
        recs = self._subjects.get(subject, {})
        return [recs[n] for n in sorted(recs) if deleted or not recs[n].deleted]

    def _existing(self, subject: str, *, deleted: bool = False) -> list[SchemaVersion]:
        recs = self._versions(subject, deleted=deleted)
        if not recs:
            raise subject_not_found(subject)
        return recs

    def subjects(self, *, deleted: bool = False) -> list[str]:
        with self._lock:
            return sorted(s for s in self._subjects if self._versions(s, deleted=deleted))

    def versions(self, subject: str, *, deleted: bool = False) -> list[int]:
        with self._lock:
            return [r.version for r in self._existing(subject, deleted=deleted)]

    def get_version(self, subject: str, version: int | None, *, deleted: bool = False) -> SchemaVersion:
        """``version`` None = the latest live one."""
        with self._lock:
            recs = self._existing(subject, deleted=deleted)
            if version is None:
                return recs[-1]
            for rec in recs:
                if rec.version == version:
                    return rec
            raise version_not_found(version)

    def get_schema(self, schema_id: int) -> str:
        with self._lock:
            text = self._schemas.get(schema_id)
        if text is None:
            raise schema_not_found(schema_id)
        return text

    def usages(self, schema_id: int, *, deleted: bool = False) -> list[tuple[str, int]]:
        """Every (subject, version) registered with ``schema_id``."""
        with self._lock:
            if schema_id not in self._schemas:
                raise schema_not_found(schema_id)
            return [(s, r.version) for s in sorted(self._subjects) for r in self._versions(s, deleted=deleted)
                    if r.schema_id == schema_id]

    def lookup(self, subject: str, schema_json: str, *, deleted: bool = False) -> SchemaVersion:
        text = self._canonical(schema_json)
        with self._lock:
            recs = self._existing(subject, deleted=deleted)
            schema_id = self._ids.get(text)
            for rec in reversed(recs):
                if rec.schema_id == schema_id:
                    return rec
        raise schema_not_found()

    def mode(self, subject: str | None) -> str:
        """The effective compatibility level of ``subject`` (None = global)."""
        with self._lock:
            return self._config.get(subject) or self._config.get(None) or self._default

    def get_config(self, subject: str | None = None, *, default_to_global: bool = False) -> str:
        with self._lock:
            if subject is None or default_to_global or subject in self._config:
                return self.mode(subject)
        raise RegistryError(404, 40408, f"Subject '{subject}' does not have subject-level compatibility "
                                        "configured")

    @staticmethod
    def _canonical(schema_json: str) -> str:
        try:
            return compat.canonical(schema_json)
        except compat.InvalidSchemaError as exc:
            raise invalid_schema(str(exc)) from exc

    def check(self, subject: str, schema_json: str, version: int | None, *, against_all: bool = False) -> list[str]:
        """Incompatibility messages of ``schema_json`` against one version (None = latest) or, with
        ``against_all``, against the subject's history as its level prescribes."""
        text = self._canonical(schema_json)
        with self._lock:
            recs = self._existing(subject)
            level = self.mode(subject)
            if not against_all:
                recs = [self.get_version(subject, version)]
        return compat.check(level, text, [r.schema for r in recs])

    # -- writes -----------------------------------------------------------------------------------------
    def register(self, subject: str, schema_json: str) -> SchemaVersion:
        """Register (or find) ``schema_json`` under ``subject``; raises 409 when the level refuses it."""
        text = self._canonical(schema_json)
        with self._lock:
            live = self._versions(subject)
            known_id = self._ids.get(text)
            for rec in live:
                if rec.schema_id == known_id:
                    return rec
            messages = compat.check(self.mode(subject), text, [r.schema for r in live])
            if messages:
                raise incompatible(subject, messages)
            schema_id = known_id if known_id is not None else self._max_id + 1
            version = max(self._subjects.get(subject, {}), default=0) + 1
            rec = SchemaVersion(subject, version, schema_id, text)
            self._write(schema_key(subject, version), schema_value(rec))
            log.info("schema registered", subject=subject, version=version, id=schema_id)
            return rec

    def set_config(self, level: str, subject: str | None = None) -> str:
        try:
            normalized = compat.normalize_mode(level)
        except compat.InvalidModeError as exc:
            raise invalid_level(str(exc)) from exc
        with self._lock:
            self._write(config_key(subject), _dumps({"compatibilityLevel": normalized}))
        return normalized

    def delete_config(self, subject: str | None = None) -> str:
        """Remove a subject's level (or reset the global one); returns the level it had."""
        with self._lock:
            previous = self.get_config(subject)
            if subject is None or subject in self._config:
                self._write(config_key(subject), None)
            return previous

    def delete_version(self, subject: str, version: int | None, *, permanent: bool = False) -> int:
        with self._lock:
            rec = self.get_version(subject, version, deleted=permanent)
            if permanent and not rec.deleted:
                raise RegistryError(404, 40407, f"Subject '{subject}' Version {rec.version} was not deleted "
                                                "first before being permanently deleted")
            if permanent:
                self._write(schema_key(subject, rec.version), None)
            else:
                self._write(schema_key(subject, rec.version), schema_value(replace(rec, deleted=True)))
            return rec.version

    def delete_subject(self, subject: str, *, permanent: bool = False) -> list[int]:
        with self._lock:
            recs = self._existing(subject, deleted=True)
            live = [r for r in recs if not r.deleted]
            if permanent and live:
                raise RegistryError(404, 40405, f"Subject '{subject}' was not deleted first before being "
                                                "permanently deleted")
            if not permanent and not live:
                raise RegistryError(404, 40404, f"Subject '{subject}' was soft deleted.Set permanent=true "
                                                "to delete permanently")
            for rec in recs if permanent else live:
                value = None if permanent else schema_value(replace(rec, deleted=True))
                self._write(schema_key(subject, rec.version), value)
            if permanent and subject in self._config:
                self._write(config_key(subject), None)
            return [r.version for r in (recs if permanent else live)]
