"""ProposalWorkflow: one per proposal; waits for a decision, executes, then measures the saving."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from factory_agents.errors import GuardrailViolation
    from workflows.activities import PlantActivities
    from workflows.contracts import (
        CountersInput,
        Decision,
        DecisionOutcome,
        ExecuteInput,
        MeasureInput,
        ProposalInput,
        ProposalResult,
        RecordDecisionInput,
        StatusInput,
    )

LEDGER_CALL = timedelta(seconds=30)
PLANT_CALL = timedelta(seconds=30)
NEVER_RETRY = [
    "GuardrailViolation",
    "WriteRejected",
    "WriteVerificationError",
    "ProposalNotPending",
]
RETRY = RetryPolicy(maximum_attempts=5, non_retryable_error_types=NEVER_RETRY)


@workflow.defn
class ProposalWorkflow:
    """Shepherds one proposal: decision (Update), execution, verification, realized saving."""

    @workflow.init
    def __init__(self, inp: ProposalInput) -> None:
        self._input = inp
        self._status = "pending"
        self._decision: Decision | None = None
        self._decided_at: datetime | None = None
        self._outcome: DecisionOutcome | None = None

    @workflow.run
    async def run(self, inp: ProposalInput) -> ProposalResult:
        """Wait for the decision until expiry, then act on it."""
        ticket = inp.ticket
        try:
            await workflow.wait_condition(
                lambda: self._decision is not None,
                timeout=max(self._time_left(), timedelta(seconds=1)),
            )
        except TimeoutError:
            self._status = "expired"
            await self._set_status("expired", f"no decision before {ticket.expires_at:%F %T} UTC")
            return ProposalResult(proposal_id=ticket.proposal_id, status="expired")
        decision, decided_at = self._decision, self._decided_at
        assert decision is not None and decided_at is not None
        try:
            await workflow.execute_activity_method(
                PlantActivities.record_decision,
                RecordDecisionInput(
                    proposal_id=ticket.proposal_id, decision=decision, decided_at=decided_at
                ),
                start_to_close_timeout=LEDGER_CALL,
                retry_policy=RETRY,
            )
        except ActivityError as err:
            return self._finish(
                "refused", f"decision not recorded, nothing executed: {_cause(err)}"
            )
        if decision.decision == "reject":
            return self._finish("rejected", f"rejected by {decision.user}; nothing was executed")
        try:
            executed = await workflow.execute_activity_method(
                PlantActivities.execute_action,
                ExecuteInput(proposal_id=ticket.proposal_id, action=ticket.action),
                start_to_close_timeout=PLANT_CALL,
                retry_policy=RETRY,
            )
        except ActivityError as err:
            await self._set_status("failed", _cause(err))
            return self._finish("failed", f"not executed: {_cause(err)}")
        action = ticket.action
        self._finish(
            "executed",
            f"executed: {action.node_id} {action.from_value:g} → {action.to_value:g}"
            f" {action.unit}, read back {executed.read_back:g}; measuring the saving for"
            f" {inp.verification_seconds:g} s",
        )
        try:
            return await self._verify(inp)
        except ActivityError as err:
            workflow.logger.warning(
                "saving of %s not measured: %s", ticket.proposal_id, _cause(err)
            )
            self._status = "unmeasured"
            return ProposalResult(proposal_id=ticket.proposal_id, status="unmeasured")

    async def _verify(self, inp: ProposalInput) -> ProposalResult:
        """Count good and scrap over the verification window and record the realized saving."""
        counters = CountersInput(good=inp.ticket.counters[0], scrap=inp.ticket.counters[1])
        before = await workflow.execute_activity_method(
            PlantActivities.read_counters,
            counters,
            start_to_close_timeout=PLANT_CALL,
            retry_policy=RETRY,
        )
        await workflow.sleep(timedelta(seconds=inp.verification_seconds))
        after = await workflow.execute_activity_method(
            PlantActivities.read_counters,
            counters,
            start_to_close_timeout=PLANT_CALL,
            retry_policy=RETRY,
        )
        measured = await workflow.execute_activity_method(
            PlantActivities.measure_saving,
            MeasureInput(
                proposal_id=inp.ticket.proposal_id,
                agent=inp.ticket.agent,
                before=before,
                after=after,
            ),
            start_to_close_timeout=LEDGER_CALL,
            retry_policy=RETRY,
        )
        self._status = "verified"
        return ProposalResult(
            proposal_id=inp.ticket.proposal_id, status="verified", realized_amount=measured.amount
        )

    @workflow.update
    async def decide(self, decision: Decision) -> DecisionOutcome:
        """Take an engineer's decision; returns once it has been acted on."""
        if self._decision is not None:  # two updates accepted in one activation: first one wins
            raise ApplicationError(self._already_decided(), type="ProposalNotPending")
        self._decision, self._decided_at = decision, workflow.now()
        await workflow.wait_condition(lambda: self._outcome is not None)
        assert self._outcome is not None
        return self._outcome

    @decide.validator
    def _validate_decision(self, decision: Decision) -> None:
        """Refuse, with no effect, a decision this proposal cannot take."""
        ticket = self._input.ticket
        if self._decision is not None:
            raise ValueError(self._already_decided())
        if self._status != "pending" or self._time_left() <= timedelta(0):
            status = "expired" if self._status == "pending" else self._status
            raise ValueError(f"it is {status}, no longer pending; nothing was done")
        if not decision.reason.strip():
            raise ValueError("a decision needs a reason; say why in --reason")
        if not decision.user.strip():
            raise ValueError("a decision needs the deciding user's name")
        if decision.proposal_hash and decision.proposal_hash != ticket.content_hash:
            raise ValueError(
                "the proposal you saw is not the one recorded (content hash differs);"
                " reload it and decide again"
            )
        if decision.decision == "approve":
            action = ticket.action
            try:
                self._input.policy.check(action.node_id, action.from_value, action.to_value)
            except GuardrailViolation as err:
                raise ValueError(f"cannot approve: {err}") from err

    @workflow.query
    def status(self) -> str:
        """Where it stands: pending, rejected, executed, failed, expired, verified, unmeasured."""
        return self._status

    def _already_decided(self) -> str:
        """Why a second decision is refused."""
        assert self._decision is not None
        d = self._decision
        return f"already {d.decision}d by {d.user}; it takes one decision, nothing was done twice"

    def _time_left(self) -> timedelta:
        """Time until the proposal expires (negative once expired)."""
        return self._input.ticket.expires_at - workflow.now()

    def _finish(self, status: str, message: str) -> ProposalResult:
        """Set the outcome the decision's caller is waiting for."""
        assert self._decision is not None
        self._status = status
        self._outcome = DecisionOutcome(
            proposal_id=self._input.ticket.proposal_id,
            decision=self._decision.decision,
            status=status,
            message=message,
        )
        return ProposalResult(proposal_id=self._input.ticket.proposal_id, status=status)

    async def _set_status(self, status: str, detail: str) -> None:
        await workflow.execute_activity_method(
            PlantActivities.set_status,
            StatusInput(proposal_id=self._input.ticket.proposal_id, status=status, detail=detail),
            start_to_close_timeout=LEDGER_CALL,
            retry_policy=RETRY,
        )


def _cause(err: ActivityError) -> str:
    """The message of what made an activity fail, without its type prefix."""
    cause = err.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause or err)
