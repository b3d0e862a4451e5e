"""The reorder agent on crafted MES data: the requisition and its numbers from inventory.py, the
skips, one proposal per reorder cycle, and the realized saving against the current policy."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from factory_agents.actions import PurchaseRequisition
from factory_agents.agent import AgentInput, PlantReading, VerificationWindow
from factory_agents.catalog.supply_chain.inventory import (
    ContinuousReviewModel,
    ReorderPointPolicy,
    compare_policies,
    lead_time_demand,
    optimal_reorder_policy,
)
from factory_agents.catalog.supply_chain.reorder_agent import ReorderAgent
from factory_agents.catalog.supply_chain.reorder_config import (
    FILM_MATERIAL,
    FILM_SUPPLIER,
    ReorderConfig,
)
from factory_agents.isa95 import (
    InventoryPosition,
    Lot,
    LotStatus,
    Material,
    MaterialConsumption,
    MesData,
    PurchaseOrder,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CFG = ReorderConfig()
FILM = CFG.materials[0]
LEADS = (20.0, 23.0, 17.0, 21.0, 19.0, 22.0)


def plant(
    *, on_hand: float = 240.0, periods: int = 30, requested: bool = False, now: datetime = NOW
) -> MesData:
    """Film consumed once a second (about 10 m), six orders received, one lot on hand."""
    rng = random.Random(5)
    used = [
        MaterialConsumption(
            material_id=FILM_MATERIAL,
            lot_id="L-OLD",
            quantity=round(max(0.0, rng.gauss(10, 3)), 1),
            unit="m",
            at=now - timedelta(seconds=s),
        )
        for s in range(periods * 5, 0, -1)
    ]
    orders = [
        PurchaseOrder(
            id=f"PO-{k}",
            material_id=FILM_MATERIAL,
            supplier_id=FILM_SUPPLIER,
            quantity=400,
            unit="m",
            status="received",
            ordered_at=now - timedelta(seconds=60 * k + 100),
            expected_at=now - timedelta(seconds=60 * k + 100 - lead),
            received_at=now - timedelta(seconds=60 * k + 100 - lead),
        )
        for k, lead in enumerate(LEADS, start=1)
    ]
    if requested:
        orders.append(
            PurchaseOrder(
                id="PR-1",
                material_id=FILM_MATERIAL,
                supplier_id=FILM_SUPPLIER,
                quantity=300,
                unit="m",
                status="requested",
                ordered_at=now - timedelta(seconds=3),
                expected_at=now + timedelta(seconds=20),
            )
        )
    lot = Lot(
        id="L-1",
        material_id=FILM_MATERIAL,
        quantity=on_hand,
        unit="m",
        status=LotStatus.RELEASED,
        supplier=FILM_SUPPLIER,
        created_at=now - timedelta(hours=3),
    )
    return MesData(
        materials=(
            Material(
                id=FILM_MATERIAL, name="film", kind="packaging", unit="m", unit_cost=Decimal("0.35")
            ),
        ),
        lots=(lot,),
        inventory=(
            InventoryPosition(
                material_id=FILM_MATERIAL,
                lot_id="L-1",
                location="store",
                quantity=on_hand,
                unit="m",
                updated_at=now,
            ),
        ),
        consumption=tuple(used),
        purchase_orders=tuple(orders),
    )


@pytest.fixture
def agent() -> ReorderAgent:
    return ReorderAgent(CFG)


def test_a_position_at_the_reorder_point_gets_a_requisition_priced_by_compare_policies(
    agent: ReorderAgent,
) -> None:
    out = agent.analyze(AgentInput(now=NOW, mes=plant()))
    (proposal,) = out.proposals
    action = proposal.action
    assert isinstance(action, PurchaseRequisition) and action.supplier == FILM_SUPPLIER
    inputs = proposal.estimated_saving.inputs
    d, sd = inputs["demand_per_period"], None
    assert 40 < d < 60, "about 5 bookings of 10 m per 5 s period"
    lead_periods = inputs["lead_time_mean_hours"] * 3600 / CFG.period_seconds
    assert lead_periods == pytest.approx(sum(LEADS) / len(LEADS) / 5)
    ltd = lead_time_demand(d, 0.0, lead_periods)
    assert inputs["lead_time_demand_mean"] == pytest.approx(ltd.mean)
    ltd = lead_time_demand(
        d,
        (inputs["lead_time_demand_std"] ** 2 - d * d * (inputs["lead_time_std_hours"] * 720) ** 2)
        ** 0.5
        / lead_periods**0.5,
        lead_periods,
        inputs["lead_time_std_hours"] * 720,
    )
    model = ContinuousReviewModel(
        annual_demand=d * 8760 * 720,
        lead_time_demand=ltd,
        ordering_cost=FILM.ordering_cost,
        holding_cost_per_unit_year=FILM.holding_cost_per_unit_hour * 8760,
        shortage_cost_per_unit=FILM.shortage_cost_per_unit,
        unit=FILM_MATERIAL,
    )
    best = optimal_reorder_policy(model)
    assert inputs["recommended_reorder_point"] == pytest.approx(best.reorder_point, abs=1.01)
    assert inputs["recommended_order_quantity"] == pytest.approx(best.order_quantity, abs=1.01)
    assert inputs["recommended_reorder_point"] > FILM.current_reorder_point, "safety stock"
    compared = compare_policies(
        ReorderPointPolicy(FILM.current_reorder_point, FILM.current_order_quantity),
        ReorderPointPolicy(
            inputs["recommended_reorder_point"], inputs["recommended_order_quantity"]
        ),
        model,
    )
    per_hour = float(compared.saving) / 8760 * CFG.horizon_hours
    assert float(proposal.estimated_saving.amount) == pytest.approx(per_hour, rel=0.01)
    assert proposal.estimated_saving.amount > 0 and sd is None
    assert action.quantity == inputs["recommended_order_quantity"]
    assert proposal.measure_until is not None and proposal.measure_until > action.need_by > NOW
    again = agent.analyze(AgentInput(now=NOW + timedelta(seconds=2), mes=plant(now=NOW)))
    assert again.proposals[0].proposal_id == proposal.proposal_id, "same cycle, same proposal"


def test_a_position_above_the_reorder_point_gets_none(agent: ReorderAgent) -> None:
    out = agent.analyze(AgentInput(now=NOW, mes=plant(on_hand=600.0)))
    assert out.proposals == [] and not out.skipped


@pytest.mark.parametrize(
    ("mes", "now", "reason"),
    [
        (plant(periods=6), NOW, "short_demand_history"),
        (plant(requested=True), NOW, "requisition_open"),
        (plant(), NOW + timedelta(minutes=5), "stale_consumption"),
        (MesData(), NOW, "unknown_material"),
    ],
)
def test_bad_or_uncertain_data_is_skipped_with_a_reason(
    agent: ReorderAgent, mes: MesData, now: datetime, reason: str
) -> None:
    out = agent.analyze(AgentInput(now=now, mes=mes))
    assert out.proposals == [] and reason in out.skipped


def test_too_few_received_orders_leave_the_lead_time_uncertain(agent: ReorderAgent) -> None:
    mes = plant()
    mes = mes.model_copy(update={"purchase_orders": mes.purchase_orders[:3]})
    out = agent.analyze(AgentInput(now=NOW, mes=mes))
    assert out.proposals == [] and "uncertain_lead_time" in out.skipped


def test_the_realized_saving_counts_the_shortage_the_current_policy_would_have_had(
    agent: ReorderAgent,
) -> None:
    (proposal,) = agent.analyze(AgentInput(now=NOW, mes=plant())).proposals
    action = proposal.action
    assert isinstance(action, PurchaseRequisition)
    start, end = NOW + timedelta(seconds=1), NOW + timedelta(seconds=61)
    lead = timedelta(hours=proposal.estimated_saving.inputs["lead_time_mean_hours"])
    # 10 m every second from 240 m; the requisition arrives after the mean lead time
    arrival = start + lead
    used = []
    for s in range(1, 61):
        at = start + timedelta(seconds=s)
        used.append(
            MaterialConsumption(
                material_id=FILM_MATERIAL,
                lot_id="L-1" if s * 10 <= 240 else "L-NEW",
                quantity=10.0,
                unit="m",
                at=at,
            )
        )
    received = 600.0 - 240.0
    new_lot = Lot(
        id="L-NEW",
        material_id=FILM_MATERIAL,
        quantity=action.quantity - received,
        unit="m",
        status=LotStatus.RELEASED,
        supplier=FILM_SUPPLIER,
        created_at=arrival,
    )
    old_lot = Lot(
        id="L-1",
        material_id=FILM_MATERIAL,
        quantity=0.0,
        unit="m",
        status=LotStatus.CONSUMED,
        supplier=FILM_SUPPLIER,
        created_at=NOW - timedelta(hours=3),
    )
    mes = MesData(
        lots=(old_lot, new_lot),
        inventory=(
            InventoryPosition(
                material_id=FILM_MATERIAL,
                lot_id="L-NEW",
                location="store",
                quantity=action.quantity - received,
                unit="m",
                updated_at=end,
            ),
        ),
        consumption=tuple(used),
    )
    window = VerificationWindow(
        before=PlantReading(values={}, at=start),
        after=PlantReading(values={}, at=end),
        data=AgentInput(now=end, mes=mes),
    )
    realized = agent.measure(proposal, window)
    assert realized.metric_after == 0, "the requisition came in time: nothing short"
    assert "requisition received" in realized.method
    assert realized.units == 600
    # without it, the current policy orders at 200 m (t = 4 s) and its order lands 20 s later:
    # demand from t = 25 s on is short → the counterfactual pays shortages the window did not
    assert "counterfactual" in realized.method and realized.amount > 0
