"""The capper's bearing: features per window, an exponential wear-out, a breakdown that holds the
line, planned stops announced in the MES, and a maintenance order done in the next one."""

from __future__ import annotations

import asyncio
import math
import statistics
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
from connectors.simulator.model import EXECUTE, HELD, Unit
from connectors.simulator.scenarios import default_scenarios
from connectors.simulator.scenarios.base import TagWrite
from connectors.simulator.scenarios.bearing import (
    BEARING_TEMPERATURE,
    DEGRADATION_UNITS,
    FIRST_STOP_SECOND,
    GROWTH_PER_UNIT,
    HEALTHY_RMS,
    REPAIR_SECONDS,
    STOP_PERIOD_SECONDS,
    STOP_SECONDS,
    VIBRATION_RMS,
    WINDOW_UNITS,
    CapperBearing,
)
from connectors.simulator.scenarios.stops import LineStops
from factory_agents import site
from factory_agents.catalog.maintenance.condition_config import ConditionConfig
from factory_agents.catalog.maintenance.condition_data import feature_windows

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
TICK = timedelta(seconds=0.1)
"""Real time per simulated second in these tests (the server at 10x)."""


def moment(unit: Unit) -> datetime:
    """When a unit was made, as the server stamps it: its clock second in real time."""
    return T0 + TICK * unit.second


