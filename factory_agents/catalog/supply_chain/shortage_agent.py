"""Shortage agent: material availability against a line's planned orders → expedite, substitute
or resequence.

It reads the line's released and planned work orders, their operations and BOMs, the lots and
inventory of their materials and the open purchase orders from the MES (shortage_plan.py),
projects each material's availability and prices the ways out of every shortage with
shortage.py: wait for the receipts, expedite an open order (supplier terms from the config),
use a BOM alternative (priced by MES unit costs) or run a covered order first. It proposes the
cheapest for the first shortage of each material, when it beats waiting by min_saving:
resequencing as a dispatch list the MES publishes; expediting and substituting as advice, since
a buyer rushes an order by phone and a planner swaps a material, neither of which has an MES
write of its own. Saving: waiting's tardiness cost less the remedy's direct and tardiness cost.

Realized: over a window past the orders' projected ends, waiting's modelled tardiness less the
tardiness the MES shows, in cost, less the remedy's direct cost (shortage_realized.py).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from factory_agents.actions import Action, Advice, DispatchEntry, DispatchList
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
from factory_agents.catalog.supply_chain.shortage import (
    MaterialProjection,
    OptionKind,
    ShortageDecision,
    ShortageOption,
    find_shortages,
    resolve_shortages,
)
from factory_agents.catalog.supply_chain.shortage_config import ShortageConfig
from factory_agents.catalog.supply_chain.shortage_plan import LinePlan, Unusable, read_plan
from factory_agents.catalog.supply_chain.shortage_realized import (
    WAIT_PREFIX,
    measured_lateness,
    modelled_wait,
)
from factory_agents.errors import DataQualityError
from factory_agents.evidence import Marker, Series, Threshold, TrendChart

CENTS = Decimal("0.01")


class ShortageAgent:
    """Finds each material's first shortage against the plan and proposes the cheapest way out."""

    def __init__(self, config: ShortageConfig) -> None:
        self.spec = SPEC
        self.config = config

    def needs(self) -> DataNeeds:
        """Work orders, operations, BOM, materials, lots, inventory, orders and counts."""
        return DataNeeds(
            mes=("work_orders", "operations", "bom", "materials", "lots", "inventory",
                 "purchase_orders", "production_counts"),
            mes_lookback_hours=self.config.mes_lookback_hours,
        )  # fmt: skip

    def analyze(self, data: AgentInput) -> AgentOutput:
        """Project the line's materials; propose a remedy for each material's first shortage."""
        out = AgentOutput(agent=SPEC.name)
        c, mes, now = self.config, data.mes, data.now
        if mes.read_at is not None and now - mes.read_at > timedelta(seconds=c.stale_after_seconds):
            skip(out, "stale_mes", f"the MES was read at {mes.read_at:%H:%M:%S}, too long ago")
            return out
        try:
            line = read_plan(mes, c, now)
        except Unusable as err:
            skip(out, err.reason, str(err))
            return out
        for reason, message in line.left_out:
            skip(out, reason, message)
        if not line.plan.requirements:
            _note(
                out,
                "info",
                f"{c.line}: no planned work order starts within {c.horizon_seconds:g} s",
            )
            return out
        try:
            decisions = resolve_shortages(line.plan, line.costs)
        except ValueError as err:
            skip(out, "bad_data", str(err))
            return out
        seen: set[str] = set()
        for decision in decisions:
            material = decision.shortage.material
            if material in seen:
                continue
            seen.add(material)
            proposal = self._judge(decision, line, now, out)
            if proposal is not None:
                out.proposals.append(proposal)
        return out

    def _judge(
        self, d: ShortageDecision, line: LinePlan, now: datetime, out: AgentOutput
    ) -> Proposal | None:
        """The proposal for one shortage, or a finding saying why none."""
        best, saving = d.recommended, d.saving_against_waiting
        s = d.shortage
        if not s.requirements:
            return None
        if saving is None:
            _note(out, "warning", f"{s.material} short {s.quantity_short:g} {s.unit} from"
                  f" {s.first_short_at:%H:%M:%S}; none covers it: {d.explanation}")  # fmt: skip
            return None
        if best.blocked_work_orders:
            _note(out, "warning", f"{s.material}: nothing in the plan covers"
                  f" {', '.join(best.blocked_work_orders)}; it needs a new order")  # fmt: skip
        if best.kind == OptionKind.WAIT or saving < self.config.min_saving:
            _note(out, "info", f"{s.material} short from {s.first_short_at:%H:%M:%S}; nothing"
                  f" beats waiting by {self.config.min_saving}: {d.explanation}")  # fmt: skip
            return None
        return self._proposal(d, best, saving, line, now)

    def measure(self, proposal: Proposal, window: VerificationWindow) -> RealizedSaving:
        """Waiting's modelled tardiness less the measured one, in cost, less the direct cost."""
        inputs = proposal.estimated_saving.inputs
        wait = modelled_wait(inputs)
        if not wait:
            raise DataQualityError(f"{proposal.proposal_id} carries no modelled lateness to match")
        start, end = window.before.at, window.after.at
        late = measured_lateness(window.data.mes, list(wait), end)
        rate = Decimal(repr(inputs["tardiness_cost_per_hour"]))
        direct = Decimal(repr(inputs["remedy_direct_cost"]))
        avoided = Decimal(repr(round(sum(wait.values()) - late.total, 9)))
        amount = (avoided * rate - direct).quantize(CENTS)
        still = f"; still open at the window's end: {', '.join(late.open_orders)}"
        return RealizedSaving(
            amount=amount,
            currency=self.config.currency,
            period_hours=(end - start).total_seconds() / 3600,
            metric_after=late.total,
            units=len(wait),
            method=(
                f"measured in the MES: {late.total * 3600:.1f} s past due over {len(wait)} work"
                " order(s), each ending at its last production count once completed"
                + (still if late.open_orders else "")
                + f"; modelled counterfactual (waiting for the open receipts, projected at the"
                f" proposal): {sum(wait.values()) * 3600:.1f} s past due; saving = (modelled −"
                f" measured) h × {rate} {self.config.currency}/h − direct cost {direct}"
                f" {self.config.currency} (counted as incurred)"
            ),
        )

    def _proposal(
        self,
        d: ShortageDecision,
        best: ShortageOption,
        saving: Decimal,
        line: LinePlan,
        now: datetime,
    ) -> Proposal:
        c, s = self.config, d.shortage
        first = s.requirements[0]
        key = _shortage_key(s.material, first.work_order, first.operation)
        wait = next(o for o in d.options if o.kind == OptionKind.WAIT)
        projection = next(p for p in _projections(line) if p.material == s.material)
        ends = [w.expected_end for o in (wait, best) for w in o.lateness if w.expected_end]
        last = max(ends, default=max(op.end for op in line.plan.operations))
        inputs: dict[str, float] = {
            "tardiness_cost_per_hour": float(c.tardiness_cost_per_hour),
            "wait_tardiness_hours": wait.tardiness_hours,
            "wait_tardiness_cost": float(wait.tardiness_cost),
            "remedy_direct_cost": float(best.direct_cost),
            "remedy_tardiness_hours": best.tardiness_hours,
            "remedy_tardiness_cost": float(best.tardiness_cost),
            "quantity_short": s.quantity_short,
            "released_on_hand": projection.released_on_hand,
            "held_quantity": s.held_quantity,
            "options_priced": float(len(d.options)),
        }
        for w in wait.lateness:
            if w.hours_late is not None:
                inputs[WAIT_PREFIX + w.work_order] = w.hours_late
        for w in best.lateness:
            if w.hours_late is not None:
                inputs["remedy_late_hours:" + w.work_order] = w.hours_late
        return Proposal(
            proposal_id=f"p-{key}",
            agent=SPEC.name,
            line=c.line,
            title=f"{best.kind.value.capitalize()} for {s.material}: short"
            f" {s.quantity_short:g} {s.unit} for {first.work_order} from"
            f" {s.first_short_at:%H:%M:%S}",
            rationale=" ".join(
                [
                    f"{s.material} runs short by {s.quantity_short:g} {s.unit} at"
                    f" {s.first_short_at:%H:%M:%S} for {', '.join(s.work_orders)};"
                    f" {projection.released_on_hand:g} {s.unit} released on hand,"
                    f" {s.held_quantity:g} held in quarantine or blocked.",
                    *(o.explanation for o in d.options),
                    d.explanation,
                    *line.notes,
                ]
            ),
            action=self._action(f"a-{key}", best, s.material),
            evidence=_chart(projection, d),
            estimated_saving=EstimatedSaving(
                amount=saving.quantize(CENTS),
                currency=c.currency,
                horizon_hours=c.horizon_seconds / 3600,
                formula="Σ hours past due × tardiness cost per hour if waiting for the open"
                " receipts − (direct cost + Σ hours past due × tardiness cost per hour with the"
                " remedy), over every work order of the line's plan",
                inputs=inputs,
                assumptions=[
                    "each operation runs for its planned duration, in planned order per machine,"
                    " once its machine is free and all its material is there",
                    "only released lots count; open orders arrive at their expected time; a"
                    " requisition not confirmed by the supplier does not count",
                    "a BOM alternative replaces its material one for one, priced at the"
                    " difference of the MES unit costs",
                    f"expedite terms from the configuration: {_terms(c)}",
                    f"an hour past due costs {c.tardiness_cost_per_hour} {c.currency} per work"
                    " order",
                ],
            ),
            baseline=Baseline(
                metric="hours_past_due_if_waiting",
                value=wait.tardiness_hours,
                units=len(wait.lateness),
                start=now,
                end=now,
                method="modelled: the MES plan, stock and open orders projected with shortage.py,"
                " waiting for the open receipts",
            ),
            created_at=now,
            measure_until=last + timedelta(seconds=c.settle_seconds),
        )

    def _action(self, action_id: str, best: ShortageOption, material: str) -> Action:
        """A dispatch list for a resequence; advice for a buyer or planner otherwise."""
        if best.kind == OptionKind.RESEQUENCE:
            entries = tuple(
                DispatchEntry(
                    work_order_id=op.work_order,
                    operation=int(op.operation),
                    equipment_id=op.line,
                    start=op.start,
                    end=op.end,
                )
                for op in sorted(best.operations, key=lambda o: (o.start, o.line, o.work_order))
            )
            return DispatchList(action_id=action_id, line_id=self.config.line, entries=entries)
        return Advice(action_id=action_id, topic=f"shortage:{material}", summary=best.action)


