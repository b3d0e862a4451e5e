"""The platform's I/O as Temporal activities: plant connectors, agents and the ledger."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from connectors.base import TagSource
from connectors.opcua.connector import OpcUaConnector
from factory_agents.agent import (
    Agent,
    AgentInput,
    CounterReading,
    DataNeeds,
    Proposal,
    VerificationWindow,
)
from factory_agents.errors import (
    DataQualityError,
    GuardrailViolation,
    ProposalNotPending,
    WriteRejected,
    WriteVerificationError,
)
from factory_agents.ledger.repository import Ledger
from factory_agents.plant import Quality
from factory_agents.policy import Policy
from factory_agents.settings import Settings
from workflows.contracts import (
    AgentRunResult,
    CountersInput,
    ExecuteInput,
    ExecuteResult,
    MeasureInput,
    MeasureResult,
    ProposalTicket,
    RecordDecisionInput,
    RunAgentInput,
    StatusInput,
)

FINAL_ERRORS = (GuardrailViolation, WriteRejected, WriteVerificationError, ProposalNotPending)


def _final(err: Exception) -> ApplicationError:
    """An error Temporal must not retry, typed by its class name."""
    return ApplicationError(str(err), type=type(err).__name__, non_retryable=True)


async def read_agent_input(source: TagSource, needs: DataNeeds, now: datetime) -> AgentInput:
    """Read what an agent needs: current values in one batch, then each history series."""
    current = await source.read(list(needs.current)) if needs.current else []
    start = now - timedelta(seconds=needs.lookback_seconds)
    history = {tag: await source.history(tag, start, now) for tag in needs.history}
    return AgentInput(now=now, current={s.tag: s for s in current}, history=history)


def ticket_for(proposal: Proposal, expires_at: datetime) -> ProposalTicket:
    """The part of a proposal its workflow carries."""
    return ProposalTicket(
        proposal_id=proposal.proposal_id,
        agent=proposal.agent,
        title=proposal.title,
        content_hash=proposal.content_hash(),
        action=proposal.action,
        counters=proposal.counters,
        estimated_amount=proposal.estimated_saving.amount,
        currency=proposal.estimated_saving.currency,
        expires_at=expires_at,
    )


class PlantActivities:
    """Holds the connectors' settings, the agents and the ledger; its methods are activities."""

    def __init__(
        self, settings: Settings, ledger: Ledger, agents: Mapping[str, Agent], policy: Policy
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.agents = dict(agents)
        self.policy = policy

    def _plant(self) -> OpcUaConnector:
        return OpcUaConnector(self.settings.opcua_endpoint, policy=self.policy)

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
            data = await read_agent_input(plant, agent.needs(), started)
        output = agent.analyze(data)
        skipped: Counter[str] = Counter(output.skipped)
        findings = [f.message for f in output.findings]
        tickets: list[ProposalTicket] = []
        for proposal in output.proposals:
            admitted = await asyncio.to_thread(self._admit, proposal, inp.run_id, skipped, findings)
            if admitted is not None:
                tickets.append(admitted)
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

    def _admit(
        self, proposal: Proposal, run_id: str, skipped: Counter[str], findings: list[str]
    ) -> ProposalTicket | None:
        """Record a proposal unless one is open on the same node or it breaks a guardrail."""
        action = proposal.action
        open_id = self.ledger.open_proposal_for(action.node_id)
        if open_id is not None and open_id != proposal.proposal_id:
            skipped["open_proposal_on_node"] += 1
            return None
        try:
            self.policy.check(action.node_id, action.from_value, action.to_value)
        except GuardrailViolation as err:
            skipped["guardrail"] += 1
            findings.append(f"proposal withheld: {err}")
            return None
        expires = proposal.created_at + timedelta(seconds=self.settings.proposal_ttl_seconds)
        self.ledger.record_proposal(proposal, run_id=run_id, expires_at=expires)
        recorded = self.ledger.get_proposal(proposal.proposal_id)
        return ticket_for(proposal, recorded.expires_at if recorded else expires)

    @activity.defn(name="record_decision")
    async def record_decision(self, inp: RecordDecisionInput) -> None:
        """Write the engineer's decision to the ledger (idempotent)."""
        view = await asyncio.to_thread(self.ledger.get_proposal, inp.proposal_id)
        try:
            await asyncio.to_thread(
                self.ledger.record_decision,
                inp.proposal_id,
                decision=inp.decision.decision,
                user=inp.decision.user,
                reason=inp.decision.reason,
                proposal_hash=inp.decision.proposal_hash or (view.content_hash if view else ""),
                at=inp.decided_at,
            )
        except ProposalNotPending as err:
            raise _final(err) from err

    @activity.defn(name="execute_action")
    async def execute_action(self, inp: ExecuteInput) -> ExecuteResult:
        """Write the approved setpoint once: keyed by action id, guarded, read back, recorded."""
        action = inp.action
        done = await asyncio.to_thread(self.ledger.get_action, action.action_id)
        if done is not None and done.status == "executed" and done.read_back is not None:
            return ExecuteResult(read_back=done.read_back, already_applied=True)
        try:
            last_write = await asyncio.to_thread(self.ledger.last_write_at, action.node_id)
            self.policy.limit_for(action.node_id).check_interval(last_write, datetime.now(UTC))
            async with self._plant() as plant:
                result = await plant.write_setpoint(action)
        except FINAL_ERRORS as err:
            await asyncio.to_thread(self._record_action, inp, None, "refused", str(err))
            raise _final(err) from err
        await asyncio.to_thread(self._record_action, inp, result.read_back, "executed", "")
        return ExecuteResult(read_back=result.read_back, already_applied=result.already_applied)

    def _record_action(
        self, inp: ExecuteInput, read_back: float | None, status: str, message: str
    ) -> None:
        action = inp.action
        self.ledger.record_action(
            action_id=action.action_id,
            proposal_id=inp.proposal_id,
            kind=action.kind,
            node_id=action.node_id,
            from_value=action.from_value,
            to_value=action.to_value,
            read_back=read_back,
            status=status,
            executed_at=datetime.now(UTC),
            message=message,
        )

    @activity.defn(name="read_counters")
    async def read_counters(self, inp: CountersInput) -> CounterReading:
        """Read the good and scrap counters; refuses readings that are not Good."""
        async with self._plant() as plant:
            good, scrap = await plant.read([inp.good, inp.scrap])
        for sample in (good, scrap):
            if sample.quality is not Quality.GOOD:
                raise DataQualityError(
                    f"counter {sample.tag} reads {sample.quality}; the saving is not measured"
                    " on data that is not Good (will retry)"
                )
        return CounterReading(good=int(good.value), scrap=int(scrap.value), at=datetime.now(UTC))

    @activity.defn(name="measure_saving")
    async def measure_saving(self, inp: MeasureInput) -> MeasureResult:
        """Read what the agent watched over the window, and record the realized saving."""
        view = await asyncio.to_thread(self.ledger.get_proposal, inp.proposal_id)
        if view is None:
            raise ApplicationError(f"proposal {inp.proposal_id} is not in the ledger")
        agent = self.agents[inp.agent]
        start, end = inp.before.at, inp.after.at
        async with self._plant() as plant:
            history = {tag: await plant.history(tag, start, end) for tag in agent.needs().history}
        window = VerificationWindow(
            before=inp.before, after=inp.after, data=AgentInput(now=end, history=history)
        )
        realized = agent.measure(view.proposal, window)
        await asyncio.to_thread(
            self.ledger.record_realized, inp.proposal_id, realized, baseline=view.proposal.baseline
        )
        return MeasureResult(
            amount=realized.amount, currency=realized.currency, units=realized.units
        )

    @activity.defn(name="set_status")
    async def set_status(self, inp: StatusInput) -> None:
        """Record a lifecycle status (expired, failed) in the ledger."""
        await asyncio.to_thread(
            self.ledger.set_status, inp.proposal_id, inp.status, actor="platform", detail=inp.detail
        )
