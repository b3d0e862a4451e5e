"""Subscriptions on the simulator: samples with quality, explicit queue policies, refusals."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable

import pytest

from connectors.opcua import OpcUaConnector
from connectors.opcua.subscription import QueuePolicy, TagSubscription, TagUpdate
from connectors.simulator import PlantSimulator, SimulatorConfig
from factory_agents import site
from factory_agents.errors import ConnectorError
from factory_agents.plant import Quality
from tests.connectors.conftest import SPEED

ENERGY = "ns=2;s=Line1.Capper.Energy"


@pytest.fixture(scope="module")
async def running_line(free_endpoint: Callable[[], str]) -> AsyncIterator[PlantSimulator]:
    """A plant whose line never stops (production alone, no stops or breakdowns): these tests
    count the values a running counter sends in fractions of a second."""
    config = SimulatorConfig(
        endpoint=free_endpoint(), speed=SPEED, seed=13, scenarios=("production",)
    )
    async with PlantSimulator(config) as plant:
        yield plant


@pytest.fixture(scope="module")
async def connector(running_line: PlantSimulator) -> AsyncIterator[OpcUaConnector]:
    """A connector to that plant."""
    async with OpcUaConnector(running_line.endpoint) as opened:
        yield opened


async def _updates(subscription: TagSubscription, count: int) -> list[TagUpdate]:
    got: list[TagUpdate] = []
    async with asyncio.timeout(5):
        while len(got) < count:
            update = await subscription.next()
            assert update is not None
            got.append(update)
    return got


async def test_subscribed_values_arrive_as_good_samples(connector: OpcUaConnector) -> None:
    queue = QueuePolicy(sampling_interval=0.05, server_queue_size=5)
    async with await connector.subscribe(
        [site.LINE_GOOD, site.FILL_SETPOINT], queue=queue, publishing_interval=0.05
    ) as subscription:
        updates = await _updates(subscription, 8)
        counts = [u.sample.value for u in updates if u.sample.tag == site.LINE_GOOD]
        assert len(counts) >= 3 and counts == sorted(counts)
        assert all(u.sample.quality is Quality.GOOD and not u.stale for u in updates)
        assert set(subscription.latest()) == {site.LINE_GOOD, site.FILL_SETPOINT}
        assert subscription.stale is False
    assert await subscription.next() is None  # closed: the iteration ends


async def test_bad_values_are_dropped_and_uncertain_ones_flagged(
    running_line: PlantSimulator, connector: OpcUaConnector
) -> None:
    plant = running_line
    queue = QueuePolicy(sampling_interval=0.05, server_queue_size=5)
    async with await connector.subscribe(
        [ENERGY], queue=queue, publishing_interval=0.05
    ) as subscription:
        try:
            await plant.set_fault("Line1.Capper.Energy", "BadSensorFailure")
            bad = await _until(subscription, lambda u: u.sample.quality is Quality.BAD)
            assert math.isnan(bad.sample.value)
            await plant.set_fault("Line1.Capper.Energy", "UncertainSensorNotAccurate")
            uncertain = await _until(subscription, lambda u: u.sample.quality is Quality.UNCERTAIN)
            assert uncertain.sample.value >= 0
        finally:
            await plant.set_fault("Line1.Capper.Energy", None)


async def _until(subscription: TagSubscription, wanted: object) -> TagUpdate:
    async with asyncio.timeout(5):
        while True:
            update = await subscription.next()
            assert update is not None
            if wanted(update):  # type: ignore[operator]
                return update


@pytest.mark.parametrize("overflow", ["drop_oldest", "drop_newest"])
async def test_the_client_buffer_drops_by_its_policy_and_counts(
    connector: OpcUaConnector, overflow: str
) -> None:
    queue = QueuePolicy(
        sampling_interval=0.02, server_queue_size=10, client_buffer=3, client_overflow=overflow
    )
    async with await connector.subscribe(
        [site.LINE_GOOD], queue=queue, publishing_interval=0.05
    ) as subscription:
        await asyncio.sleep(0.6)  # nobody consumes: the buffer overflows
        kept = [u.sample.value for u in await _updates(subscription, 3)]
        assert subscription.dropped > 0
        assert kept == sorted(kept)
        latest = subscription.latest()[site.LINE_GOOD].value
        if overflow == "drop_oldest":
            assert kept[-1] == latest  # the newest values were kept
        else:
            assert kept[-1] < latest  # the first values were kept, the newer dropped


async def test_the_server_queue_size_keeps_values_between_publishes(
    connector: OpcUaConnector,
) -> None:
    async def values_per_publish(queue_size: int) -> float:
        queue = QueuePolicy(sampling_interval=0.02, server_queue_size=queue_size)
        async with await connector.subscribe(
            [site.LINE_GOOD], queue=queue, publishing_interval=0.3
        ) as subscription:
            await _updates(subscription, 1)  # the initial value
            await asyncio.sleep(0.95)  # three publishes of ~3 simulator ticks each
            return subscription.pending / 3

    one, twenty = await asyncio.gather(values_per_publish(1), values_per_publish(20))
    assert one <= 1.4
    assert twenty >= 2.0


async def test_unknown_nodes_are_refused_by_name(connector: OpcUaConnector) -> None:
    with pytest.raises(ConnectorError, match=r"ns=2;s=NoSuchTag \(BadNodeIdUnknown\)"):
        await connector.subscribe([site.LINE_GOOD, "ns=2;s=NoSuchTag"], queue=QueuePolicy())
    with pytest.raises(ConnectorError, match="at least one node"):
        await connector.subscribe([], queue=QueuePolicy())
    with pytest.raises(ValueError, match="server_queue_size"):
        QueuePolicy(server_queue_size=0)
