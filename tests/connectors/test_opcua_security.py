"""OPC UA security against real peers: the secured simulator, unsecured servers, bad credentials."""

from __future__ import annotations

import shutil
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.utils import ServiceError
from asyncua.crypto import security_policies
from asyncua.ua.uaerrors import UaStatusCodeError
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_der_private_key
from cryptography.x509.oid import ExtendedKeyUsageOID

from connectors.opcua import OpcUaConnector
from connectors.opcua.certs import create_application_certificate
from connectors.opcua.security import (
    LOCAL_SIMULATOR,
    OpcUaSecurity,
    PeerCertificateCheck,
    TrustFolder,
    load_certificate,
    load_key_pair,
    thumbprint,
)
from connectors.simulator import PlantSimulator
from connectors.simulator.security import SimulatorSecurity, hash_password
from factory_agents import site
from factory_agents.errors import ConfigurationError, ConnectorError
from factory_agents.plant import Quality
from tests.connectors.conftest import PASSWORD, Pki
from tests.connectors.standard_server import StandardServer

Secure = Callable[..., OpcUaSecurity]


@pytest.mark.parametrize("policy", ["Basic256Sha256", "Aes256_Sha256_RsaPss"])
async def test_sign_and_encrypt_with_a_user_reads_the_plant(
    secured_plant: PlantSimulator, secure: Secure, policy: str
) -> None:
    async with OpcUaConnector(secured_plant.endpoint, security=secure(policy=policy)) as plant:
        (good,) = await plant.read([site.LINE_GOOD])
    assert good.quality is Quality.GOOD and good.value >= 0


async def test_an_x509_user_identity_logs_in(
    secured_plant: PlantSimulator, secure: Secure, pki: Pki
) -> None:
    security = secure(
        user=None,
        password=None,
        user_certificate=pki.engineer.certificate,
        user_private_key=pki.engineer.private_key,
    )
    assert security.identity == "certificate"
    async with OpcUaConnector(secured_plant.endpoint, security=security) as plant:
        (setpoint,) = await plant.read([site.FILL_SETPOINT])
    assert setpoint.quality is Quality.GOOD


async def test_a_wrong_password_is_refused_clearly(
    secured_plant: PlantSimulator, secure: Secure
) -> None:
    with pytest.raises(ConnectorError, match="BadUserAccessDenied") as raised:
        async with OpcUaConnector(secured_plant.endpoint, security=secure(password="guess")):
            pass
    assert "check the user name and password" in str(raised.value)
    assert "guess" not in str(raised.value)


async def test_an_unknown_user_certificate_is_refused(
    secured_plant: PlantSimulator, secure: Secure, pki: Pki
) -> None:
    security = secure(
        user=None,
        password=None,
        user_certificate=pki.stranger.certificate,
        user_private_key=pki.stranger.private_key,
    )
    with pytest.raises(ConnectorError, match="BadUserAccessDenied"):
        async with OpcUaConnector(secured_plant.endpoint, security=security):
            pass


async def test_anonymous_is_refused_by_the_secured_simulator(
    secured_plant: PlantSimulator, secure: Secure, pki: Pki
) -> None:
    with pytest.raises(ConnectorError, match="does not accept anonymous logins") as raised:
        async with OpcUaConnector(
            secured_plant.endpoint, security=secure(user=None, password=None)
        ):
            pass
    assert "UserName" in str(raised.value)
    # A client that sends an anonymous token anyway meets the real user manager.
    client = Client(secured_plant.endpoint, timeout=5)
    client.application_uri = "urn:factory-agents:client"
    await client.set_security(
        security_policies.SecurityPolicyBasic256Sha256,
        certificate=str(pki.client.certificate),
        private_key=str(pki.client.private_key),
    )
    with pytest.raises(UaStatusCodeError) as refused:
        await client.connect()
    assert ua.StatusCode(refused.value.code).name in {
        "BadIdentityTokenRejected",
        "BadUserAccessDenied",
    }


async def test_a_client_certificate_the_server_does_not_trust_is_refused(
    secured_plant: PlantSimulator, secure: Secure, pki: Pki
) -> None:
    security = secure(certificate=pki.stranger.certificate, private_key=pki.stranger.private_key)
    with pytest.raises(ConnectorError, match="BadCertificateUntrusted") as raised:
        async with OpcUaConnector(secured_plant.endpoint, security=security):
            pass
    assert str(pki.stranger.certificate) in str(raised.value)  # says which file to hand over


