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
from factory_agents.actions import Action, Advice, LotHold, MaintenanceWorkOrder
from factory_agents.agent import PlantReading, SetpointChange
from factory_agents.isa95 import LotStatus
from factory_agents.ledger import Ledger
from factory_agents.policy import ActionRule, Policy, SetpointLimit
from factory_agents.registry import build_agents
from factory_agents.settings import Settings
from factory_agents.site import FILL_SETPOINT, default_agent_configs
from tests.conftest import free_port
from tests.factories import build_proposal
from workflows.activities import PlantActivities
from workflows.contracts import ExecuteInput, MeasureInput

ONCE_AN_HOUR = Policy(
    setpoints=(
        SetpointLimit(
            node_id=FILL_SETPOINT, unit="g", minimum=490, maximum=510, max_step=4,
            min_interval_seconds=3600,
        ),
    ),
    actions=(ActionRule(kind="lot_hold", max_items=5), ActionRule(kind="advice")),
)  # fmt: skip


@pytest.fixture
async def activities(tmp_path: Path) -> AsyncIterator[PlantActivities]:
    """Activities on a live simulator and a SQLite ledger, with a one-change-an-hour policy."""
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/factory-agents/"
    settings = Settings(home=tmp_path, opcua_endpoint=endpoint)
    config = SimulatorConfig(endpoint=endpoint, speed=20, seed=1, mes_url=settings.mes_url)
    async with PlantSimulator(config):
        with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
            agents = build_agents(default_agent_configs())
            activities = PlantActivities(settings, ledger, agents, ONCE_AN_HOUR)
            yield activities
            activities.close()


def proposed(activities: PlantActivities, from_value: float, to_value: float) -> ExecuteInput:
    """A recorded proposal to move the fill setpoint, as the execute activity receives it."""
    pid = f"p-{uuid.uuid4().hex[:8]}"
    action = SetpointChange(
        action_id=f"a-{pid}", node_id=FILL_SETPOINT, from_value=from_value, to_value=to_value,
        unit="g",
    )  # fmt: skip
    return recorded(activities, pid, action)


def recorded(activities: PlantActivities, pid: str, action: Action) -> ExecuteInput:
    """Record a proposal of `action` in the ledger; the execute activity's input for it."""
    now = datetime.now(UTC)
    proposal = build_proposal(pid, created_at=now, action=action)
    activities.ledger.record_proposal(proposal, run_id=None, expires_at=now + timedelta(hours=1))
    return ExecuteInput(proposal_id=pid, action=action)


async def lots(activities: PlantActivities, status: LotStatus) -> list[str]:
    """The simulated MES's lots with `status` now."""
    now = datetime.now(UTC)
    data = await activities.mes.fetch(["lots"], now - timedelta(days=1), now)
    return [lot.id for lot in data.lots if lot.status is status]


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


async def test_an_approved_lot_hold_is_written_to_the_mes_once(activities: PlantActivities) -> None:
    held = (await lots(activities, LotStatus.RELEASED))[:2]
    hold = recorded(activities, "p-hold", LotHold(action_id="a-hold", lot_ids=held, reason="burst"))
    first = await activities.execute_action(hold)
    again = await activities.execute_action(hold)
    assert (first.already_applied, again.already_applied) == (False, True)
    assert first.reference == again.reference == "HOLD-a-hold"
    assert set(await lots(activities, LotStatus.HOLD)) == set(held)
    action = activities.ledger.get_action("a-hold")
    assert action is not None and (action.status, action.reference) == ("executed", "HOLD-a-hold")
    assert action.details["lot_ids"] == sorted(held)


async def test_a_kind_the_policy_does_not_allow_is_refused_and_recorded(
    activities: PlantActivities,
) -> None:
    order = MaintenanceWorkOrder(
        action_id="a-mwo", equipment_id="line1.capper", description="bearing",
        due_by=datetime.now(UTC) + timedelta(days=1),
    )  # fmt: skip
    with pytest.raises(ApplicationError, match="not allowed by the policy") as refused:
        await activities.execute_action(recorded(activities, "p-mwo", order))
    assert (refused.value.type, refused.value.non_retryable) == ("GuardrailViolation", True)
    action = activities.ledger.get_action("a-mwo")
    assert action is not None and action.status == "refused"
    now = datetime.now(UTC)
    created = await activities.mes.fetch(["maintenance_orders"], now - timedelta(days=1), now)
    assert created.maintenance_orders == ()


async def test_a_refusal_by_the_mes_is_final_and_holds_nothing(activities: PlantActivities) -> None:
    hold = LotHold(action_id="a-bad", lot_ids=("L-UNKNOWN",), reason="burst")
    with pytest.raises(ApplicationError, match="knows no lot L-UNKNOWN") as refused:
        await activities.execute_action(recorded(activities, "p-bad", hold))
    assert (refused.value.type, refused.value.non_retryable) == ("WriteRejected", True)
    assert await lots(activities, LotStatus.HOLD) == []


async def test_advice_is_acknowledged_without_writing(activities: PlantActivities) -> None:
    advice = Advice(action_id="a-adv", topic="oee", summary="fix the labeler infeed")
    result = await activities.execute_action(recorded(activities, "p-adv", advice))
    assert result.reference is None and result.read_back is None
    assert "nothing was written" in result.summary
    view = activities.ledger.get_proposal("p-adv")
    assert view is not None and view.status == "executed"


async def test_a_window_too_short_to_measure_fails_once_and_says_so(
    activities: PlantActivities,
) -> None:
    change = proposed(activities, 500.0, 499.0)  # an spc_drift proposal: it needs 50 samples
    now = datetime.now(UTC)
    tags = {"ns=2;s=Line1.GoodCount": 10.0, "ns=2;s=Line1.ScrapCount": 0.0}
    window = MeasureInput(
        proposal_id=change.proposal_id,
        agent="spc_drift",
        before=PlantReading(values=tags, at=now - timedelta(milliseconds=10)),
        after=PlantReading(values=tags, at=now),
    )
    with pytest.raises(ApplicationError, match="the realized saving needs 50") as refused:
        await activities.measure_saving(window)
    assert refused.value.type == "MeasurementNotReady", "the workflow measures it over longer"
    assert refused.value.non_retryable, "the same window would say the same"
    view = activities.ledger.get_proposal(change.proposal_id)
    assert view is not None and view.realized_amount is None
