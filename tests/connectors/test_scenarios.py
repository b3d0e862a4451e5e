"""The simulator's scenarios: deterministic for a seed, answering the platform's actions, and
writing the MES a running line writes (counts, consumption, lots, checks, re-inspections)."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.mes import schema as db
from connectors.mes.sql import mes_engine
from connectors.opcua import OpcUaConnector
from connectors.simulator import LineModel, PlantSimulator, SimulatorConfig
from connectors.simulator.mes import seed_mes
from connectors.simulator.scenarios import default_scenarios
from connectors.simulator.scenarios.labels import LOT_UNITS, SAMPLE_EVERY, LabelerDefects
from connectors.simulator.scenarios.production import FLUSH_UNITS, LineProduction
from connectors.simulator.scenarios.torque import BIAS, TORQUE_SETPOINT, CapperTorque
from factory_agents import site
from factory_agents.agent import SetpointChange
from factory_agents.site import LABEL_CHARACTERISTIC, LABEL_REINSPECTION

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def run(
    scenario: CapperTorque | LabelerDefects | LineProduction, line: LineModel, units: int
) -> list[float]:
    """Make `units` units one per 0.1 s; the torques published (for the torque scenario)."""
    made = line.produce(units)
    start = T0 + timedelta(seconds=0.1 * (made[0].index if made else 0))
    moments = [start + timedelta(seconds=0.1 * i) for i in range(len(made))]
    writes = scenario.step(line, made, moments)
    return [float(w.value) for w in writes if w.path.endswith("Capper.Torque")]


@pytest.fixture
def mes(tmp_path: Path) -> Iterator[Session]:
    """A seeded simulated MES."""
    url = f"sqlite:///{tmp_path / 'mes.db'}"
    seed_mes(url, seed=7, anchor=T0.replace(hour=0))
    engine = mes_engine(url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_the_same_seed_gives_the_same_torques_and_labels_and_a_state_resumes() -> None:
    a, b = CapperTorque(3), CapperTorque(3)
    la, lb = LineModel(3), LineModel(3)
    assert run(a, la, 500) == run(b, lb, 500)
    resumed = CapperTorque(3)
    resumed.restore(a.state())
    lc = LineModel.resume(la.snapshot())
    assert run(a, la, 300) == run(resumed, lc, 300)


def test_a_worn_clutch_shifts_torque_and_a_lower_setpoint_recentres_it() -> None:
    torque, line = CapperTorque(5), LineModel(5)
    before = run(torque, line, torque.wear_start - 1)
    worn = run(torque, line, 2_000)[200:]
    assert statistics.fmean(before) == pytest.approx(site.TORQUE_TARGET, abs=0.02)
    assert statistics.fmean(worn) == pytest.approx(site.TORQUE_TARGET + BIAS, abs=0.02)
    reworked_while_worn = torque.reworked
    assert reworked_while_worn > 0.005 * 1_800  # about 1.2 % expected (z = 0.18 / 0.08)
    assert torque.write(TORQUE_SETPOINT, site.TORQUE_TARGET - BIAS)
    corrected = run(torque, line, 2_000)
    assert statistics.fmean(corrected) == pytest.approx(site.TORQUE_TARGET, abs=0.02)
    assert torque.reworked - reworked_while_worn < 0.002 * 2_000
    assert not torque.write(TORQUE_SETPOINT, float("nan"))
    assert not torque.write("Line1.Capper.Speed", 1.0)


def test_labels_are_checked_per_lot_and_qa_reinspects_held_lots(mes: Session) -> None:
    labels, line = LabelerDefects(7), LineModel(7)
    run(labels, line, labels.fault_end + LOT_UNITS)
    labels.mes(mes, T0)
    mes.commit()
    lots = mes.scalars(select(db.Lot).where(db.Lot.id.like("FG-L1-%")).order_by(db.Lot.id)).all()
    closed = [lot for lot in lots if lot.quantity == LOT_UNITS]
    assert len(closed) >= labels.fault_end // LOT_UNITS - 2
    checks = mes.scalars(
        select(db.QualityResult).where(
            db.QualityResult.characteristic == LABEL_CHARACTERISTIC,
            db.QualityResult.lot_id == closed[0].id,
        )
    ).all()
    assert len(checks) == LOT_UNITS // SAMPLE_EVERY
    worst = max(closed, key=lambda lot: labels.bad_labels.get(lot.id, 0))
    assert labels.bad_labels[worst.id] > 0.15 * LOT_UNITS, "the nozzle fault shows in its lots"

    worst.status = "hold"
    mes.commit()
    labels.mes(mes, T0 + timedelta(minutes=1))
    mes.commit()
    (found,) = mes.scalars(
        select(db.QualityResult).where(db.QualityResult.characteristic == LABEL_REINSPECTION)
    ).all()
    assert (found.lot_id, found.value) == (worst.id, labels.bad_labels[worst.id])
    assert mes.get(db.Lot, worst.id).status == "released"  # type: ignore[union-attr]


def test_production_counts_consume_material_first_in_first_out(mes: Session) -> None:
    production, line = LineProduction(7), LineModel(7)
    caps_before = mes.scalars(
        select(db.Lot)
        .where(db.Lot.material_id == "RM-CAP-28", db.Lot.status == "released")
        .order_by(db.Lot.created_at, db.Lot.id)
    ).all()
    oldest_before = caps_before[0].quantity
    run(production, line, FLUSH_UNITS)
    production.mes(mes, T0)
    mes.commit()
    (count,) = mes.scalars(select(db.ProductionCount)).all()
    assert count.good + count.scrap == FLUSH_UNITS == line.produced
    order = mes.get(db.WorkOrder, count.work_order_id)
    assert order is not None and order.status == "running"
    caps = mes.scalar(
        select(func.sum(db.MaterialConsumption.quantity)).where(
            db.MaterialConsumption.material_id == "RM-CAP-28"
        )
    )
    assert caps == FLUSH_UNITS
    assert mes.get(db.Lot, caps_before[0].id).quantity == oldest_before - FLUSH_UNITS  # type: ignore[union-attr]


async def production_counted(mes_url: str, within: float) -> bool:
    """Whether the running simulator writes a production count to its MES within `within` s."""
    engine = mes_engine(mes_url)
    try:
        for _ in range(int(within / 0.25)):
            with Session(engine) as session:
                if session.scalar(select(func.count()).select_from(db.ProductionCount)):
                    return True
            await asyncio.sleep(0.25)
        return False
    finally:
        engine.dispose()


async def test_the_simulator_serves_scenario_tags_and_takes_their_setpoints(
    free_endpoint: Callable[[], str], tmp_path: Path
) -> None:
    mes_url = f"sqlite:///{tmp_path / 'mes.db'}"
    config = SimulatorConfig(endpoint=free_endpoint(), speed=100, seed=2, mes_url=mes_url)
    plant = PlantSimulator(config)
    async with plant, OpcUaConnector(plant.endpoint, policy=site.DEFAULT_POLICY) as connector:
        for _ in range(100):
            (torque,) = await connector.read([site.CAP_TORQUE])
            if torque.quality.value == "good":
                break
            await asyncio.sleep(0.05)
        written = await connector.write_setpoint(
            SetpointChange(
                action_id="a-t",
                node_id=site.CAP_TORQUE_SETPOINT,
                from_value=1.6,
                to_value=1.45,
                unit="N·m",
            )
        )
        assert written.read_back == 1.45
        assert any(
            s.name == "capper_torque" and s.state()["setpoint"] == 1.45
            for s in plant._scenarios.scenarios
        )
        assert await production_counted(mes_url, within=30), "no production count in 30 s"
    assert [s.name for s in default_scenarios(1)] == [
        "production",
        "capper_torque",
        "labeler_defects",
        "line_stops",
        "site_energy",
        "capper_bearing",
        "tool_room",
        "material_replenishment",
        "multipack_shortage",
    ]
