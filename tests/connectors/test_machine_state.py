"""Machine state from OPC 40001-1 Machinery and OPC 30050 PackML nodes, mapped to our words.

The standard test server builds those nodes itself, by the companion specs' browse names
(no nodeset is imported): see standard_server.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from connectors.opcua import OpcUaConnector
from connectors.opcua.machine_state import (
    MachineState,
    OperationMode,
    machinery_state,
    operation_mode,
    packml_state,
)
from factory_agents.plant import Quality
from tests.connectors import standard_server as boiler
from tests.connectors.standard_server import StandardServer


@pytest.fixture(scope="module")
async def machines(standard: StandardServer) -> AsyncIterator[OpcUaConnector]:
    """A connector to the server holding the Machinery press and the PackML filler."""
    async with OpcUaConnector(standard.endpoint) as connector:
        yield connector


async def test_machinery_item_state_and_operation_mode(
    standard: StandardServer, machines: OpcUaConnector
) -> None:
    status = await machines.machine_status(boiler.MACHINERY_MACHINE)
    assert status is not None
    assert (status.model, status.state, status.raw_state) == (
        "machinery",
        MachineState.RUNNING,
        "Executing",  # from CurrentState's Id, not its German text "In Produktion"
    )
    assert (status.mode, status.raw_mode) == (OperationMode.PROCESSING, "Processing")
    assert status.quality is Quality.GOOD
    try:
        await standard.set_machinery_state("NotExecuting")
        idle = await machines.machine_status(boiler.MACHINERY_MACHINE)
        assert idle is not None and idle.state is MachineState.IDLE
    finally:
        await standard.set_machinery_state("Executing")


async def test_packml_state_is_taken_from_the_deepest_active_state_machine(
    machines: OpcUaConnector,
) -> None:
    status = await machines.machine_status(boiler.PACKML_MACHINE)
    assert status is not None
    # Base state machine "Cleared" -> MachineState "Running" -> ExecuteState "Held".
    assert (status.model, status.state, status.raw_state) == ("packml", MachineState.HELD, "Held")
    assert status.mode is None


async def test_a_machine_without_a_companion_model_has_no_status(
    machines: OpcUaConnector,
) -> None:
    assert await machines.machine_status(boiler.PLAIN_OBJECT) is None


def test_state_names_map_to_platform_words() -> None:
    assert [machinery_state(n) for n in ("NotAvailable", "OutOfService", "NotExecuting")] == [
        MachineState.NOT_AVAILABLE,
        MachineState.OUT_OF_SERVICE,
        MachineState.IDLE,
    ]
    assert packml_state("Execute") is MachineState.RUNNING  # also the simulator's State tag
    assert packml_state("Starting") is MachineState.CHANGING
    assert packml_state("Suspended") is MachineState.SUSPENDED
    assert packml_state("Stopped") is MachineState.STOPPED
    assert packml_state("Aborted") is MachineState.ABORTED
    assert packml_state("Complete") is MachineState.IDLE
    assert packml_state("Dancing") is MachineState.UNKNOWN
    assert operation_mode("Setup") is OperationMode.SETUP
    assert operation_mode("Maintenance") is OperationMode.MAINTENANCE
