"""Small, valid domain objects for tests in any suite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from factory_agents.agent import Baseline, ControlChart, EstimatedSaving, Proposal, SetpointChange
from factory_agents.ledger.views import Signature

T0 = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)


def build_proposal(
    proposal_id: str = "prop-1",
    *,
    agent: str = "spc_drift",
    line: str = "line-1",
    node_id: str = "ns=2;s=Line1/Filler/FillSetpoint",
    amount: Decimal = Decimal("125.40"),
    currency: str = "EUR",
    horizon_hours: float = 8.0,
    created_at: datetime = T0,
    **overrides: Any,
) -> Proposal:
    """One proposal to lower a fill setpoint, with a tiny control chart as evidence."""
    times = [created_at - timedelta(minutes=3 - i) for i in range(3)]
    fields: dict[str, Any] = {
        "proposal_id": proposal_id,
        "agent": agent,
        "line": line,
        "title": "Lower fill setpoint by 0.5 g",
        "rationale": "EWMA of fill weight drifted above target for 3 samples.",
        "action": SetpointChange(
            action_id=f"{proposal_id}-act",
            node_id=node_id,
            from_value=500.5,
            to_value=500.0,
            unit="g",
        ),
        "evidence": ControlChart(
            characteristic="fill_weight",
            unit="g",
            times=times,
            values=[500.9, 501.2, 501.4],
            ewma=[500.6, 500.8, 501.0],
            center=500.0,
            sigma=0.4,
            ewma_lcl=499.6,
            ewma_ucl=500.4,
            lsl=498.0,
            usl=503.0,
            signals={2: ["ewma above UCL"]},
        ),
        "estimated_saving": EstimatedSaving(
            amount=amount,
            currency=currency,
            horizon_hours=horizon_hours,
            formula="overfill_g * units_per_hour * horizon_h * cost_per_g",
            inputs={"overfill_g": 1.0, "units_per_hour": 1200.0},
            assumptions=["throughput stays at 1200 units/h"],
        ),
        "baseline": Baseline(
            metric="mean_fill_g",
            value=501.2,
            units=600,
            start=created_at - timedelta(hours=1),
            end=created_at,
            method="mean of good units over the last hour",
        ),
        "unit_cost": Decimal("0.0105"),
        "counters": ("ns=2;s=Line1/Good", "ns=2;s=Line1/Scrap"),
        "created_at": created_at,
    }
    fields.update(overrides)
    return Proposal(**fields)


def signature(
    proposal: Proposal,
    decision: Literal["approve", "reject"] = "approve",
    user: str = "ana",
    *,
    at: datetime = T0 + timedelta(minutes=2),
    reason: str | None = None,
    proposal_hash: str | None = None,
) -> Signature:
    """A person's signed decision on `proposal`, as the workflow records it."""
    return Signature(
        decision=decision,
        user=user,
        reason=reason if reason is not None else f"{user} says {decision}",
        proposal_hash=proposal_hash or proposal.content_hash(),
        decided_at=at,
        full_name=user.title(),
        role="engineer",
        areas=("site1",),
        signed_at=at,
        signature="ab" * 32,
        key_id="0123456789abcdef",
        method="signed",
    )
