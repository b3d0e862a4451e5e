"""The simulated plant over OPC UA: its address space, counters, history and setpoint."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import statistics
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.uaerrors import UaStatusCodeError
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from connectors.mes.schema import WorkOrder
from connectors.opcua import OpcUaConnector
from connectors.simulator import LineModel, PlantSimulator, SimulatorConfig, serve
from connectors.simulator.address_space import all_tags
from connectors.simulator.config import ensure_port_free
from connectors.simulator.server import chosen_scenarios
from connectors.simulator.state import load_state, save_state
from factory_agents import site
from factory_agents.agent import SetpointChange
from factory_agents.errors import ConfigurationError, ConnectorError
from factory_agents.plant import Quality
from factory_agents.site import DEFAULT_POLICY

EXPECTED_TYPES = {
    "State": ua.VariantType.String,
    "Speed": ua.VariantType.Double,
    "Temperature": ua.VariantType.Double,
    "Energy": ua.VariantType.Double,
    "GoodCount": ua.VariantType.Int64,
    "ScrapCount": ua.VariantType.Int64,
    "FillWeight": ua.VariantType.Double,
    "FillWeightSetpoint": ua.VariantType.Double,
}


@pytest.fixture(scope="module")
async def client(plant: PlantSimulator) -> AsyncIterator[Client]:
    """A plain asyncua client, to look at the address space as any OPC UA client would."""
    opened = Client(plant.endpoint)
    opened.session_timeout = 600_000  # what the asyncua server grants anyway
    async with opened:
        yield opened


async def _wait_for_units(plant: PlantSimulator, count: int) -> None:
    for _ in range(200):
        if plant.model.produced >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the simulator produced {plant.model.produced} of {count} units in 10 s")


def _expected_node_ids() -> list[str]:
    ids = [
        site.node(f"Line1.{machine}.{tag}") for machine in site.MACHINES for tag in EXPECTED_TYPES
    ]
    ids = [i for i in ids if "Fill" not in i or "Filler" in i]
    return [site.LINE_GOOD, site.LINE_SCRAP, *ids]


async def test_namespace_has_index_2(client: Client) -> None:
    namespaces = await client.get_namespace_array()
    assert namespaces.index(site.NAMESPACE_URI) == 2


async def test_serves_every_node_id_with_its_data_type(client: Client) -> None:
    node_ids = _expected_node_ids()
    assert sorted(node_ids) == sorted(site.node(tag.path) for tag in all_tags())
    assert {site.FILL_WEIGHT, site.FILL_SETPOINT} <= set(node_ids)
    for node_id in node_ids:
        node = client.get_node(node_id)
        value = await node.read_data_value(raise_on_bad_status=False)
        data_type = await node.read_data_type_as_variant_type()
        tag = node_id.rsplit(".", 1)[-1]
        assert data_type == EXPECTED_TYPES[tag], node_id
        if value.StatusCode is None or value.StatusCode.is_good():
            assert value.Value is not None
            assert value.Value.VariantType == EXPECTED_TYPES[tag], node_id


async def test_nodes_sit_under_objects_plant_line1_machine(client: Client) -> None:
    path = ["0:Objects", "2:Plant", "2:Line1", "2:Filler", "2:FillWeight"]
    node = await client.nodes.root.get_child(path)
    assert node.nodeid.to_string() == site.FILL_WEIGHT


async def test_units_historizing_and_write_access(client: Client) -> None:
    weight = client.get_node(site.FILL_WEIGHT)
    units = await weight.get_child(["0:EngineeringUnits"])
    eu_range = await weight.get_child(["0:EURange"])
    assert (await units.read_value()).DisplayName.Text == "g"
    assert (await eu_range.read_value()).High == 520.0
    for node_id in (site.FILL_WEIGHT, site.FILL_SETPOINT, site.LINE_GOOD, site.LINE_SCRAP):
        historizing = await client.get_node(node_id).read_attribute(AttributeIds.Historizing)
        assert historizing.Value is not None and historizing.Value.Value is True
    setpoint_access = await client.get_node(site.FILL_SETPOINT).get_user_access_level()
    speed_access = await client.get_node("ns=2;s=Line1.Filler.Speed").get_user_access_level()
    assert ua.AccessLevel.CurrentWrite in setpoint_access
    assert ua.AccessLevel.CurrentWrite not in speed_access


async def test_counters_increase(plant: PlantSimulator, connector: OpcUaConnector) -> None:
    tags = [site.LINE_GOOD, site.LINE_SCRAP, "ns=2;s=Line1.Filler.Energy"]
    first = await connector.read(tags)
    await asyncio.sleep(0.5)
    produced_before = plant.model.produced
    second = await connector.read(tags)
    produced_after = plant.model.produced
    assert second[0].value > first[0].value
    assert second[2].value > first[2].value
    assert second[0].source_time > first[0].source_time
    # Counters are published at the end of each tick (at most 100 units at 100x).
    assert produced_before - 100 <= second[0].value + second[1].value <= produced_after


async def test_history_returns_every_written_sample(
    plant: PlantSimulator, connector: OpcUaConnector
) -> None:
    await _wait_for_units(plant, 150)
    produced_before = plant.model.produced
    await asyncio.sleep(0.1)  # the server's history subscription publishes every 10 ms
    now = datetime.now(UTC)
    samples = await connector.history(site.FILL_WEIGHT, now - timedelta(minutes=10), now)
    good = [s for s in samples if s.quality is Quality.GOOD]
    assert samples[0].quality is Quality.BAD  # BadWaitingForInitialData, before the first unit
    assert len(good) >= produced_before
    expected = LineModel(seed=plant.config.seed).produce(len(good))
    assert [s.value for s in good] == [u.fill_weight for u in expected]
    times = [s.source_time for s in good]
    assert all(earlier < later for earlier, later in itertools.pairwise(times))
    assert times[-1] <= datetime.now(UTC)
    assert all(t.tzinfo == UTC for t in times)


async def test_faults_report_bad_and_uncertain_status(
    plant: PlantSimulator, connector: OpcUaConnector
) -> None:
    temperature = "ns=2;s=Line1.Capper.Temperature"
    try:
        await plant.set_fault("Line1.Capper.Temperature", "BadSensorFailure")
        await asyncio.sleep(0.15)  # survives the next tick
        (bad,) = await connector.read([temperature])
        assert bad.quality is Quality.BAD
        assert bad.value != bad.value  # NaN
        await plant.set_fault("Line1.Capper.Temperature", "UncertainLastUsableValue")
        (uncertain,) = await connector.read([temperature])
        assert uncertain.quality is Quality.UNCERTAIN
        assert 30.0 < uncertain.value < 50.0
    finally:
        await plant.set_fault("Line1.Capper.Temperature", None)
    (good,) = await connector.read([temperature])
    assert good.quality is Quality.GOOD


async def test_fault_needs_a_known_tag_and_a_bad_or_uncertain_status(plant: PlantSimulator) -> None:
    with pytest.raises(ConfigurationError, match="no tag"):
        await plant.set_fault("Line1.Oven.Temperature", "BadSensorFailure")
    with pytest.raises(ConfigurationError, match="status name"):
        await plant.set_fault("Line1.GoodCount", "Good")


async def _connect_when_up(endpoint: str) -> OpcUaConnector:
    for _ in range(100):
        connector = OpcUaConnector(endpoint, policy=site.DEFAULT_POLICY)
        try:
            await connector.connect()
        except ConnectorError:
            await asyncio.sleep(0.1)
        else:
            return connector
    raise AssertionError(f"the simulator at {endpoint} did not come up within 10 s")


async def _units_produced(connector: OpcUaConnector) -> int:
    good, scrap = await connector.read([site.LINE_GOOD, site.LINE_SCRAP])
    return int(good.value + scrap.value)


async def _wait_for_counted_units(connector: OpcUaConnector, count: int) -> int:
    for _ in range(200):
        produced = await _units_produced(connector)
        if produced >= count:
            return produced
        await asyncio.sleep(0.05)
    raise AssertionError(f"the simulator did not reach {count} units in 10 s")


async def test_serve_seeds_the_mes_and_a_setpoint_write_moves_the_fill_weights(
    free_endpoint: Callable[[], str], tmp_path: Path
) -> None:
    mes_url = f"sqlite:///{tmp_path / 'mes.db'}"
    config = SimulatorConfig(endpoint=free_endpoint(), speed=100, seed=21, mes_url=mes_url)
    serving = asyncio.create_task(serve(config))
    try:
        async with await _connect_when_up(config.endpoint) as connector:
            await _wait_for_counted_units(connector, 60)
            result = await connector.write_setpoint(
                SetpointChange(
                    action_id="a-1",
                    node_id=site.FILL_SETPOINT,
                    from_value=500.0,
                    to_value=496.0,
                    unit="g",
                )
            )
            written_at = await _units_produced(connector)
            await _wait_for_counted_units(connector, written_at + 120)
            await asyncio.sleep(0.1)
            window = (result.at - timedelta(minutes=5), result.at + timedelta(minutes=5))
            samples = await connector.history(site.FILL_WEIGHT, *window)
    finally:
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
    ensure_port_free(config.endpoint)  # stopped cleanly: the port is free again

    good = [s for s in samples if s.quality is Quality.GOOD]
    model = LineModel(seed=21)
    offsets = [s.value - model.drift_at(i) for i, s in enumerate(good)]
    assert statistics.fmean(offsets[: written_at - 20]) == pytest.approx(500.0, abs=0.25)
    assert statistics.fmean(offsets[written_at + 20 :]) == pytest.approx(496.0, abs=0.25)

    engine = create_engine(mes_url)
    with Session(engine) as session:
        orders = session.scalar(select(func.count()).select_from(WorkOrder))
        assert orders is not None and orders > 0
    engine.dispose()


async def test_a_busy_port_is_a_connector_error(plant: PlantSimulator) -> None:
    with pytest.raises(ConnectorError, match="cannot listen"):
        async with PlantSimulator(SimulatorConfig(endpoint=plant.endpoint, speed=10)):
            pass


def test_config_needs_an_opc_tcp_endpoint_with_a_port() -> None:
    with pytest.raises(ValueError, match=r"opc\.tcp"):
        SimulatorConfig(endpoint="http://127.0.0.1:4840/")
    with pytest.raises(ValueError, match=r"opc\.tcp"):
        SimulatorConfig(endpoint="opc.tcp://127.0.0.1/factory-agents/")


async def test_a_restarted_plant_carries_on_from_its_saved_state(
    free_endpoint: Callable[[], str], tmp_path: Path
) -> None:
    state = tmp_path / "plant-state.json"
    config = SimulatorConfig(endpoint=free_endpoint(), speed=100, seed=5, state_file=state)
    async with PlantSimulator(config) as first:
        await _wait_for_units(first, first.model.drift_start + 100)
        first.model.set_setpoint(498.5)
    stopped_at = first.snapshot()
    assert load_state(state, seed=5) == stopped_at
    assert stopped_at.scenarios, "the scenarios' state is saved with the line's"

    async with PlantSimulator(config) as second:
        assert second.model.produced >= stopped_at.produced
        assert second.model.setpoint == 498.5
        assert second.snapshot().scenarios.keys() == stopped_at.scenarios.keys()
        async with OpcUaConnector(second.endpoint) as connector:
            good, scrap, setpoint = await connector.read(
                [site.LINE_GOOD, site.LINE_SCRAP, site.FILL_SETPOINT]
            )
    assert good.value + scrap.value >= stopped_at.produced
    assert scrap.value >= stopped_at.scrap > 0  # the drift went on: scrap was counted before
    assert setpoint.value == 498.5


async def test_a_state_file_from_another_seed_or_unreadable_is_refused(
    free_endpoint: Callable[[], str], tmp_path: Path
) -> None:
    state = tmp_path / "plant-state.json"
    save_state(state, LineModel(seed=1).snapshot())
    with pytest.raises(ConfigurationError, match="seed 1, not 2"):
        async with PlantSimulator(
            SimulatorConfig(endpoint=free_endpoint(), seed=2, state_file=state)
        ):
            pass
    state.write_text('{"seed": 2, "produced": ')
    with pytest.raises(ConfigurationError, match="delete it to start the plant afresh"):
        load_state(state, seed=2)


def test_the_simulator_runs_only_the_scenarios_it_is_given() -> None:
    chosen = chosen_scenarios(SimulatorConfig(scenarios=("production", "line_stops")))
    assert [s.name for s in chosen] == ["production", "line_stops"]
    assert len(chosen_scenarios(SimulatorConfig())) > 2
    assert "tool_room_breakdown" not in {s.name for s in chosen_scenarios(SimulatorConfig())}
    (optional,) = chosen_scenarios(SimulatorConfig(scenarios=("tool_room_breakdown",)))
    assert optional.name == "tool_room_breakdown"
    with pytest.raises(ConfigurationError, match=r"no scenario nope; choose from .*production"):
        chosen_scenarios(SimulatorConfig(scenarios=("nope",)))


async def test_the_plant_records_every_client_write_and_none_of_its_own(
    free_endpoint: Callable[[], str],
) -> None:
    config = SimulatorConfig(endpoint=free_endpoint(), speed=50, seed=4, scenarios=("production",))
    change = SetpointChange(
        action_id="a-once", node_id=site.FILL_SETPOINT, from_value=500.0, to_value=499.5, unit="g"
    )
    async with PlantSimulator(config) as plant:
        await _wait_for_units(plant, 5)  # the simulator has updated the setpoint itself by now
        assert plant.client_writes.writes == []
        async with OpcUaConnector(plant.endpoint, policy=DEFAULT_POLICY) as connector:
            first = await connector.write_setpoint(change)
            again = await connector.write_setpoint(change)  # a retry finds it applied
        async with Client(plant.endpoint) as raw:
            speed = raw.get_node("ns=2;s=Line1.Filler.Speed")
            with pytest.raises(UaStatusCodeError):
                await speed.write_value(ua.Variant(1.0, ua.VariantType.Double))
    assert not first.already_applied and again.already_applied
    writes = plant.client_writes.writes
    assert [(w.node_id, w.value, w.accepted) for w in writes] == [
        (site.FILL_SETPOINT, 499.5, True),
        ("ns=2;s=Line1.Filler.Speed", 1.0, False),
    ]
    assert plant.client_writes.to(site.FILL_SETPOINT) == [writes[0]]
