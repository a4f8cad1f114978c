"""The ``kafka.security`` options checked before any client sees them: a misspelt key (``security_protocl``)
or value (``SASL_SLL``) would otherwise be ignored or fail deep inside the first connection.

The options are the security settings every kafka-python client (producer, consumer, admin) takes; the hub
passes the same ones to all three.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, SecretStr
from pydantic_core import PydanticCustomError

from schemas.secrets import is_secret_key

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "GSSAPI", "OAUTHBEARER", "SCRAM-SHA-256", "SCRAM-SHA-512")
FILES = ("ssl_cafile", "ssl_certfile", "ssl_keyfile", "ssl_crlfile")
TEXTS = ("ssl_password", "sasl_plain_username", "sasl_plain_password", "sasl_kerberos_name",
         "sasl_kerberos_service_name", "sasl_kerberos_domain_name")
OBJECTS = ("ssl_context", "sasl_oauth_token_provider")  # Python objects: only from code, never from YAML
KNOWN = ("security_protocol", "sasl_mechanism", "ssl_check_hostname", *FILES, *TEXTS, *OBJECTS)


def security_problems(options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(key, problem)`` for every option that a Kafka client would not take as meant."""
    problems: list[tuple[str, str]] = []
    for key, value in options.items():
        if key not in KNOWN:
            near = difflib.get_close_matches(str(key), KNOWN, n=1)
            hint = f"; did you mean '{near[0]}'?" if near else f" (known: {', '.join(KNOWN[:-len(OBJECTS)])})"
            problems.append((key, f"unknown Kafka security option{hint}"))
        elif key in OBJECTS:
            problems.append((key, "is a Python object and cannot come from a config file"))
        elif key == "security_protocol" and value not in PROTOCOLS:
            problems.append((key, f"must be one of {', '.join(PROTOCOLS)}"))
        elif key == "sasl_mechanism" and value not in MECHANISMS:
            problems.append((key, f"must be one of {', '.join(MECHANISMS)}"))
        elif key == "ssl_check_hostname" and not isinstance(value, bool):
            problems.append((key, "must be true or false"))
        elif key in FILES and not (isinstance(value, str) and Path(value).is_file()):
            problems.append((key, "must name a readable file" + (f": {value} not found" if isinstance(value, str)
                                                                 else "")))
        elif key in TEXTS and not isinstance(value, str):
            problems.append((key, "must be text"))
    protocol = options.get("security_protocol", "PLAINTEXT")
    if "sasl_mechanism" in options and protocol not in ("SASL_PLAINTEXT", "SASL_SSL"):
        problems.append(("sasl_mechanism", "needs security_protocol SASL_PLAINTEXT or SASL_SSL"))
    if options.get("sasl_mechanism") in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
        for needed in ("sasl_plain_username", "sasl_plain_password"):
            if needed not in options:
                problems.append((needed, f"required with sasl_mechanism {options['sasl_mechanism']}"))
    return problems


def _checked(value: Any) -> Any:
    if isinstance(value, Mapping):
        problems = security_problems(value)
        if problems:
            raise PydanticCustomError("kafka_security", "; ".join(f"{k}: {p}" for k, p in problems))
    return value


def _secrets_hidden(value: dict[str, Any]) -> dict[str, Any]:
    return {k: SecretStr(v) if is_secret_key(k) and isinstance(v, str) else v for k, v in value.items()}


#: ``kafka.security`` in the config: checked, with secret options wrapped so that they never print.
SecurityOptions = Annotated[dict[str, Any], BeforeValidator(_checked), AfterValidator(_secrets_hidden)]
