"""TLS to Temporal from the FACTORY_TEMPORAL_TLS_* settings: what the client is given, what a
TLS server on 127.0.0.1 sees of it (server name, client certificate), and clear errors."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from factory_agents.errors import ConfigurationError, ConnectorError
from factory_agents.settings import Settings
from tests.conftest import free_port
from workflows.client import connect
from workflows.tls import temporal_tls

SERVER_NAME = "temporal.factory.test"


@dataclass
class Pki:
    """A CA and the files it signed: server and client certificates with their keys."""

    folder: Path
    ca: Path = field(init=False)

    def __post_init__(self) -> None:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _certificate("factory test CA", ca_key, ca_key, None, ca=True)
        self.ca = self._write("ca.pem", ca_cert)
        self.ca_cert, self.ca_key = ca_cert, ca_key

    def issue(self, name: str, *, dns: str | None = None) -> tuple[Path, Path]:
        """A certificate for `name` signed by the CA, and its key: (cert.pem, key.pem)."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(name, key, self.ca_key, self.ca_cert, dns=dns)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        (self.folder / f"{name}.key").write_bytes(key_pem)
        return self._write(f"{name}.pem", cert), self.folder / f"{name}.key"

    def _write(self, name: str, cert: x509.Certificate) -> Path:
        path = self.folder / name
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return path


def _certificate(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    signer: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    *,
    ca: bool = False,
    dns: str | None = None,
) -> x509.Certificate:
    """An X.509 certificate for `name`, valid for a day."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), False)
    return builder.sign(signer, hashes.SHA256())


@dataclass
class Handshake:
    """What the TLS server on 127.0.0.1 saw of one client."""

    server_name: str | None = None
    client_subject: str | None = None
    completed: threading.Event = field(default_factory=threading.Event)


@contextlib.contextmanager
def tls_server(pki: Pki) -> Iterator[tuple[int, Handshake]]:
    """A TLS server that requires a client certificate from the CA; closes after a handshake."""
    cert, key = pki.issue("frontend", dns=SERVER_NAME)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.load_verify_locations(pki.ca)
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])
    seen = Handshake()

    def sni(sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, ctx: ssl.SSLContext) -> None:
        seen.server_name = name

    context.sni_callback = sni  # type: ignore[assignment]
    port = free_port()
    listener = context.wrap_socket(socket.create_server(("127.0.0.1", port)), server_side=True)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()  # the handshake happens here
            except (TimeoutError, ssl.SSLError, OSError):
                continue
            peer = conn.getpeercert()
            subject = dict(item[0] for item in peer["subject"]) if peer else {}
            seen.client_subject = str(subject.get("commonName"))
            seen.completed.set()
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port, seen
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    """A fresh CA in a temporary folder."""
    return Pki(tmp_path)


def test_nothing_set_means_plaintext() -> None:
    assert temporal_tls(Settings()) is None


def test_the_config_holds_the_files_and_the_server_name(pki: Pki) -> None:
    cert, key = pki.issue("worker-1")
    settings = Settings(
        temporal_tls_ca=pki.ca,
        temporal_tls_cert=cert,
        temporal_tls_key=key,
        temporal_tls_server_name=SERVER_NAME,
    )
    tls = temporal_tls(settings)
    assert tls is not None
    assert tls.server_root_ca_cert == pki.ca.read_bytes()
    assert (tls.client_cert, tls.client_private_key) == (cert.read_bytes(), key.read_bytes())
    assert tls.domain == SERVER_NAME
    only_ca = temporal_tls(Settings(temporal_tls_ca=pki.ca))
    assert only_ca is not None and only_ca.client_cert is None


def test_the_variables_come_from_the_environment(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTORY_TEMPORAL_TLS_CA", str(pki.ca))
    tls = temporal_tls(Settings())
    assert tls is not None and tls.server_root_ca_cert == pki.ca.read_bytes()


def test_a_missing_file_is_named_with_its_variable(pki: Pki, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "client.pem"
    _cert, key = pki.issue("worker-1")
    named = re.escape(f"FACTORY_TEMPORAL_TLS_CERT names {missing}")
    with pytest.raises(ConfigurationError, match=named):
        temporal_tls(Settings(temporal_tls_cert=missing, temporal_tls_key=key))
    with pytest.raises(ConfigurationError, match=r"FACTORY_TEMPORAL_TLS_CA names .*does not exist"):
        temporal_tls(Settings(temporal_tls_ca=tmp_path / "ca-missing.pem"))


def test_a_certificate_without_its_key_or_a_file_not_pem_is_refused(
    pki: Pki, tmp_path: Path
) -> None:
    cert, key = pki.issue("worker-1")
    with pytest.raises(ConfigurationError, match="TLS_CERT is set but FACTORY_TEMPORAL_TLS_KEY"):
        temporal_tls(Settings(temporal_tls_cert=cert))
    with pytest.raises(ConfigurationError, match="TLS_KEY is set but FACTORY_TEMPORAL_TLS_CERT"):
        temporal_tls(Settings(temporal_tls_key=key))
    der = tmp_path / "ca.der"
    der.write_bytes(pki.ca_cert.public_bytes(serialization.Encoding.DER))
    with pytest.raises(ConfigurationError, match="is not PEM"):
        temporal_tls(Settings(temporal_tls_ca=der))


async def test_connect_speaks_mutual_tls_with_the_configured_files(pki: Pki) -> None:
    cert, key = pki.issue("worker-1")
    with tls_server(pki) as (port, seen):
        settings = Settings(
            temporal_address=f"127.0.0.1:{port}",
            temporal_tls_ca=pki.ca,
            temporal_tls_cert=cert,
            temporal_tls_key=key,
            temporal_tls_server_name=SERVER_NAME,
        )
        # The server is not Temporal: the handshake succeeds, then the connection fails.
        with pytest.raises(ConnectorError, match="FACTORY_TEMPORAL_TLS_"):
            await asyncio.wait_for(connect(settings), timeout=30)
        assert seen.completed.wait(timeout=5)
    assert (seen.server_name, seen.client_subject) == (SERVER_NAME, "worker-1")
