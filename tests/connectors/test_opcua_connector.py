"""OpcUaConnector against the simulated plant: reads, history, status mapping, guarded writes."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from asyncua import ua
from asyncua.client.ua_client import UaClient

from connectors.base import TagSource, TagWriter
from connectors.opcua import OpcUaConnector
from connectors.simulator import PlantSimulator
from factory_agents import site
from factory_agents.agent import SetpointChange
from factory_agents.errors import (
    ConfigurationError,
    ConnectorError,
    DataQualityError,
    GuardrailViolation,
    WriteRejected,
)
from factory_agents.plant import Quality
from factory_agents.policy import Policy, SetpointLimit

SPEED_TAG = "ns=2;s=Line1.Filler.Speed"


def _change(
    from_value: float, to_value: float, node_id: str = site.FILL_SETPOINT
) -> SetpointChange:
    return SetpointChange(
        action_id="act-1", node_id=node_id, from_value=from_value, to_value=to_value, unit="g"
    )


async def _live(connector: OpcUaConnector, node_id: str = site.FILL_SETPOINT) -> float:
    (sample,) = await connector.read([node_id])
    assert sample.quality is Quality.GOOD
    return sample.value


def test_satisfies_the_ports() -> None:
    connector = OpcUaConnector("opc.tcp://127.0.0.1:4840/")
    assert isinstance(connector, TagSource)
    assert isinstance(connector, TagWriter)


async def test_an_unreachable_server_is_a_connector_error_naming_the_endpoint(
    free_endpoint: Callable[[], str],
) -> None:
    endpoint = free_endpoint()
    with pytest.raises(ConnectorError, match=endpoint) as raised:
        async with OpcUaConnector(endpoint, timeout=1.0):
            pass
    assert "server is running" in str(raised.value)
    assert isinstance(raised.value.__cause__, OSError)


async def test_bad_arguments_are_refused_clearly(connector: OpcUaConnector) -> None:
    with pytest.raises(ConfigurationError, match="not an OPC UA endpoint"):
        OpcUaConnector("http://127.0.0.1:4840/")
    with pytest.raises(ConfigurationError, match="not an OPC UA NodeId"):
        await connector.read(["Line1.GoodCount"])
    with pytest.raises(ValueError, match="timezone-aware"):
        await connector.history(site.FILL_WEIGHT, datetime(2026, 1, 1), datetime(2026, 1, 2))
    with pytest.raises(ConnectorError, match="not connected"):
        await OpcUaConnector("opc.tcp://127.0.0.1:4840/").read([site.LINE_GOOD])


async def test_batched_read_of_many_nodes_keeps_order(
    connector: OpcUaConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    real_read = UaClient.read

    async def counted_read(self: UaClient, parameters: ua.ReadParameters) -> list[ua.DataValue]:
        batches.append(len(parameters.NodesToRead))
        return await real_read(self, parameters)

    monkeypatch.setattr(UaClient, "read", counted_read)
    tags = [site.LINE_GOOD, site.LINE_SCRAP, site.FILL_SETPOINT, SPEED_TAG, "ns=2;s=NoSuchTag"]
    node_ids = tags * 250
    samples = await connector.read(node_ids)
    monkeypatch.undo()
    assert batches == [500, 500, 250]  # one Read service call per 500 nodes
    assert [s.tag for s in samples] == node_ids
    good, scrap, setpoint, speed, missing = samples[:5]
    assert good.quality is Quality.GOOD and good.value >= 0 and isinstance(good.value, float)
    assert scrap.quality is Quality.GOOD
    assert setpoint.value == pytest.approx(await _live(connector))
    assert speed.value == 60.0
    assert missing.quality is Quality.BAD and math.isnan(missing.value)
    assert all(s.source_time.tzinfo == UTC for s in samples)
    assert await connector.read([]) == []


async def test_bad_uncertain_and_non_numeric_values(
    plant: PlantSimulator, connector: OpcUaConnector
) -> None:
    energy = "ns=2;s=Line1.Labeler.Energy"
    try:
        await plant.set_fault("Line1.Labeler.Energy", "BadDeviceFailure")
        (bad,) = await connector.read([energy])
        assert bad.quality is Quality.BAD and math.isnan(bad.value)
        await plant.set_fault("Line1.Labeler.Energy", "UncertainSensorNotAccurate")
        (uncertain,) = await connector.read([energy])
        assert uncertain.quality is Quality.UNCERTAIN and uncertain.value >= 0
    finally:
        await plant.set_fault("Line1.Labeler.Energy", None)
    (state,) = await connector.read(["ns=2;s=Line1.Filler.State"])
    assert state.quality is Quality.BAD and math.isnan(state.value)


async def test_history_is_sorted_and_bounded_by_the_window(
    plant: PlantSimulator, connector: OpcUaConnector
) -> None:
    for _ in range(100):
        if plant.model.produced >= 30:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)
    now = datetime.now(UTC)
    everything = await connector.history(site.FILL_WEIGHT, now - timedelta(hours=1), now)
    assert len(everything) > 10
    times = [s.source_time for s in everything]
    assert times == sorted(times)
    start, end = times[3], times[8]
    window = await connector.history(site.FILL_WEIGHT, start, end)
    assert [s.source_time for s in window] == times[3:9]
    assert (
        await connector.history(
            site.FILL_WEIGHT, now + timedelta(hours=1), now + timedelta(hours=2)
        )
        == []
    )


async def test_write_applies_verifies_and_is_idempotent(connector: OpcUaConnector) -> None:
    live = await _live(connector)
    target = live + 1.5 if live < 505 else live - 1.5
    result = await connector.write_setpoint(_change(live, target))
    assert (result.before, result.written, result.read_back) == (live, target, target)
    assert result.already_applied is False
    assert result.at.tzinfo == UTC
    retry = await connector.write_setpoint(_change(live, target))
    assert retry.already_applied is True
    assert retry.read_back == target
    assert await _live(connector) == target


async def test_outside_bounds_is_refused_and_nothing_is_written(connector: OpcUaConnector) -> None:
    live = await _live(connector)
    with pytest.raises(GuardrailViolation, match="outside its bounds"):
        await connector.write_setpoint(_change(live, 511.0))
    assert await _live(connector) == live


async def test_too_big_a_step_is_refused_and_nothing_is_written(connector: OpcUaConnector) -> None:
    live = await _live(connector)
    target = live + 4.5 if live < 505 else live - 4.5
    with pytest.raises(GuardrailViolation, match="maximum step"):
        await connector.write_setpoint(_change(live, target))
    assert await _live(connector) == live


async def test_a_node_off_the_allow_list_is_refused_and_nothing_is_written(
    plant: PlantSimulator,
) -> None:
    async with OpcUaConnector(plant.endpoint, policy=Policy()) as unguarded:
        live = await _live(unguarded)
        with pytest.raises(GuardrailViolation, match="not on the allow-list"):
            await unguarded.write_setpoint(_change(live, live + 1.0))
        assert await _live(unguarded) == live


async def test_a_changed_premise_is_refused_and_nothing_is_written(
    connector: OpcUaConnector,
) -> None:
    live = await _live(connector)
    with pytest.raises(GuardrailViolation, match="premise changed") as raised:
        await connector.write_setpoint(_change(live + 1.0, live + 0.5))
    assert f"{live:g}" in str(raised.value)
    assert await _live(connector) == live


async def test_a_bad_live_value_blocks_the_write(
    plant: PlantSimulator, connector: OpcUaConnector
) -> None:
    live = await _live(connector)
    try:
        await plant.set_fault("Line1.Filler.FillWeightSetpoint", "BadSensorFailure")
        with pytest.raises(DataQualityError, match="BadSensorFailure"):
            await connector.write_setpoint(_change(live, live + 1.0))
    finally:
        await plant.set_fault("Line1.Filler.FillWeightSetpoint", None)
    assert await _live(connector) == live


async def test_a_write_the_server_refuses_is_final(
    plant: PlantSimulator,
) -> None:
    policy = Policy(
        setpoints=(
            SetpointLimit(node_id=SPEED_TAG, unit="units/min", minimum=0, maximum=120, max_step=5),
        )
    )
    async with OpcUaConnector(plant.endpoint, policy=policy) as connector:
        with pytest.raises(WriteRejected, match="BadUserAccessDenied") as raised:
            await connector.write_setpoint(_change(60.0, 62.0, node_id=SPEED_TAG))
        assert "not retried" in str(raised.value)
        assert await _live(connector, SPEED_TAG) == 60.0
