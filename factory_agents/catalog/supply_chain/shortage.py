"""Material shortages against the production plan, and what each way out would cost.

`find_shortages` projects the available inventory of every material over time: released lots
only (quarantined, blocked, consumed and expired lots do not count), plus the open purchase-order
receipts when they are expected, minus the requirements of the planned operations in the order
they are needed. Each stretch of time in which a material runs negative is one shortage.

`resolve_shortages` prices the ways out of each shortage on the same projection: wait for the
receipt, expedite a receipt, use an allowed substitute, or run another work order first. Every
option is a changed plan, re-projected and re-scheduled, so its direct cost and the tardiness of
every work order (hours past due × cost per hour) come from the same arithmetic, and the cheapest
is recommended.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from factory_agents.catalog.supply_chain.demand import Requirement

RELEASED = "released"
HELD_STATUSES = frozenset({"quarantine", "blocked"})
_EPS = 1e-6
_CENTS = Decimal("0.01")
_AVAILABILITY_NOTE = (
    "only released lots count as available: quarantined, blocked, consumed and expired lots are"
    " left out (see excluded_lots); a released lot counts only for needs before its expiry date,"
    " first-expiring first"
)


# ---------------------------------------------------------------------------------------------
# inputs


@dataclass(frozen=True)
class StockLot:
    """A lot of one material in stock, with its MES status (released, quarantine, blocked, …)."""

    lot: str
    material: str
    quantity: float
    unit: str
    status: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Receipt:
    """An expected receipt from an open purchase order."""

    material: str
    quantity: float
    expected_at: datetime
    purchase_order: str
    supplier: str
    unit: str


@dataclass(frozen=True)
class PlannedOperation:
    """A planned operation of a work order on a line, with the work order's due date."""

    work_order: str
    line: str
    start: datetime
    end: datetime
    due_at: datetime
    operation: str = ""


@dataclass(frozen=True)
class MaterialPlan:
    """Everything the projection reads: stock lots, open receipts, requirements, the schedule."""

    now: datetime
    lots: tuple[StockLot, ...]
    receipts: tuple[Receipt, ...]
    requirements: tuple[Requirement, ...]
    operations: tuple[PlannedOperation, ...] = ()

    def __post_init__(self) -> None:
        _check_plan(self)


@dataclass(frozen=True)
class ExpediteOffer:
    """What a supplier asks to deliver a purchase order earlier, and how early it can."""

    purchase_order: str
    earliest_at: datetime
    cost_per_order: Decimal = Decimal(0)
    cost_per_unit: Decimal = Decimal(0)


@dataclass(frozen=True)
class Substitute:
    """An allowed alternative for a material; price difference per unit of the alternative."""

    material: str
    alternative: str
    price_difference_per_unit: Decimal
    alternative_per_unit: float = 1.0


@dataclass(frozen=True)
class ResolutionCosts:
    """The prices that decide between options: tardiness per hour, expedite offers, substitutes."""

    tardiness_cost_per_hour: Decimal
    expedite_offers: tuple[ExpediteOffer, ...] = ()
    substitutes: tuple[Substitute, ...] = ()
    currency: str = "EUR"


# ---------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class ExcludedLot:
    """A lot left out of the available inventory, and why."""

    lot: str
    material: str
    quantity: float
    unit: str
    reason: str


@dataclass(frozen=True)
class ProjectionPoint:
    """The projected available quantity of a material right after one event."""

    at: datetime
    change: float
    available: float
    event: str


@dataclass(frozen=True)
class MaterialProjection:
    """Projected available inventory of one material over time (negative: a backlog)."""

    material: str
    unit: str
    released_on_hand: float
    held_quantity: float
    points: tuple[ProjectionPoint, ...]


@dataclass(frozen=True)
class RequirementCoverage:
    """How one requirement is met: the part short at its need time and when it is fully covered."""

    work_order: str
    operation: str
    material: str
    quantity: float
    needed_at: datetime
    short_quantity: float  # not available at needed_at
    covered_at: datetime | None  # when all of it is available; None: never within the plan