async def test_an_expired_client_certificate_is_refused_here_and_by_the_server(
    secured_plant: PlantSimulator, secure: Secure, pki: Pki
) -> None:
    security = secure(certificate=pki.expired.certificate, private_key=pki.expired.private_key)
    with pytest.raises(ConfigurationError, match=r"expired on .* certs create"):
        async with OpcUaConnector(secured_plant.endpoint, security=security):
            pass
    # The simulator trusts the file but checks its dates itself.
    client = Client(secured_plant.endpoint, timeout=5)
    client.application_uri = "urn:factory-agents:client"
    client.set_user("operator")
    client.set_password(PASSWORD)
    await client.set_security(
        security_policies.SecurityPolicyBasic256Sha256,
        certificate=str(pki.expired.certificate),
        private_key=str(pki.expired.private_key),
    )
    with pytest.raises(UaStatusCodeError) as refused:
        await client.connect()
    assert ua.StatusCode(refused.value.code).name == "BadCertificateTimeInvalid"


async def test_a_server_certificate_outside_the_trust_folder_is_refused_before_login(
    secured_plant: PlantSimulator, secure: Secure, pki: Pki
) -> None:
    with pytest.raises(ConnectorError, match="not in the trust folder") as raised:
        async with OpcUaConnector(
            secured_plant.endpoint, security=secure(trust_folder=pki.server_trust)
        ):
            pass
    message = str(raised.value)
    assert "Nothing was sent" in message
    assert thumbprint(load_certificate(pki.server.certificate, "server")) in message


async def test_an_expired_server_certificate_is_refused_even_if_trusted(
    pki: Pki, tmp_path: Path
) -> None:
    (tmp_path / "trust").mkdir()
    shutil.copy(pki.expired.certificate, tmp_path / "trust")
    check = PeerCertificateCheck(TrustFolder(tmp_path / "trust"), peer="server")
    expired = load_certificate(pki.expired.certificate, "expired")
    description = ua.ApplicationDescription(ApplicationUri="urn:factory-agents:client")
    with pytest.raises(ServiceError):
        await check(expired, description)
    assert check.refusal is not None and "server's certificate" in check.refusal
    assert "expired on" in check.refusal
    with pytest.raises(ServiceError):
        await check(load_certificate(pki.stranger.certificate, "stranger"), description)
    assert "not in the trust folder" in (check.refusal or "")


async def test_a_none_only_server_is_refused_when_security_is_configured(
    standard: StandardServer, secure: Secure
) -> None:
    with pytest.raises(ConnectorError, match="only None/None; it has no security at all"):
        async with OpcUaConnector(standard.endpoint, security=secure()):
            pass


async def test_no_security_against_the_secured_simulator_says_what_it_offers(
    secured_plant: PlantSimulator,
) -> None:
    with pytest.raises(ConnectorError, match="offers no None/None endpoint") as raised:
        async with OpcUaConnector(secured_plant.endpoint, security=LOCAL_SIMULATOR):
            pass
    assert "Basic256Sha256/SignAndEncrypt" in str(raised.value)


