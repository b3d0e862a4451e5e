"""The shortage agent on crafted MES data, in hours: the remedy and its price by hand, the skips,
one proposal id per shortage, and the realized saving from production counts.

The plan: WO-1 (100 x M1) on W from 14:00 to 16:00, due 17:00; WO-2 (50 x M2) from 16:00 to
18:00, due 19:00. M1: 40 released + 30 in quarantine, PO-1 of 200 due 18:00; M2: 80 released.
Waiting: WO-1 runs 18-20 (3 h late), WO-2 20-22 (3 h late): 6 h x 100 EUR/h = 600 EUR.
Resequencing: WO-2 14-16, WO-1 18-20: 3 h late, 300 EUR. Expediting PO-1 to 14:00 (the supplier
can deliver in 2 h): nothing late, but the configured fee.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from factory_agents.actions import Advice, DispatchEntry, DispatchList
from factory_agents.agent import AgentInput, PlantReading, VerificationWindow
from factory_agents.catalog.supply_chain.shortage_agent import ShortageAgent
from factory_agents.catalog.supply_chain.shortage_config import ExpediteTerms, ShortageConfig
from factory_agents.evidence import TrendChart
from factory_agents.isa95 import (
    BomLine,
    InventoryPosition,
    Lot,
    LotStatus,
    Material,
    MesData,
    Operation,
    ProductionCount,
    PurchaseOrder,
    WorkOrder,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def config(fee: str = "500") -> ShortageConfig:
    return ShortageConfig(
        line="L",
        horizon_seconds=12 * 3600,
        tardiness_cost_per_hour=Decimal(100),
        expedite=(
            ExpediteTerms(supplier="acme", fastest_seconds=7200, cost_per_order=Decimal(fee)),
        ),
        overdue_grace_seconds=600,
    )


def lot(lot_id: str, material: str, quantity: float, status: LotStatus, unit: str = "pcs") -> Lot:
    return Lot(id=lot_id, material_id=material, quantity=quantity, unit=unit, status=status,
               supplier="acme", created_at=NOW - 24 * H)  # fmt: skip


def plant(
    *,
    po_at: datetime = NOW + 6 * H,
    po_status: str = "ordered",
    alternative: float = 0.0,
    m1_unit: str = "pcs",
    planned: bool = True,
    read_at: datetime | None = NOW,
) -> MesData:
    """The plan described in the module docstring, with the changes asked for."""
    lots = [
        lot("L-M1", "M1", 40, LotStatus.RELEASED, m1_unit),
        lot("Q-M1", "M1", 30, LotStatus.QUARANTINE, m1_unit),
        lot("L-M2", "M2", 80, LotStatus.RELEASED),
    ]
    if alternative:
        lots.append(lot("L-ALT", "M1-ALT", alternative, LotStatus.RELEASED))
    orders = [("WO-1", "P1", 100, 2, 5), ("WO-2", "P2", 50, 4, 7)]
    return MesData(
        read_at=read_at,
        materials=tuple(
            Material(id=m, name=m, kind="packaging", unit="pcs", unit_cost=Decimal(cost))
            for m, cost in (("M1", "1.00"), ("M2", "1.00"), ("M1-ALT", "1.50"))
        ),
        lots=tuple(lots),
        inventory=tuple(
            InventoryPosition(
                material_id=x.material_id,
                lot_id=x.id,
                location="store",
                quantity=x.quantity,
                unit=x.unit,
                updated_at=NOW,
            )
            for x in lots
        ),
        work_orders=tuple(
            WorkOrder(
                id=w,
                product_id=p,
                line_id="L",
                quantity=q,
                status="released",
                release_at=NOW,
                due_at=NOW + due * H,
            )
            for w, p, q, _start, due in orders
        ),
        operations=tuple(
            Operation(
                work_order_id=w,
                sequence=0,
                equipment_id="W",
                duration_minutes=120,
                planned_start=NOW + start * H if planned or w == "WO-2" else None,
                planned_end=NOW + (start + 2) * H,
            )
            for w, _p, _q, start, _due in orders
        ),
        bom=(
            BomLine(
                product_id="P1",
                material_id="M1",
                quantity_per_unit=1,
                unit="pcs",
                alternatives=("M1-ALT",),
            ),
            BomLine(product_id="P2", material_id="M2", quantity_per_unit=1, unit="pcs"),
        ),
        purchase_orders=(
            PurchaseOrder(
                id="PO-1",
                material_id="M1",
                supplier_id="acme",
                quantity=200,
                unit="pcs",
                status=po_status,
                ordered_at=NOW - 24 * H,
                expected_at=po_at,
            ),
        ),
    )


def test_running_the_covered_order_first_is_a_dispatch_list_worth_300() -> None:
    out = ShortageAgent(config()).analyze(AgentInput(now=NOW, mes=plant()))
    (proposal,) = out.proposals
    assert proposal.action == DispatchList(
        action_id=proposal.action.action_id,
        line_id="L",
        entries=(
            DispatchEntry(work_order_id="WO-2", operation=0, equipment_id="W",
                          start=NOW + 2 * H, end=NOW + 4 * H),
            DispatchEntry(work_order_id="WO-1", operation=0, equipment_id="W",
                          start=NOW + 4 * H, end=NOW + 6 * H),
        ),
    )  # fmt: skip
    saving = proposal.estimated_saving
    assert saving.amount == Decimal("300.00")
    assert saving.inputs["wait_tardiness_hours"] == pytest.approx(6.0)
    assert saving.inputs["remedy_tardiness_hours"] == pytest.approx(3.0)
    assert saving.inputs["quantity_short"] == 60 and saving.inputs["held_quantity"] == 30
    assert saving.inputs["wait_late_hours:WO-2"] == pytest.approx(3.0)
    assert proposal.measure_until == NOW + 10 * H + timedelta(seconds=5), "waiting's last end"
    assert isinstance(proposal.evidence, TrendChart)
    assert proposal.evidence.series[0].values == [40, -60, 140], "on hand, WO-1 takes 100, PO-1"


def test_a_cheap_enough_expedite_is_advice_to_the_buyer() -> None:
    out = ShortageAgent(config(fee="200")).analyze(AgentInput(now=NOW, mes=plant()))
    (proposal,) = out.proposals
    assert isinstance(proposal.action, Advice) and proposal.action.topic == "shortage:M1"
    assert proposal.action.summary.startswith("Expedite PO-1")
    assert proposal.estimated_saving.amount == Decimal("400.00"), "600 waiting − 200 fee"


def test_an_allowed_alternative_in_stock_is_advice_to_substitute() -> None:
    out = ShortageAgent(config()).analyze(AgentInput(now=NOW, mes=plant(alternative=100)))
    (proposal,) = out.proposals
    assert isinstance(proposal.action, Advice) and "M1-ALT instead of" in proposal.action.summary
    assert proposal.estimated_saving.amount == Decimal("570.00"), "600 − 60 x 0.50 EUR"


def test_one_proposal_id_per_shortage_as_time_passes() -> None:
    agent = ShortageAgent(config())
    first = agent.analyze(AgentInput(now=NOW, mes=plant())).proposals[0]
    later = NOW + timedelta(minutes=10)
    again = agent.analyze(AgentInput(now=later, mes=plant(read_at=later))).proposals[0]
    assert first.proposal_id == again.proposal_id and first.action.action_id.startswith("a-")


@pytest.mark.parametrize(
    ("mes", "reason"),
    [
        (plant(read_at=NOW - timedelta(minutes=5)), "stale_mes"),
        (plant(po_at=NOW - H), "overdue_receipt"),
        (plant(m1_unit="kg"), "bad_data"),
        (plant(planned=False), "unplanned_operation"),
    ],
)
def test_bad_stale_or_uncertain_data_is_skipped_with_a_reason(mes: MesData, reason: str) -> None:
    out = ShortageAgent(config()).analyze(AgentInput(now=NOW, mes=mes))
    assert out.skipped.get(reason) == 1 and not out.proposals


def test_an_unconfirmed_requisition_does_not_count_and_nothing_beats_waiting() -> None:
    out = ShortageAgent(config()).analyze(AgentInput(now=NOW, mes=plant(po_status="requested")))
    assert not out.proposals
    assert any("M1 short from" in f.message for f in out.findings)
    assert any("nothing in the plan covers WO-1" in f.message for f in out.findings)


def test_enough_stock_is_no_proposal() -> None:
    out = ShortageAgent(config()).analyze(AgentInput(now=NOW, mes=plant(po_at=NOW + H)))
    assert not out.proposals and not out.skipped


def window(ends: dict[str, datetime | None], at: datetime) -> VerificationWindow:
    """The MES over the window: the orders, completed where an end is given."""
    mes = plant()
    orders = tuple(
        w.model_copy(update={"status": "completed" if ends.get(w.id) else "running"})
        for w in mes.work_orders
    )
    counts = tuple(
        ProductionCount(equipment_id="W", work_order_id=w, start=end - 2 * H, end=end, good=1,
                        scrap=0)
        for w, end in ends.items()
        if end is not None
    )  # fmt: skip
    return VerificationWindow(
        before=PlantReading(values={}, at=NOW),
        after=PlantReading(values={}, at=at),
        data=AgentInput(
            now=at, mes=mes.model_copy(update={"work_orders": orders, "production_counts": counts})
        ),
    )


def test_the_realized_saving_is_the_modelled_lateness_less_the_measured() -> None:
    agent = ShortageAgent(config())
    proposal = agent.analyze(AgentInput(now=NOW, mes=plant())).proposals[0]
    done = agent.measure(
        proposal, window({"WO-1": NOW + 8.5 * H, "WO-2": NOW + 4 * H}, NOW + 10 * H)
    )
    assert done.amount == Decimal("250.00"), "(6 h − 3.5 h) x 100 EUR/h"
    assert done.metric_after == pytest.approx(3.5) and done.units == 2
    late = agent.measure(proposal, window({"WO-2": NOW + 4 * H, "WO-1": None}, NOW + 9 * H))
    assert late.amount == Decimal("200.00"), "WO-1 still open at 21:00: 4 h late so far"
    assert "still open at the window's end: WO-1" in late.method
