"""Reorder in the closed loop: the simulated packer consumes shrink film, the agent requests
film at its reorder point, "bob" approves with a signature, the requisition lands in the MES,
Mondi delivers it, and the realized saving is measured against the current policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from factory_agents.actions import PurchaseRequisition
from factory_agents.catalog.supply_chain.reorder_config import FILM_MATERIAL
from factory_agents.evidence import TrendChart

from .catalog import pending_of, scheduled, verified
from .conftest import Platform
from .helpers import eventually, signed

pytestmark = pytest.mark.e2e

AGENT = "reorder"
SLACK_SECONDS = 30.0


async def test_film_is_requested_at_the_reorder_point_and_the_saving_is_measured(
    platform: Platform,
) -> None:
    mes = platform.activities.mes
    async with scheduled(platform, AGENT):
        view = await eventually(
            lambda: pending_of(platform, AGENT), within=60, what="a requisition"
        )
        proposal = view.proposal
        action = proposal.action
        assert isinstance(action, PurchaseRequisition) and action.material_id == FILM_MATERIAL
        estimate = proposal.estimated_saving
        assert view.estimated_amount > 0
        assert estimate.inputs["inventory_position"] <= estimate.inputs["recommended_reorder_point"]
        assert (
            estimate.inputs["recommended_reorder_point"] > estimate.inputs["current_reorder_point"]
        )
        assert isinstance(proposal.evidence, TrendChart) and proposal.evidence.series[0].values
        assert proposal.measure_until is not None and proposal.measure_until > action.need_by
        until = proposal.measure_until

        outcome = await signed(platform.settings, view.id, user="bob")
        assert outcome.status == "executed", outcome.message
        since = proposal.created_at - timedelta(minutes=5)
        orders = await mes.fetch(["purchase_orders"], since, datetime.now(UTC))
        mine = [o for o in orders.purchase_orders if o.ordered_at >= proposal.created_at]
        assert any(o.quantity == action.quantity and o.supplier_id == action.supplier for o in mine)

        done = await eventually(
            lambda: verified(platform, view.id),
            within=(until - datetime.now(UTC)).total_seconds() + SLACK_SECONDS,
            what="the measured saving",
        )
    (line,) = [s for s in platform.ledger.savings_by_proposal() if s.proposal_id == view.id]
    assert line.realized_amount == done.realized_amount and line.estimated_amount > 0
    assert line.period_hours * 3600 > platform.settings.verification_seconds
    stock = await mes.fetch(["lots"], since, datetime.now(UTC))
    received = [
        lot
        for lot in stock.lots
        if lot.material_id == FILM_MATERIAL and lot.created_at > proposal.created_at
    ]
    assert received, "Mondi delivered after the requisition"
