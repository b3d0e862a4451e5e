"""What the ledger hands out: proposal statuses and read-only views (pydantic models)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from factory_agents.agent import Proposal


class ProposalStatus(StrEnum):
    """Where a proposal stands: pending → approved → executed → verified, or off the path.

    A shadow proposal (its agent in shadow mode) is never executed: once engineers have
    said what they would have done, it is `shadowed`. An approved proposal waits
    `suspended` while the kill switch is on.
    """

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    EXECUTED = "executed"
    FAILED = "failed"
    VERIFIED = "verified"
    UNMEASURED = "unmeasured"
    EXPIRED = "expired"
    SHADOWED = "shadowed"


class AutonomyLevel(StrEnum):
    """How far an agent acts on its own: propose only, with approval, or within bounds alone."""

    SHADOW = "shadow"
    ASSISTED = "assisted"
    AUTONOMOUS = "autonomous"


class TrackRecord(BaseModel):
    """What people decided about an agent's proposals, and what came of them."""

    model_config = ConfigDict(frozen=True)

    agent: str
    decisions: int
    approved: int
    rejected: int
    adverse: int
    consecutive_rejections: int

    @property
    def approval_rate(self) -> float | None:
        """Approved share of decided proposals, None before the first decision."""
        return self.approved / self.decisions if self.decisions else None


class AgentSwitchView(BaseModel):
    """Whether an agent may propose, and who last switched it on or off, when and why."""

    model_config = ConfigDict(frozen=True)

    agent: str
    enabled: bool
    changed_by: str | None = None
    changed_at: datetime | None = None
    reason: str = ""


class ControlView(BaseModel):
    """The kill switch's state: running or stopped, by whom, when and why."""

    model_config = ConfigDict(frozen=True)

    mode: Literal["running", "stopped"]
    changed_by: str
    changed_at: datetime | None
    reason: str

    @property
    def stopped(self) -> bool:
        """True while the kill switch is on."""
        return self.mode == "stopped"


class SavingKind(StrEnum):
    """The two kinds of saving, stored side by side and never mixed."""

    ESTIMATED = "estimated"
    REALIZED = "realized"


OPEN_STATUSES = (
    ProposalStatus.PENDING,
    ProposalStatus.APPROVED,
    ProposalStatus.SUSPENDED,
    ProposalStatus.EXECUTED,
)
"""Statuses of a proposal still in flight on its node (no second proposal should be made)."""


class Signature(BaseModel):
    """One decision as recorded: who signed what, in which role, how, and on which content.

    `method` says how it was made: "signed" by a person (HMAC over their claims),
    "automatic" under an agent's earned autonomy, or "unsigned" (ledgers from before 0003).
    """

    model_config = ConfigDict(frozen=True)

    decision: Literal["approve", "reject"]
    user: str
    reason: str
    proposal_hash: str
    decided_at: datetime
    full_name: str | None = None
    role: str | None = None
    areas: tuple[str, ...] = ()
    signed_at: datetime | None = None
    signature: str | None = None
    key_id: str | None = None
    method: Literal["signed", "automatic", "unsigned"] = "unsigned"


class DecisionView(Signature):
    """A decision on a proposal as the board and CLI show it."""


class ActionView(BaseModel):
    """An action executed on the plant or the MES for a proposal."""

    model_config = ConfigDict(frozen=True)

    action_id: str
    proposal_id: str
    kind: str
    subject: str
    details: dict[str, Any]
    from_value: float | None
    to_value: float | None
    read_back: float | None
    reference: str | None
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
    subject: str
    title: str
    status: str
    created_at: datetime
    expires_at: datetime
    updated_at: datetime
    content_hash: str
    proposal: Proposal
    decisions: list[DecisionView]
    action: ActionView | None
    estimated_amount: Decimal
    realized_amount: Decimal | None
    currency: str

    @property
    def decision(self) -> DecisionView | None:
        """The latest decision (the one that completed it, if it is decided)."""
        return self.decisions[-1] if self.decisions else None


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
