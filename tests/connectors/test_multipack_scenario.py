"""The multipack scenario: the same seed plans the same shortage; without a list the wrapper
waits for the boxes, with the shortage agent's dispatch list published it runs the covered order
first, and the agent measures the lateness avoided from the MES."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.mes import SqlMes
from connectors.mes import schema as db
from connectors.mes.sql import mes_engine
from connectors.simulator import LineModel
from connectors.simulator.mes import seed_mes
from connectors.simulator.scenarios.multipack import LEAD, MultipackShortage
from factory_agents.actions import DispatchList
from factory_agents.agent import AgentInput, PlantReading, Proposal, VerificationWindow
from factory_agents.catalog.supply_chain.shortage_agent import ShortageAgent
from factory_agents.catalog.supply_chain.shortage_config import ShortageConfig

from .test_scenarios import T0

AGENT = ShortageAgent(ShortageConfig())
ROUNDS = 90


class Clock:
    """A clock the test moves, one MES round per second."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def drive(
    tmp_path: Path, name: str, seed: int, act: bool
) -> tuple[dict[str, list[datetime]], Proposal]:
    """Run ROUNDS one-second MES rounds; at round 5 the agent proposes, published if `act`."""
    url = f"sqlite:///{tmp_path / name}"
    seed_mes(url, seed=7, anchor=T0.replace(hour=0))
    engine, clock = mes_engine(url), Clock()
    mes = SqlMes(url, clock=clock)
    scenario, line = MultipackShortage(seed), LineModel(seed)
    proposal: Proposal | None = None
    try:
        for k in range(ROUNDS):
            clock.now = T0 + timedelta(seconds=k)
            with Session(engine) as session, session.begin():
                scenario.step(line, [], [])
                scenario.mes(session, clock.now)
            if k == 5:
                data = await mes.fetch(AGENT.needs().mes, clock.now - timedelta(hours=1), clock.now)
                (proposal,) = AGENT.analyze(AgentInput(now=clock.now, mes=data)).proposals
                if act:
                    assert isinstance(proposal.action, DispatchList)
                    await mes.publish_dispatch_list(proposal.action)
        with Session(engine) as session:
            counts = session.scalars(
                select(db.ProductionCount).where(db.ProductionCount.work_order_id.like("WO-MP-%"))
            ).all()
            runs = {c.work_order_id or "": [c.start, c.end] for c in counts}
            stops = session.scalars(
                select(db.DowntimeEvent).where(db.DowntimeEvent.reason_code == "DT-MAT")
            ).all()
            runs["idle"] = [t for s in stops for t in (s.started_at, s.ended_at) if t is not None]
        assert proposal is not None
        start = T0 + timedelta(seconds=6)
        window = await mes.fetch(AGENT.needs().mes, start, clock.now)
        realized = AGENT.measure(
            proposal,
            VerificationWindow(
                before=PlantReading(values={}, at=start),
                after=PlantReading(values={}, at=clock.now),
                data=AgentInput(now=clock.now, mes=window),
            ),
        )
        runs["realized"] = [T0 + timedelta(seconds=float(realized.amount))]
    finally:
        mes.close()
        engine.dispose()
    return runs, proposal


async def test_the_dispatch_list_runs_the_covered_order_first_and_the_saving_is_measured(
    tmp_path: Path,
) -> None:
    waited, proposal = await drive(tmp_path, "a.db", 3, act=False)
    again, _ = await drive(tmp_path, "b.db", 3, act=False)
    acted, same = await drive(tmp_path, "c.db", 3, act=True)
    assert waited == again and same.proposal_id == proposal.proposal_id
    planned = T0 + LEAD
    arrival = planned + timedelta(seconds=15)
    # Without a list the wrapper waits for the open order, then runs both orders late.
    assert waited["WO-MP-001"][0] == arrival and waited["idle"] == [planned, arrival]
    assert waited["WO-MP-002"][0] == waited["WO-MP-001"][1]
    # With it, the sparkling order runs at the planned start; the still one when its boxes come.
    assert acted["WO-MP-002"][0] == planned and acted["WO-MP-001"][0] == arrival
    assert acted["idle"] == [planned + timedelta(seconds=8), arrival], "WO-MP-001's new start"
    # The agent's estimate: 11 s late each when waiting (22 s), 11 s with the list, at 2 EUR/s.
    assert float(proposal.estimated_saving.amount) == pytest.approx(22.0, abs=0.01)
    # Realized: modelled 22 s against the measured lateness (runs take 0.97-1.03 x planned).
    late_acted = (acted["WO-MP-001"][1] - (planned + timedelta(seconds=16))).total_seconds()
    assert (acted["realized"][0] - T0).total_seconds() == pytest.approx(
        (22.0 - late_acted) * 2, abs=0.02
    )
    late_waited = sum(
        max(0.0, (waited[wo][1] - due).total_seconds())
        for wo, due in (
            ("WO-MP-001", planned + timedelta(seconds=16)),
            ("WO-MP-002", planned + timedelta(seconds=24)),
        )
    )
    assert (waited["realized"][0] - T0).total_seconds() == pytest.approx(
        (22.0 - late_waited) * 2, abs=0.02
    )
