"""Holding the line and the short-stops scenario: no unit is made while a stop lasts, and every
stop lands in the MES with its reason, machine and times."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.mes import schema as db
from connectors.mes.sql import mes_engine
from connectors.opcua import OpcUaConnector
from connectors.simulator import LineModel, PlantSimulator, SimulatorConfig
from connectors.simulator.mes import seed_mes
from connectors.simulator.model import EXECUTE, HELD, SUSPENDED, Unit
from connectors.simulator.scenarios.stops import CAP_FEEDER_EMPTY, LABEL_JAM, LineStops
from connectors.simulator.state import LineState
from factory_agents import site

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
TICK = timedelta(seconds=0.1)
"""Real time per simulated second in these tests (the server at 10x)."""


def moment(unit: Unit) -> datetime:
    """When a unit was made, as the server stamps it: its clock second in real time."""
    return T0 + TICK * unit.second


def drive(stops: LineStops, line: LineModel, seconds: int, batch: int = 10) -> list[Unit]:
    """Run the line `seconds` simulated seconds in batches, stepping the scenario after each."""
    made: list[Unit] = []
    for start in range(0, seconds, batch):
        units = line.run(min(batch, seconds - start))
        stops.step(line, units, [moment(u) for u in units])
        made += units
    return made


@pytest.fixture
def mes(tmp_path: Path) -> Iterator[Session]:
    """A seeded simulated MES, its seeded stops removed so only the scenario's remain."""
    url = f"sqlite:///{tmp_path / 'mes.db'}"
    seed_mes(url, seed=7, anchor=T0.replace(hour=0))
    engine = mes_engine(url)
    with Session(engine) as session:
        session.query(db.DowntimeEvent).delete()
        session.commit()
        yield session
    engine.dispose()


def events(session: Session) -> list[db.DowntimeEvent]:
    """The MES's stops, oldest first."""
    return list(session.scalars(select(db.DowntimeEvent).order_by(db.DowntimeEvent.started_at)))


def held_seconds(event: db.DowntimeEvent) -> float:
    """How many simulated seconds a closed stop lasted."""
    assert event.ended_at is not None, f"stop {event.id} is still open"
    return (event.ended_at - event.started_at) / TICK


# The line model's holds


def test_a_held_line_makes_no_unit_and_its_clock_goes_on() -> None:
    held, free = LineModel(3), LineModel(3)
    held.hold(3, after_units=4, machine="Labeler")
    units = held.run(10)
    assert [u.second for u in units] == [0, 1, 2, 3, 7, 8, 9]
    assert [u.index for u in units] == list(range(7))
    assert held.clock == 10 and held.produced == 7 == held.good + held.scrap
    # The stop does not change which units are made, only when.
    assert [u.fill_weight for u in units] == [u.fill_weight for u in free.produce(7)]
    assert held.machine("Filler").energy_kwh == pytest.approx(free.machine("Filler").energy_kwh)


def test_machines_report_held_and_suspended_while_stopped() -> None:
    line = LineModel(3)
    line.hold(5, machine="Labeler")
    line.run(2)
    assert line.held
    states = {m.name: (m.state, m.speed) for m in line.machines()}
    assert states == {
        "Filler": (SUSPENDED, 0.0),
        "Capper": (SUSPENDED, 0.0),
        "Labeler": (HELD, 0.0),
    }
    line.run(3)
    assert not line.held
    assert {m.state for m in line.machines()} == {EXECUTE}
    assert line.produced == 0 and line.clock == 5
    assert len(line.run(1)) == 1


def test_overlapping_holds_end_with_the_longest() -> None:
    line = LineModel(3)
    line.hold(4, after_units=2, machine="Labeler")
    line.hold(9, after_units=2, machine="Capper")
    units = line.run(15)
    assert [u.second for u in units] == [0, 1, 11, 12, 13, 14]


def test_a_hold_resumes_after_a_restart_exactly() -> None:
    line = LineModel(4)
    line.hold(6, after_units=3, machine="Capper")
    line.hold(2, after_units=20, machine="Labeler")
    line.run(5)  # 3 units, then 2 of 6 held seconds
    saved = LineState.model_validate_json(line.snapshot().model_dump_json())
    resumed = LineModel.resume(saved)
    assert resumed.machine("Capper").state == HELD
    assert resumed.run(40) == line.run(40)
    assert resumed.clock == line.clock == 45


def test_old_state_files_resume_with_the_clock_at_the_units_made() -> None:
    line = LineModel(4)
    line.run(30)
    old = line.snapshot().model_dump(exclude={"clock", "holds", "held"})
    resumed = LineModel.resume(LineState.model_validate(old))
    assert resumed.clock == 30 and not resumed.held


def test_holds_are_whole_seconds_on_a_known_machine() -> None:
    line = LineModel(1)
    with pytest.raises(ValueError, match="whole number of seconds"):
        line.hold(0, machine="Filler")
    with pytest.raises(KeyError, match="unknown machine"):
        line.hold(5, machine="Palletizer")
    with pytest.raises(ValueError, match="negative"):
        line.run(-1)


# The short-stops scenario


