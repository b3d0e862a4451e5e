"""The platform's I/O as Temporal activities: plant connectors, agents and the ledger."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from connectors.base import MesSource, TagSource
from connectors.mes import SqlMes
from connectors.opcua.connector import OpcUaConnector
from connectors.opcua.security import LOCAL_SIMULATOR, OpcUaSecurity
from factory_agents.agent import (
    Agent,
    AgentInput,
    DataNeeds,
    PlantReading,
    SetpointChange,
    VerificationWindow,
)
from factory_agents.autonomy import AutonomyRules
from factory_agents.errors import (
    DataQualityError,
    GuardrailViolation,
    MeasurementNotReady,
    PlatformStopped,
    ProposalError,
    ProposalNotPending,
    WriteRejected,
    WriteVerificationError,
)
from factory_agents.isa95 import MesData
from factory_agents.ledger.repository import Ledger
from factory_agents.ledger.views import AutonomyLevel
from factory_agents.ledger.writes import SYSTEM_ACTOR
from factory_agents.notify import Notification, notifier_for
from factory_agents.plant import Quality
from factory_agents.policy import Policy
from factory_agents.settings import Settings
from workflows import executors
from workflows.admission import HOUR, Admission
from workflows.contracts import (
    AgentRunResult,
    CountersInput,
    ExecuteInput,
    ExecuteResult,
    GateResult,
    MeasureInput,
    MeasureResult,
    NotifyInput,
    RecordDecisionInput,
    RunAgentInput,
    StatusInput,
)
from workflows.metrics import PLATFORM

FINAL_ERRORS = (GuardrailViolation, WriteRejected, WriteVerificationError, ProposalNotPending)
log = activity.logger
"""Logs with the activity's ids (workflow, run, attempt); calls add the proposal id."""


def _ids(proposal_id: str, **more: str) -> dict[str, str]:
    """The `extra` of a log line about a proposal."""
    return {"proposal_id": proposal_id, **more}


def _final(err: Exception) -> ApplicationError:
    """An error Temporal must not retry, typed by its class name."""
    return ApplicationError(str(err), type=type(err).__name__, non_retryable=True)


async def read_agent_input(
    source: TagSource, mes: MesSource, needs: DataNeeds, now: datetime
) -> AgentInput:
    """Read what an agent needs: current values in one batch, each history series, MES records."""
    current = await source.read(list(needs.current)) if needs.current else []
    start = now - timedelta(seconds=needs.lookback_seconds)
    history = {tag: await source.history(tag, start, now) for tag in needs.history}
    records = MesData()
    if needs.mes:
        since = now - timedelta(hours=needs.mes_lookback_hours)
        records = await mes.fetch(needs.mes, since, now)
    return AgentInput(now=now, current={s.tag: s for s in current}, history=history, mes=records)