@dataclass(frozen=True)
class Shortage:
    """A stretch of time in which a material is short, the work orders it hits, when it ends."""

    material: str
    unit: str
    first_short_at: datetime
    quantity_short: float  # the deepest backlog: what must arrive by first_short_at to avoid it
    work_orders: tuple[str, ...]  # in the order they need the material
    requirements: tuple[RequirementCoverage, ...]
    covered_at: datetime | None  # the receipt that ends it; None: no known receipt does
    held_quantity: float  # in quarantine or blocked: stock a quality release could free


@dataclass(frozen=True)
class ShortageReport:
    """The projection of every material, the shortages in time order, and what was left out."""

    now: datetime
    projections: tuple[MaterialProjection, ...]
    shortages: tuple[Shortage, ...]
    coverage: tuple[RequirementCoverage, ...]
    excluded_lots: tuple[ExcludedLot, ...]
    notes: tuple[str, ...]


class OptionKind(StrEnum):
    """The ways out of a shortage."""

    WAIT = "wait"
    EXPEDITE = "expedite"
    SUBSTITUTE = "substitute"
    RESEQUENCE = "resequence"


@dataclass(frozen=True)
class WorkOrderLateness:
    """When a work order is expected to finish under one option, against its due date."""

    work_order: str
    due_at: datetime
    planned_end: datetime
    expected_end: datetime | None
    hours_late: float | None

    @property
    def blocked(self) -> bool:
        """True when its material never arrives within the plan."""
        return self.expected_end is None


@dataclass(frozen=True)
class ShortageOption:
    """One way out of a shortage with its direct cost, the tardiness it leaves, and the total."""

    kind: OptionKind
    action: str
    direct_cost: Decimal
    tardiness_hours: float
    tardiness_cost: Decimal
    total_cost: Decimal
    resolves: bool
    blocked_work_orders: tuple[str, ...]
    lateness: tuple[WorkOrderLateness, ...]
    explanation: str
    operations: tuple[PlannedOperation, ...] = ()  # the changed schedule, for a resequence


@dataclass(frozen=True)
class ShortageDecision:
    """A shortage, its options ranked best first, the recommended one and why."""

    shortage: Shortage
    options: tuple[ShortageOption, ...]
    recommended: ShortageOption
    saving_against_waiting: Decimal | None
    explanation: str


# ---------------------------------------------------------------------------------------------
# checks


def _aware(name: str, value: datetime) -> None:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC); got the naive datetime {value}")


