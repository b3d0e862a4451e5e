"""What a shortage analysis reads (stock, receipts, the plan) and what it answers (projections,
shortages, priced options), with the few helpers every part formats with."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from factory_agents.catalog.supply_chain.demand import Requirement

RELEASED = "released"
HELD_STATUSES = frozenset({"quarantine", "blocked"})
EPS = 1e-6
CENTS = Decimal("0.01")

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
# checks: a plan with a wrong record is refused, saying what to fix


def _aware(name: str, value: datetime) -> None:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC); got the naive datetime {value}")


def _amount(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite quantity ≥ 0, got {value}; fix the record")


def _check_plan(plan: MaterialPlan) -> None:
    """Refuse naive times, negative or non-finite amounts, mixed units and doubled operations."""
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


# ---------------------------------------------------------------------------------------------
# formatting


def hours(delta: timedelta) -> float:
    """A duration in hours."""
    return delta.total_seconds() / 3600


def fmt_time(at: datetime) -> str:
    """A time as plans show it (minutes)."""
    return at.strftime("%Y-%m-%d %H:%M")


def fmt_qty(quantity: float, unit: str) -> str:
    """A quantity with its unit."""
    return f"{quantity:,.10g} {unit}".strip()
