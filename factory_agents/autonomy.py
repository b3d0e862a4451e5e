"""When an agent may act without a person approving, and when it loses that right.

Three levels: shadow (proposals are recorded and people say what they would have done;
nothing is executed), assisted (every action needs approval), autonomous (low-risk,
reversible action classes are executed without approval; everything else still waits).
Autonomy is earned by a measured track record and revoked automatically.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from factory_agents.ledger.views import TrackRecord


class AutonomyRules(BaseModel):
    """The track record an agent needs for autonomy, and what takes it away again."""

    model_config = ConfigDict(frozen=True)

    min_decisions: int = Field(20, ge=1)
    min_approval_rate: float = Field(0.9, gt=0, le=1)
    revoke_after_rejections: int = Field(3, ge=1)

    def unlock_refusal(self, record: TrackRecord) -> str | None:
        """Why the record does not earn autonomy yet, or None when it does."""
        missing = []
        if record.decisions < self.min_decisions:
            missing.append(f"{record.decisions} decisions of the {self.min_decisions} needed")
        rate = record.approval_rate
        if rate is None or rate < self.min_approval_rate:
            shown = "no decisions" if rate is None else f"{rate:.0%} approved"
            missing.append(f"{shown}, below {self.min_approval_rate:.0%}")
        if record.adverse:
            missing.append(f"{record.adverse} adverse outcome(s)")
        if not missing:
            return None
        return f"{record.agent} has not earned autonomy: " + "; ".join(missing)

    def revocation(self, record: TrackRecord) -> str | None:
        """Why autonomy must be taken away now, or None when the record still holds."""
        if record.adverse:
            return f"{record.agent} had {record.adverse} adverse outcome(s)"
        if record.consecutive_rejections >= self.revoke_after_rejections:
            return (
                f"engineers rejected {record.consecutive_rejections} of {record.agent}'s"
                " proposals in a row"
            )
        return None
