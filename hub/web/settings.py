"""The settings of the checks every HTTP server runs before its routes (``hub/web/guard.py``): which ``Host``
names it answers, how large a body may be, how deeply its JSON may nest, and (admin API, registry) whether
callers need a token."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, SecretStr
from pydantic_core import PydanticCustomError

from schemas.settings import ConfigModel

AuthMode = Literal["tokens", "none"]
MIB = 1024 * 1024
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def _existing_file(value: Path) -> Path:
    if not value.is_file():
        raise PydanticCustomError("file_missing", f"no such file: {value}")
    return value


PemFile = Annotated[Path, AfterValidator(_existing_file)]


class TlsSettings(ConfigModel):
    """HTTPS for one server: its certificate chain and key (PEM); with ``client_ca_file`` every caller must
    present a certificate that CA signed (mutual TLS)."""

    cert_file: PemFile
    key_file: PemFile
    key_password: SecretStr | None = Field(default=None, description="when the key file is encrypted")
    client_ca_file: PemFile | None = Field(default=None, description="require client certificates signed by it")


class HttpSettings(ConfigModel):
    """Checks before any route: the ``Host`` header must be a loopback name (localhost, 127.0.0.1, ::1), the
    server's own ``host`` or one of ``allowed_hosts`` (DNS rebinding); a body over ``max_body_bytes`` is refused
    (413) before it is read, JSON nested deeper than ``max_json_depth`` too (400)."""

    allowed_hosts: list[Annotated[str, Field(min_length=1, max_length=253)]] = Field(
        default_factory=list, description="more Host names answered (a name a proxy or DNS gives the server); "
        "'*' answers any Host (only behind a proxy that checks it)")
    max_body_bytes: Annotated[int, Field(ge=1024, le=256 * MIB, description="larger bodies are refused (413) "
                                         "before authentication")] = MIB
    max_json_depth: Annotated[int, Field(ge=2, le=500, description="deeper JSON bodies are refused (400)")] = 64
    tls: TlsSettings | None = Field(default=None, description="serve HTTPS (none: plain HTTP)")


def is_loopback_host(host: str) -> bool:
    """Whether a server bound to ``host`` is reachable from this machine only."""
    name = host.strip().strip("[]").lower()
    return name in LOOPBACK_NAMES or name.startswith("127.")
