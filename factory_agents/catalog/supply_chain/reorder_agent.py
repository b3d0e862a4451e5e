"""Reorder agent: a material's inventory position at its reorder point → a purchase requisition.

Per configured material it reads consumption (demand per period), received orders (the
supplier's lead time, mean and spread), open orders and the inventory from the MES. It finds
the cost-optimal (r, Q) by Hadley–Whitin (inventory.py) and, when the inventory position
(on hand + on order; backorders are not booked in the MES, so none) is at or below that r,
proposes a requisition of n·Q. Saving: the current policy's expected holding, shortage and
ordering cost over the horizon less the recommended policy's (compare_policies).

Realized: over a window reaching past the requisition's expected receipt, what the material
cost as it happened against the same demand replayed through the current policy (see
reorder_realized.py).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from factory_agents.actions import PurchaseRequisition
from factory_agents.agent import (
    AgentInput,
    AgentOutput,
    AgentSpec,
    Baseline,
    DataNeeds,
    Domain,
    EstimatedSaving,
    Finding,
    Proposal,
    RealizedSaving,
    RiskClass,
    VerificationWindow,
)
from factory_agents.catalog.common import skip
from factory_agents.catalog.supply_chain import reorder_realized as realized
from factory_agents.catalog.supply_chain.demand import (
    ConsumptionRecord,
    ReceivedOrder,
    demand_per_period,
    supplier_lead_time,
)
from factory_agents.catalog.supply_chain.inventory import (
    ContinuousReviewModel,
    PolicyComparison,
    ReorderPointPolicy,
    compare_policies,
    lead_time_demand,
    optimal_reorder_policy,
)
from factory_agents.catalog.supply_chain.reorder_config import ReorderConfig, ReorderMaterial
from factory_agents.catalog.supply_chain.stock import issues, on_hand, on_hand_at, open_orders
from factory_agents.errors import DataQualityError
from factory_agents.evidence import Marker, Series, Threshold, TrendChart
from factory_agents.isa95 import Material, MesData

CENTS = Decimal("0.01")
HOURS_PER_YEAR = 8760.0
SECONDS_PER_DAY = 86_400.0


class ReorderAgent:
    """Watches each material's inventory position and requests n·Q at the optimal reorder point."""

    def __init__(self, config: ReorderConfig) -> None:
        self.spec = SPEC
        self.config = config

    def needs(self) -> DataNeeds:
        """Materials, lots, inventory, consumption and purchase orders from the MES."""
        return DataNeeds(
            mes=("materials", "lots", "inventory", "consumption", "purchase_orders"),
            mes_lookback_hours=self.config.order_lookback_hours,
        )

    def analyze(self, data: AgentInput) -> AgentOutput:
        """Judge every configured material; propose a requisition where one is due."""
        out = AgentOutput(agent=SPEC.name)
        for material in self.config.materials:
            self._judge(material, data, out)
        return out

    def _judge(self, m: ReorderMaterial, data: AgentInput, out: AgentOutput) -> None:
        c, mes, now = self.config, data.mes, data.now
        record = next((x for x in mes.materials if x.id == m.material_id), None)
        if record is None:
            skip(out, "unknown_material", f"the MES knows no material {m.material_id}")
            return
        used = issues(mes, m.material_id)
        if not used or now - used[-1].at > timedelta(seconds=c.stale_after_seconds):
            skip(out, "stale_consumption", f"no consumption of {m.material_id} booked"
                 f" in {c.stale_after_seconds:g} s (is the line or its MES feed on?)")  # fmt: skip
            return
        requested = [o for o in open_orders(mes, m.material_id) if o.status == "requested"]
        if requested:
            skip(out, "requisition_open", f"requisition {requested[0].id} for {m.material_id} is"
                 " still open; one need, one requisition")  # fmt: skip
            return
        period = timedelta(seconds=c.period_seconds)
        end = datetime.fromtimestamp(
            math.floor(now.timestamp() / c.period_seconds) * c.period_seconds, UTC
        )
        start = end - c.history_periods * period
        try:
            demand = demand_per_period(
                [ConsumptionRecord(m.material_id, u.quantity, u.at, record.unit) for u in used],
                m.material_id, start=start, end=end, period_days=c.period_seconds / SECONDS_PER_DAY,
                min_periods=c.min_periods, unit=record.unit,
            )  # fmt: skip
        except ValueError as err:
            skip(out, "bad_consumption", f"demand of {m.material_id}: {err}")
            return
        first = used[0].at
        if demand.uncertain or first > start:
            have = max(0, int((end - max(first, start)) / period))
            skip(out, "short_demand_history", f"{m.material_id}: {have} of {c.history_periods}"
                 f" periods of consumption; {' '.join(demand.notes)}")  # fmt: skip
            return
        received = [
            ReceivedOrder(o.supplier_id, o.ordered_at, o.received_at, o.id, o.material_id)
            for o in mes.purchase_orders
            if o.material_id == m.material_id and o.status == "received" and o.received_at
        ]
        if not received:
            skip(
                out, "no_lead_time", f"no received order of {m.material_id} to learn its lead time"
            )
            return
        supplier = max(received, key=lambda o: o.received_at).supplier
        lead = supplier_lead_time(received, supplier, min_orders=c.min_received_orders)
        if lead.uncertain or lead.std_days is None:
            skip(
                out,
                "uncertain_lead_time",
                f"{m.material_id} from {supplier}: {' '.join(lead.notes)}",
            )
            return
        try:
            comparison, model, proposed = _policies(m, c, demand.mean, demand.std, lead.mean_days,
                                                    lead.std_days)  # fmt: skip
        except ValueError as err:
            skip(out, "no_policy", f"{m.material_id}: {err}")
            return
        pipeline = open_orders(mes, m.material_id)
        stock = on_hand(mes, m.material_id)
        position = stock + sum(o.quantity for o in pipeline)
        if comparison.saving <= 0:
            out.findings.append(Finding(agent=SPEC.name, severity="info", message=(
                f"{m.material_id}: the current policy {comparison.current.policy} costs no more"
                f" than {comparison.proposed.policy}; nothing to change")))  # fmt: skip
            return
        if position > proposed.reorder_point:
            out.findings.append(Finding(agent=SPEC.name, severity="info", message=(
                f"{m.material_id}: inventory position {position:g} {record.unit} is above the"
                f" recommended reorder point {proposed.reorder_point:g}")))  # fmt: skip
            return
        batches = int((proposed.reorder_point - position) // proposed.order_quantity) + 1
        lead_time = timedelta(days=lead.mean_days)
        need = _Need(m, record, supplier, position, stock, batches * proposed.order_quantity)
        key = _cycle_key(m.material_id, mes)
        out.proposals.append(
            self._proposal(
                now,
                need,
                key,
                comparison,
                model,
                proposed,
                lead_time,
                lead.std_days,
                mes,
                demand.mean,
            )
        )

    def measure(self, proposal: Proposal, window: VerificationWindow) -> RealizedSaving:
        """The window's measured cost against its demand replayed through the current policy."""
        action = proposal.action
        if not isinstance(action, PurchaseRequisition):
            raise DataQualityError(f"{SPEC.name} measures purchase requisitions, not {action.kind}")
        m = next((x for x in self.config.materials if x.material_id == action.material_id), None)
        if m is None:
            raise DataQualityError(f"{action.material_id} is no longer configured for {SPEC.name}")
        start, end = window.before.at, window.after.at
        mes = window.data.mes
        demand = [i for i in issues(mes, m.material_id) if start <= i.at <= end]
        orders = realized.split_orders(mes, action, start, end)
        actual = realized.measured(mes, m.material_id, demand, orders, start, end)
        level = on_hand_at([start], mes, m.material_id)[0]
        lead = timedelta(hours=proposal.estimated_saving.inputs["lead_time_mean_hours"])
        counterfactual = realized.replayed(level, demand, orders, m, lead, start, end)
        amount = Decimal(repr(counterfactual.cost(m) - actual.cost(m))).quantize(CENTS)
        got = "received" if orders.ours_received else "not received yet"
        return RealizedSaving(
            amount=amount,
            currency=self.config.currency,
            period_hours=(end - start).total_seconds() / 3600,
            metric_after=actual.units_short,
            units=round(sum(i.quantity for i in demand)),
            method=(
                f"measured in the MES over the window ({len(demand)} bookings, requisition {got}):"
                f" {actual.units_short:g} {action.unit} short (booked from no lot),"
                f" {actual.unit_hours:.4g} {action.unit}·h held (on hand reconstructed from"
                f" inventory, consumption and receipts), {actual.orders} order(s); counterfactual"
                f" modelled: the same demand replayed through the current policy (r, Q) ="
                f" ({m.current_reorder_point:g}, {m.current_order_quantity:g}) from the same on"
                f" hand, its orders arriving after the mean lead time:"
                f" {counterfactual.units_short:g} short, {counterfactual.unit_hours:.4g}"
                f" {action.unit}·h, {counterfactual.orders}"
                f" order(s); saving = (h·unit-hours + p·short + K·orders) counterfactual − measured"
            ),
        )

    def _proposal(
        self,
        now: datetime,
        need: _Need,
        key: str,
        comparison: PolicyComparison,
        model: ContinuousReviewModel,
        proposed: ReorderPointPolicy,
        lead_time: timedelta,
        lead_std_days: float,
        mes: MesData,
        demand_mean: float,
    ) -> Proposal:
        c, m = self.config, need.material
        unit = need.record.unit
        share = c.horizon_hours / HOURS_PER_YEAR
        amount = (comparison.saving * Decimal(repr(share))).quantize(CENTS)
        need_by = now + lead_time
        spread = timedelta(days=2 * lead_std_days) + c.settle_periods * timedelta(
            seconds=c.period_seconds
        )
        ltd = model.lead_time_demand
        chart_times = [
            now - k * timedelta(seconds=c.period_seconds) for k in range(c.history_periods, -1, -1)
        ]
        return Proposal(
            proposal_id=f"p-{key}",
            agent=SPEC.name,
            line=c.line,
            title=f"Request {need.quantity:g} {unit} of {m.material_id}: position"
            f" {need.position:g} {unit} at the reorder point {proposed.reorder_point:g}"
            f" (current policy waits until {m.current_reorder_point:g})",
            rationale=(
                f"Demand {demand_mean:.4g} {unit} per {c.period_seconds:g} s, lead time"
                f" {lead_time.total_seconds():.4g} s from {need.supplier}: lead-time demand"
                f" {ltd.mean:.4g} ± {ltd.std:.3g} {unit}. The cost-optimal policy is"
                f" {proposed.describe()} (safety stock {comparison.proposed.safety_stock:.4g}"
                f" {unit}) against today's {comparison.current.policy}; the inventory position"
                f" ({need.on_hand:g} on hand + {need.position - need.on_hand:g} on order) is at"
                f" or below its reorder point."
            ),
            action=PurchaseRequisition(
                action_id=f"a-{key}",
                material_id=m.material_id,
                quantity=need.quantity,
                unit=unit,
                supplier=need.supplier,
                need_by=need_by,
            ),
            evidence=TrendChart(
                title=f"{m.material_id} on hand (reconstructed from the MES)",
                unit=unit,
                series=[
                    Series(
                        name="on hand",
                        times=chart_times,
                        values=[round(v, 3) for v in on_hand_at(chart_times, mes, m.material_id)],
                    )
                ],
                thresholds=[
                    Threshold(name="recommended reorder point", value=proposed.reorder_point),
                    Threshold(name="current reorder point", value=m.current_reorder_point),
                ],
                markers=[Marker(name="expected receipt", at=need_by)],
            ),
            estimated_saving=EstimatedSaving(
                amount=amount,
                currency=c.currency,
                horizon_hours=c.horizon_hours,
                formula="(holding + shortage + ordering cost per year of the current (r, Q)"
                " − of the recommended (r, Q)) x horizon / 8760 h",
                inputs={
                    "current_reorder_point": m.current_reorder_point,
                    "current_order_quantity": m.current_order_quantity,
                    "recommended_reorder_point": proposed.reorder_point,
                    "recommended_order_quantity": proposed.order_quantity,
                    "inventory_position": need.position,
                    "on_hand": need.on_hand,
                    "demand_per_period": demand_mean,
                    "period_seconds": c.period_seconds,
                    "lead_time_mean_hours": lead_time.total_seconds() / 3600,
                    "lead_time_std_hours": lead_std_days * 24,
                    "lead_time_demand_mean": ltd.mean,
                    "lead_time_demand_std": ltd.std,
                    "current_cost_per_year": float(comparison.current.total),
                    "recommended_cost_per_year": float(comparison.proposed.total),
                    "holding_saving_per_year": float(comparison.holding_saving),
                    "shortage_saving_per_year": float(comparison.shortage_saving),
                    "ordering_saving_per_year": float(comparison.ordering_saving),
                    "ordering_cost": m.ordering_cost,
                    "holding_cost_per_unit_hour": m.holding_cost_per_unit_hour,
                    "shortage_cost_per_unit": m.shortage_cost_per_unit,
                },
                assumptions=[
                    f"a year is {HOURS_PER_YEAR:g} h of the MES's clock; h = "
                    f"{m.holding_cost_per_unit_hour:g} {c.currency}/({unit}·h)",
                    "backorders are not booked in the MES: the inventory position is on hand"
                    " plus open requisitions and orders",
                    "the recommended (r, Q) is Hadley–Whitin's optimum for these costs, rounded up"
                    " to whole units; the requisition is n·Q to lift the position above r",
                    *comparison.assumptions,
                ],
            ),
            baseline=Baseline(
                metric="inventory_position",
                value=need.position,
                units=round(need.quantity),
                start=now - c.history_periods * timedelta(seconds=c.period_seconds),
                end=now,
                method="on hand in released lots plus open requisitions and orders, from the MES",
            ),
            created_at=now,
            measure_until=need_by + spread,
        )


@dataclass(frozen=True)
class _Need:
    """What one material needs now: who supplies it, where its position stands, how much."""

    material: ReorderMaterial
    record: Material
    supplier: str
    position: float
    on_hand: float
    quantity: float


def _policies(
    m: ReorderMaterial,
    c: ReorderConfig,
    demand_mean: float,
    demand_std: float,
    lead_days: float,
    lead_std_days: float,
) -> tuple[PolicyComparison, ContinuousReviewModel, ReorderPointPolicy]:
    """The model from the estimates, the optimal (r, Q) rounded up, and both policies compared."""
    period_days = c.period_seconds / SECONDS_PER_DAY
    periods_per_year = HOURS_PER_YEAR * 3600 / c.period_seconds
    ltd = lead_time_demand(
        demand_mean, demand_std, lead_days / period_days, lead_std_days / period_days
    )
    model = ContinuousReviewModel(
        annual_demand=demand_mean * periods_per_year,
        lead_time_demand=ltd,
        ordering_cost=m.ordering_cost,
        holding_cost_per_unit_year=m.holding_cost_per_unit_hour * HOURS_PER_YEAR,
        shortage_cost_per_unit=m.shortage_cost_per_unit,
        currency=c.currency,
        unit=m.material_id,
    )
    best = optimal_reorder_policy(model)
    proposed = ReorderPointPolicy(math.ceil(best.reorder_point), math.ceil(best.order_quantity))
    current = ReorderPointPolicy(m.current_reorder_point, m.current_order_quantity)
    return compare_policies(current, proposed, model), model, proposed


def _cycle_key(material: str, mes: MesData) -> str:
    """The reorder cycle: the material, its latest receipt and its open orders."""
    mine = [o for o in mes.purchase_orders if o.material_id == material]
    last = max((o for o in mine if o.status == "received"), key=lambda o: o.ordered_at)
    pipeline = sorted(o.id for o in mine if o.status in ("requested", "ordered"))
    cycle = f"{SPEC.name}|{material}|{last.id}|{','.join(pipeline)}"
    return hashlib.sha256(cycle.encode()).hexdigest()[:20]


SPEC = AgentSpec(
    name="reorder",
    version="1.0",
    domain=Domain.SUPPLY_CHAIN,
    description="Demand and supplier lead time from the MES, Hadley–Whitin (r, Q); requests n·Q"
    " when the inventory position reaches r, priced as the current policy's expected holding,"
    " shortage and ordering cost less the recommended policy's.",
    config_model=ReorderConfig,
    factory=ReorderAgent,
    risk=RiskClass.MEDIUM,
    actions=("purchase_requisition",),
    default_interval_seconds=20.0,
)
