"""The defect-burst agent on crafted MES data: holds the released lots of a burst, not others,
and measures the escapes QA's full re-inspection found."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest

from factory_agents.actions import LotHold
from factory_agents.agent import AgentInput, PlantReading, VerificationWindow
from factory_agents.catalog.quality.defect_burst_agent import DefectBurstAgent, DefectBurstConfig
from factory_agents.errors import MeasurementNotReady
from factory_agents.evidence import BarChart
from factory_agents.isa95 import Lot, LotStatus, MesData, QualityResult

from .conftest import NOW

CFG = DefectBurstConfig()
LOT_SECONDS = 60


def plant(*, burst_lots: int, lots: int = 30, held: tuple[str, ...] = (), seed: int = 4) -> MesData:
    """Lots of 600 units a minute, 60 label checks each; the newest `burst_lots` at 25 % bad."""
    rng = random.Random(seed)
    first = NOW - timedelta(seconds=LOT_SECONDS * lots)
    made, results = [], []
    for n in range(lots):
        lot_id, opened = f"FG-L1-{n:05d}", first + timedelta(seconds=LOT_SECONDS * n)
        status = LotStatus.HOLD if lot_id in held else LotStatus.RELEASED
        made.append(
            Lot(
                id=lot_id,
                material_id="FG",
                quantity=600,
                unit="pcs",
                status=status,
                work_order_id="WO-1",
                created_at=opened,
            )
        )
        bad_rate = 0.25 if n >= lots - burst_lots else 0.03
        for k in range(60):
            bad = rng.random() < bad_rate
            results.append(
                QualityResult(
                    id=len(results) + 1,
                    work_order_id="WO-1",
                    lot_id=lot_id,
                    equipment_id="line1.labeler",
                    characteristic=CFG.characteristic,
                    value=2.0 if bad else 0.1,
                    unit="mm",
                    lsl=-1.5,
                    usl=1.5,
                    passed=not bad,
                    sampled_at=opened + timedelta(seconds=k),
                )
            )
    return MesData(lots=tuple(made), quality_results=tuple(results))


@pytest.fixture
def agent() -> DefectBurstAgent:
    return DefectBurstAgent(CFG)


def test_a_clean_line_gets_no_proposal(agent: DefectBurstAgent) -> None:
    out = agent.analyze(AgentInput(now=NOW, mes=plant(burst_lots=0)))
    assert out.proposals == []


def test_a_burst_holds_its_released_lots_and_prices_the_escapes(agent: DefectBurstAgent) -> None:
    out = agent.analyze(AgentInput(now=NOW, mes=plant(burst_lots=3, held=("FG-L1-00029",))))
    (proposal,) = out.proposals
    action = proposal.action
    assert isinstance(action, LotHold)
    assert set(action.lot_ids) == {"FG-L1-00027", "FG-L1-00028"}, "held already: not again"
    assert isinstance(proposal.evidence, BarChart)
    signalling = {b.category for b in proposal.evidence.bars if b.group == "signalling"}
    assert signalling and signalling <= {"FG-L1-00027", "FG-L1-00028", "FG-L1-00029"}
    escapes = proposal.estimated_saving.inputs["expected_escapes"]
    priced = float(proposal.estimated_saving.amount) / float(CFG.cost_per_escape)
    assert priced == pytest.approx(escapes, abs=0.01)
    expected = 2 * 600 * 0.25 * (1 - CFG.detection_probability)
    assert 0.7 * expected < escapes < 1.3 * expected
    # measured no sooner than QA's turnaround on the held lots
    assert proposal.measure_until == NOW + timedelta(seconds=CFG.reinspection_seconds)
    again = agent.analyze(
        AgentInput(now=NOW + timedelta(seconds=20), mes=plant(burst_lots=3, held=("FG-L1-00029",)))
    )
    assert again.proposals[0].proposal_id == proposal.proposal_id, (
        "the same burst, the same proposal"
    )


def test_the_realized_saving_is_what_qa_found_less_what_sampling_catches(
    agent: DefectBurstAgent,
) -> None:
    (proposal,) = agent.analyze(AgentInput(now=NOW, mes=plant(burst_lots=2))).proposals
    assert isinstance(proposal.action, LotHold)
    found = [
        QualityResult(
            id=9000 + i,
            work_order_id="WO-1",
            lot_id=lot,
            equipment_id="line1.labeler",
            characteristic=CFG.reinspection,
            value=value,
            unit="pcs",
            lsl=0,
            usl=0,
            passed=False,
            sampled_at=NOW + timedelta(seconds=5),
        )
        for i, (lot, value) in enumerate(zip(proposal.action.lot_ids, (140.0, 161.0), strict=True))
    ]

    def window(results: list[QualityResult]) -> VerificationWindow:
        return VerificationWindow(
            before=PlantReading(values={}, at=NOW),
            after=PlantReading(values={}, at=NOW + timedelta(seconds=60)),
            data=AgentInput(
                now=NOW + timedelta(seconds=60), mes=MesData(quality_results=tuple(results))
            ),
        )

    realized = agent.measure(proposal, window(found))
    assert realized.units == 301
    missed = 1 - Decimal(str(CFG.detection_probability))
    assert realized.amount == (301 * missed * CFG.cost_per_escape).quantize(Decimal("0.01"))
    with pytest.raises(MeasurementNotReady, match="no re-inspection result yet"):
        agent.measure(proposal, window(found[:1]))
