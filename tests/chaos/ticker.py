"""The worker-kill test's agent, and a worker that runs it alone (`python -m tests.chaos.ticker`).

Every run proposes one step of the fill-weight setpoint down from its live value (a write to the
plant over OPC UA) and one purchase requisition (a write to the MES), so each run gives the test
two approvable actions whose every write it can count. Like the catalog's drift agents, a
proposal's id comes from the newest sample it saw: a run retried a moment later proposes under
another id. The platform withholds a proposal while another is open on its subject.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from decimal import Decimal

from pydantic import BaseModel

from factory_agents.actions import PurchaseRequisition
from factory_agents.agent import (
    AgentInput,
    AgentOutput,
    AgentSpec,
    DataNeeds,
    Domain,
    Proposal,
    RealizedSaving,
    SetpointChange,
    VerificationWindow,
)
from factory_agents.plant import Quality
from factory_agents.settings import Settings
from factory_agents.site import FILL_SETPOINT, LINE_GOOD, LINE_SCRAP
from tests.factories import build_proposal
from workflows.worker import run_worker

STEP_G = 0.1
MATERIAL, SUPPLIER, UNIT = "RM-CO2", "linde", "kg"
"""A material and supplier the simulated MES is seeded with."""


class TickerConfig(BaseModel):
    """Nothing to configure."""


class TickerAgent:
    """Proposes a setpoint step and a requisition on every run."""

    def __init__(self, config: TickerConfig | None = None) -> None:
        self.spec = SPEC

    def needs(self) -> DataNeeds:
        """The live setpoint."""
        return DataNeeds(current=(FILL_SETPOINT,))

    def analyze(self, data: AgentInput) -> AgentOutput:
        """A step down from the live setpoint and a requisition, keyed by the setpoint's sample."""
        setpoint = data.current.get(FILL_SETPOINT)
        if setpoint is None or setpoint.quality is not Quality.GOOD:
            return AgentOutput(agent=SPEC.name, skipped={"setpoint_not_good": 1})
        key = hashlib.sha256(setpoint.source_time.isoformat().encode()).hexdigest()[:16]
        step = SetpointChange(
            action_id=f"a-sp-{key}",
            node_id=FILL_SETPOINT,
            from_value=setpoint.value,
            to_value=round(setpoint.value - STEP_G, 1),
            unit="g",
        )
        order = PurchaseRequisition(
            action_id=f"a-pr-{key}",
            material_id=MATERIAL,
            quantity=10.0,
            unit=UNIT,
            supplier=SUPPLIER,
            need_by=data.now + timedelta(days=7),
        )
        return AgentOutput(
            agent=SPEC.name,
            proposals=[
                self._proposal(f"p-sp-{key}", step, data),
                self._proposal(f"p-pr-{key}", order, data),
            ],
        )

    def _proposal(
        self, proposal_id: str, action: SetpointChange | PurchaseRequisition, data: AgentInput
    ) -> Proposal:
        return build_proposal(
            proposal_id,
            agent=SPEC.name,
            created_at=data.now,
            amount=Decimal("1.00"),
            title=action.describe(),
            action=action,
            counters=(LINE_GOOD, LINE_SCRAP),
        )

    def measure(self, proposal: Proposal, window: VerificationWindow) -> RealizedSaving:
        """No saving is claimed: the units made in the window, at zero."""
        made = window.before.delta(window.after, LINE_GOOD) + window.before.delta(
            window.after, LINE_SCRAP
        )
        hours = (window.after.at - window.before.at).total_seconds() / 3600
        return RealizedSaving(
            amount=Decimal(0),
            period_hours=hours,
            metric_after=made,
            units=int(made),
            method="the ticker saves nothing; it counts the units made while it was measured",
        )


SPEC = AgentSpec(
    name="ticker",
    version="1.0",
    domain=Domain.QUALITY,
    description="A test agent: a setpoint step and a requisition on every run",
    config_model=TickerConfig,
    factory=TickerAgent,
    actions=("setpoint_change", "purchase_requisition"),
)


if __name__ == "__main__":
    asyncio.run(run_worker(Settings(), agents={SPEC.name: TickerAgent()}))