def test_stops_come_at_their_seeded_units_however_the_line_is_stepped() -> None:
    a, line_a = LineStops(7), LineModel(7)
    b, line_b = LineStops(7), LineModel(7)
    first_jam = a.planned("DT-JAM")
    units_a = drive(a, line_a, 3_000, batch=7)
    units_b = drive(b, line_b, 3_000, batch=23)
    assert [u.second for u in units_a] == [u.second for u in units_b]
    # The first jam stops the line right after its unit, for its seeded length.
    after, seconds = first_jam
    assert 240 <= after <= 420 and 40 <= seconds <= 70
    assert units_a[after].second - units_a[after - 1].second == seconds + 1
    assert LineStops(8).planned("DT-JAM") != first_jam


def test_every_stop_is_in_the_mes_with_its_reason_and_the_line_made_nothing_meanwhile(
    mes: Session,
) -> None:
    stops, line = LineStops(7), LineModel(7)
    units = drive(stops, line, 12_000)  # 200 simulated minutes
    stops.mes(mes, T0)
    mes.commit()
    stops.mes(mes, T0)  # the committed ends are forgotten, nothing written twice
    mes.commit()
    found = events(mes)
    jams = [e for e in found if e.reason_code == "DT-JAM"]
    feeders = [e for e in found if e.reason_code == "DT-CAPF"]
    assert len(jams) + len(feeders) == len(found)
    assert {(e.equipment_id, e.reason, e.planned) for e in jams} == {
        ("line1.labeler", "Label jam at the labeler infeed", False)
    }
    assert {e.equipment_id for e in feeders} == {"line1.capper"}
    # 12,000 s at 240-420 units between jams of 40-70 s: 26 to 44 jams; feeders 4 to 7
    assert 26 <= len(jams) <= 44 and 4 <= len(feeders) <= 8
    lengths = {
        code: [held_seconds(e) for e in found if e.reason_code == code]
        for code in ("DT-JAM", "DT-CAPF")
    }
    assert all(40 <= s <= 70 for s in lengths["DT-JAM"]), "recorded as long as the line was held"
    assert all(60 <= s <= 120 for s in lengths["DT-CAPF"])
    assert sum(lengths["DT-JAM"]) > 2 * sum(lengths["DT-CAPF"]), "the jam dominates"
    made_at = [moment(u) for u in units]
    for event in found:
        end = event.started_at + TICK * held_seconds(event)
        assert not any(event.started_at < t < end for t in made_at)
    stopped = sum(held_seconds(e) for e in found)
    assert line.clock - line.produced == pytest.approx(stopped, abs=1e-6)


def test_a_stop_under_way_is_written_open_and_closed_later(mes: Session) -> None:
    stops, line = LineStops(7), LineModel(7)
    after, seconds = stops.planned("DT-JAM")
    drive(stops, line, after + 5, batch=1)
    stops.mes(mes, T0)
    mes.commit()
    (open_stop,) = events(mes)
    assert open_stop.ended_at is None and open_stop.reason_code == "DT-JAM"
    assert line.held and line.machine("Labeler").state == HELD

    resumed, line = LineStops(7), LineModel.resume(line.snapshot())
    resumed.restore(stops.state())
    drive(resumed, line, seconds + 5, batch=1)
    resumed.mes(mes, T0)
    mes.commit()
    (closed,) = events(mes)
    assert closed.id == open_stop.id
    assert closed.ended_at - closed.started_at == TICK * seconds  # type: ignore[operator]


async def test_the_running_simulator_holds_the_line_during_a_recorded_stop(
    free_endpoint: Callable[[], str], tmp_path: Path
) -> None:
    mes_url = f"sqlite:///{tmp_path / 'mes.db'}"
    config = SimulatorConfig(endpoint=free_endpoint(), speed=100, seed=2, mes_url=mes_url)
    engine = mes_engine(mes_url)
    async with PlantSimulator(config) as plant, OpcUaConnector(plant.endpoint) as connector:
        started = datetime.now(UTC)
        deadline = time.monotonic() + 30
        jam: db.DowntimeEvent | None = None
        while jam is None and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            with Session(engine) as session:
                jam = session.scalars(
                    select(db.DowntimeEvent).where(
                        db.DowntimeEvent.reason_code == "DT-JAM",
                        db.DowntimeEvent.ended_at.is_not(None),
                        db.DowntimeEvent.started_at >= started,
                    )
                ).first()
        assert jam is not None and jam.ended_at is not None, "no jam recorded within 30 s"
        weights = await connector.history(
            site.FILL_WEIGHT, jam.started_at - timedelta(seconds=1), jam.ended_at
        )
    engine.dispose()
    made = [s.source_time for s in weights]
    assert any(t <= jam.started_at for t in made), "the line ran before the jam"
    assert not any(jam.started_at < t < jam.ended_at for t in made), "no bottle while jammed"
    # 40-70 simulated seconds at 100x
    assert timedelta(seconds=0.3) <= jam.ended_at - jam.started_at <= timedelta(seconds=1.0)


def test_the_patterns_use_the_mes_reasons() -> None:
    assert LABEL_JAM.reason == "Label jam at the labeler infeed"
    assert CAP_FEEDER_EMPTY.reason == "Cap feeder empty"
