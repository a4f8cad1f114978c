"""The local broker with its client listener on SASL_SSL (``crmhub kafka up --secure``): a key pair and a
self-signed certificate for localhost / 127.0.0.1 made with the JDK's ``keytool``, SCRAM-SHA-512 users added
with Kafka's own storage tool when the storage is formatted, and the options every Kafka client then needs.
Everything lives in ``<data_dir>/secure`` (the passwords in ``credentials.json``, mode 0600)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path
from typing import Any

from schemas.errors import FatalError

MECHANISM = "SCRAM-SHA-512"
CLIENT_USER = "crmhub"
BROKER_USER = "broker"


def secure_dir(data_dir: Path) -> Path:
    return data_dir / "secure"


def credentials(data_dir: Path) -> dict[str, str]:
    """The passwords (made once): the broker's own user, the client user and the keystore's."""
    path = secure_dir(data_dir) / "credentials.json"
    if path.exists():
        return dict(json.loads(path.read_text()))
    path.parent.mkdir(parents=True, exist_ok=True)
    made = {BROKER_USER: secrets.token_urlsafe(18), CLIENT_USER: secrets.token_urlsafe(18),
            "keystore": secrets.token_urlsafe(18)}
    path.write_text(json.dumps(made))
    os.chmod(path, 0o600)
    client = password_file(data_dir)
    client.write_text(made[CLIENT_USER])
    os.chmod(client, 0o600)
    return made


def password_file(data_dir: Path) -> Path:
    """The client user's password alone, for ``${file:...}`` in a config."""
    return secure_dir(data_dir) / "client-password"


def security_yaml(data_dir: Path, host: str) -> str:
    """The ``kafka.security`` block a config needs for the secure local broker (the password by reference)."""
    options = client_security(data_dir, host)
    options["sasl_plain_password"] = f"${{file:{password_file(data_dir)}}}"
    return "kafka:\n  security:\n" + "".join(f"    {k}: {json.dumps(v)}\n" for k, v in options.items())


def ensure_keys(data_dir: Path, host: str) -> tuple[Path, Path]:
    """The broker's PKCS12 keystore and the certificate clients trust (PEM), made with keytool once."""
    folder = secure_dir(data_dir)
    keystore, cert = folder / "broker.p12", folder / "ca.pem"
    if keystore.exists() and cert.exists():
        return keystore, cert
    password = credentials(data_dir)["keystore"]
    san = f"SAN=dns:localhost,ip:127.0.0.1{'' if host in ('localhost', '127.0.0.1') else ',dns:' + host}"
    _keytool("-genkeypair", "-alias", "broker", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "825",
             "-dname", "CN=localhost,O=crmhub local broker", "-ext", san, "-keystore", str(keystore),
             "-storetype", "PKCS12", "-storepass", password, "-keypass", password)
    _keytool("-exportcert", "-rfc", "-alias", "broker", "-keystore", str(keystore), "-storepass", password,
             "-file", str(cert))
    _keytool("-importcert", "-alias", "broker", "-file", str(cert), "-keystore", str(folder / "trust.p12"),
             "-storetype", "PKCS12", "-storepass", password)  # the broker trusts itself as a client
    return keystore, cert


def _keytool(*args: str) -> None:
    result = subprocess.run(["keytool", "-noprompt", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise FatalError(f"keytool {args[0]} failed: {result.stdout[-500:]} {result.stderr[-500:]}")


def server_properties(data_dir: Path, host: str, port: int, controller_port: int) -> dict[str, str]:
    """The broker settings that put the client (and inter-broker) listener on SASL_SSL with SCRAM."""
    keystore, _ = ensure_keys(data_dir, host)
    creds = credentials(data_dir)
    jaas = (f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{BROKER_USER}" '
            f'password="{creds[BROKER_USER]}";')
    return {
        "listeners": f"SASL_SSL://{host}:{port},CONTROLLER://{host}:{controller_port}",
        "advertised.listeners": f"SASL_SSL://{host}:{port}",
        "inter.broker.listener.name": "SASL_SSL",
        "listener.security.protocol.map": "SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
        "sasl.enabled.mechanisms": MECHANISM,
        "sasl.mechanism.inter.broker.protocol": MECHANISM,
        f"listener.name.sasl_ssl.{MECHANISM.lower()}.sasl.jaas.config": jaas,
        "ssl.keystore.type": "PKCS12",
        "ssl.keystore.location": str(keystore),
        "ssl.keystore.password": creds["keystore"],
        "ssl.key.password": creds["keystore"],
        "ssl.truststore.type": "PKCS12",
        "ssl.truststore.location": str(secure_dir(data_dir) / "trust.p12"),
        "ssl.truststore.password": creds["keystore"],
        "ssl.client.auth": "none",
        "ssl.endpoint.identification.algorithm": "",  # the broker reaching itself by IP
    }


def scram_arguments(data_dir: Path) -> list[str]:
    """``kafka-storage format`` arguments that create the SCRAM users in the new cluster's metadata."""
    creds = credentials(data_dir)
    return [arg for user in (BROKER_USER, CLIENT_USER)
            for arg in ("--add-scram", f"{MECHANISM}=[name={user},password={creds[user]}]")]


def client_security(data_dir: Path, host: str, *, password: str | None = None) -> dict[str, Any]:
    """The ``kafka.security`` options of a client of the secure local broker."""
    _, cert = ensure_keys(data_dir, host)
    return {"security_protocol": "SASL_SSL", "sasl_mechanism": MECHANISM, "sasl_plain_username": CLIENT_USER,
            "sasl_plain_password": password if password is not None else credentials(data_dir)[CLIENT_USER],
            "ssl_cafile": str(cert)}