class PlantActivities:
    """Holds the connectors' settings, the agents and the ledger; its methods are activities."""

    def __init__(
        self, settings: Settings, ledger: Ledger, agents: Mapping[str, Agent], policy: Policy
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.agents = dict(agents)
        self.policy = policy
        self.mes = SqlMes(settings.mes_url)
        self.admission = Admission(settings, ledger, policy)
        fields = settings.opcua_security_fields()
        self.opcua_security = OpcUaSecurity.build(**fields) if fields else LOCAL_SIMULATOR
        self.notifier = notifier_for(settings.webhook_url, settings.webhook_secret)
        self.autonomy_rules = AutonomyRules()

    def close(self) -> None:
        """Close the MES connection pool."""
        self.mes.close()

    def _plant(self) -> OpcUaConnector:
        return OpcUaConnector(
            self.settings.opcua_endpoint, policy=self.policy, security=self.opcua_security
        )

    @activity.defn(name="run_agent")
    async def run_agent(self, inp: RunAgentInput) -> AgentRunResult:
        """Read the plant, let the agent judge, record the run and its new proposals."""
        agent = self.agents.get(inp.agent)
        if agent is None:
            raise ApplicationError(
                f"agent {inp.agent!r} is not configured; known: {sorted(self.agents)}",
                non_retryable=True,
            )
        started = datetime.now(UTC)
        async with self._plant() as plant:
            data = await read_agent_input(plant, self.mes, agent.needs(), started)
        output = agent.analyze(data)
        skipped: Counter[str] = Counter(output.skipped)
        findings = [f.message for f in output.findings]
        run = await asyncio.to_thread(self.admission.admit_run, output.proposals, inp.run_id)
        for proposal, withheld in run.withheld:
            skipped[withheld.reason] += 1
            findings.append(withheld.message)
            PLATFORM.withheld(proposal.agent, withheld.reason)
            log.info("%s", withheld.message, extra=_ids(proposal.proposal_id, agent=proposal.agent))
        for ticket in run.admitted:
            PLATFORM.admitted(ticket.agent)
            log.info("proposal admitted", extra=_ids(ticket.proposal_id, agent=ticket.agent))
        tickets = run.tickets
        await asyncio.to_thread(
            self.ledger.record_run,
            run_id=inp.run_id,
            agent=inp.agent,
            started_at=started,
            finished_at=datetime.now(UTC),
            status="proposed" if tickets else "ok",
            findings=len(findings),
            proposals=len(tickets),
            skipped=dict(skipped),
            message="; ".join(findings),
        )
        return AgentRunResult(
            run_id=inp.run_id, tickets=tickets, skipped=dict(skipped), findings=findings
        )

    @activity.defn(name="record_decision")
    async def record_decision(self, inp: RecordDecisionInput) -> bool:
        """Write one signature to the ledger (idempotent); True once the decision is complete."""
        try:
            complete = await asyncio.to_thread(
                self.ledger.record_decision,
                inp.proposal_id,
                inp.signature,
                approvers=inp.approvers,
            )
        except (ProposalNotPending, ProposalError) as err:
            raise _final(err) from err
        signature = inp.signature
        PLATFORM.decided(signature.decision, signature.method)
        log.info(
            "recorded %s by %s (%s); decision complete: %s",
            signature.decision, signature.user, signature.method, complete,
            extra=_ids(inp.proposal_id),
        )  # fmt: skip
        if complete and inp.signature.decision == "reject":
            await asyncio.to_thread(self._revoke_autonomy_if_earned_no_longer, inp.proposal_id)
        return complete

    @activity.defn(name="execution_gate")
    async def execution_gate(self) -> GateResult:
        """Whether actions may be executed now: not while the kill switch is on."""
        control = await asyncio.to_thread(self.ledger.control)
        if control.stopped:
            return GateResult(
                running=False, reason=f"stopped by {control.changed_by}: {control.reason}"
            )
        return GateResult(running=True)

    @activity.defn(name="notify")
    async def notify(self, inp: NotifyInput) -> None:
        """Send a notification about a proposal to the configured notifier."""
        await self.notifier.send(Notification(**inp.model_dump(), at=datetime.now(UTC)))

    @activity.defn(name="execute_action")
    async def execute_action(self, inp: ExecuteInput) -> ExecuteResult:
        """Carry out the approved action once: keyed by action id, guarded, verified, recorded."""
        action = inp.action
        done = await asyncio.to_thread(self.ledger.get_action, action.action_id)
        if done is not None and done.status == "executed":
            PLATFORM.executed(action.kind, "already_applied")
            log.info("%s executed already", action.action_id, extra=_ids(inp.proposal_id))
            return ExecuteResult(
                read_back=done.read_back,
                reference=done.reference,
                already_applied=True,
                summary=done.message or "executed already",
            )
        try:
            await asyncio.to_thread(self._check_before_executing, inp)
            last_write = await asyncio.to_thread(self.ledger.last_write_at, action.subject)
            result = await executors.execute(
                action, plant=self._plant, mes=self.mes, last_write_at=last_write
            )
        except PlatformStopped as err:
            PLATFORM.executed(action.kind, "held")
            log.info("%s held: %s", action.action_id, err, extra=_ids(inp.proposal_id))
            raise _final(err) from err
        except FINAL_ERRORS as err:
            await asyncio.to_thread(
                self.ledger.record_action,
                inp.proposal_id,
                action,
                status="refused",
                executed_at=datetime.now(UTC),
                message=str(err),
            )
            await asyncio.to_thread(self._revoke_autonomy_if_earned_no_longer, inp.proposal_id)
            PLATFORM.executed(action.kind, "refused")
            if isinstance(err, WriteVerificationError):
                PLATFORM.verification_failed("read_back", type(err).__name__)
            log.warning("%s refused: %s", action.action_id, err, extra=_ids(inp.proposal_id))
            raise _final(err) from err
        except Exception as err:  # observe: count and log, then fail as before (retried)
            PLATFORM.executed(action.kind, "failed")
            log.warning("%s failed: %s", action.action_id, err, extra=_ids(inp.proposal_id))
            raise
        await asyncio.to_thread(
            self.ledger.record_action,
            inp.proposal_id,
            action,
            status="executed",
            executed_at=datetime.now(UTC),
            read_back=result.read_back,
            reference=result.reference,
            message=result.summary,
        )
        outcome = "already_applied" if result.already_applied else "executed"
        PLATFORM.executed(action.kind, outcome)
        log.info(
            "%s %s: %s", action.action_id, outcome, result.summary, extra=_ids(inp.proposal_id)
        )
        return result

    def _check_before_executing(self, inp: ExecuteInput) -> None:
        """Kill switch, policy, rate and interval limits; then audit the start (fail closed)."""
        action = inp.action
        control = self.ledger.control()
        if control.stopped:
            raise PlatformStopped(
                f"the platform was stopped by {control.changed_by} ({control.reason}); nothing is"
                " executed until `factory-agents resume`"
            )
        self.policy.check_action(action)
        now = datetime.now(UTC)
        limit = self.policy.rate_limits.actions_per_subject_per_hour
        if self.ledger.actions_since(action.subject, now - HOUR) >= limit:
            raise GuardrailViolation(
                f"{action.subject} was already changed {limit} times in the last hour, the"
                " policy's limit; nothing was done"
            )
        if isinstance(action, SetpointChange):
            last_write = self.ledger.last_write_at(action.subject)
            self.policy.limit_for(action.node_id).check_interval(last_write, now)
        self.ledger.begin_execution(inp.proposal_id, action)

    def _revoke_autonomy_if_earned_no_longer(self, proposal_id: str) -> None:
        """Take an agent's autonomy away after an adverse outcome or repeated rejections."""
        view = self.ledger.get_proposal(proposal_id)
        if view is None or self.ledger.autonomy(view.agent) != AutonomyLevel.AUTONOMOUS:
            return
        reason = self.autonomy_rules.revocation(self.ledger.track_record(view.agent))
        if reason is not None:
            self.ledger.set_autonomy(
                view.agent, AutonomyLevel.ASSISTED, actor=SYSTEM_ACTOR, reason=reason
            )

    @activity.defn(name="read_counters")
    async def read_counters(self, inp: CountersInput) -> PlantReading:
        """Read the proposal's counters; refuses readings that are not Good."""
        if not inp.tags:
            return PlantReading(values={}, at=datetime.now(UTC))
        async with self._plant() as plant:
            samples = await plant.read(list(inp.tags))
        for sample in samples:
            if sample.quality is not Quality.GOOD:
                PLATFORM.verification_failed("read_counters", "DataQualityError")
                raise DataQualityError(
                    f"counter {sample.tag} reads {sample.quality}; the saving is not measured"
                    " on data that is not Good (will retry)"
                )
        return PlantReading(values={s.tag: s.value for s in samples}, at=datetime.now(UTC))

    @activity.defn(name="measure_saving")
    async def measure_saving(self, inp: MeasureInput) -> MeasureResult:
        """Read what the agent watched over the window, and record the realized saving."""
        view = await asyncio.to_thread(self.ledger.get_proposal, inp.proposal_id)
        if view is None:
            raise ApplicationError(f"proposal {inp.proposal_id} is not in the ledger")
        agent = self.agents.get(inp.agent)
        if agent is None:
            PLATFORM.verification_failed("measure", "NotMeasurable")
            raise ApplicationError(
                f"no agent named {inp.agent!r} measures savings here (a copilot draft, or an agent"
                " since removed); the action stays executed, its saving unmeasured",
                type="NotMeasurable",
                non_retryable=True,
            )
        start, end = inp.before.at, inp.after.at
        needs = agent.needs()
        async with self._plant() as plant:
            history = {tag: await plant.history(tag, start, end) for tag in needs.history}
        records = await self.mes.fetch(needs.mes, start, end) if needs.mes else MesData()
        data = AgentInput(now=end, history=history, mes=records)
        window = VerificationWindow(before=inp.before, after=inp.after, data=data)
        try:
            realized = agent.measure(view.proposal, window)
        except MeasurementNotReady as err:  # the same window would say the same: not retried
            PLATFORM.verification_failed("measure", "MeasurementNotReady")
            raise _final(err) from err
        await asyncio.to_thread(
            self.ledger.record_realized, inp.proposal_id, realized, baseline=view.proposal.baseline
        )
        PLATFORM.realized(inp.agent, realized.amount, realized.currency)
        log.info(
            "realized saving %s %s", realized.amount, realized.currency, extra=_ids(inp.proposal_id)
        )
        await asyncio.to_thread(self._revoke_autonomy_if_earned_no_longer, inp.proposal_id)
        return MeasureResult(
            amount=realized.amount, currency=realized.currency, units=realized.units
        )

    @activity.defn(name="set_status")
    async def set_status(self, inp: StatusInput) -> None:
        """Record a lifecycle status (expired, failed) in the ledger."""
        await asyncio.to_thread(
            self.ledger.set_status, inp.proposal_id, inp.status, actor="platform", detail=inp.detail
        )
