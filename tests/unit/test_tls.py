"""HTTPS on crmhub's HTTP servers, with certificates made by the test: a server with ``tls`` answers HTTPS to a
client that trusts its CA and nothing over plain HTTP; with ``client_ca_file`` a caller without a certificate
that CA signed is refused."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI

from hub.config import validate_config_text
from hub.registry.server import serve_in_thread
from hub.web.settings import TlsSettings
from schemas.errors import ConfigError

Key = ec.EllipticCurvePrivateKey


def _cert(subject: str, key: Key, issuer: tuple[str, Key] | None, *, ca: bool = False) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    issuer_name, issuer_key = issuer if issuer else (subject, key)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate, key: Key) -> tuple[Path, Path]:
    cert_file, key_file = path.with_suffix(".crt"), path.with_suffix(".key")
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA, a server certificate for localhost / 127.0.0.1 and a client certificate, all signed by the CA."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = _cert("crmhub test CA", ca_key, None, ca=True)
    ca_file, _ = _write(folder / "ca", ca, ca_key)
    server_cert, server_key_file = _write(folder / "server", _cert("localhost", server_key, ("crmhub test CA", ca_key)),
                                          server_key)
    client_cert, client_key_file = _write(folder / "client", _cert("agent", client_key, ("crmhub test CA", ca_key)),
                                          client_key)
    return {"ca": ca_file, "cert": server_cert, "key": server_key_file, "client_cert": client_cert,
            "client_key": client_key_file}


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    return app


@pytest.fixture()
def served(pki: dict[str, Path], request: pytest.FixtureRequest) -> Iterator[str]:
    mutual = getattr(request, "param", False)
    tls = TlsSettings(cert_file=pki["cert"], key_file=pki["key"], client_ca_file=pki["ca"] if mutual else None)
    handle = serve_in_thread(_app(), "127.0.0.1", 0, tls=tls)
    yield handle.url
    handle.stop()


def test_https_answers_a_client_that_trusts_the_ca_and_plain_http_gets_nothing(served: str,
                                                                             pki: dict[str, Path]) -> None:
    assert served.startswith("https://")
    context = ssl.create_default_context(cafile=str(pki["ca"]))
    assert httpx.get(f"{served}/ping", verify=context).json() == {"pong": "yes"}
    with pytest.raises(httpx.ConnectError):  # an unknown CA: the certificate is not trusted
        httpx.get(f"{served}/ping")
    with pytest.raises(httpx.HTTPError):  # plain HTTP on the TLS port
        httpx.get(served.replace("https://", "http://") + "/ping")


@pytest.mark.parametrize("served", [True], indirect=True)
def test_mutual_tls_refuses_a_caller_without_a_client_certificate(served: str, pki: dict[str, Path]) -> None:
    without = ssl.create_default_context(cafile=str(pki["ca"]))
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{served}/ping", verify=without)
    with_cert = ssl.create_default_context(cafile=str(pki["ca"]))
    with_cert.load_cert_chain(str(pki["client_cert"]), str(pki["client_key"]))
    assert httpx.get(f"{served}/ping", verify=with_cert).json() == {"pong": "yes"}


def test_tls_settings_in_the_config_name_a_missing_file_and_make_the_registry_url_https(
        pki: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"admin\.http\.tls\.key_file.*no such file"):
        validate_config_text(f"admin: {{http: {{tls: {{cert_file: '{pki['cert']}', "
                             f"key_file: '{tmp_path}/none.key'}}}}}}")
    cfg = validate_config_text(f"registry: {{serve: {{port: 8443, http: {{tls: {{cert_file: '{pki['cert']}', "
                               f"key_file: '{pki['key']}'}}}}}}}}")
    assert cfg.registry.effective_url() == "https://127.0.0.1:8443"
