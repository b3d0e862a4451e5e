"""The site's energy scenario: loads run as is without a plan, by the active plan with one, catch
up to meet their deadlines; the site meter counts everything; deterministic and resumable."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from connectors.mes import schema as db
from connectors.mes.sql import mes_engine
from connectors.opcua import OpcUaConnector
from connectors.simulator import LineModel, PlantSimulator, SimulatorConfig
from connectors.simulator.scenarios.base import TagWrite
from connectors.simulator.scenarios.energy import (
    LOADS,
    SITE_ID,
    SITE_METER,
    STANDBY_KW,
    UTILITIES_KW,
    LoadSpec,
    SiteEnergy,
)
from factory_agents.actions import LoadPlan, LoadSlot
from factory_agents.catalog.energy.load_requests import (
    EARLIEST_START,
    ENERGY,
    ENERGY_REQUEST,
    PLANNED,
    POWER,
    from_epoch,
    to_epoch,
)
from factory_agents.site import node

T0 = datetime(2026, 11, 24, 8, 0, 7, tzinfo=UTC)
E0 = datetime(2026, 11, 24, 8, 1, tzinfo=UTC)
"""The first batch's earliest start: the first whole minute at least 30 s after T0."""
MINUTE = timedelta(minutes=1)
AIR, CHILLER, CIP = (spec for spec in LOADS)
SPEED = 50


def drive(
    energy: SiteEnergy,
    line: LineModel,
    start: datetime,
    end: datetime,
    *,
    mes: Session | None = None,
    tick: float = 0.1,
) -> list[TagWrite]:
    """Run the line at 50x from `start` to `end` in ticks, the MES round every second."""
    writes: list[TagWrite] = []
    t, next_mes = start, start
    while t < end:
        t += timedelta(seconds=tick)
        units = line.produce(round(SPEED * tick))
        moments = [
            t - timedelta(seconds=tick * (1 - (i + 1) / len(units))) for i in range(len(units))
        ]
        writes += energy.step(line, units, moments)
        if mes is not None and t >= next_mes:
            energy.mes(mes, t)
            next_mes = t + timedelta(seconds=1)
    return writes


def value(writes: list[TagWrite], path: str, at: datetime) -> float:
    """The tag's value published exactly at `at`."""
    (found,) = [w.value for w in writes if w.path == path and w.at == at]
    return float(found)


def drawn(writes: list[TagWrite], spec: LoadSpec, start: datetime, end: datetime) -> float:
    """kWh the load drew for its requests between two slot boundaries (its standby left out)."""
    metered = value(writes, f"{spec.path}.{ENERGY}", end) - value(
        writes, f"{spec.path}.{ENERGY}", start
    )
    return metered - STANDBY_KW * (end - start).total_seconds() / 3600


def values(writes: list[TagWrite], path: str, start: datetime, end: datetime) -> list[float]:
    """The tag's values published in [start, end)."""
    return [float(w.value) for w in writes if w.path == path and start <= w.at < end]


@pytest.fixture
def mes(tmp_path: Path) -> Iterator[Session]:
    """An empty MES with the reference schema."""
    engine = mes_engine(f"sqlite:///{tmp_path / 'mes.db'}")
    db.MesBase.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def publish(mes: Session, plans: list[LoadPlan], at: datetime, plan_id: str = "LP-1") -> None:
    """A load plan as the platform's MES write leaves it: active, for the site."""
    mes.add(
        db.LoadPlanRecord(
            id=plan_id,
            site_id=SITE_ID,
            plans=[p.model_dump(mode="json") for p in plans],
            status="active",
            published_at=at,
        )
    )
    mes.commit()


def slots(*energies: tuple[datetime, float]) -> tuple[LoadSlot, ...]:
    return tuple(LoadSlot(start=s, end=s + MINUTE, energy_kwh=kwh) for s, kwh in energies)


