"""ProposalWorkflow: one per proposal; takes signed decisions, executes, measures the saving.

Decisions arrive as the `sign` Update. Its validator refuses, with no effect, a signature that
does not verify, a role that may not decide, a user outside the proposal's area, the
requester approving their own request, a second signature by the same person, content that
changed since it was shown, a proposal no longer pending, or an approval outside the policy.
The ledger says when a decision is complete: high-risk actions need two different approvers.
An autonomous agent's low-risk, reversible actions are approved automatically; a shadow
agent's proposals are never executed. While the kill switch is on, an approved action waits
(suspended) and is executed after `resume`, its premise checked again at that moment.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from factory_agents.agent import PlantReading
    from factory_agents.errors import FactoryAgentsError, GuardrailViolation
    from factory_agents.identity import SignedDecision, authorize_decision, worker_key
    from factory_agents.ledger.views import AutonomyLevel, ProposalStatus, Signature
    from workflows.activities import PlantActivities
    from workflows.contracts import (
        CountersInput,
        Decision,
        DecisionOutcome,
        ExecuteInput,
        ExecuteResult,
        MeasureInput,
        NotifyInput,
        ProposalInput,
        ProposalResult,
        RecordDecisionInput,
        StatusInput,
    )

LEDGER_CALL = timedelta(seconds=30)
PLANT_CALL = timedelta(seconds=30)
RESUME_CHECK = timedelta(seconds=30)
"""While suspended, the kill switch is read again this often (a `resume` signal is faster)."""
NEVER_RETRY = [
    "GuardrailViolation",
    "WriteRejected",
    "WriteVerificationError",
    "ProposalNotPending",
    "ProposalError",
    "PlatformStopped",
]
RETRY = RetryPolicy(maximum_attempts=5, non_retryable_error_types=NEVER_RETRY)
NOTIFY_RETRY = RetryPolicy(maximum_attempts=3)
MAX_EXTENSIONS = 2
"""A saving not measurable yet is measured again over a window this many times longer, at most."""
MEASURE_LONGER = "measure-longer-when-not-ready"
"""Patch id: histories recorded before measurements were extended replay as they ran."""


@workflow.defn
class ProposalWorkflow:
    """Shepherds one proposal: signed decisions, execution, verification, realized saving."""

    @workflow.init
    def __init__(self, inp: ProposalInput) -> None:
        self._input = inp
        shadow = inp.ticket.autonomy == AutonomyLevel.SHADOW
        self._status: str = ProposalStatus.SHADOWED if shadow else ProposalStatus.PENDING
        self._approvals: list[SignedDecision] = []
        self._final: Signature | None = None
        self._outcome: DecisionOutcome | None = None
        self._resume = False

    @workflow.run
    async def run(self, inp: ProposalInput) -> ProposalResult:
        """Wait for a decision (or approve under autonomy), then act on it and measure."""
        ticket = inp.ticket
        await self._notify("proposed", f"estimated {ticket.estimated_amount} {ticket.currency}")
        if ticket.autonomy == AutonomyLevel.AUTONOMOUS and ticket.may_run_autonomously:
            refused = await self._approve_automatically()
            if refused is not None:
                return self._result("refused", refused)
        elif not await self._wait_for_decision(inp):
            return self._result(ProposalStatus.EXPIRED)
        final = self._final
        assert final is not None
        if final.decision == "reject":
            return self._finish(
                ProposalStatus.REJECTED, f"rejected by {final.user}; nothing was executed"
            )
        if ticket.autonomy == AutonomyLevel.SHADOW:
            return self._finish(
                ProposalStatus.SHADOWED,
                f"recorded that {final.user} would approve; the agent is in shadow mode, so"
                " nothing was executed",
            )
        executed = await self._execute(inp)
        if executed is None:
            return self._result(ProposalStatus.FAILED)
        window = self._verification_time(inp)
        self._finish(
            ProposalStatus.EXECUTED,
            f"executed: {executed.summary}; measuring the saving for {window.total_seconds():g} s",
        )
        try:
            return await self._verify(inp, window)
        except ActivityError as err:
            workflow.logger.warning(
                "saving of %s not measured: %s", ticket.proposal_id, _cause(err)
            )
            await self._set_status(ProposalStatus.UNMEASURED, _cause(err))
            return self._result(ProposalStatus.UNMEASURED)

    async def _wait_for_decision(self, inp: ProposalInput) -> bool:
        """Wait until a decision completes; escalate once if nobody decides; False if expired."""
        escalate_at: datetime | None = None
        if inp.escalate_after_seconds is not None:
            escalate_at = workflow.info().start_time + timedelta(seconds=inp.escalate_after_seconds)
        while self._final is None:
            deadline = self._input.ticket.expires_at
            if escalate_at is not None and escalate_at < deadline:
                deadline = escalate_at
            wait = max(deadline - workflow.now(), timedelta(seconds=1))
            try:
                await workflow.wait_condition(lambda: self._final is not None, timeout=wait)
            except TimeoutError:
                if escalate_at is not None and workflow.now() >= escalate_at:
                    escalate_at = None
                    await self._notify("escalated", "no decision yet; escalated to the next role")
                    continue
                if self._time_left() <= timedelta(0):
                    self._status = ProposalStatus.EXPIRED
                    detail = f"no decision before {self._input.ticket.expires_at:%F %T} UTC"
                    await self._set_status(ProposalStatus.EXPIRED, detail)
                    await self._notify("expired", detail)
                    return False
        return True

    async def _approve_automatically(self) -> str | None:
        """Record the platform's approval under the agent's earned autonomy; why not, if refused."""
        ticket = self._input.ticket
        signature = Signature(
            decision="approve",
            user=f"autonomy:{ticket.agent}",
            reason="low-risk, reversible action; the agent has earned autonomy",
            proposal_hash=ticket.content_hash,
            decided_at=workflow.now(),
            method="automatic",
        )
        try:
            await self._record(signature)
        except ActivityError as err:
            return f"not approved automatically, nothing executed: {_cause(err)}"
        self._final = signature
        return None

    async def _execute(self, inp: ProposalInput) -> ExecuteResult | None:
        """Execute once the kill switch allows it; None (and status failed) if it is refused."""
        ticket = inp.ticket
        while True:
            gate = await workflow.execute_activity_method(
                PlantActivities.execution_gate,
                start_to_close_timeout=LEDGER_CALL,
                retry_policy=RETRY,
            )
            if not gate.running:
                await self._suspend(gate.reason)
                continue
            try:
                return await workflow.execute_activity_method(
                    PlantActivities.execute_action,
                    ExecuteInput(proposal_id=ticket.proposal_id, action=ticket.action),
                    start_to_close_timeout=PLANT_CALL,
                    retry_policy=RETRY,
                )
            except ActivityError as err:
                if _cause_type(err) == "PlatformStopped":
                    await self._suspend(_cause(err))
                    continue
                self._finish(ProposalStatus.FAILED, f"not executed: {_cause(err)}")
                await self._notify("failed", _cause(err))
                return None

    async def _suspend(self, reason: str) -> None:
        """Wait while the kill switch is on: until `resume` is signalled, or the next check."""
        if self._status != ProposalStatus.SUSPENDED:
            if self._outcome is None:  # the approver hears now, not when someone resumes
                self._finish(
                    ProposalStatus.SUSPENDED,
                    f"approved, and held by the kill switch ({reason}); it executes after"
                    " `factory-agents resume`, once its premise is checked again",
                )
            self._status = ProposalStatus.SUSPENDED
            await self._set_status(ProposalStatus.SUSPENDED, f"waiting for resume: {reason}")
        self._resume = False
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._resume, timeout=RESUME_CHECK)

    def _verification_time(self, inp: ProposalInput) -> timedelta:
        """The platform's verification time, longer if the proposal must be measured until later."""
        window = timedelta(seconds=inp.verification_seconds)
        if inp.ticket.measure_until is None:
            return window
        return max(window, inp.ticket.measure_until - workflow.now())

    async def _verify(self, inp: ProposalInput, window: timedelta) -> ProposalResult:
        """Read the counters across the verification window and record the realized saving; if
        the window held too little to measure yet, measure over a longer one (bounded)."""
        before = await self._read_counters(inp)
        await workflow.sleep(window)
        longer = timedelta(seconds=inp.verification_seconds)
        for extension in range(MAX_EXTENSIONS + 1):
            after = await self._read_counters(inp)
            try:
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
                break
            except ActivityError as err:
                if not self._measure_longer(err, extension):
                    raise
                workflow.logger.info(
                    "saving of %s not measurable yet (%s); measuring %g s longer (%d of %d)",
                    inp.ticket.proposal_id,
                    _cause(err),
                    longer.total_seconds(),
                    extension + 1,
                    MAX_EXTENSIONS,
                )
            await workflow.sleep(longer)
        self._status = ProposalStatus.VERIFIED
        return ProposalResult(
            proposal_id=inp.ticket.proposal_id,
            status=ProposalStatus.VERIFIED,
            realized_amount=measured.amount,
        )

    @staticmethod
    def _measure_longer(err: ActivityError, extension: int) -> bool:
        """Whether a failed measurement is tried again over a longer window."""
        return (
            _cause_type(err) == "MeasurementNotReady"
            and extension < MAX_EXTENSIONS
            and workflow.patched(MEASURE_LONGER)
        )

    async def _read_counters(self, inp: ProposalInput) -> PlantReading:
        """The proposal's counters, read now."""
        return await workflow.execute_activity_method(
            PlantActivities.read_counters,
            CountersInput(tags=inp.ticket.counters),
            start_to_close_timeout=PLANT_CALL,
            retry_policy=RETRY,
        )

    @workflow.update
    async def sign(self, decision: SignedDecision) -> DecisionOutcome:
        """Take one signed decision; returns once the proposal has been acted on (or waits)."""
        if self._final is not None:  # accepted together with the deciding one: that one won
            raise ApplicationError(self._already_decided(), type="ProposalNotPending")
        if decision.meaning == "approve":
            self._approvals.append(decision)
        signature = _signature(decision, workflow.now())
        try:
            complete = await self._record(signature)
        except ActivityError as err:
            if decision in self._approvals:
                self._approvals.remove(decision)
            raise ApplicationError(_cause(err), type=_cause_type(err) or "ProposalError") from err
        if not complete:
            needed = self._input.ticket.approvers - len(self._approvals)
            return DecisionOutcome(
                proposal_id=self._input.ticket.proposal_id,
                decision=decision.meaning,
                status=self._status,
                message=f"approved by {decision.user_id}; waiting for {needed} more approver(s)"
                " before anything is executed",
            )
        self._final = signature
        await workflow.wait_condition(lambda: self._outcome is not None)
        assert self._outcome is not None
        return self._outcome

    @sign.validator
    def _validate_signature(self, decision: SignedDecision) -> None:
        """Refuse, with no effect, a decision this proposal cannot take from this signer."""
        ticket = self._input.ticket
        if self._final is not None:
            raise ValueError(self._already_decided())
        if self._status not in (ProposalStatus.PENDING, ProposalStatus.SHADOWED):
            raise ValueError(f"it is {self._status}, no longer pending; nothing was done")
        if self._time_left() <= timedelta(0):
            raise ValueError("it has expired, no longer pending; nothing was done")
        try:
            authorize_decision(
                decision,
                key=worker_key(),
                now=workflow.now(),
                proposal_id=ticket.proposal_id,
                content_hash=ticket.content_hash,
                proposal_area=ticket.area,
                requested_by=ticket.requested_by,
                approvals=self._approvals,
                required=ticket.approvers,
            )
        except FactoryAgentsError as err:
            raise ValueError(str(err)) from err
        if decision.meaning == "approve":
            try:
                self._input.policy.check_action(ticket.action)
            except GuardrailViolation as err:
                raise ValueError(f"cannot approve: {err}") from err

    @workflow.update
    async def decide(self, decision: Decision) -> DecisionOutcome:
        """Unsigned decisions are no longer taken (kept so histories from before still replay)."""
        raise ApplicationError(_UNSIGNED, type="AuthenticationError")

    @decide.validator
    def _refuse_unsigned(self, decision: Decision) -> None:
        """Refuse every unsigned decision."""
        raise ValueError(_UNSIGNED)

    @workflow.signal
    def resume(self) -> None:
        """The kill switch was turned off: check it again now."""
        self._resume = True

    @workflow.query
    def status(self) -> str:
        """Where it stands: pending, shadowed, rejected, suspended, executed, verified, ..."""
        return self._status

    def _already_decided(self) -> str:
        """Why another decision is refused."""
        assert self._final is not None
        final = self._final
        verb = "approved" if final.decision == "approve" else "rejected"
        return f"already {verb} by {final.user}; nothing was done twice"

    def _time_left(self) -> timedelta:
        """Time until the proposal expires (negative once expired)."""
        return self._input.ticket.expires_at - workflow.now()

    def _finish(self, status: str, message: str) -> ProposalResult:
        """Set the outcome the deciding caller is waiting for."""
        assert self._final is not None
        self._status = status
        self._outcome = DecisionOutcome(
            proposal_id=self._input.ticket.proposal_id,
            decision=self._final.decision,
            status=status,
            message=message,
        )
        return self._result(status)

    def _result(self, status: str, detail: str = "") -> ProposalResult:
        """How the workflow ended."""
        if detail:
            workflow.logger.info("proposal %s: %s", self._input.ticket.proposal_id, detail)
        return ProposalResult(proposal_id=self._input.ticket.proposal_id, status=status)

    async def _record(self, signature: Signature) -> bool:
        """Write one signature to the ledger; True when it completes the decision."""
        return await workflow.execute_activity_method(
            PlantActivities.record_decision,
            RecordDecisionInput(
                proposal_id=self._input.ticket.proposal_id,
                signature=signature,
                approvers=self._input.ticket.approvers,
            ),
            start_to_close_timeout=LEDGER_CALL,
            retry_policy=RETRY,
        )

    async def _set_status(self, status: str, detail: str) -> None:
        await workflow.execute_activity_method(
            PlantActivities.set_status,
            StatusInput(proposal_id=self._input.ticket.proposal_id, status=status, detail=detail),
            start_to_close_timeout=LEDGER_CALL,
            retry_policy=RETRY,
        )

    async def _notify(self, event: str, detail: str) -> None:
        """Tell the notifier; a notification that cannot be sent never stops the proposal."""
        ticket = self._input.ticket
        try:
            await workflow.execute_activity_method(
                PlantActivities.notify,
                NotifyInput.model_validate(
                    {
                        "event": event,
                        "proposal_id": ticket.proposal_id,
                        "agent": ticket.agent,
                        "title": ticket.title,
                        "detail": detail,
                    }
                ),
                start_to_close_timeout=LEDGER_CALL,
                retry_policy=NOTIFY_RETRY,
            )
        except ActivityError as err:
            workflow.logger.warning("could not notify %s: %s", event, _cause(err))


_UNSIGNED = (
    "decisions must be signed: use `factory-agents approvals approve ID --user YOU` (it asks"
    " for your password) or the board; nothing was done"
)


def _signature(decision: SignedDecision, decided_at: datetime) -> Signature:
    """The ledger's record of a signed decision."""
    return Signature(
        decision=decision.meaning,
        user=decision.user_id,
        reason=decision.reason,
        proposal_hash=decision.proposal_hash,
        decided_at=decided_at,
        full_name=decision.full_name,
        role=decision.role,
        areas=decision.areas,
        signed_at=decision.signed_at,
        signature=decision.signature,
        key_id=decision.key_id,
        method="signed",
    )


def _cause(err: ActivityError) -> str:
    """The message of what made an activity fail, without its type prefix."""
    cause = err.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause or err)


def _cause_type(err: ActivityError) -> str | None:
    """The error type an activity failed with, e.g. GuardrailViolation."""
    cause = err.cause
    return cause.type if isinstance(cause, ApplicationError) else None