def _note(out: AgentOutput, severity: Literal["info", "warning"], message: str) -> None:
    out.findings.append(Finding(agent=SPEC.name, severity=severity, message=message))


def _projections(line: LinePlan) -> tuple[MaterialProjection, ...]:
    return find_shortages(line.plan).projections


def _chart(projection: MaterialProjection, d: ShortageDecision) -> TrendChart:
    """The material's projected availability, zero, and when each order needs it."""
    points = projection.points
    return TrendChart(
        title=f"{projection.material} available (projected from the MES plan)",
        unit=projection.unit,
        series=[
            Series(
                name="available",
                times=[p.at for p in points],
                values=[round(p.available, 3) for p in points],
            )
        ],
        thresholds=[Threshold(name="nothing left", value=0.0)],
        markers=[
            Marker(name=f"{r.work_order} needs {r.quantity:g}", at=r.needed_at)
            for r in d.shortage.requirements
        ]
        + (
            [Marker(name="shortage ends", at=d.shortage.covered_at)]
            if d.shortage.covered_at
            else []
        ),
    )


def _terms(c: ShortageConfig) -> str:
    return (
        "; ".join(
            f"{t.supplier} delivers within {t.fastest_seconds:g} s for {t.cost_per_order} per order"
            f" + {t.cost_per_unit} per unit"
            for t in c.expedite
        )
        or "none"
    )


def _shortage_key(material: str, work_order: str, operation: str) -> str:
    """One shortage: the material and the first operation it runs short for."""
    return hashlib.sha256(f"{SPEC.name}|{material}|{work_order}/{operation}".encode()).hexdigest()[
        :20
    ]


SPEC = AgentSpec(
    name="shortage",
    version="1.0",
    domain=Domain.SUPPLY_CHAIN,
    description="Material availability against a line's planned work orders (BOM, released"
    " lots, open orders); proposes the cheapest of expediting, a BOM substitute or running a"
    " covered order first, priced as the tardiness cost avoided against waiting.",
    config_model=ShortageConfig,
    factory=ShortageAgent,
    risk=RiskClass.LOW,
    actions=("dispatch_list", "advice"),
    default_interval_seconds=20.0,
)
