"""A fresh Sparkplug group per test on the Mosquitto broker at 127.0.0.1:1883.

Every test gets its own group id, so no test sees another's messages (Sparkplug messages are
never retained, and the only retained one, a host's STATE, uses a unique host id too).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from connectors.mqtt import SparkplugConnector
from tests.connectors.mqtt.edge_node import BrokerObserver, SimulatedEdgeNode
from tests.connectors.mqtt.site import (
    BROKER,
    EDGE,
    capper_metrics,
    filler_metrics,
    node_metrics,
    policy_for,
)


@pytest.fixture
def group() -> str:
    """A Sparkplug group id no other test uses."""
    return f"fa-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def observer(group: str) -> Iterator[BrokerObserver]:
    """Everything the broker delivers on the test's group, recorded."""
    watching = BrokerObserver(f"spBv1.0/{group}/#")
    yield watching
    watching.stop()


@pytest.fixture
def edge(group: str) -> Iterator[SimulatedEdgeNode]:
    """The test's edge node with a Filler and a Capper, not started yet."""
    node = SimulatedEdgeNode(
        group, EDGE, node_metrics(), {"Filler": filler_metrics(), "Capper": capper_metrics()}
    )
    yield node
    node.stop()


@pytest.fixture
async def connector(group: str) -> AsyncIterator[SparkplugConnector]:
    """A connector subscribed to the test's group, with its policy and short timeouts."""
    async with SparkplugConnector(
        group,
        broker=BROKER,
        policy=policy_for(group),
        timeout=5.0,
        write_timeout=2.0,
        rebirth_interval=0.2,
    ) as opened:
        yield opened