def _amount(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite quantity ≥ 0, got {value}; fix the record")


def _check_plan(plan: MaterialPlan) -> None:
    _aware("now", plan.now)
    units: dict[str, tuple[str, str]] = {}

    def unit_of(material: str, unit: str, source: str) -> None:
        known = units.setdefault(material, (unit, source))
        if known[0] != unit:
            raise ValueError(
                f"unit mismatch for material {material}: {known[1]} is in {known[0]!r} but"
                f" {source} is in {unit!r}; convert to one unit before projecting"
            )

    for lot in plan.lots:
        _amount(f"quantity of lot {lot.lot}", lot.quantity)
        if lot.expires_at is not None:
            _aware(f"expiry of lot {lot.lot}", lot.expires_at)
        unit_of(lot.material, lot.unit, f"lot {lot.lot}")
    for receipt in plan.receipts:
        _amount(f"quantity of {receipt.purchase_order}", receipt.quantity)
        _aware(f"expected time of {receipt.purchase_order}", receipt.expected_at)
        unit_of(receipt.material, receipt.unit, f"purchase order {receipt.purchase_order}")
    for req in plan.requirements:
        _amount(f"requirement of {req.material} by {req.work_order}", req.quantity)
        _aware(f"need time of {req.material} by {req.work_order}", req.needed_at)
        unit_of(req.material, req.unit, f"the requirement of {req.work_order}")
    seen: set[tuple[str, str]] = set()
    for op in plan.operations:
        for name, value in (("start", op.start), ("end", op.end), ("due date", op.due_at)):
            _aware(f"{name} of {op.work_order}", value)
        if op.end < op.start:
            raise ValueError(f"operation {op.work_order}/{op.operation} ends before it starts")
        if (op.work_order, op.operation) in seen:
            raise ValueError(
                f"operation {op.work_order}/{op.operation or '-'} is planned twice; give each"
                " operation of a work order its own id"
            )
        seen.add((op.work_order, op.operation))


def _money(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_CENTS, rounding=ROUND_HALF_EVEN)


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def _fmt_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")


def _fmt_qty(quantity: float, unit: str) -> str:
    return f"{quantity:,.10g} {unit}".strip()


# ---------------------------------------------------------------------------------------------
# projection


@dataclass
class _Supply:
    label: str
    available_at: datetime
    expires_at: datetime | None
    remaining: float
    is_lot: bool
    quantity: float


@dataclass
class _Demand:
    index: int
    requirement: Requirement
    need_at: datetime
    taken_on_time: float = 0.0
    covered_at: datetime | None = None


@dataclass
class _MaterialState:
    material: str
    unit: str
    supplies: list[_Supply]
    demands: list[_Demand]
    held: float


def _status(lot: StockLot) -> str:
    return lot.status.strip().lower()


def _collect(plan: MaterialPlan) -> tuple[dict[str, _MaterialState], list[ExcludedLot], list[str]]:
    states: dict[str, _MaterialState] = {}
    excluded: list[ExcludedLot] = []
    notes: list[str] = [_AVAILABILITY_NOTE]

    def state(material: str, unit: str) -> _MaterialState:
        return states.setdefault(material, _MaterialState(material, unit, [], [], 0.0))

    for lot in plan.lots:
        entry = state(lot.material, lot.unit)
        status = _status(lot)
        reason = ""
        if status != RELEASED:
            reason = f"status {status!r}, not released"
            if status in HELD_STATUSES:
                entry.held += lot.quantity
        elif lot.expires_at is not None and lot.expires_at <= plan.now:
            reason = f"expired {_fmt_time(lot.expires_at)}"
        if reason:
            excluded.append(ExcludedLot(lot.lot, lot.material, lot.quantity, lot.unit, reason))
        elif lot.quantity > _EPS:
            entry.supplies.append(
                _Supply(
                    f"lot {lot.lot}",
                    plan.now,
                    lot.expires_at,
                    float(lot.quantity),
                    True,
                    lot.quantity,
                )
            )
    for receipt in plan.receipts:
        arrival = receipt.expected_at
        if arrival < plan.now:
            notes.append(
                f"{receipt.purchase_order} ({receipt.material}) was expected"
                f" {_fmt_time(arrival)} and is overdue: counted as arriving now"
            )
            arrival = plan.now
        state(receipt.material, receipt.unit).supplies.append(
            _Supply(
                f"{receipt.purchase_order} from {receipt.supplier}",
                arrival,
                None,
                float(receipt.quantity),
                False,
                receipt.quantity,
            )
        )
    for index, req in enumerate(plan.requirements):
        need = req.needed_at
        if need < plan.now:
            notes.append(
                f"{req.work_order} needed {req.material} at {_fmt_time(need)}, before now, and has"
                " not consumed it: counted as needed now"
            )
            need = plan.now
        state(req.material, req.unit).demands.append(_Demand(index, req, need))
    return states, excluded, notes


def _usable(supply: _Supply, at: datetime) -> bool:
    return supply.available_at <= at and (supply.expires_at is None or supply.expires_at > at)


def _fefo_key(supply: _Supply) -> tuple[bool, float, datetime, str]:
    expiry = supply.expires_at.timestamp() if supply.expires_at is not None else 0.0
    return (supply.expires_at is None, expiry, supply.available_at, supply.label)


def _allocate(state: _MaterialState) -> None:
    """Serve requirements in the order needed: stock usable then, first-expiring first; the rest
    from the earliest receipts still to come (a backlog, filled when they arrive)."""
    state.demands.sort(
        key=lambda d: (d.need_at, d.requirement.work_order, d.requirement.operation, d.index)
    )
    for demand in state.demands:
        wanted = demand.requirement.quantity
        on_time = sorted(
            (s for s in state.supplies if s.remaining > _EPS and _usable(s, demand.need_at)),
            key=_fefo_key,
        )
        for supply in on_time:
            if wanted <= _EPS:
                break
            take = min(wanted, supply.remaining)
            supply.remaining -= take
            wanted -= take
            demand.taken_on_time += take
        covered = demand.need_at
        later = sorted(
            (s for s in state.supplies if s.remaining > _EPS and s.available_at > demand.need_at),
            key=lambda s: (s.available_at, s.label),
        )
        for supply in later:
            if wanted <= _EPS:
                break
            take = min(wanted, supply.remaining)
            supply.remaining -= take
            wanted -= take
            covered = supply.available_at
        demand.covered_at = covered if wanted <= _EPS else None


def _coverage(demand: _Demand) -> RequirementCoverage:
    req = demand.requirement
    short = max(0.0, req.quantity - demand.taken_on_time)
    return RequirementCoverage(
        work_order=req.work_order,
        operation=req.operation,
        material=req.material,
        quantity=req.quantity,
        needed_at=demand.need_at,
        short_quantity=short if short > _EPS else 0.0,
        covered_at=demand.covered_at,
    )


@dataclass
class _Episode:
    start: datetime
    depth: float
    requirements: list[RequirementCoverage]


def _project(
    state: _MaterialState, now: datetime
) -> tuple[MaterialProjection, list[Shortage], dict[int, RequirementCoverage]]:
    """The running available quantity after each event, and the stretches where it is negative."""
    coverage = {d.index: _coverage(d) for d in state.demands}
    on_hand = float(sum(s.quantity for s in state.supplies if s.is_lot))
    events: list[tuple[datetime, int, str, float, int | None]] = []
    for supply in state.supplies:
        if supply.is_lot:
            if supply.expires_at is not None and supply.remaining > _EPS:
                events.append(
                    (supply.expires_at, 0, f"{supply.label} expires", -supply.remaining, None)
                )
        else:
            events.append(
                (supply.available_at, 1, f"receipt {supply.label}", supply.quantity, None)
            )
    for demand in state.demands:
        req = demand.requirement
        label = f"requirement of {req.work_order}" + (f"/{req.operation}" if req.operation else "")
        events.append((demand.need_at, 2, label, -req.quantity, demand.index))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    points = [ProjectionPoint(now, on_hand, on_hand, "released stock on hand")]
    shortages: list[Shortage] = []
    balance = on_hand
    episode: _Episode | None = None

    def close(episode: _Episode, covered_at: datetime | None) -> None:
        shortages.append(
            Shortage(
                material=state.material,
                unit=state.unit,
                first_short_at=episode.start,
                quantity_short=episode.depth,
                work_orders=tuple(dict.fromkeys(r.work_order for r in episode.requirements)),
                requirements=tuple(episode.requirements),
                covered_at=covered_at,
                held_quantity=state.held,
            )
        )

    for at, _order, label, change, index in events:
        balance += change
        points.append(ProjectionPoint(at, change, balance, label))
        if balance < -_EPS:
            if episode is None:
                episode = _Episode(at, 0.0, [])
            episode.depth = max(episode.depth, -balance)
            if index is not None:
                episode.requirements.append(coverage[index])
        elif episode is not None:
            close(episode, at)
            episode = None
    if episode is not None:
        close(episode, None)
    projection = MaterialProjection(
        material=state.material,
        unit=state.unit,
        released_on_hand=on_hand,
        held_quantity=state.held,
        points=tuple(points),
    )
    return projection, shortages, coverage


def find_shortages(plan: MaterialPlan) -> ShortageReport:
    """Project every material over time and list its shortages in time order (see module doc)."""
    states, excluded, notes = _collect(plan)
    projections: list[MaterialProjection] = []
    shortages: list[Shortage] = []
    coverage: dict[int, RequirementCoverage] = {}
    for material in sorted(states):
        state = states[material]
        _allocate(state)
        projection, found, covered = _project(state, plan.now)
        projections.append(projection)
        shortages.extend(found)
        coverage.update(covered)
    shortages.sort(key=lambda s: (s.first_short_at, s.material))
    return ShortageReport(
        now=plan.now,
        projections=tuple(projections),
        shortages=tuple(shortages),
        coverage=tuple(coverage[i] for i in range(len(plan.requirements))),
        excluded_lots=tuple(excluded),
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------
# schedule: when each work order finishes once material arrives


_OpKey = tuple[str, str]


def _with_operations_linked(plan: MaterialPlan) -> MaterialPlan:
    """The plan with each operation-less requirement given its work order's first operation."""
    keys = {(op.work_order, op.operation) for op in plan.operations}
    first_op: dict[str, str] = {}
    for op in sorted(plan.operations, key=lambda o: (o.start, o.operation)):
        first_op.setdefault(op.work_order, op.operation)
    requirements = tuple(
        dataclasses.replace(req, operation=first_op[req.work_order])
        if (req.work_order, req.operation) not in keys
        and not req.operation
        and req.work_order in first_op
        else req
        for req in plan.requirements
    )
    return dataclasses.replace(plan, requirements=requirements)


def _requirements_by_operation(plan: MaterialPlan) -> dict[_OpKey, list[int]]:
    """Requirement indexes per planned operation."""
    keys = {(op.work_order, op.operation) for op in plan.operations}
    linked: dict[_OpKey, list[int]] = defaultdict(list)
    for index, req in enumerate(plan.requirements):
        if (req.work_order, req.operation) in keys:
            linked[(req.work_order, req.operation)].append(index)
    return linked


def _schedule(
    plan: MaterialPlan, coverage: Sequence[RequirementCoverage]
) -> tuple[WorkOrderLateness, ...]:
    """Run each line's operations in planned order, each starting once the line is free and its
    material is there; work orders whose material never arrives are blocked."""
    linked = _requirements_by_operation(plan)
    lines: dict[str, list[PlannedOperation]] = defaultdict(list)
    for op in plan.operations:
        lines[op.line].append(op)
    ends: dict[_OpKey, datetime | None] = {}
    for ops in lines.values():
        free: datetime | None = None
        for op in sorted(ops, key=lambda o: (o.start, o.work_order, o.operation)):
            ready: datetime | None = op.start
            for index in linked.get((op.work_order, op.operation), []):
                covered = coverage[index].covered_at
                if covered is None or ready is None:
                    ready = None
                    break
                offset = plan.requirements[index].needed_at - op.start
                ready = max(ready, covered - offset)
            if ready is None:
                ends[(op.work_order, op.operation)] = None
                continue
            start = ready if free is None else max(ready, free)
            free = start + (op.end - op.start)
            ends[(op.work_order, op.operation)] = free
    by_order: dict[str, list[PlannedOperation]] = defaultdict(list)
    for op in plan.operations:
        by_order[op.work_order].append(op)
    result: list[WorkOrderLateness] = []
    for work_order, ops in by_order.items():
        due = min(op.due_at for op in ops)
        finish = [ends[(op.work_order, op.operation)] for op in ops]
        expected = None if any(f is None for f in finish) else max(f for f in finish if f)
        late = None if expected is None else max(0.0, _hours(expected - due))
        result.append(
            WorkOrderLateness(
                work_order=work_order,
                due_at=due,
                planned_end=max(op.end for op in ops),
                expected_end=expected,
                hours_late=late,
            )
        )
    result.sort(key=lambda w: (w.due_at, w.work_order))
    return tuple(result)


@dataclass(frozen=True)
class _Outcome:
    report: ShortageReport
    lateness: tuple[WorkOrderLateness, ...]


def _evaluate(plan: MaterialPlan) -> _Outcome:
    report = find_shortages(plan)
    return _Outcome(report, _schedule(plan, report.coverage))


# ---------------------------------------------------------------------------------------------
# options


_KIND_ORDER = {
    OptionKind.WAIT: 0,
    OptionKind.EXPEDITE: 1,
    OptionKind.SUBSTITUTE: 2,
    OptionKind.RESEQUENCE: 3,
}


def _late_summary(lateness: Iterable[WorkOrderLateness]) -> str:
    parts = []
    for w in lateness:
        if w.expected_end is None:
            parts.append(f"{w.work_order} blocked (its material never arrives in the plan)")
        elif w.hours_late and w.hours_late > 0:
            parts.append(
                f"{w.work_order} ends {_fmt_time(w.expected_end)}, {w.hours_late:.1f} h after due"
            )
    return "; ".join(parts) if parts else "every work order finishes by its due date"


def _option(
    kind: OptionKind,
    action: str,
    direct_cost: Decimal,
    cost_note: str,
    outcome: _Outcome,
    costs: ResolutionCosts,
    resolves: bool,
) -> ShortageOption:
    hours = sum(w.hours_late or 0.0 for w in outcome.lateness)
    tardiness = (Decimal(repr(round(hours, 6))) * costs.tardiness_cost_per_hour).quantize(
        _CENTS, rounding=ROUND_HALF_EVEN
    )
    direct = direct_cost.quantize(_CENTS, rounding=ROUND_HALF_EVEN)
    blocked = tuple(w.work_order for w in outcome.lateness if w.blocked)
    total = direct + tardiness
    cur = costs.currency
    explanation = (
        f"{action}. {_late_summary(outcome.lateness)}. Direct cost {direct} {cur}"
        + (f" ({cost_note})" if cost_note else "")
        + f" + tardiness {hours:.1f} h × {costs.tardiness_cost_per_hour} {cur}/h ="
        f" {tardiness} {cur}; total {total} {cur}."
    )
    return ShortageOption(
        kind=kind,
        action=action,
        direct_cost=direct,
        tardiness_hours=hours,
        tardiness_cost=tardiness,
        total_cost=total,
        resolves=resolves,
        blocked_work_orders=blocked,
        lateness=outcome.lateness,
        explanation=explanation,
    )


def _resolved(outcome: _Outcome, affected: set[_OpKey], materials: set[str]) -> bool:
    """Whether every affected operation gets its `materials` on time in this outcome."""
    return all(
        c.short_quantity <= _EPS
        for c in outcome.report.coverage
        if (c.work_order, c.operation) in affected and c.material in materials
    ) and bool(affected)


def _wait_option(shortage: Shortage, base: _Outcome, costs: ResolutionCosts) -> ShortageOption:
    if shortage.covered_at is None:
        action = f"Wait: no open receipt of {shortage.material} covers the shortage"
    else:
        action = (
            f"Wait for the open receipts of {shortage.material}; the shortage ends"
            f" {_fmt_time(shortage.covered_at)}"
        )
    return _option(OptionKind.WAIT, action, Decimal(0), "", base, costs, False)


def _expedite_options(
    plan: MaterialPlan,
    shortage: Shortage,
    affected: set[_OpKey],
    costs: ResolutionCosts,
) -> list[ShortageOption]:
    offers = {o.purchase_order: o for o in costs.expedite_offers}
    options: list[ShortageOption] = []
    for position, receipt in enumerate(plan.receipts):
        offer = offers.get(receipt.purchase_order)
        if (
            offer is None
            or receipt.material != shortage.material
            or receipt.expected_at <= shortage.first_short_at
        ):
            continue
        new_time = max(offer.earliest_at, shortage.first_short_at, plan.now)
        if new_time >= receipt.expected_at:
            continue
        moved = dataclasses.replace(receipt, expected_at=new_time)
        receipts = (*plan.receipts[:position], moved, *plan.receipts[position + 1 :])
        outcome = _evaluate(dataclasses.replace(plan, receipts=receipts))
        quantity = Decimal(repr(receipt.quantity))
        cost = offer.cost_per_order + offer.cost_per_unit * quantity
        action = (
            f"Expedite {receipt.purchase_order} ({_fmt_qty(receipt.quantity, receipt.unit)} of"
            f" {receipt.material} from {receipt.supplier}) from {_fmt_time(receipt.expected_at)}"
            f" to {_fmt_time(new_time)}"
        )
        note = (
            f"{offer.cost_per_order} per order + {offer.cost_per_unit} ×"
            f" {_fmt_qty(receipt.quantity, receipt.unit)}"
        )
        resolves = _resolved(outcome, affected, {shortage.material})
        options.append(_option(OptionKind.EXPEDITE, action, cost, note, outcome, costs, resolves))
    return options


def _unit_of(plan: MaterialPlan, material: str) -> str | None:
    for lot in plan.lots:
        if lot.material == material:
            return lot.unit
    for receipt in plan.receipts:
        if receipt.material == material:
            return receipt.unit
    return None


def _substitute_options(
    plan: MaterialPlan,
    shortage: Shortage,
    affected: set[_OpKey],
    costs: ResolutionCosts,
    remarks: list[str],
) -> list[ShortageOption]:
    options: list[ShortageOption] = []
    short_by_key = {
        (c.work_order, c.operation, c.needed_at): c.short_quantity
        for c in shortage.requirements
        if c.short_quantity > _EPS
    }
    for rule in costs.substitutes:
        if rule.material != shortage.material:
            continue
        unit = _unit_of(plan, rule.alternative)
        if unit is None:
            remarks.append(
                f"substitute {rule.alternative} has no stock and no open receipt, so it was not"
                " offered"
            )
            continue
        requirements: list[Requirement] = []
        substituted = 0.0
        for req in plan.requirements:
            need = max(req.needed_at, plan.now)
            short = short_by_key.get((req.work_order, req.operation, need), 0.0)
            if req.material != shortage.material or short <= _EPS:
                requirements.append(req)
                continue
            if req.quantity - short > _EPS:
                requirements.append(dataclasses.replace(req, quantity=req.quantity - short))
            alternative = short * rule.alternative_per_unit
            substituted += alternative
            requirements.append(
                dataclasses.replace(req, material=rule.alternative, quantity=alternative, unit=unit)
            )
        outcome = _evaluate(dataclasses.replace(plan, requirements=tuple(requirements)))
        cost = rule.price_difference_per_unit * Decimal(repr(substituted))
        action = (
            f"Use {_fmt_qty(substituted, unit)} of {rule.alternative} instead of"
            f" {_fmt_qty(sum(short_by_key.values()), shortage.unit)} of {shortage.material}"
            f" for {', '.join(shortage.work_orders)}"
        )
        note = f"{_fmt_qty(substituted, unit)} × {rule.price_difference_per_unit} price difference"
        resolves = _resolved(outcome, affected, {shortage.material, rule.alternative})
        if not resolves:
            note += f"; not enough released {rule.alternative} on time"
        options.append(_option(OptionKind.SUBSTITUTE, action, cost, note, outcome, costs, resolves))
    return options


def _moved_plan(
    plan: MaterialPlan, line_ops: list[PlannedOperation], first: int, last: int
) -> tuple[MaterialPlan, dict[_OpKey, datetime]]:
    """Move line_ops[first] to just after line_ops[last], the block between running back to back
    from its old start; requirements move with their operation."""
    block = [*line_ops[first + 1 : last + 1], line_ops[first]]
    at = line_ops[first].start
    shift: dict[_OpKey, timedelta] = {}
    new_start: dict[_OpKey, datetime] = {}
    for op in block:
        key = (op.work_order, op.operation)
        shift[key] = at - op.start
        new_start[key] = at
        at += op.end - op.start
    operations = tuple(
        dataclasses.replace(op, start=op.start + shift[key], end=op.end + shift[key])
        if (key := (op.work_order, op.operation)) in shift
        else op
        for op in plan.operations
    )
    linked = _requirements_by_operation(plan)
    moved_index = {
        i: shift[key] for key, indexes in linked.items() if key in shift for i in indexes
    }
    requirements = tuple(
        dataclasses.replace(req, needed_at=req.needed_at + moved_index[i])
        if i in moved_index
        else req
        for i, req in enumerate(plan.requirements)
    )
    return dataclasses.replace(plan, operations=operations, requirements=requirements), new_start


def _resequence_options(
    plan: MaterialPlan,
    shortage: Shortage,
    affected: set[_OpKey],
    costs: ResolutionCosts,
) -> list[ShortageOption]:
    options: list[ShortageOption] = []
    operations = {(op.work_order, op.operation): op for op in plan.operations}
    for key in sorted(affected & operations.keys(), key=lambda k: operations[k].start):
        moving = operations[key]
        line_ops = sorted(
            (op for op in plan.operations if op.line == moving.line),
            key=lambda o: (o.start, o.work_order, o.operation),
        )
        first = line_ops.index(moving)
        for last in range(first + 1, len(line_ops)):
            other = line_ops[last]
            variant, new_start = _moved_plan(plan, line_ops, first, last)
            outcome = _evaluate(variant)
            other_key = (other.work_order, other.operation)
            other_ready = all(
                c.short_quantity <= _EPS
                for c in outcome.report.coverage
                if (c.work_order, c.operation) == other_key
            )
            if not other_ready:
                continue
            action = (
                f"Run {other.work_order} before {moving.work_order} on {moving.line}:"
                f" {moving.work_order} is planned to start {_fmt_time(new_start[key])} instead of"
                f" {_fmt_time(moving.start)}"
            )
            resolves = _resolved(outcome, affected, {shortage.material})
            option = _option(
                OptionKind.RESEQUENCE, action, Decimal(0), "", outcome, costs, resolves
            )
            options.append(dataclasses.replace(option, operations=variant.operations))
    return options


def _rank(option: ShortageOption) -> tuple[int, Decimal, int, str]:
    return (
        len(option.blocked_work_orders),
        option.total_cost,
        _KIND_ORDER[option.kind],
        option.action,
    )


def resolve_shortages(plan: MaterialPlan, costs: ResolutionCosts) -> tuple[ShortageDecision, ...]:
    """For each shortage: wait, expedite, substitute and resequence options, priced and ranked.

    Ranking: fewest work orders left without material, then lowest total cost (direct cost plus
    hours late past due × tardiness cost per hour, summed over every work order in the plan).
    """
    if costs.tardiness_cost_per_hour < 0:
        raise ValueError("tardiness cost per hour must not be negative")
    if not plan.operations:
        raise ValueError(
            "no planned operations given: without start, end and due dates the tardiness of an"
            " option cannot be priced; pass the schedule in MaterialPlan.operations"
        )
    plan = _with_operations_linked(plan)
    scheduled = {op.work_order for op in plan.operations}
    base = _evaluate(plan)
    decisions: list[ShortageDecision] = []
    for shortage in base.report.shortages:
        affected = {(c.work_order, c.operation) for c in shortage.requirements}
        remarks = [
            f"{work_order} has no planned operation, so its lateness is not priced"
            for work_order in shortage.work_orders
            if work_order not in scheduled
        ]
        wait = _wait_option(shortage, base, costs)
        options = [
            wait,
            *_expedite_options(plan, shortage, affected, costs),
            *_substitute_options(plan, shortage, affected, costs, remarks),
            *_resequence_options(plan, shortage, affected, costs),
        ]
        options.sort(key=_rank)
        best = options[0]
        cur = costs.currency
        waiting_blocks_more = len(wait.blocked_work_orders) > len(best.blocked_work_orders)
        saving = None if waiting_blocks_more else wait.total_cost - best.total_cost
        why = (
            f"Recommended: {best.kind.value} ({best.action}), total {best.total_cost} {cur}"
            f" against {wait.total_cost} {cur} for waiting"
        )
        if waiting_blocks_more:
            why += f", and waiting leaves {', '.join(wait.blocked_work_orders)} without material"
        why += (
            ". Options are ranked by work orders left without material, then by total cost"
            f" (direct cost + hours late × {costs.tardiness_cost_per_hour} {cur}/h over every"
            " work order in the plan)."
        )
        if remarks:
            why += " Note: " + "; ".join(remarks) + "."
        decisions.append(
            ShortageDecision(
                shortage=shortage,
                options=tuple(options),
                recommended=best,
                saving_against_waiting=saving,
                explanation=why,
            )
        )
    return tuple(decisions)
