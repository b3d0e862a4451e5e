"""The load-shift agent in the closed loop: the site's utilities announce their energy requests,
the agent plans them against the tariff and proposes the plan, "bob" approves it, the MES
publishes it, the controllers follow it, and the meters measure what it saved."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.mes import schema as db
from connectors.mes.sql import mes_engine
from connectors.opcua.connector import OpcUaConnector
from factory_agents.actions import LoadShift
from factory_agents.catalog.energy.load_requests import DEADLINE, PLANNED, from_epoch, tag
from factory_agents.catalog.energy.load_shift_agent import LoadShiftAgent, LoadShiftConfig
from factory_agents.evidence import TrendChart

from .catalog import pending_of, scheduled, verified
from .conftest import Platform
from .helpers import eventually, signed

pytestmark = pytest.mark.e2e
AGENT = "load_shift"

CONFIG = LoadShiftConfig(min_history_seconds=10, min_lead_seconds=10)


async def first_batch_deadline(endpoint: str) -> datetime:
    """When the utilities' first requests must be done, as their controllers announce it."""
    deadlines = [tag(controller, DEADLINE) for controller in CONFIG.loads.values()]

    async def announced() -> datetime | None:
        async with OpcUaConnector(endpoint) as plant:
            samples = await plant.read(deadlines)
        if all(s.quality.value == "good" and s.value > 0 for s in samples):
            return max(from_epoch(s.value) for s in samples)
        return None

    for _ in range(20):
        found = await announced()
        if found is not None:
            return found
        await asyncio.sleep(0.5)
    raise AssertionError("the utilities announced no request within 10 s of the plant starting")


def published_plans(platform: Platform) -> list[db.LoadPlanRecord]:
    """The load plans the MES holds."""
    engine = mes_engine(platform.settings.mes_url)
    try:
        with Session(engine) as session:
            return list(session.scalars(select(db.LoadPlanRecord)))
    finally:
        engine.dispose()


async def test_load_shift_plans_the_utilities_and_the_meters_measure_the_saving(
    platform: Platform,
) -> None:
    # Energy runs in real time: one-minute slots and a tariff day compressed into four real
    # minutes, whatever the simulator's speed. The plant starts the first batch of requests at
    # the first whole minute at least 30 s after it starts, so the agent plans with 10 s of
    # meter history and a 10 s lead (its defaults of 60 s suit an engineer approving at 10x).
    platform.activities.agents["load_shift"] = LoadShiftAgent(CONFIG)
    # A plan is measured once its loads' windows have closed: the proposal says until when,
    # far past the platform's verification time (4 s here).
    deadline = await first_batch_deadline(platform.settings.opcua_endpoint)
    wait = (deadline - datetime.now(UTC)).total_seconds() + 5
    async with scheduled(platform, AGENT):
        view = await eventually(lambda: pending_of(platform, AGENT), within=60, what="a load plan")
        action = view.proposal.action
        assert isinstance(action, LoadShift) and action.site_id == "site1"
        assert {plan.load for plan in action.plans} == set(CONFIG.loads)
        for plan in action.plans:
            assert all(slot.end <= deadline for slot in plan.slots)
        last_slot_end = max(slot.end for plan in action.plans for slot in plan.slots)
        assert view.proposal.measure_until == last_slot_end + timedelta(seconds=5)
        assert isinstance(view.proposal.evidence, TrendChart)
        assert {s.name for s in view.proposal.evidence.series} >= {"as is", "planned"}
        assert view.estimated_amount >= CONFIG.min_saving

        outcome = await signed(platform.settings, view.id, user="bob")
        assert outcome.status == "executed", outcome.message
        (record,) = published_plans(platform)
        assert record.status == "active" and record.external_key == action.action_id
        planned = [tag(CONFIG.loads[plan.load], PLANNED) for plan in action.plans]

        async def following() -> bool:
            async with OpcUaConnector(platform.settings.opcua_endpoint) as plant:
                return all(s.value == 1.0 for s in await plant.read(planned))

        for _ in range(10):
            if await following():
                break
            await asyncio.sleep(0.5)
        assert await following(), "the controllers follow the published plan"

        done = await eventually(
            lambda: verified(platform, view.id), within=wait + 60, what="the measured saving"
        )
        assert done.realized_amount is not None and done.realized_amount > Decimal(0)
        estimated = view.estimated_amount
        assert abs(done.realized_amount - estimated) <= estimated * Decimal("0.3") + Decimal("0.05")
        (line,) = [s for s in platform.ledger.savings_by_proposal() if s.proposal_id == view.id]
        assert line.realized_amount == done.realized_amount and line.status == "verified"
    assert datetime.now(UTC) > deadline + timedelta(seconds=1)
