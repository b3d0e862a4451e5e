"""Activities called directly (no Temporal) against a real simulator and ledger."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError

from connectors.opcua.connector import OpcUaConnector
from connectors.simulator.config import SimulatorConfig
from connectors.simulator.server import PlantSimulator
from factory_agents.agent import SetpointChange
from factory_agents.ledger import Ledger
from factory_agents.policy import Policy, SetpointLimit
from factory_agents.registry import build_agents
from factory_agents.settings import Settings
from factory_agents.site import FILL_SETPOINT, default_agent_configs
from tests.conftest import free_port
from tests.factories import build_proposal
from workflows.activities import PlantActivities
from workflows.contracts import ExecuteInput

ONCE_AN_HOUR = Policy(
    setpoints=(
        SetpointLimit(
            node_id=FILL_SETPOINT, unit="g", minimum=490, maximum=510, max_step=4,
            min_interval_seconds=3600,
        ),
    )
)  # fmt: skip


@pytest.fixture
async def activities(tmp_path: Path) -> AsyncIterator[PlantActivities]:
    """Activities on a live simulator and a SQLite ledger, with a one-change-an-hour policy."""
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/factory-agents/"
    async with PlantSimulator(SimulatorConfig(endpoint=endpoint, speed=20, seed=1)):
        with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
            settings = Settings(home=tmp_path, opcua_endpoint=endpoint)
            agents = build_agents(default_agent_configs())
            yield PlantActivities(settings, ledger, agents, ONCE_AN_HOUR)


def proposed(activities: PlantActivities, from_value: float, to_value: float) -> ExecuteInput:
    """A recorded proposal to move the fill setpoint, as the execute activity receives it."""
    pid = f"p-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    action = SetpointChange(
        action_id=f"a-{pid}", node_id=FILL_SETPOINT, from_value=from_value, to_value=to_value,
        unit="g",
    )  # fmt: skip
    proposal = build_proposal(pid, node_id=FILL_SETPOINT, created_at=now, action=action)
    activities.ledger.record_proposal(proposal, run_id=None, expires_at=now + timedelta(hours=1))
    return ExecuteInput(proposal_id=pid, action=action)


async def test_a_second_change_within_the_minimum_interval_is_refused(
    activities: PlantActivities,
) -> None:
    first = await activities.execute_action(proposed(activities, 500.0, 499.0))
    assert first.read_back == 499.0

    second = proposed(activities, 499.0, 498.0)
    with pytest.raises(ApplicationError, match="last changed") as refused:
        await activities.execute_action(second)
    assert refused.value.type == "GuardrailViolation"
    assert refused.value.non_retryable
    action = activities.ledger.get_action(second.action.action_id)
    assert action is not None and action.status == "refused"
    view = activities.ledger.get_proposal(second.proposal_id)
    assert view is not None and view.status == "failed"
    async with OpcUaConnector(activities.settings.opcua_endpoint) as plant:
        (live,) = await plant.read([FILL_SETPOINT])
    assert live.value == 499.0


async def test_executing_the_same_action_again_writes_nothing_twice(
    activities: PlantActivities,
) -> None:
    change = proposed(activities, 500.0, 499.0)
    first = await activities.execute_action(change)
    again = await activities.execute_action(change)
    assert (first.already_applied, again.already_applied) == (False, True)
    assert again.read_back == 499.0
