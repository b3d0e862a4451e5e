"""The tool room scenario: seeded orders planned first come first served, executed by the plan in
force, a published dispatch list followed in its order, completions recorded, a state resumed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from connectors.mes import schema as db
from connectors.mes.sql import SqlMes, mes_engine
from connectors.simulator.mes import seed_mes
from connectors.simulator.scenarios.toolroom import LEAD, ToolRoom, draw_orders
from factory_agents.actions import DispatchList
from factory_agents.agent import AgentInput, PlantReading, VerificationWindow
from factory_agents.catalog.scheduling.sequencing_agent import SequencingAgent
from factory_agents.catalog.scheduling.sequencing_config import SHOP_LINE, SequencingConfig

T0 = datetime(2026, 11, 24, 8, 0, 0, tzinfo=UTC)
CONFIG = SequencingConfig(time_unit_seconds=1, min_saving="0.05", time_limit_seconds=2)


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


def run(room: ToolRoom, engine: Engine, start: datetime, seconds: int) -> datetime:
    """MES rounds every second from `start` for `seconds`; the last round's time."""
    now = start
    for tick in range(seconds + 1):
        now = start + timedelta(seconds=tick)
        with Session(engine) as session, session.begin():
            room.mes(session, now)
    return now


def executed(engine: Engine) -> dict[str, list[tuple[str, datetime, datetime]]]:
    """Each machine's counts (order, start, end) in the order they ran."""
    with Session(engine) as session:
        counts = session.scalars(
            select(db.ProductionCount)
            .where(db.ProductionCount.equipment_id.like(f"{SHOP_LINE}.%"))
            .order_by(db.ProductionCount.start)
        )
        runs: dict[str, list[tuple[str, datetime, datetime]]] = {}
        for c in counts:
            runs.setdefault(c.equipment_id, []).append((c.work_order_id or "", c.start, c.end))
        return runs


def planned_order(engine: Engine) -> dict[str, list[str]]:
    """Each machine's orders by planned start."""
    with Session(engine) as session:
        ops = session.scalars(
            select(db.Operation)
            .where(db.Operation.equipment_id.like(f"{SHOP_LINE}.%"))
            .order_by(db.Operation.planned_start)
        )
        plan: dict[str, list[str]] = {}
        for op in ops:
            plan.setdefault(op.equipment_id, []).append(op.work_order_id)
        return plan


def test_the_orders_are_seeded() -> None:
    assert draw_orders(7) == draw_orders(7)
    assert draw_orders(7) != draw_orders(8)
    for order in draw_orders(7):
        assert len({machine for machine, _s in order.route}) == 3
        assert all(2 <= seconds <= 6 for _m, seconds in order.route)


def test_without_a_list_the_shop_runs_the_plan_first_come_first_served(engine: Engine) -> None:
    room = ToolRoom(7)
    run(room, engine, T0, 150)
    runs, plan = executed(engine), planned_order(engine)
    assert {m: [o for o, _s, _e in r] for m, r in runs.items()} == plan
    ids = [o.id for o in draw_orders(7)]
    for machine, orders in plan.items():
        assert orders == [o for o in ids if o in orders], machine  # release order
    durations = {(o.id, machine): seconds for o in draw_orders(7) for machine, seconds in o.route}
    for machine, r in runs.items():
        assert r[0][1] >= T0 + LEAD
        for order, start, end in r:
            took = (end - start).total_seconds() / durations[(order, machine)]
            assert 0.95 <= took <= 1.10
    with Session(engine) as session:
        statuses = {
            o.status
            for o in session.scalars(select(db.WorkOrder).where(db.WorkOrder.line_id == SHOP_LINE))
        }
    assert statuses == {"completed"}


async def test_a_published_list_is_followed_and_its_saving_measured(
    engine: Engine, mes_url: str
) -> None:
    room = ToolRoom(7)
    run(room, engine, T0, 2)
    mes = SqlMes(mes_url, clock=lambda: T0)
    agent = SequencingAgent(CONFIG)
    now = T0 + timedelta(seconds=2)
    try:
        data = await mes.fetch(agent.needs().mes, now - timedelta(hours=1), now)
        out = agent.analyze(AgentInput(now=now, mes=data.model_copy(update={"read_at": now})))
        (proposal,) = out.proposals
        action = proposal.action
        assert isinstance(action, DispatchList)
        await mes.publish_dispatch_list(action)
        end = run(room, engine, now, 100)
        again = await mes.fetch(agent.needs().mes, end - timedelta(hours=1), end)
        done = agent.analyze(AgentInput(now=end, mes=again.model_copy(update={"read_at": end})))
        assert done.skipped == {"nothing_to_sequence": 1}
        window = VerificationWindow(
            before=PlantReading(values={}, at=now),
            after=PlantReading(values={}, at=end),
            data=AgentInput(now=end, mes=await mes.fetch(agent.needs().mes, now, end)),
        )
        realized = agent.measure(proposal, window)
    finally:
        mes.close()
    listed: dict[str, list[str]] = {}
    for entry in sorted(action.entries, key=lambda e: e.start):
        listed.setdefault(entry.equipment_id, []).append(entry.work_order_id)
    assert {m: [o for o, _s, _e in r] for m, r in executed(engine).items()} == listed
    estimated = proposal.estimated_saving.amount
    assert realized.amount > 0
    assert abs(realized.amount - estimated) <= estimated * Decimal("0.2")


def test_a_saved_state_carries_on(engine: Engine, mes_url: str, tmp_path: Path) -> None:
    room = ToolRoom(7)
    run(room, engine, T0, 45)
    resumed = ToolRoom(7)
    resumed.restore(room.state())
    run(resumed, engine, T0 + timedelta(seconds=46), 100)
    runs = executed(engine)
    assert sum(len(r) for r in runs.values()) == 18
    other = mes_engine(f"sqlite:///{tmp_path / 'other.db'}")
    seed_mes(f"sqlite:///{tmp_path / 'other.db'}", seed=7, anchor=T0.replace(hour=0))
    try:
        run(ToolRoom(7), other, T0, 146)
        assert executed(other) == runs
    finally:
        other.dispose()
