"""Safety rules at the activity level, on a real simulator, MES and ledger: rate limits under a
burst, the kill switch making agents read-only, a failed audit write blocking execution, and
autonomy taken away after an adverse outcome or repeated rejections."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from temporalio.exceptions import ApplicationError

from connectors.opcua.connector import OpcUaConnector
from connectors.simulator.config import SimulatorConfig
from connectors.simulator.server import PlantSimulator
from factory_agents.agent import (
    AgentInput,
    AgentOutput,
    DataNeeds,
    Proposal,
    RealizedSaving,
    SetpointChange,
    VerificationWindow,
)
from factory_agents.ledger import Ledger
from factory_agents.ledger.views import AutonomyLevel
from factory_agents.policy import Policy, RateLimits, SetpointLimit
from factory_agents.registry import build_agents
from factory_agents.settings import Settings
from factory_agents.site import FILL_SETPOINT, default_agent_configs
from tests.conftest import free_port
from tests.factories import build_proposal, signature
from workflows.activities import PlantActivities
from workflows.admission import Admission, Withheld
from workflows.contracts import ExecuteInput, ProposalTicket, RecordDecisionInput, RunAgentInput

LIMIT = SetpointLimit(
    node_id=FILL_SETPOINT, unit="g", minimum=490, maximum=510, max_step=4, risk="low"
)
POLICY = Policy(
    setpoints=(LIMIT,),
    rate_limits=RateLimits(proposals_per_agent_per_hour=10, actions_per_subject_per_hour=2),
)


@pytest.fixture
async def activities(tmp_path: Path) -> AsyncIterator[PlantActivities]:
    """Activities on a live simulator, its MES and a SQLite ledger, under POLICY."""
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/factory-agents/"
    settings = Settings(home=tmp_path, opcua_endpoint=endpoint)
    config = SimulatorConfig(endpoint=endpoint, speed=20, seed=1, mes_url=settings.mes_url)
    async with PlantSimulator(config):
        with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
            made = PlantActivities(settings, ledger, build_agents(default_agent_configs()), POLICY)
            yield made
            made.close()


def proposal(number: int, *, to_value: float = 499.0, from_value: float = 500.0) -> Proposal:
    """A fill-setpoint proposal of the spc_drift agent with its own subject number."""
    pid = f"p-{number}-{uuid.uuid4().hex[:6]}"
    node = FILL_SETPOINT if number == 0 else f"{FILL_SETPOINT}.{number}"
    return build_proposal(
        pid,
        node_id=FILL_SETPOINT,
        created_at=datetime.now(UTC),
        action=SetpointChange(
            action_id=f"a-{pid}", node_id=node, from_value=from_value, to_value=to_value,
            unit="g",
        ),
    )  # fmt: skip


def recorded(activities: PlantActivities, made: Proposal) -> ExecuteInput:
    """Record the proposal; the execute activity's input for it."""
    activities.ledger.record_proposal(
        made, run_id=None, expires_at=datetime.now(UTC) + timedelta(hours=1)
    )
    return ExecuteInput(proposal_id=made.proposal_id, action=made.action)


async def live_setpoint(activities: PlantActivities) -> float:
    """The fill-weight setpoint the simulator reports now."""
    async with OpcUaConnector(activities.settings.opcua_endpoint) as plant:
        (sample,) = await plant.read([FILL_SETPOINT])
    return sample.value


def test_a_burst_of_100_proposals_admits_only_the_hourly_limit(tmp_path: Path) -> None:
    many = Policy(
        setpoints=tuple(
            LIMIT.model_copy(update={"node_id": f"{FILL_SETPOINT}.{n}"}) for n in range(1, 101)
        ),
        rate_limits=RateLimits(proposals_per_agent_per_hour=10),
    )
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        admission = Admission(Settings(home=tmp_path), ledger, many)
        now = datetime.now(UTC)
        results = [admission.admit(proposal(n), "run-1", now) for n in range(1, 101)]
        admitted = [r for r in results if isinstance(r, ProposalTicket)]
        withheld = [r for r in results if isinstance(r, Withheld)]
        assert len(admitted) == 10
        assert {w.reason for w in withheld} == {"rate_limited"} and len(withheld) == 90
        assert "made 10 proposals in the last hour" in withheld[0].message
        assert len(ledger.list_proposals()) == 10, "nothing withheld reaches the queue"


def test_a_stopped_platform_makes_agents_read_only(tmp_path: Path) -> None:
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        ledger.set_control("stopped", actor="bob", reason="valve inspection")
        result = Admission(Settings(home=tmp_path), ledger, POLICY).admit(
            proposal(0), "run-1", datetime.now(UTC)
        )
        assert isinstance(result, Withheld) and result.reason == "platform_stopped"
        assert "stopped by bob (valve inspection)" in result.message
        assert ledger.list_proposals() == []


def test_the_ticket_carries_area_approvers_and_autonomy(tmp_path: Path) -> None:
    high = Policy(setpoints=(LIMIT.model_copy(update={"risk": "high"}),))
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        ledger.set_autonomy("spc_drift", AutonomyLevel.SHADOW, actor="mona", reason="new agent")
        ticket = Admission(Settings(home=tmp_path), ledger, high).admit(
            proposal(0), "run-1", datetime.now(UTC)
        )
        assert isinstance(ticket, ProposalTicket)
        assert (ticket.area, ticket.requested_by, ticket.approvers) == (
            "site1/line-1",
            "spc_drift",
            2,
        )
        assert ticket.autonomy == AutonomyLevel.SHADOW and not ticket.may_run_autonomously
        view = ledger.get_proposal(ticket.proposal_id)
        assert view is not None and view.status == "shadowed"