def test_without_a_plan_each_load_runs_at_full_power_from_its_earliest_start() -> None:
    energy, line = SiteEnergy(7), LineModel(7)
    writes = drive(energy, line, T0, T0 + timedelta(seconds=1))
    requests = {name: r for name, r in energy.requests.items() if r is not None}
    assert set(requests) == {AIR.name, CHILLER.name, CIP.name}
    for request in requests.values():
        assert (request.earliest, request.deadline) == (E0, E0 + 2 * MINUTE)
    assert (
        value(writes, f"{CIP.path}.{ENERGY_REQUEST}", writes[-1].at)
        == requests[CIP.name].energy_kwh
    )
    writes += drive(energy, line, T0 + timedelta(seconds=1), E0 + 3 * MINUTE)
    for spec in LOADS:
        kwh = requests[spec.name].energy_kwh
        assert 0.9 * spec.energy_kwh <= kwh <= 1.1 * spec.energy_kwh
        assert drawn(writes, spec, E0, E0 + MINUTE) == pytest.approx(kwh)
        assert drawn(writes, spec, E0 + MINUTE, E0 + 2 * MINUTE) == pytest.approx(0.0)
        before = [w for w in writes if w.path == f"{spec.path}.{ENERGY}" and w.at < E0]
        standby = STANDBY_KW * (E0 - before[0].at).total_seconds() / 3600
        assert value(writes, f"{spec.path}.{ENERGY}", E0) - float(before[0].value) == pytest.approx(
            standby
        )  # idle until its earliest start: only the controller's standby
        running = values(writes, f"{spec.path}.{POWER}", E0, E0 + timedelta(seconds=20))
        assert running and set(running) == {
            spec.max_power_kw + STANDBY_KW
        }  # all < 1 slot at full power
        assert set(values(writes, f"{spec.path}.{PLANNED}", T0, E0 + 3 * MINUTE)) == {0.0}
        assert set(
            values(writes, f"{spec.path}.{ENERGY_REQUEST}", E0 + MINUTE, E0 + 2 * MINUTE)
        ) == {0.0}  # done: the request is closed
    loads = sum(r.energy_kwh for r in requests.values())
    site = value(writes, SITE_METER, E0 + MINUTE) - value(writes, SITE_METER, E0)
    line_kwh = 12.7 * SPEED / 60  # the machines' 12.7 kW, at 50x, for a real minute
    assert site - loads == pytest.approx(line_kwh + UTILITIES_KW / 60, rel=0.02)


def test_with_a_plan_the_loads_draw_each_slot_what_the_active_plan_gives(mes: Session) -> None:
    energy, line = SiteEnergy(7), LineModel(7)
    writes = drive(energy, line, T0, T0 + timedelta(seconds=5), mes=mes)
    air = energy.requests[AIR.name]
    chiller = energy.requests[CHILLER.name]
    assert air is not None and chiller is not None
    publish(
        mes,
        [
            LoadPlan(load=AIR.name, slots=slots((E0, 0.0), (E0 + MINUTE, air.energy_kwh))),
            LoadPlan(
                load=CHILLER.name,
                slots=slots((E0, chiller.energy_kwh / 2), (E0 + MINUTE, chiller.energy_kwh / 2)),
            ),
        ],
        T0 + timedelta(seconds=5),
    )
    writes += drive(energy, line, T0 + timedelta(seconds=5), E0 + 3 * MINUTE, mes=mes)
    by_slot = {
        spec.name: [drawn(writes, spec, E0 + k * MINUTE, E0 + (k + 1) * MINUTE) for k in (0, 1)]
        for spec in LOADS
    }
    assert by_slot[AIR.name] == pytest.approx([0.0, air.energy_kwh])
    assert by_slot[CHILLER.name] == pytest.approx([chiller.energy_kwh / 2] * 2)
    assert by_slot[CIP.name][1] == pytest.approx(0.0) and by_slot[CIP.name][0] > 4.0  # as is
    half_power = chiller.energy_kwh / 2 * 60 + STANDBY_KW
    power = values(writes, f"{CHILLER.path}.{POWER}", E0 + MINUTE, E0 + 2 * MINUTE)
    assert power and power == pytest.approx([half_power] * len(power))
    assert set(values(writes, f"{AIR.path}.{PLANNED}", T0 + timedelta(seconds=7), E0)) == {1.0}
    assert set(values(writes, f"{CIP.path}.{PLANNED}", T0, E0)) == {0.0}


