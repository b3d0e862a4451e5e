"""Rescheduling in the closed loop: the tool room's mill breaks down mid-batch (its PackML state
over OPC UA, a downtime event in the MES); the agent repairs the plan, "alice" (site1) approves
the re-optimised dispatch list, the MES publishes it, the shop follows it after the repair, and
the orders' completions measure the tardiness it saved against keeping the plan (right-shift).

The simulator runs the breakdown scenario alone: nothing else shares the tool room."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.mes import schema as db
from connectors.mes.sql import mes_engine
from factory_agents.actions import DispatchList
from factory_agents.catalog.scheduling.rescheduling_agent import ReschedulingAgent
from factory_agents.catalog.scheduling.rescheduling_config import ReschedulingConfig
from factory_agents.catalog.scheduling.sequencing_config import SHOP_LINE
from factory_agents.evidence import GanttChart

from .catalog import pending_of, scheduled, verified
from .conftest import Platform
from .helpers import eventually, signed

pytestmark = pytest.mark.e2e
AGENT = "rescheduling"
CONFIG = ReschedulingConfig(time_unit_seconds=1, min_saving=Decimal("0.05"), time_limit_seconds=2)


@pytest.fixture
def simulator_scenarios() -> tuple[str, ...]:
    """The tool room and its breakdown, alone."""
    return ("tool_room_breakdown",)


def dispatch_lists(platform: Platform) -> list[db.DispatchListRecord]:
    """The tool room's dispatch lists in the MES."""
    engine = mes_engine(platform.settings.mes_url)
    try:
        with Session(engine) as session:
            query = select(db.DispatchListRecord).where(db.DispatchListRecord.line_id == SHOP_LINE)
            return list(session.scalars(query))
    finally:
        engine.dispose()


async def test_a_breakdown_gets_a_repaired_dispatch_list_and_its_saving_is_measured(
    platform: Platform,
) -> None:
    platform.activities.agents[AGENT] = ReschedulingAgent(CONFIG)
    async with scheduled(platform, AGENT):
        view = await eventually(
            lambda: pending_of(platform, AGENT), within=60, what="a repaired dispatch list"
        )
        proposal = view.proposal
        action = proposal.action
        assert isinstance(action, DispatchList) and action.line_id == SHOP_LINE
        chart = proposal.evidence
        assert isinstance(chart, GanttChart) and any(t.moved for t in chart.proposed)
        inputs = proposal.estimated_saving.inputs
        objective = CONFIG.objective
        assert inputs[f"proposed_{objective}"] < inputs[f"right_shift_{objective}"]
        assert view.estimated_amount >= CONFIG.min_saving
        assert proposal.measure_until is not None

        outcome = await signed(platform.settings, view.id, user="alice")
        assert outcome.status == "executed", outcome.message
        (record,) = dispatch_lists(platform)
        assert record.status == "active" and record.external_key == action.action_id

        wait = (proposal.measure_until - datetime.now(UTC)).total_seconds()
        done = await eventually(
            lambda: verified(platform, view.id), within=wait + 40, what="the measured saving"
        )
    assert done.realized_amount is not None and done.realized_amount > Decimal(0)
    (line,) = [s for s in platform.ledger.savings_by_proposal() if s.proposal_id == view.id]
    assert line.realized_amount == done.realized_amount and line.status == "verified"
