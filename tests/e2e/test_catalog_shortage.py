"""Shortage in the closed loop: the multipack line lacks gift boxes for its first order, the agent
proposes running the covered order first, "alice" approves with a signature, the dispatch list
lands in the MES, the wrapper follows it, and the lateness avoided is measured from the MES."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from factory_agents.actions import DispatchList
from factory_agents.catalog.supply_chain.shortage_config import BOX_STILL, MULTIPACK_LINE
from factory_agents.evidence import TrendChart

from .catalog import pending_of, scheduled, verified
from .conftest import Platform
from .helpers import eventually, signed

pytestmark = pytest.mark.e2e

AGENT = "shortage"
SLACK_SECONDS = 30.0


async def test_the_covered_order_runs_first_and_the_lateness_avoided_is_measured(
    platform: Platform,
) -> None:
    mes = platform.activities.mes
    async with scheduled(platform, AGENT):
        view = await eventually(lambda: pending_of(platform, AGENT), within=25, what="a remedy")
        proposal = view.proposal
        action = proposal.action
        assert isinstance(action, DispatchList) and action.line_id == MULTIPACK_LINE
        assert [e.work_order_id for e in action.entries] == ["WO-MP-002", "WO-MP-001"]
        estimate = proposal.estimated_saving
        assert view.estimated_amount > 0
        assert estimate.inputs["remedy_tardiness_hours"] < estimate.inputs["wait_tardiness_hours"]
        assert isinstance(proposal.evidence, TrendChart)
        assert proposal.evidence.title.startswith(BOX_STILL)
        assert min(proposal.evidence.series[0].values) < 0, "the projection runs short"
        assert proposal.measure_until is not None
        until = proposal.measure_until

        outcome = await signed(platform.settings, view.id, user="alice")
        assert outcome.status == "executed", outcome.message
        since = proposal.created_at - timedelta(minutes=5)
        plan = await mes.fetch(["operations"], since, datetime.now(UTC))
        starts = {op.work_order_id: op.planned_start for op in plan.operations}
        assert starts["WO-MP-002"] == action.entries[0].start
        assert starts["WO-MP-001"] == action.entries[1].start

        done = await eventually(
            lambda: verified(platform, view.id),
            within=(until - datetime.now(UTC)).total_seconds() + SLACK_SECONDS,
            what="the measured saving",
        )
    (line,) = [s for s in platform.ledger.savings_by_proposal() if s.proposal_id == view.id]
    assert line.realized_amount == done.realized_amount and line.estimated_amount > 0
    assert done.realized_amount is not None and done.realized_amount > 0
    counts = await mes.fetch(["production_counts"], since, datetime.now(UTC))
    ran = {c.work_order_id: c.start for c in counts.production_counts}
    assert ran["WO-MP-002"] < ran["WO-MP-001"], "the wrapper followed the dispatch list"