def test_a_plan_short_of_energy_is_caught_up_at_full_power_before_the_deadline(
    mes: Session,
) -> None:
    energy, line = SiteEnergy(3), LineModel(3)
    drive(energy, line, T0, T0 + timedelta(seconds=2), mes=mes)
    cip = energy.requests[CIP.name]
    assert cip is not None
    publish(mes, [LoadPlan(load=CIP.name, slots=slots((E0, 0.5), (E0 + MINUTE, 0.5)))], T0)
    writes = drive(energy, line, T0 + timedelta(seconds=2), E0 + 3 * MINUTE, mes=mes)
    assert drawn(writes, CIP, E0, E0 + 2 * MINUTE) == pytest.approx(cip.energy_kwh)
    assert CIP.max_power_kw + STANDBY_KW in values(
        writes, f"{CIP.path}.{POWER}", E0, E0 + 2 * MINUTE
    )


def test_batches_repeat_every_four_minutes_announced_ninety_seconds_ahead() -> None:
    energy, line = SiteEnergy(7), LineModel(7)
    writes = drive(energy, line, T0, E0 + 5 * MINUTE)
    announced = values(writes, f"{AIR.path}.{EARLIEST_START}", E0 + 2 * MINUTE, E0 + 5 * MINUTE)
    assert sorted({from_epoch(v) for v in announced if v}) == [E0 + 4 * MINUTE]
    first = next(
        w.at
        for w in writes
        if w.path == f"{AIR.path}.{EARLIEST_START}" and w.value == to_epoch(E0 + 4 * MINUTE)
    )
    announced_at = E0 + 4 * MINUTE - timedelta(seconds=90)
    assert timedelta(0) <= first - announced_at <= timedelta(seconds=1)  # published each second


def test_the_same_seed_gives_the_same_site_and_a_saved_state_carries_on() -> None:
    a, b = SiteEnergy(5), SiteEnergy(5)
    la, lb = LineModel(5), LineModel(5)
    middle = T0 + timedelta(seconds=75)
    assert drive(a, la, T0, middle) == drive(b, lb, T0, middle)
    resumed, lc = SiteEnergy(5), LineModel.resume(la.snapshot())
    resumed.restore(a.state())
    end = E0 + 6 * MINUTE
    assert drive(a, la, middle, end) == drive(resumed, lc, middle, end)
    assert SiteEnergy(6).state()["rng"] != a.state()["rng"]


async def test_the_simulator_serves_the_site_meter_and_the_loads_requests(
    free_endpoint: Callable[[], str], tmp_path: Path
) -> None:
    mes_url = f"sqlite:///{tmp_path / 'mes.db'}"
    config = SimulatorConfig(endpoint=free_endpoint(), speed=SPEED, seed=2, mes_url=mes_url)
    async with PlantSimulator(config) as plant, OpcUaConnector(plant.endpoint) as connector:
        started = datetime.now(UTC)
        await asyncio.sleep(2.5)
        request, earliest = await connector.read(
            [node(f"{CHILLER.path}.{ENERGY_REQUEST}"), node(f"{CHILLER.path}.{EARLIEST_START}")]
        )
        assert 0.9 * CHILLER.energy_kwh <= request.value <= 1.1 * CHILLER.energy_kwh
        assert from_epoch(earliest.value) >= started + timedelta(seconds=29)
        history = await connector.history(
            node(SITE_METER), started, datetime.now(UTC) + timedelta(seconds=1)
        )
        assert len(history) >= 2
        assert all(b.value > a.value for a, b in itertools.pairwise(history))
        browsed, _ = await connector.browse(node("Line1.CipTank"), depth=1)
        assert {n.browse_name for n in browsed} >= {"2:Energy", "2:Deadline", "2:Planned"}
