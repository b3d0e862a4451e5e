"""A server restart: the connector marks data stale, acts on nothing, reconnects by itself."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from connectors.opcua import OpcUaConnector
from connectors.opcua.subscription import QueuePolicy, TagSubscription, TagUpdate
from connectors.simulator import PlantSimulator, SimulatorConfig
from factory_agents import site
from factory_agents.agent import SetpointChange
from factory_agents.errors import ConnectorError, DataQualityError
from factory_agents.plant import Quality

pytestmark = pytest.mark.chaos


async def _next(subscription: TagSubscription, wanted: Callable[[TagUpdate], bool]) -> TagUpdate:
    async with asyncio.timeout(10):
        while True:
            update = await subscription.next()
            assert update is not None
            if wanted(update):
                return update


async def test_a_restarted_server_is_reconnected_and_nothing_acts_on_stale_data(
    free_endpoint: Callable[[], str], tmp_path: Path
) -> None:
    config = SimulatorConfig(
        endpoint=free_endpoint(), speed=100.0, seed=5, state_file=tmp_path / "plant.json"
    )
    simulator = PlantSimulator(config)
    await simulator.start()
    connector = OpcUaConnector(
        config.endpoint, policy=site.DEFAULT_POLICY, timeout=2.0, reconnect_max_delay=0.5
    )
    await connector.connect()
    try:
        queue = QueuePolicy(sampling_interval=0.05)
        subscription = await connector.subscribe(
            [site.LINE_GOOD, site.FILL_SETPOINT], queue=queue, publishing_interval=0.05
        )
        (live,) = await connector.read([site.FILL_SETPOINT])
        await _next(subscription, lambda u: u.sample.tag == site.FILL_SETPOINT)
        assert connector.connected and connector.link_lost_since is None

        await simulator.stop()
        stale = await _next(subscription, lambda u: u.stale)
        assert stale.sample.quality is Quality.UNCERTAIN and not math.isnan(stale.sample.value)
        assert subscription.stale
        assert all(s.quality is Quality.UNCERTAIN for s in subscription.latest().values())
        assert not connector.connected and connector.link_lost_since is not None

        change = SetpointChange(
            action_id="while-down",
            node_id=site.FILL_SETPOINT,
            from_value=live.value,
            to_value=live.value + 1.0,
            unit="g",
        )
        with pytest.raises(DataQualityError, match=r"link .* down since .* nothing was written"):
            await connector.write_setpoint(change)
        with pytest.raises(ConnectorError, match="down since"):
            await connector.read([site.LINE_GOOD])

        simulator = PlantSimulator(config)  # same endpoint, same saved line state
        await simulator.start()
        fresh = await _next(
            subscription, lambda u: not u.stale and u.sample.tag == site.FILL_SETPOINT
        )
        assert fresh.sample.quality is Quality.GOOD
        assert fresh.sample.value == live.value  # the write while down never happened
        assert connector.connected and not subscription.stale
        result = await connector.write_setpoint(change)
        assert result.read_back == live.value + 1.0
        await subscription.close()
    finally:
        await connector.close()
        await simulator.stop()
