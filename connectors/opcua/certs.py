"""Self-signed OPC UA application instance certificates (X.509 v3, RSA 2048, SHA-256).

OPC UA Part 6 asks an application instance certificate for: the application URI as a
subjectAltName URI (servers compare it with the ApplicationUri the client announces), the host
names and addresses it runs on, key usage digitalSignature + nonRepudiation + keyEncipherment
+ dataEncipherment (+ keyCertSign for a self-signed one), and extended key usage clientAuth
and/or serverAuth.

Example::

    pair = create_application_certificate(
        Path("pki/own"), application_uri="urn:plant1:factory-agents:client"
    )
    # pair.certificate: pki/own/client.der (hand it to the server's administrator)
    # pair.private_key: pki/own/client.pem (readable by its owner only)
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from factory_agents.errors import ConfigurationError

DEFAULT_CLIENT_URI = "urn:factory-agents:client"
KEY_SIZE = 2048
DEFAULT_VALIDITY_DAYS = 365


@dataclass(frozen=True)
class CertificatePair:
    """Where a created certificate (DER) and its private key (PEM, PKCS#8) were written."""

    certificate: Path
    private_key: Path
    application_uri: str
    not_valid_after: datetime


def default_host_names() -> list[str]:
    """This machine's host name and localhost: the names a local application answers to."""
    names = [socket.gethostname(), "localhost"]
    return list(dict.fromkeys(name for name in names if name))


def create_application_certificate(
    folder: Path,
    *,
    application_uri: str = DEFAULT_CLIENT_URI,
    host_names: Sequence[str] = (),
    name: str = "client",
    common_name: str = "factory-agents",
    validity_days: float = DEFAULT_VALIDITY_DAYS,
    not_before: datetime | None = None,
    client: bool = True,
    server: bool = False,
    overwrite: bool = False,
) -> CertificatePair:
    """Create `<folder>/<name>.der` and `<folder>/<name>.pem`: a self-signed OPC UA certificate.

    `not_before` (default: now minus 5 minutes of clock tolerance) and `validity_days` set the
    validity window; a window in the past makes an expired certificate (for tests).
    """
    if not application_uri or ":" not in application_uri:
        raise ConfigurationError(
            f"application URI {application_uri!r} is not a URI; use e.g."
            " urn:<site>:factory-agents:client"
        )
    if validity_days <= 0:
        raise ConfigurationError(f"validity must be a positive number of days; got {validity_days}")
    if not client and not server:
        raise ConfigurationError("a certificate must be for a client, a server or both")
    certificate_path = folder / f"{name}.der"
    key_path = folder / f"{name}.pem"
    if not overwrite:
        for existing in (certificate_path, key_path):
            if existing.exists():
                raise ConfigurationError(
                    f"{existing} already exists; choose another --name or folder, or delete it"
                    " (servers that trust the old certificate will not trust a new one)"
                )
    hosts = list(host_names) or default_host_names()
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    end = start + timedelta(days=validity_days)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "factory-agents"),
        ]
    )
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH] if client else []
    usages += [ExtendedKeyUsageOID.SERVER_AUTH] if server else []
    public_key = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(_alt_names(application_uri, hosts)), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=True,
                data_encipherment=True,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.DER))
        key_bytes = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as key_file:
            key_file.write(key_bytes)
    except OSError as err:
        raise ConfigurationError(
            f"cannot write the certificate to {folder}: {err}. Choose a writable folder"
        ) from err
    return CertificatePair(certificate_path, key_path, application_uri, end)


def _alt_names(application_uri: str, hosts: Sequence[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(application_uri)]
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names
