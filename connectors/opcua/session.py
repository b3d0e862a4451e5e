"""Securing an OPC UA session before it connects: the server's endpoints, its certificate checked
against the trust folder, our certificate and key, and the user identity."""

from __future__ import annotations

import logging
from ipaddress import ip_address
from urllib.parse import urlparse

from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.uaerrors import UaError, UaStatusCodeError
from cryptography import x509

from connectors.opcua.samples import status_name
from connectors.opcua.security import (
    OpcUaSecurity,
    PeerCertificateCheck,
    TrustFolder,
    application_uri_required,
    choose_endpoint,
    load_key_pair,
    sends_password_in_clear,
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
        own = load_key_pair(
            security.certificate,
            security.private_key,
            whose="client",
            renew="servers refuse it. Create a new one with `factory-agents opcua certs create`"
            " and have it trusted by the server",
            password=security.private_key_password,
        )
        client.application_uri = application_uri_required(own.certificate, security.certificate)
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
            certificate=own.certificate_der,
            private_key=own.key_der,
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
        user = load_key_pair(
            security.user_certificate,
            security.user_private_key,
            whose="user",
            renew="use a valid one",
        )
        client.user_certificate = user.certificate
        client.user_private_key = user.key
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
