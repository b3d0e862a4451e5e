"""The tool-room breakdown scenario: the mill goes down mid-batch, the agent repairs the plan, the
shop follows the repaired list after the repair, and the saving is measured from completions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from connectors.mes import schema as db
from connectors.mes.sql import SqlMes, mes_engine
from connectors.simulator.mes import seed_mes
from connectors.simulator.scenarios.breakdown import (
    BREAK_AFTER,
    LEAD,
    REPAIR,
    ToolRoomBreakdown,
)
from factory_agents.actions import DispatchList
from factory_agents.agent import AgentInput, PlantReading, VerificationWindow
from factory_agents.catalog.scheduling.rescheduling_agent import ReschedulingAgent
from factory_agents.catalog.scheduling.rescheduling_config import ReschedulingConfig
from factory_agents.plant import Sample
from factory_agents.site import node

T0 = datetime(2026, 11, 24, 8, 0, 0, tzinfo=UTC)
CONFIG = ReschedulingConfig(time_unit_seconds=1, min_saving="0.05", time_limit_seconds=2)


@pytest.fixture
def mes_url(tmp_path: Path) -> str:
    """A seeded simulated MES."""
    url = f"sqlite:///{tmp_path / 'mes.db'}"
    seed_mes(url, seed=7, anchor=T0.replace(hour=0))
    return url


@pytest.fixture
def engine(mes_url: str) -> Iterator[Engine]:
    """The MES's engine."""
    engine = mes_engine(mes_url)
    yield engine
    engine.dispose()


def run(room: ToolRoomBreakdown, engine: Engine, start: datetime, seconds: int) -> list[Sample]:
    """MES rounds every second; the tag samples the scenario published, as the connector would."""
    samples = []
    for tick in range(seconds + 1):
        with Session(engine) as session, session.begin():
            room.mes(session, start + timedelta(seconds=tick))
        for w in room.step(None, [], []):  # type: ignore[arg-type]
            samples.append(Sample(tag=node(w.path), value=float(w.value), source_time=w.at))
    return samples


def agent_input(samples: list[Sample], now: datetime, mes: object) -> AgentInput:
    """The latest sample of each tag as current, all of them as history."""
    current: dict[str, Sample] = {}
    history: dict[str, list[Sample]] = {}
    for s in samples:
        current[s.tag] = s
        history.setdefault(s.tag, []).append(s)
    return AgentInput(now=now, current=current, history=history, mes=mes)  # type: ignore[arg-type]


async def test_the_mill_breaks_the_plan_is_repaired_and_the_list_followed(
    engine: Engine, mes_url: str
) -> None:
    room = ToolRoomBreakdown(7)
    samples = run(room, engine, T0, 0)
    before = T0 + LEAD + BREAK_AFTER - timedelta(seconds=1)
    samples += run(room, engine, T0 + timedelta(seconds=1), 6)
    agent = ReschedulingAgent(CONFIG)
    mes = SqlMes(mes_url, clock=lambda: T0)
    try:
        data = await mes.fetch(agent.needs().mes, before - timedelta(hours=1), before)
        quiet = agent.analyze(
            agent_input(samples, before, data.model_copy(update={"read_at": before}))
        )
        assert quiet.skipped == {"no_breakdown": 1} and not quiet.proposals
        samples += run(room, engine, T0 + timedelta(seconds=8), 3)
        now = T0 + timedelta(seconds=11)
        data = await mes.fetch(agent.needs().mes, now - timedelta(hours=1), now)
        data = data.model_copy(update={"read_at": now})
        out = agent.analyze(agent_input(samples, now, data))
        (proposal,) = out.proposals
        again = agent.analyze(agent_input(samples, now + timedelta(seconds=1), data))
        assert again.proposals[0].proposal_id == proposal.proposal_id  # one id per breakdown
        action = proposal.action
        assert isinstance(action, DispatchList)
        inputs = proposal.estimated_saving.inputs
        assert inputs["proposed_weighted_tardiness"] < inputs["right_shift_weighted_tardiness"]
        assert inputs["up_at"] - inputs["down_at"] >= (REPAIR - timedelta(seconds=4)).seconds
        await mes.publish_dispatch_list(action)
        end = now + timedelta(seconds=80)
        run(room, engine, now + timedelta(seconds=1), 79)
        window = VerificationWindow(
            before=PlantReading(values={}, at=now),
            after=PlantReading(values={}, at=end),
            data=AgentInput(now=end, mes=await mes.fetch(agent.needs().mes, now, end)),
        )
        realized = agent.measure(proposal, window)
    finally:
        mes.close()
    assert realized.amount > 0
    with Session(engine) as session:
        mill = sorted(
            session.scalars(
                select(db.ProductionCount).where(db.ProductionCount.equipment_id == "toolroom.mill")
            ),
            key=lambda c: c.start,
        )
        event = session.scalars(
            select(db.DowntimeEvent).where(db.DowntimeEvent.reason_code == "DT-BRK")
        ).one()
    up = (T0 + LEAD + BREAK_AFTER + REPAIR).replace(tzinfo=None)
    assert event.ended_at is not None and event.ended_at.replace(tzinfo=None) == up
    assert all(c.start.replace(tzinfo=None) >= up for c in mill)  # nothing ran while down