def test_a_retried_run_gets_its_ticket_again_and_another_run_does_not(tmp_path: Path) -> None:
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        admission = Admission(Settings(home=tmp_path), ledger, POLICY)
        made, now = proposal(0), datetime.now(UTC)
        first = admission.admit(made, "run-1", now)
        retried = admission.admit(made, "run-1", now)
        other = admission.admit(made, "run-2", now)
        assert isinstance(first, ProposalTicket) and retried == first, "else it has no workflow"
        assert isinstance(other, Withheld) and other.reason == "already_proposed"
        assert len(ledger.list_proposals()) == 1


class ScriptedAgent:
    """Returns the next of its proposals on each analysis, as a drift agent would with data one
    sample newer: another id, the same subject."""

    def __init__(self, proposals: list[Proposal]) -> None:
        self.spec = build_agents(default_agent_configs())["spc_drift"].spec
        self._proposals = proposals

    def needs(self) -> DataNeeds:
        """Nothing to read."""
        return DataNeeds()

    def analyze(self, data: AgentInput) -> AgentOutput:
        """The next proposal."""
        return AgentOutput(agent="spc_drift", proposals=[self._proposals.pop(0)])

    def measure(self, proposal: Proposal, window: VerificationWindow) -> RealizedSaving:
        """Never called: these runs' proposals are not executed."""
        raise AssertionError(f"{proposal.proposal_id} was not to be measured")


async def test_a_run_retried_after_recording_keeps_its_proposal_though_the_retry_sees_another(
    activities: PlantActivities,
) -> None:
    """A worker killed between recording the proposal and finishing the run: the retry's fresher
    data yields another proposal on the same subject, but the recorded one gets the ticket (and so
    its workflow); nothing is left pending without one."""
    first, fresher, other_run = proposal(0), proposal(0), proposal(0)
    activities.agents["spc_drift"] = ScriptedAgent([first, fresher, other_run])
    attempt = RunAgentInput(agent="spc_drift", run_id="run-1")
    recorded_first = await activities.run_agent(attempt)
    retried = await activities.run_agent(attempt)
    assert [t.proposal_id for t in recorded_first.tickets] == [first.proposal_id]
    assert retried.tickets == recorded_first.tickets
    later = await activities.run_agent(RunAgentInput(agent="spc_drift", run_id="run-2"))
    assert later.tickets == [] and later.skipped == {"open_proposal_on_subject": 1}
    assert [v.id for v in activities.ledger.list_proposals()] == [first.proposal_id]


async def test_more_changes_to_a_subject_than_the_hourly_limit_are_refused(
    activities: PlantActivities,
) -> None:
    await activities.execute_action(recorded(activities, proposal(0, to_value=499.0)))
    await activities.execute_action(
        recorded(activities, proposal(0, from_value=499.0, to_value=498.0))
    )
    third = recorded(activities, proposal(0, from_value=498.0, to_value=497.0))
    with pytest.raises(ApplicationError, match="already changed 2 times in the last hour"):
        await activities.execute_action(third)
    assert await live_setpoint(activities) == 498.0


async def test_a_failed_audit_write_blocks_the_execution(activities: PlantActivities) -> None:
    """The platform fails closed: no audit event for the start, no write to the plant."""
    with activities.ledger.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TRIGGER refuse_action_audit BEFORE INSERT ON audit_events"
                " WHEN NEW.action = 'action.started'"
                " BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        )
    execute = recorded(activities, proposal(0))
    with pytest.raises(Exception, match="disk full"):
        await activities.execute_action(execute)
    assert await live_setpoint(activities) == 500.0
    assert activities.ledger.get_action(execute.action.action_id) is None


async def test_autonomy_is_revoked_after_an_adverse_outcome(activities: PlantActivities) -> None:
    ledger = activities.ledger
    ledger.set_autonomy("spc_drift", AutonomyLevel.AUTONOMOUS, actor="mona", reason="earned")
    made = proposal(0, from_value=501.0, to_value=500.5)
    changed_premise = recorded(activities, made)
    automatic = signature(made, "approve", "autonomy:spc_drift", at=datetime.now(UTC))
    ledger.record_decision(made.proposal_id, automatic.model_copy(update={"method": "automatic"}))
    with pytest.raises(ApplicationError, match="premise changed"):
        await activities.execute_action(changed_premise)
    assert ledger.autonomy("spc_drift") == AutonomyLevel.ASSISTED
    (change,) = [e for e in ledger.audit_events("spc_drift") if e.action == "agent.autonomy"][:1]
    assert change.actor == "factory-agents"
    assert "adverse outcome" in change.details["reason"]


async def test_autonomy_is_revoked_after_three_rejections_in_a_row(
    activities: PlantActivities,
) -> None:
    ledger = activities.ledger
    ledger.set_autonomy("spc_drift", AutonomyLevel.AUTONOMOUS, actor="mona", reason="earned")
    for number in (1, 2, 3):
        made = proposal(number)
        recorded(activities, made)
        await activities.record_decision(
            RecordDecisionInput(
                proposal_id=made.proposal_id,
                signature=signature(made, "reject", "bob", at=datetime.now(UTC)),
            )
        )
        expected = AutonomyLevel.ASSISTED if number == 3 else AutonomyLevel.AUTONOMOUS
        assert ledger.autonomy("spc_drift") == expected
    record = ledger.track_record("spc_drift")
    assert (record.decisions, record.rejected, record.consecutive_rejections) == (3, 3, 3)