class Plant:
    """The line, the bearing scenario (and optionally the short stops), and the MES rounds."""

    def __init__(self, seed: int, session: Session | None = None, *, stops: bool = False) -> None:
        self.line = LineModel(seed)
        self.bearing = CapperBearing(seed)
        self.stops = LineStops(seed) if stops else None
        self.session = session
        self.writes: list[TagWrite] = []

    def run(self, seconds: int, batch: int = 10) -> None:
        """Run `seconds` simulated seconds in batches, an MES round every real second."""
        for start in range(0, seconds, batch):
            units = self.line.run(min(batch, seconds - start))
            moments = [moment(u) for u in units]
            if self.stops is not None:
                self.stops.step(self.line, units, moments)
            self.writes += self.bearing.step(self.line, units, moments)
            if self.session is not None and (start // batch) % 10 == 9:
                self.mes_round()

    def mes_round(self) -> None:
        """One MES round at the line's clock, committed."""
        assert self.session is not None
        self.bearing.mes(self.session, T0 + TICK * self.line.clock)
        self.session.commit()

    def values(self, path: str) -> list[float]:
        """Every value published on a tag, in order."""
        return [float(w.value) for w in self.writes if w.path == path]

    def stamps(self, path: str) -> list[datetime]:
        """When each value of a tag was stamped."""
        return [w.at for w in self.writes if w.path == path]


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


def events(session: Session, code: str) -> list[db.DowntimeEvent]:
    """The MES's stops with one reason code, oldest first."""
    return list(
        session.scalars(
            select(db.DowntimeEvent)
            .where(db.DowntimeEvent.reason_code == code)
            .order_by(db.DowntimeEvent.started_at)
        )
    )


def order(session: Session, order_id: str) -> db.MaintenanceOrder:
    found = session.get(db.MaintenanceOrder, order_id)
    assert found is not None, f"no maintenance order {order_id}"
    session.refresh(found)
    return found


def test_the_same_seed_gives_the_same_features_and_a_saved_state_resumes_exactly() -> None:
    a, b = Plant(3), Plant(3)
    a.run(1_500, batch=7)
    b.run(1_500, batch=13)
    assert a.values(VIBRATION_RMS) == b.values(VIBRATION_RMS), "features follow the units made"
    assert CapperBearing(3).onset == a.bearing.onset != CapperBearing(4).onset
    resumed = Plant(3)
    resumed.line = LineModel.resume(a.line.snapshot())
    resumed.bearing.restore(a.bearing.state())
    a.run(4_000)
    resumed.run(4_000)
    assert resumed.writes == a.writes[-len(resumed.writes) :]
    assert len(resumed.writes) > 1_000 and resumed.line.clock == a.line.clock
    assert resumed.bearing.state() == a.bearing.state()


def test_features_are_healthy_then_rise_exponentially_from_the_seeded_onset() -> None:
    plant = Plant(7)
    onset = plant.bearing.onset
    assert 700 <= onset <= 900
    plant.run(onset + 1_000)
    rms = plant.values(VIBRATION_RMS)
    stamps = plant.stamps(VIBRATION_RMS)
    assert len(rms) == (onset + 1_000) // WINDOW_UNITS
    assert plant.stamps(BEARING_TEMPERATURE) == stamps, "the four features share a window's stamp"
    healthy = [math.log(v) for v in rms[: onset // WINDOW_UNITS]]
    assert statistics.fmean(healthy) == pytest.approx(math.log(HEALTHY_RMS), abs=0.01)
    assert statistics.stdev(healthy) == pytest.approx(0.04, rel=0.15)
    # ln v-RMS rises g per unit after the onset: regress it on the unit index
    worn = [(k * WINDOW_UNITS + WINDOW_UNITS - 1, math.log(v)) for k, v in enumerate(rms)]
    worn = [(i, y) for i, y in worn if i > onset]
    slope = statistics.linear_regression([i for i, _ in worn], [y for _, y in worn]).slope
    assert slope == pytest.approx(GROWTH_PER_UNIT, rel=0.05)
    assert HEALTHY_RMS * math.exp(GROWTH_PER_UNIT * DEGRADATION_UNITS) == pytest.approx(
        site.BEARING_FAILURE_RMS_MM_S
    )


def test_without_an_order_the_bearing_seizes_and_holds_the_line_for_its_repair(
    mes: Session,
) -> None:
    plant = Plant(7, mes)
    failure = plant.bearing.failure_index
    while plant.line.produced <= failure:
        plant.run(100)
    assert plant.line.held and plant.line.machine("Capper").state == HELD
    produced = plant.line.produced
    plant.mes_round()
    (broken,) = events(mes, site.BEARING_FAILURE_CODE)
    assert (broken.equipment_id, broken.planned, broken.ended_at) == ("line1.capper", False, None)
    # the worn-out bearing's last windows reach the failure threshold
    assert statistics.fmean(plant.values(VIBRATION_RMS)[-5:]) > 0.9 * site.BEARING_FAILURE_RMS_MM_S
    plant.run(REPAIR_SECONDS + 200)
    assert plant.line.produced - produced <= 200 + 20, "nothing made during the repair"
    assert plant.line.machine("Capper").state == EXECUTE
    plant.mes_round()
    (repaired,) = events(mes, site.BEARING_FAILURE_CODE)
    assert repaired.ended_at is not None
    assert (repaired.ended_at - repaired.started_at) / TICK == pytest.approx(REPAIR_SECONDS, abs=15)
    after = plant.values(VIBRATION_RMS)[-30:]
    assert statistics.fmean(after) == pytest.approx(HEALTHY_RMS, rel=0.05), "a new bearing"


def test_planned_stops_are_announced_in_the_mes_and_held_when_due(mes: Session) -> None:
    plant = Plant(11, mes)
    plant.bearing.onset = 10**9  # a healthy bearing: only the calendar
    plant.run(100)
    first = order(mes, "PS-Line1-0001")
    assert (first.equipment_id, first.status) == ("line1", "planned")
    assert first.due_by == T0 + TICK * FIRST_STOP_SECOND
    plant.run(FIRST_STOP_SECOND - 100 + 50)
    assert plant.line.held
    plant.mes_round()
    assert order(mes, "PS-Line1-0001").status == "in_progress"
    plant.run(STOP_SECONDS + 100)
    plant.mes_round()
    assert order(mes, "PS-Line1-0001").status == "completed"
    (planned,) = events(mes, site.PLANNED_STOP_CODE)
    assert planned.planned and planned.equipment_id == "line1"
    assert planned.ended_at is not None
    assert (planned.ended_at - planned.started_at) / TICK == pytest.approx(STOP_SECONDS, abs=10)
    second = order(mes, "PS-Line1-0002")
    assert second.status == "planned"
    assert second.due_by == pytest.approx(
        T0 + TICK * (FIRST_STOP_SECOND + STOP_PERIOD_SECONDS), abs=TICK * 10
    )
    assert events(mes, site.PLANNED_MAINTENANCE_CODE) == [], "no order: no job in the stop"


def test_an_open_order_is_done_in_the_next_planned_stop_and_the_failure_never_comes(
    mes: Session,
) -> None:
    plant = Plant(7, mes)
    plant.run(plant.bearing.onset + 600)
    assert not plant.bearing.replaced
    mes.add(
        db.MaintenanceOrder(
            id="MWO-00001", equipment_id="line1.capper", description="Replace the bearing",
            due_by=order(mes, "PS-Line1-0001").due_by, priority=2, status="open",
            created_at=T0 + TICK * plant.line.clock, external_key="a-1",
        )
    )  # fmt: skip
    mes.commit()
    plant.run(FIRST_STOP_SECOND + STOP_SECONDS + 200 - plant.line.clock)
    plant.mes_round()
    assert plant.bearing.replaced
    (job,) = events(mes, site.PLANNED_MAINTENANCE_CODE)
    assert (job.equipment_id, job.planned) == ("line1.capper", True)
    assert "MWO-00001" in job.reason and job.ended_at is not None
    assert order(mes, "MWO-00001").status == "completed"
    worn_before = plant.values(VIBRATION_RMS)
    plant.run(3_000)
    plant.mes_round()
    assert plant.line.produced > plant.bearing.failure_index, "past the unit it would have seized"
    assert events(mes, site.BEARING_FAILURE_CODE) == []
    new = plant.values(VIBRATION_RMS)[len(worn_before) :]
    assert statistics.fmean(new) == pytest.approx(HEALTHY_RMS, rel=0.05)


def test_mes_writes_lost_with_a_rolled_back_round_are_made_again(mes: Session) -> None:
    plant = Plant(7, mes)
    plant.run(50)
    plant.bearing.mes(mes, T0)
    mes.rollback()  # the round's transaction failed: nothing was written
    assert mes.get(db.MaintenanceOrder, "PS-Line1-0001") is None
    plant.mes_round()
    plant.mes_round()
    assert order(mes, "PS-Line1-0001").status == "planned"
    assert plant.bearing.state()["unwritten"] == [], "seen written, then forgotten"


def test_jams_and_empty_feeders_stop_the_line_alongside_the_bearing_story(mes: Session) -> None:
    plant = Plant(7, mes, stops=True)
    plant.run(6_000)
    plant.mes_round()
    assert plant.line.clock - plant.line.produced > STOP_SECONDS + REPAIR_SECONDS
    (broken,) = events(mes, site.BEARING_FAILURE_CODE)
    assert broken.ended_at is not None
    assert order(mes, "PS-Line1-0001").status == "completed"
    assert len(plant.values(VIBRATION_RMS)) == plant.line.produced // WINDOW_UNITS


async def test_the_simulator_serves_the_bearing_features_and_announces_its_planned_stops(
    free_endpoint: Callable[[], str], tmp_path: Path
) -> None:
    mes_url = f"sqlite:///{tmp_path / 'mes.db'}"
    config = SimulatorConfig(endpoint=free_endpoint(), speed=100, seed=2, mes_url=mes_url)
    tags = ConditionConfig().features
    async with PlantSimulator(config) as plant, OpcUaConnector(plant.endpoint) as connector:
        for _ in range(60):  # at most 30 s: a loaded machine runs the simulator late
            await asyncio.sleep(0.5)
            now = datetime.now(UTC)
            # windows stamped in the last second may still be on their way into the history
            start, end = now - timedelta(minutes=1), now - timedelta(seconds=1)
            series = {tag: await connector.history(tag, start, end) for tag in tags.values()}
            found = feature_windows(series, tags, now)
            if len(found.accepted) >= 30:
                break
    assert len(found.accepted) >= 30
    assert all(1.2 < w.values["v_rms"] < 2.6 for w in found.accepted)
    # each tag's initial value (node creation) stands alone: refused, never judged
    assert [r.reason for r in found.refused] == ["incomplete"] * len(found.refused)
    assert len(found.refused) <= len(tags)
    engine = mes_engine(mes_url)
    with Session(engine) as session:
        stop = session.get(db.MaintenanceOrder, "PS-Line1-0001")
        assert stop is not None and stop.status == "planned" and stop.due_by > now
    engine.dispose()
    assert "capper_bearing" in [s.name for s in default_scenarios(1)]
