"""What the ledger hands out: proposal statuses and read-only views (pydantic models)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from factory_agents.agent import Proposal


class ProposalStatus(StrEnum):
    """Where a proposal stands: pending → approved → executed → verified, or off the path."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXECUTED = "executed"
    FAILED = "failed"
    VERIFIED = "verified"
    EXPIRED = "expired"


class SavingKind(StrEnum):
    """The two kinds of saving, stored side by side and never mixed."""

    ESTIMATED = "estimated"
    REALIZED = "realized"


OPEN_STATUSES = (ProposalStatus.PENDING, ProposalStatus.APPROVED, ProposalStatus.EXECUTED)
"""Statuses of a proposal still in flight on its node (no second proposal should be made)."""


class DecisionView(BaseModel):
    """An engineer's decision on a proposal."""

    model_config = ConfigDict(frozen=True)

    user: str
    decision: str
    reason: str
    proposal_hash: str
    decided_at: datetime


class ActionView(BaseModel):
    """An action executed on the plant for a proposal."""

    model_config = ConfigDict(frozen=True)

    action_id: str
    proposal_id: str
    kind: str
    node_id: str
    from_value: float
    to_value: float
    read_back: float | None
    status: str
    executed_at: datetime
    message: str


class ProposalView(BaseModel):
    """A proposal as the board and CLI show it: content, decision, action and savings."""

    model_config = ConfigDict(frozen=True)

    id: str
    run_id: str | None
    agent: str
    line: str
    node_id: str
    title: str
    status: str
    created_at: datetime
    expires_at: datetime
    updated_at: datetime
    content_hash: str
    proposal: Proposal
    decision: DecisionView | None
    action: ActionView | None
    estimated_amount: Decimal
    realized_amount: Decimal | None
    currency: str


class SavingsLine(BaseModel):
    """One proposal's estimated saving (over its horizon) next to its realized one (if any)."""

    model_config = ConfigDict(frozen=True)

    proposal_id: str
    agent: str
    line: str
    title: str
    status: str
    estimated_amount: Decimal
    horizon_hours: float
    realized_amount: Decimal | None
    period_hours: float | None
    currency: str
    created_at: datetime


class AgentTotals(BaseModel):
    """An agent's savings in one currency: estimated and realized sums are kept apart."""

    model_config = ConfigDict(frozen=True)

    agent: str
    currency: str
    estimated_total: Decimal
    estimated_verified_total: Decimal
    realized_total: Decimal
    proposals: int
    verified: int


class AuditEntry(BaseModel):
    """One event of the audit trail, as stored."""

    model_config = ConfigDict(frozen=True)

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    hash: str
