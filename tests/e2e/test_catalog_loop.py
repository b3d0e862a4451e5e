"""Catalog agents in the closed loop: each fires in its simulator scenario, reaches the queue with
evidence and an estimate, is approved with a signature, executed, and its saving measured —
against the real Temporal server, OPC UA simulator and MES."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.opcua.connector import OpcUaConnector
from factory_agents.actions import LotHold, SetpointChange
from factory_agents.catalog.quality.defect_burst_agent import DefectBurstAgent, DefectBurstConfig
from factory_agents.evidence import BarChart, Histogram
from factory_agents.isa95 import LotStatus
from factory_agents.site import CAP_TORQUE_SETPOINT

from .catalog import pending_of, scheduled, verified
from .conftest import Platform
from .helpers import eventually, signed

pytestmark = pytest.mark.e2e


async def test_capability_recentres_the_worn_capper_and_measures_the_rework_avoided(
    platform: Platform,
) -> None:
    async with scheduled(platform, "capability"):
        view = await eventually(
            lambda: pending_of(platform, "capability"), within=120, what="a capability proposal"
        )
        action = view.proposal.action
        assert isinstance(action, SetpointChange) and action.node_id == CAP_TORQUE_SETPOINT
        assert action.to_value == pytest.approx(1.6 - 0.22, abs=0.05)
        assert isinstance(view.proposal.evidence, Histogram)
        assert view.estimated_amount > 0

        outcome = await signed(platform.settings, view.id, user="bob")
        assert outcome.status == "executed", outcome.message
        async with OpcUaConnector(platform.settings.opcua_endpoint) as plant:
            (live,) = await plant.read([CAP_TORQUE_SETPOINT])
        assert live.value == pytest.approx(action.to_value)

        done = await eventually(
            lambda: verified(platform, view.id), within=60, what="the measured saving"
        )
        assert done.realized_amount is not None and done.realized_amount > Decimal(0)


async def test_a_defect_burst_holds_its_lots_and_qa_finds_the_escapes(platform: Platform) -> None:
    # The simulator runs 50x: a 3-minute monitoring window would hold the whole fault.
    platform.activities.agents["defect_burst"] = DefectBurstAgent(
        DefectBurstConfig(monitor_minutes=0.4)
    )
    async with scheduled(platform, "defect_burst"):
        view = await eventually(
            lambda: pending_of(platform, "defect_burst"), within=150, what="a lot-hold proposal"
        )
        action = view.proposal.action
        assert isinstance(action, LotHold) and action.lot_ids
        assert isinstance(view.proposal.evidence, BarChart)
        assert any(bar.group == "signalling" for bar in view.proposal.evidence.bars)

        outcome = await signed(platform.settings, view.id, user="bob")
        assert outcome.status == "executed", outcome.message
        done = await eventually(
            lambda: verified(platform, view.id), within=60, what="the measured saving"
        )
        assert done.realized_amount is not None and done.realized_amount > Decimal(0)
        # The savings report shows it (the agent may have proposed holds on newer lots since).
        reported = {line.proposal_id: line for line in platform.ledger.savings_by_proposal()}
        assert reported[view.id].realized_amount == done.realized_amount
        data = await platform.activities.mes.fetch(
            ["lots"], view.created_at.replace(year=2000), done.updated_at
        )
        held = {lot.id: lot.status for lot in data.lots if lot.id in action.lot_ids}
        assert set(held) == set(action.lot_ids)
        assert set(held.values()) == {LotStatus.RELEASED}, "QA released them after re-inspecting"
