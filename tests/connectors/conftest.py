"""Real asyncua servers on free loopback ports for connector tests."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable

import pytest

from connectors.opcua import OpcUaConnector
from connectors.simulator import PlantSimulator, SimulatorConfig
from factory_agents.site import DEFAULT_POLICY

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


@pytest.fixture(scope="module")
async def connector(plant: PlantSimulator) -> AsyncIterator[OpcUaConnector]:
    """An OPC UA connector to the module's plant, with the default site's policy."""
    async with OpcUaConnector(plant.endpoint, policy=DEFAULT_POLICY, timeout=5.0) as opened:
        yield opened
