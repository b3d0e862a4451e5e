"""A saving not measurable yet (too few samples, QA not back, orders not finished) is measured
again over a longer window, at most MAX_EXTENSIONS times; other measurement errors are final."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from factory_agents.agent import PlantReading, SetpointChange
from factory_agents.ledger.views import AutonomyLevel, ProposalStatus
from factory_agents.policy import Policy
from tests.e2e.helpers import keep_history
from workflows.contracts import (
    CountersInput,
    ExecuteInput,
    ExecuteResult,
    GateResult,
    MeasureInput,
    MeasureResult,
    NotifyInput,
    ProposalInput,
    ProposalResult,
    ProposalTicket,
    RecordDecisionInput,
    StatusInput,
)
from workflows.proposal import MAX_EXTENSIONS, ProposalWorkflow

WINDOW_SECONDS = 0.3


class Plant:
    """Stand-ins for the plant activities: the saving is measurable once `ready_after`
    measurements have been refused; every measured window and status is kept."""

    def __init__(self, ready_after: int, error_type: str = "MeasurementNotReady") -> None:
        self.ready_after = ready_after
        self.error_type = error_type
        self.windows: list[tuple[datetime, datetime]] = []
        self.statuses: list[StatusInput] = []

    @activity.defn(name="record_decision")
    async def record_decision(self, _inp: RecordDecisionInput) -> bool:
        """The platform's automatic approval completes the decision."""
        return True

    @activity.defn(name="execution_gate")
    async def execution_gate(self) -> GateResult:
        """The kill switch is off."""
        return GateResult(running=True)

    @activity.defn(name="notify")
    async def notify(self, _inp: NotifyInput) -> None:
        """Nobody is told."""

    @activity.defn(name="execute_action")
    async def execute_action(self, _inp: ExecuteInput) -> ExecuteResult:
        """The setpoint reads back as written."""
        return ExecuteResult(read_back=499.5, already_applied=False, summary="wrote 499.5 g")

    @activity.defn(name="read_counters")
    async def read_counters(self, _inp: CountersInput) -> PlantReading:
        """The good counter, read now."""
        return PlantReading(values={"good": 0.0}, at=datetime.now(UTC))

    @activity.defn(name="measure_saving")
    async def measure_saving(self, inp: MeasureInput) -> MeasureResult:
        """Refuse the first `ready_after` windows as the platform refuses them, then measure."""
        self.windows.append((inp.before.at, inp.after.at))
        if len(self.windows) <= self.ready_after:
            raise ApplicationError(
                f"only {len(self.windows)} of 3 windows' samples", type=self.error_type,
                non_retryable=True,
            )  # fmt: skip
        return MeasureResult(amount=Decimal("12.50"), currency="EUR", units=40)

    @activity.defn(name="set_status")
    async def set_status(self, inp: StatusInput) -> None:
        """Keep the status the workflow records."""
        self.statuses.append(inp)


async def shepherd(env: WorkflowEnvironment, plant: Plant, history: str = "") -> ProposalResult:
    """Run one autonomous proposal's workflow on `plant` to its end (its history kept as
    `history` when recording is asked for)."""
    queue = f"measure-{uuid.uuid4().hex[:8]}"
    pid = f"p-{uuid.uuid4().hex[:12]}"
    ticket = ProposalTicket(
        proposal_id=pid, agent="spc_drift", title="Lower fill setpoint", content_hash="ab" * 32,
        action=SetpointChange(
            action_id=f"a-{pid}", node_id="fill", from_value=500.0, to_value=499.5, unit="g"
        ),
        counters=("good",), estimated_amount=Decimal("10"), currency="EUR",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        autonomy=AutonomyLevel.AUTONOMOUS, may_run_autonomously=True,
    )  # fmt: skip
    activities = [
        plant.record_decision, plant.execution_gate, plant.notify, plant.execute_action,
        plant.read_counters, plant.measure_saving, plant.set_status,
    ]  # fmt: skip
    async with Worker(
        env.client, task_queue=queue, workflows=[ProposalWorkflow], activities=activities
    ):
        result = await env.client.execute_workflow(
            ProposalWorkflow.run,
            ProposalInput(ticket=ticket, policy=Policy(), verification_seconds=WINDOW_SECONDS),
            id=pid,
            task_queue=queue,
            result_type=ProposalResult,
        )
    if history:
        await keep_history(env.client, pid, history)
    return result


async def test_a_window_too_short_to_measure_is_extended_until_the_saving_is_measured(
    temporal_env: WorkflowEnvironment,
) -> None:
    plant = Plant(ready_after=MAX_EXTENSIONS)
    result = await shepherd(temporal_env, plant, history="proposal-measured-longer")
    assert result.status == ProposalStatus.VERIFIED and result.realized_amount == Decimal("12.50")
    assert len(plant.windows) == MAX_EXTENSIONS + 1
    starts = {start for start, _ in plant.windows}
    ends = [end for _, end in plant.windows]
    assert len(starts) == 1, "each longer window starts where the first did: when it acted"
    assert ends == sorted(ends) and len(set(ends)) == len(ends), "and ends later each time"
    spans = [(end - start).total_seconds() for start, end in plant.windows]
    assert spans[-1] >= (MAX_EXTENSIONS + 1) * WINDOW_SECONDS
    assert plant.statuses == [], "nothing unmeasured was recorded on the way"


async def test_measuring_longer_is_bounded_and_ends_unmeasured_with_the_reason(
    temporal_env: WorkflowEnvironment,
) -> None:
    plant = Plant(ready_after=MAX_EXTENSIONS + 5)
    result = await shepherd(temporal_env, plant, history="proposal-unmeasured")
    assert result.status == ProposalStatus.UNMEASURED
    assert len(plant.windows) == MAX_EXTENSIONS + 1
    (status,) = plant.statuses
    assert status.status == ProposalStatus.UNMEASURED
    assert status.detail == f"only {MAX_EXTENSIONS + 1} of 3 windows' samples"


async def test_data_too_bad_to_measure_is_not_measured_again(
    temporal_env: WorkflowEnvironment,
) -> None:
    plant = Plant(ready_after=1, error_type="DataQualityError")
    result = await shepherd(temporal_env, plant)
    assert result.status == ProposalStatus.UNMEASURED
    assert len(plant.windows) == 1, "a longer window would not make bad data good"
