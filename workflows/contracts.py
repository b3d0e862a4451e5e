"""Inputs and outputs of every workflow, update and activity: one model each, so fields can grow."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from factory_agents.agent import CounterReading, SetpointChange
from factory_agents.policy import Policy

DecisionKind = Literal["approve", "reject"]


class AgentRunInput(BaseModel):
    """Which agent to run, and the guardrails and verification window its proposals get."""

    agent: str
    policy: Policy
    verification_seconds: float


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
    action: SetpointChange
    counters: tuple[str, str]
    estimated_amount: Decimal
    currency: str
    expires_at: datetime


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


class Decision(BaseModel):
    """An engineer's decision as delivered by the board or the CLI."""

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
    """A decision to write to the ledger."""

    proposal_id: str
    decision: Decision
    decided_at: datetime


class ExecuteInput(BaseModel):
    """An approved action to execute on the plant."""

    proposal_id: str
    action: SetpointChange


class ExecuteResult(BaseModel):
    """What the plant read back after the action, and whether it had already been applied."""

    read_back: float
    already_applied: bool


class CountersInput(BaseModel):
    """Which good and scrap counters to read."""

    good: str
    scrap: str


class MeasureInput(BaseModel):
    """Counter readings after acting, to turn into a realized saving."""

    proposal_id: str
    agent: str
    before: CounterReading
    after: CounterReading


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
