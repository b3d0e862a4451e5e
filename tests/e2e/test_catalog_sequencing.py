"""The sequencing agent in the closed loop: the tool room releases six orders planned first come,
first served; the agent sequences them with CP-SAT and proposes a dispatch list, "alice" (site1)
approves it, the MES publishes it, the shop runs the orders in its order, and their completions
in the MES measure the tardiness it saved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.mes import schema as db
from connectors.mes.sql import mes_engine
from factory_agents.actions import DispatchList
from factory_agents.catalog.scheduling.sequencing_agent import SequencingAgent
from factory_agents.catalog.scheduling.sequencing_config import SHOP_LINE, SequencingConfig
from factory_agents.evidence import GanttChart

from .catalog import pending_of, scheduled, verified
from .conftest import Platform
from .helpers import eventually, signed

pytestmark = pytest.mark.e2e
AGENT = "sequencing"
# The tool room's operations take 2-6 real seconds: a one-second grid, a 2 s solve, one worker.
CONFIG = SequencingConfig(time_unit_seconds=1, min_saving=Decimal("0.05"), time_limit_seconds=2)


def shop_floor(platform: Platform) -> tuple[list[db.DispatchListRecord], list[db.ProductionCount]]:
    """The dispatch lists of the tool room, and its production counts in start order."""
    engine = mes_engine(platform.settings.mes_url)
    try:
        with Session(engine) as session:
            lists = list(
                session.scalars(
                    select(db.DispatchListRecord).where(db.DispatchListRecord.line_id == SHOP_LINE)
                )
            )
            counts = list(
                session.scalars(
                    select(db.ProductionCount)
                    .where(db.ProductionCount.equipment_id.like(f"{SHOP_LINE}.%"))
                    .order_by(db.ProductionCount.start)
                )
            )
            return lists, counts
    finally:
        engine.dispose()


async def test_a_cp_sat_dispatch_list_is_approved_followed_and_its_saving_measured(
    platform: Platform,
) -> None:
    platform.activities.agents[AGENT] = SequencingAgent(CONFIG)
    async with scheduled(platform, AGENT):
        view = await eventually(
            lambda: pending_of(platform, AGENT), within=40, what="a dispatch list"
        )
        proposal = view.proposal
        action = proposal.action
        assert isinstance(action, DispatchList) and action.line_id == SHOP_LINE
        assert len(action.entries) == 18  # six orders of three operations
        chart = proposal.evidence
        assert isinstance(chart, GanttChart) and any(t.moved for t in chart.proposed)
        inputs = proposal.estimated_saving.inputs
        assert inputs["proposed_weighted_tardiness"] < inputs["baseline_weighted_tardiness"]
        assert view.estimated_amount >= CONFIG.min_saving
        assert proposal.measure_until is not None
        assert proposal.measure_until > max(e.end for e in action.entries)

        outcome = await signed(platform.settings, view.id, user="alice")
        assert outcome.status == "executed", outcome.message
        lists, _counts = shop_floor(platform)
        (record,) = lists
        assert record.status == "active" and record.external_key == action.action_id

        wait = (proposal.measure_until - datetime.now(UTC)).total_seconds()
        done = await eventually(
            lambda: verified(platform, view.id), within=wait + 40, what="the measured saving"
        )
        assert done.realized_amount is not None and done.realized_amount > Decimal(0)
        (line,) = [s for s in platform.ledger.savings_by_proposal() if s.proposal_id == view.id]
        assert line.realized_amount == done.realized_amount and line.status == "verified"

    # The shop ran each machine's operations in the list's order, once each.
    _lists, counts = shop_floor(platform)
    assert len(counts) == len(action.entries)
    listed: dict[str, list[str]] = {}
    for entry in sorted(action.entries, key=lambda e: e.start):
        listed.setdefault(entry.equipment_id, []).append(entry.work_order_id)
    ran: dict[str, list[str]] = {}
    for count in counts:
        ran.setdefault(count.equipment_id, []).append(count.work_order_id or "")
    assert ran == listed
    assert min(c.start for c in counts) >= proposal.baseline.start - timedelta(seconds=1)
