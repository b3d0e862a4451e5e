"""Real asyncua servers on free loopback ports for connector tests."""

from __future__ import annotations

import shutil
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.opcua import OpcUaConnector
from connectors.opcua.certs import CertificatePair, create_application_certificate
from connectors.opcua.security import OpcUaSecurity
from connectors.simulator import PlantSimulator, SimulatorConfig
from connectors.simulator.security import SimulatorSecurity, hash_password
from connectors.simulator.server import APPLICATION_URI
from factory_agents.site import DEFAULT_POLICY
from tests.connectors import standard_server
from tests.connectors.standard_server import StandardServer

SPEED = 100.0


def _free_endpoint() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"opc.tcp://127.0.0.1:{port}/factory-agents/"


@pytest.fixture(scope="session")
def free_endpoint() -> Callable[[], str]:
    """A function returning an opc.tcp endpoint on a free loopback port."""
    return _free_endpoint


@pytest.fixture(scope="module")
async def plant() -> AsyncIterator[PlantSimulator]:
    """A simulated plant running at 100x, shared by the tests of one module."""
    config = SimulatorConfig(endpoint=_free_endpoint(), speed=SPEED, seed=11)
    async with PlantSimulator(config) as simulator:
        yield simulator


@pytest.fixture(scope="session")
async def shared_plant() -> AsyncIterator[PlantSimulator]:
    """One simulated plant at 100x for the OPC UA modules that need no plant of their own."""
    config = SimulatorConfig(endpoint=_free_endpoint(), speed=SPEED, seed=13)
    async with PlantSimulator(config) as simulator:
        yield simulator


@pytest.fixture(scope="module")
async def connector(plant: PlantSimulator) -> AsyncIterator[OpcUaConnector]:
    """An OPC UA connector to the module's plant, with the default site's policy."""
    async with OpcUaConnector(plant.endpoint, policy=DEFAULT_POLICY, timeout=5.0) as opened:
        yield opened


# --- OPC UA security, a standard (non-simulator) server ----------------------------------------

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Pki:
    """Certificates for the security tests, created by connectors.opcua.certs."""

    server: CertificatePair
    client: CertificatePair
    stranger: CertificatePair
    expired: CertificatePair
    engineer: CertificatePair
    client_trust: Path
    server_trust: Path
    user_certificates: Path


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A secured simulator's certificate, trusted and untrusted clients, an X509 user."""
    root = tmp_path_factory.mktemp("pki")
    server = create_application_certificate(
        root / "server", application_uri=APPLICATION_URI, name="server", client=False, server=True
    )
    client = create_application_certificate(root / "client")
    stranger = create_application_certificate(root / "stranger", name="stranger")
    expired = create_application_certificate(
        root / "expired",
        name="expired",
        not_before=datetime.now(UTC) - timedelta(days=30),
        validity_days=10,
    )
    engineer = create_application_certificate(
        root / "engineer", name="engineer", application_uri="urn:factory-agents:user:engineer"
    )
    client_trust, server_trust = root / "client-trust", root / "server-trust"
    for folder in (client_trust, server_trust, root / "users"):
        folder.mkdir()
    shutil.copy(engineer.certificate, root / "users")
    shutil.copy(server.certificate, client_trust)
    shutil.copy(client.certificate, server_trust)
    shutil.copy(expired.certificate, server_trust)
    return Pki(
        server, client, stranger, expired, engineer, client_trust, server_trust, root / "users"
    )


@pytest.fixture(scope="session")
def secure(pki: Pki) -> Callable[..., OpcUaSecurity]:
    """Client security for the secured simulator: trusted certificate, user and password."""

    def build(**overrides: Any) -> OpcUaSecurity:
        fields: dict[str, Any] = {
            "policy": "Basic256Sha256",
            "certificate": pki.client.certificate,
            "private_key": pki.client.private_key,
            "trust_folder": pki.client_trust,
            "user": "operator",
            "password": PASSWORD,
        }
        fields.update(overrides)
        return OpcUaSecurity(**{k: v for k, v in fields.items() if v is not None})

    return build


@pytest.fixture(scope="session")
async def secured_plant(pki: Pki) -> AsyncIterator[PlantSimulator]:
    """The simulator secured: SignAndEncrypt only, a trust folder, real users."""
    security = SimulatorSecurity(
        certificate=pki.server.certificate,
        private_key=pki.server.private_key,
        trust_folder=pki.server_trust,
        users={"operator": hash_password(PASSWORD)},
        user_certificates=pki.user_certificates,
    )
    config = SimulatorConfig(endpoint=_free_endpoint(), speed=SPEED, seed=11, security=security)
    async with PlantSimulator(config) as simulator:
        yield simulator


@pytest.fixture(scope="session")
async def standard() -> AsyncIterator[StandardServer]:
    """A plain asyncua server that is not our simulator (see standard_server.py)."""
    running = await standard_server.build(_free_endpoint().replace("factory-agents", "boiler"))
    async with running.server:
        yield running
