"""Securing an OPC UA session before it connects: the server's endpoints, its certificate checked
against the trust folder, our certificate and key, and the user identity."""

from __future__ import annotations

import logging
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlparse

from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.uaerrors import UaError, UaStatusCodeError
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from connectors.opcua.samples import status_name
from connectors.opcua.security import (
    OpcUaSecurity,
    PeerCertificateCheck,
    TrustFolder,
    check_key_matches,
    check_own_certificate,
    choose_endpoint,
    load_certificate,
    load_private_key,
    sends_password_in_clear,
    validity_problem,
)
from factory_agents.errors import ConfigurationError, ConnectorError

logger = logging.getLogger(__name__)


def warn_if_remote(endpoint: str) -> None:
    """Warn that an unsecured session to another host sends values and writes in clear."""
    host = urlparse(endpoint).hostname or ""
    try:
        local = ip_address(host).is_loopback
    except ValueError:
        local = host == "localhost"
    if not local:
        logger.warning(
            "connecting to %s without security (mode None, allowed explicitly); values"
            " and writes travel in clear. Configure OpcUaSecurity for a plant server",
            endpoint,
        )


async def configure_security(
    client: Client, endpoint_url: str, security: OpcUaSecurity, request_timeout: float
) -> PeerCertificateCheck | None:
    """Pick the server's matching endpoint, check its certificate, load ours, set identity; the
    server-certificate check used (None without a secured policy), which says why it refused."""
    endpoints = await server_endpoints(endpoint_url, request_timeout)
    endpoint = choose_endpoint(endpoints, security, endpoint_url)
    check: PeerCertificateCheck | None = None
    if security.policy != "None":
        assert security.certificate and security.private_key and security.trust_folder
        certificate = load_certificate(security.certificate, "client certificate")
        client.application_uri = check_own_certificate(certificate, security.certificate)
        key = load_private_key(
            security.private_key, security.private_key_password, "client private key"
        )
        check_key_matches(certificate, key, security.private_key)
        check = PeerCertificateCheck(TrustFolder(security.trust_folder), peer="server")
        server_der = _first_certificate(endpoint.ServerCertificate)
        try:
            await check(x509.load_der_x509_certificate(server_der), endpoint.Server)
        except UaError as err:
            raise ConnectorError(
                f"refused to connect to {endpoint_url}: {check.refusal}. Nothing was sent"
            ) from err
        except ValueError as err:
            raise ConnectorError(
                f"{endpoint_url} sent a certificate that cannot be read ({err}); it is not"
                " a usable OPC UA server endpoint"
            ) from err
        client.certificate_validator = check
        await client.set_security(
            security.policy_class,
            certificate=certificate.public_bytes(serialization.Encoding.DER),
            private_key=_der_key(key),
            server_certificate=server_der,
            mode=security.message_mode,
        )
    if security.identity == "username":
        assert security.user is not None and security.password is not None
        if sends_password_in_clear(endpoint):
            raise ConfigurationError(
                f"{endpoint_url} would receive the password of {security.user!r} in clear"
                " text on this endpoint; use a secured policy (--policy Basic256Sha256)"
            )
        client.set_user(security.user)
        client.set_password(security.password.get_secret_value())
    elif security.identity == "certificate":
        assert security.user_certificate and security.user_private_key
        user_certificate = load_certificate(security.user_certificate, "user certificate")
        problem = validity_problem(user_certificate)
        if problem is not None:
            raise ConfigurationError(
                f"the user certificate {security.user_certificate} {problem}; use a valid one"
            )
        user_key = load_private_key(security.user_private_key, None, "user private key")
        check_key_matches(user_certificate, user_key, security.user_private_key)
        client.user_certificate = user_certificate
        client.user_private_key = user_key
    return check


async def server_endpoints(endpoint: str, request_timeout: float) -> list[ua.EndpointDescription]:
    """The endpoints the server offers (asked over an unsecured discovery channel)."""
    discovery = Client(endpoint, timeout=request_timeout)
    try:
        return await discovery.connect_and_get_server_endpoints()
    except UaStatusCodeError as err:
        raise ConnectorError(
            f"{endpoint} refused to list its endpoints: {status_name(ua.StatusCode(err.code))}"
        ) from err
    except (OSError, TimeoutError, UaError) as err:
        raise ConnectorError(
            f"could not connect to the OPC UA server at {endpoint}: {err!r}. Check that"
            " the server is running, that host, port and path are right, and that no"
            " firewall blocks the port"
        ) from err


def _first_certificate(der: bytes | None) -> bytes:
    """The leading certificate of a (possibly chained) DER blob."""
    if not der:
        raise ConnectorError("the server's endpoint carries no certificate; it cannot be secured")
    length = int.from_bytes(der[2:4], byteorder="big") + 4
    return der[:length]


def _der_key(key: Any) -> bytes:
    """A private key as unencrypted PKCS#8 DER, as asyncua takes it."""
    data: bytes = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return data