async def test_a_private_key_of_another_certificate_is_refused(
    secured_plant: PlantSimulator, secure: Secure, pki: Pki
) -> None:
    security = secure(private_key=pki.stranger.private_key)
    with pytest.raises(ConfigurationError, match="does not belong to the certificate"):
        async with OpcUaConnector(secured_plant.endpoint, security=security):
            pass


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"policy": "Basic128Rsa15"}, "deprecated"),
        ({"policy": "http://opcfoundation.org/UA/SecurityPolicy#Basic256"}, "deprecated"),
        ({"policy": "Rot13"}, "unknown security policy"),
        ({"policy": "Aes128_Sha256_RsaOaep"}, "not enabled"),
        ({"policy": "None"}, "mode None is refused"),
        ({"mode": "None"}, "mode None is refused"),
        ({"policy": "Basic256Sha256"}, "needs certificate, private_key, trust_folder"),
        ({"policy": "None", "mode": "SignAndEncrypt", "allow_none": True}, "not a valid pair"),
        ({"policy": "None", "allow_none": True, "password": "x"}, "without a user name"),
        ({"policy": "None", "allow_none": True, "user": "x"}, "has no password"),
    ],
)
def test_unsafe_or_incomplete_security_settings_are_refused(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        OpcUaSecurity.build(**fields)


def test_settings_from_factory_opcua_variables(pki: Pki) -> None:
    assert OpcUaSecurity.from_environment({}) == LOCAL_SIMULATOR
    security = OpcUaSecurity.from_environment(
        {
            "FACTORY_OPCUA_POLICY": "aes256sha256rsapss",
            "FACTORY_OPCUA_CERTIFICATE": str(pki.client.certificate),
            "FACTORY_OPCUA_PRIVATE_KEY": str(pki.client.private_key),
            "FACTORY_OPCUA_TRUST_FOLDER": str(pki.client_trust),
            "FACTORY_OPCUA_USER": "operator",
            "FACTORY_OPCUA_PASSWORD": "pw",
            "UNRELATED": "x",
        }
    )
    assert (security.policy, security.mode, security.identity) == (
        "Aes256_Sha256_RsaPss",
        "SignAndEncrypt",
        "username",
    )
    assert "pw" not in repr(security)  # secrets stay out of logs
    with pytest.raises(ConfigurationError, match="allow_none"):
        OpcUaSecurity.from_environment({"FACTORY_OPCUA_POLICY": "None"})
    allowed = {"FACTORY_OPCUA_POLICY": "None", "FACTORY_OPCUA_ALLOW_NONE": "true"}
    assert OpcUaSecurity.from_environment(allowed) == LOCAL_SIMULATOR


def test_created_certificates_carry_what_opc_ua_asks_for(tmp_path: Path) -> None:
    pair = create_application_certificate(
        tmp_path,
        application_uri="urn:plant7:factory-agents:client",
        host_names=["edge-7", "10.1.2.3"],
        validity_days=30,
    )
    certificate = x509.load_der_x509_certificate(pair.certificate.read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.UniformResourceIdentifier) == [
        "urn:plant7:factory-agents:client"
    ]
    assert names.get_values_for_type(x509.DNSName) == ["edge-7"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["10.1.2.3"]
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    assert usage.key_encipherment and usage.data_encipherment
    extended = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(extended) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and not constraints.value.ca
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert lifetime.days == 30
    assert certificate.not_valid_before_utc <= datetime.now(UTC)
    assert stat.S_IMODE(pair.private_key.stat().st_mode) == 0o600
    with pytest.raises(ConfigurationError, match="already exists"):
        create_application_certificate(tmp_path)
    with pytest.raises(ConfigurationError, match="not a URI"):
        create_application_certificate(tmp_path / "other", application_uri="client")


def test_a_secured_simulator_needs_hashed_passwords_and_users(pki: Pki) -> None:
    base = {
        "certificate": pki.server.certificate,
        "private_key": pki.server.private_key,
        "trust_folder": pki.server_trust,
    }
    with pytest.raises(ValueError, match="refuses anonymous clients"):
        SimulatorSecurity(**base)
    with pytest.raises(ValueError, match="never the password"):
        SimulatorSecurity(**base, users={"operator": "plain-text"})
    with pytest.raises(ValueError, match="Basic256Sha256"):
        SimulatorSecurity(**base, users={"a": hash_password("b")}, policies=("None",))


def test_a_key_pair_is_loaded_checked_and_handed_over_as_der(pki: Pki) -> None:
    pair = load_key_pair(
        pki.engineer.certificate, pki.engineer.private_key, whose="user", renew="use a valid one"
    )
    assert x509.load_der_x509_certificate(pair.certificate_der) == pair.certificate
    assert load_der_private_key(pair.key_der, None).public_key().public_numbers() == (
        pair.certificate.public_key().public_numbers()  # type: ignore[union-attr]
    )
    with pytest.raises(ConfigurationError, match=r"user certificate .* expired on .*valid one$"):
        load_key_pair(
            pki.expired.certificate, pki.expired.private_key, whose="user", renew="use a valid one"
        )
    with pytest.raises(ConfigurationError, match="does not belong to the certificate"):
        load_key_pair(
            pki.engineer.certificate, pki.stranger.private_key, whose="simulator", renew="-"
        )
