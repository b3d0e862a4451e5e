"""Inputs and outputs of every workflow, update and activity: one model each, so fields can grow."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from factory_agents.actions import Action
from factory_agents.agent import PlantReading
from factory_agents.ledger.views import AutonomyLevel, Signature
from factory_agents.policy import Policy

DecisionKind = Literal["approve", "reject"]


class AgentRunInput(BaseModel):
    """Which agent to run, and the guardrails and verification window its proposals get."""

    agent: str
    policy: Policy
    verification_seconds: float
    escalate_after_seconds: float | None = None


class RunAgentInput(BaseModel):
    """One run of one agent, keyed so a retried activity records it once."""

    agent: str
    run_id: str


class ProposalTicket(BaseModel):
    """What a ProposalWorkflow needs to shepherd one recorded proposal."""

    model_config = ConfigDict(frozen=True)

    proposal_id: str
    agent: str
    title: str
    content_hash: str
    action: Action
    counters: tuple[str, ...]
    estimated_amount: Decimal
    currency: str
    expires_at: datetime
    area: str = Field("site1", description="ISA-95 path the proposal belongs to, e.g. site1/line1")
    requested_by: str = Field("", description="Who asked: the agent, or the user who drafted it")
    approvers: int = Field(1, ge=1, description="Different engineers who must approve")
    autonomy: AutonomyLevel = AutonomyLevel.ASSISTED
    may_run_autonomously: bool = Field(
        False, description="Low-risk and reversible: executed without approval when autonomous"
    )
    measure_until: datetime | None = Field(
        None, description="The proposal's own end of the verification window, if it has one"
    )


class AgentRunResult(BaseModel):
    """What one agent run produced: its proposals (new ones only) and what it skipped."""

    run_id: str
    tickets: list[ProposalTicket]
    skipped: dict[str, int]
    findings: list[str]


class ProposalInput(BaseModel):
    """A proposal's workflow input: the ticket, the guardrails, the verification window."""

    ticket: ProposalTicket
    policy: Policy
    verification_seconds: float
    escalate_after_seconds: float | None = Field(
        None, gt=0, description="Notify the next role when nobody decided within this time"
    )


class Decision(BaseModel):
    """An unsigned decision (before signatures): still decoded when old histories replay."""

    decision: DecisionKind
    user: str
    reason: str
    proposal_hash: str | None = None


class DecisionOutcome(BaseModel):
    """What became of a decision: the proposal's new status and a sentence for the user."""

    model_config = ConfigDict(frozen=True)

    proposal_id: str
    decision: DecisionKind
    status: str
    message: str


class RecordDecisionInput(BaseModel):
    """A signature to write to the ledger, and how many approvers the proposal needs."""

    proposal_id: str
    signature: Signature
    approvers: int = Field(1, ge=1)


class GateResult(BaseModel):
    """Whether executions may go ahead now (the kill switch is off), and if not, why."""

    running: bool
    reason: str = ""


class NotifyInput(BaseModel):
    """A notification about a proposal for the configured notifier."""

    event: Literal["proposed", "escalated", "expired", "executed", "failed"]
    proposal_id: str
    agent: str
    title: str
    detail: str = ""


class ExecuteInput(BaseModel):
    """An approved action to execute on the plant or in the MES."""

    proposal_id: str
    action: Action


class ExecuteResult(BaseModel):
    """What the plant read back or the MES created, and whether it had already been applied."""

    read_back: float | None = None
    reference: str | None = None
    already_applied: bool
    summary: str


class CountersInput(BaseModel):
    """Which counters to read at one end of the verification window."""

    tags: tuple[str, ...]


class MeasureInput(BaseModel):
    """Counter readings at both ends of the verification window, to turn into a saving."""

    proposal_id: str
    agent: str
    before: PlantReading
    after: PlantReading


class MeasureResult(BaseModel):
    """The realized saving as recorded in the ledger."""

    amount: Decimal
    currency: str
    units: int


class StatusInput(BaseModel):
    """A lifecycle status to record for a proposal, with the reason."""

    proposal_id: str
    status: str
    detail: str = ""


class ProposalResult(BaseModel):
    """How a proposal's workflow ended."""

    proposal_id: str
    status: str
    realized_amount: Decimal | None = None
