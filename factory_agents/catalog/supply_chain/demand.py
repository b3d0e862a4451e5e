"""Demand per period from consumption, planned requirements over a lead time, supplier lead times.

Pure functions over small input records the agent maps MES rows onto. Every estimate says how
many observations it rests on and carries `uncertain=True`, with the reason in `notes`, when
they are too few for the statistics to be trusted; fewer than two is an error.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import fmean, stdev

DEFAULT_MIN_PERIODS = 12
DEFAULT_MIN_RECEIVED_ORDERS = 5
_SECONDS_PER_DAY = 86_400.0


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC); got the naive datetime {value}")
    return value


def _quantity(what: str, value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{what}: quantity must be a finite number, got {value}")
    if value < 0:
        raise ValueError(
            f"{what}: quantity must not be negative, got {value}; record returns and stock"
            " corrections separately from consumption"
        )
    return float(value)


@dataclass(frozen=True)
class ConsumptionRecord:
    """One booked consumption of a material (a goods issue to production)."""

    material: str
    quantity: float
    at: datetime
    unit: str


@dataclass(frozen=True)
class Requirement:
    """A planned need for a material by a work order's operation, at the time it is needed."""

    material: str
    quantity: float
    needed_at: datetime
    work_order: str
    unit: str
    operation: str = ""


@dataclass(frozen=True)
class ReceivedOrder:
    """A past purchase order line: when it was ordered from the supplier and when it arrived."""

    supplier: str
    ordered_at: datetime
    received_at: datetime
    purchase_order: str = ""
    material: str = ""


@dataclass(frozen=True)
class DemandEstimate:
    """Demand per period of one material: the series, its mean and sample standard deviation."""

    material: str
    unit: str
    period_days: float
    window_start: datetime
    window_end: datetime
    per_period: tuple[float, ...]
    mean: float
    std: float
    uncertain: bool
    notes: tuple[str, ...]

    @property
    def periods(self) -> int:
        """How many periods the estimate rests on."""
        return len(self.per_period)


@dataclass(frozen=True)
class PlannedDemand:
    """Planned requirements for one material inside a window (e.g. now until now + lead time)."""

    material: str
    unit: str
    window_start: datetime
    window_end: datetime
    quantity: float
    work_orders: tuple[str, ...]
    requirements: int


@dataclass(frozen=True)
class SupplierLeadTime:
    """Lead-time statistics of one supplier, in days, from its received orders."""

    supplier: str
    orders: int
    mean_days: float
    std_days: float | None
    min_days: float
    max_days: float
    uncertain: bool
    notes: tuple[str, ...]


def _single_unit(material: str, units: Iterable[str], what: str) -> str:
    seen = sorted(set(units))
    if len(seen) > 1:
        raise ValueError(
            f"{what} for material {material} come in different units {seen}; convert them to one"
            " unit before estimating"
        )
    return seen[0] if seen else ""


def demand_per_period(
    records: Sequence[ConsumptionRecord],
    material: str,
    *,
    start: datetime,
    end: datetime,
    period_days: float = 1.0,
    min_periods: int = DEFAULT_MIN_PERIODS,
    unit: str | None = None,
) -> DemandEstimate:
    """Consumption of `material` summed per period over [start, end); periods without any count 0.

    Returns the series with its mean and sample standard deviation (n − 1). Fewer than two
    periods is an error; fewer than `min_periods` sets `uncertain`. Records outside the window
    are left out and counted in the notes.
    """
    _aware("start", start)
    _aware("end", end)
    if not period_days > 0 or not math.isfinite(period_days):
        raise ValueError(f"period length must be a positive number of days, got {period_days}")
    if end <= start:
        raise ValueError(f"the window is empty: end {end} is not after start {start}")
    span = (end - start).total_seconds() / (period_days * _SECONDS_PER_DAY)
    periods = round(span)
    if abs(span - periods) > 1e-9:
        raise ValueError(
            f"the window {start} … {end} holds {span:.3f} periods of {period_days:g} days, not a"
            " whole number; move start or end so the last period is complete"
        )
    if periods < 2:
        raise ValueError(
            f"the window holds {periods} period(s) of {period_days:g} days; at least two are needed"
            " for a standard deviation, so widen the window or shorten the period"
        )
    mine = [r for r in records if r.material == material]
    found_unit = _single_unit(
        material, [r.unit for r in mine] + ([unit] if unit else []), "records"
    )
    totals = [0.0] * periods
    outside = 0
    period = timedelta(days=period_days)
    for record in mine:
        _aware(f"consumption time of {material}", record.at)
        quantity = _quantity(f"consumption of {material} at {record.at}", record.quantity)
        if not start <= record.at < end:
            outside += 1
            continue
        totals[min(int((record.at - start) / period), periods - 1)] += quantity
    notes: list[str] = []
    uncertain = periods < min_periods
    if uncertain:
        notes.append(
            f"only {periods} periods of {period_days:g} days (at least {min_periods} wanted):"
            " the mean and standard deviation are uncertain"
        )
    if not mine:
        uncertain = True
        notes.append(f"no consumption of {material} was recorded at all")
    if outside:
        notes.append(f"{outside} record(s) outside the window were left out")
    zero = sum(1 for t in totals if t == 0)
    if zero * 2 > periods:
        notes.append(
            f"{zero} of {periods} periods had no consumption: demand is intermittent, so a normal"
            " model is doubtful; prefer the discrete (s, S) model or a longer period"
        )
    return DemandEstimate(
        material=material,
        unit=found_unit,
        period_days=period_days,
        window_start=start,
        window_end=end,
        per_period=tuple(totals),
        mean=fmean(totals),
        std=stdev(totals),
        uncertain=uncertain,
        notes=tuple(notes),
    )


def planned_demand(
    requirements: Sequence[Requirement],
    material: str,
    *,
    start: datetime,
    lead_time_days: float,
) -> PlannedDemand:
    """Planned requirements for `material` needed in [start, start + lead time), by work order."""
    _aware("start", start)
    if not lead_time_days > 0 or not math.isfinite(lead_time_days):
        raise ValueError(
            f"lead time must be a positive number of days, got {lead_time_days}; with no lead time"
            " there is no window to plan over"
        )
    end = start + timedelta(days=lead_time_days)
    mine = [r for r in requirements if r.material == material]
    unit = _single_unit(material, [r.unit for r in mine], "requirements")
    inside = []
    for requirement in mine:
        _aware(f"need time of {material} for {requirement.work_order}", requirement.needed_at)
        _quantity(f"requirement of {material} by {requirement.work_order}", requirement.quantity)
        if start <= requirement.needed_at < end:
            inside.append(requirement)
    inside.sort(key=lambda r: (r.needed_at, r.work_order))
    return PlannedDemand(
        material=material,
        unit=unit,
        window_start=start,
        window_end=end,
        quantity=sum(r.quantity for r in inside),
        work_orders=tuple(dict.fromkeys(r.work_order for r in inside)),
        requirements=len(inside),
    )


def supplier_lead_time(
    orders: Sequence[ReceivedOrder],
    supplier: str,
    *,
    min_orders: int = DEFAULT_MIN_RECEIVED_ORDERS,
) -> SupplierLeadTime:
    """Mean, sample standard deviation, minimum and maximum of received_at − ordered_at, in days."""
    days: list[float] = []
    for order in orders:
        if order.supplier != supplier:
            continue
        _aware(f"ordered_at of {order.purchase_order or supplier}", order.ordered_at)
        _aware(f"received_at of {order.purchase_order or supplier}", order.received_at)
        lead = (order.received_at - order.ordered_at).total_seconds() / _SECONDS_PER_DAY
        if lead < 0:
            raise ValueError(
                f"order {order.purchase_order or '?'} from {supplier} was received"
                f" ({order.received_at}) before it was ordered ({order.ordered_at}); fix the dates"
            )
        days.append(lead)
    if not days:
        raise ValueError(
            f"no received orders from supplier {supplier}; its lead time cannot be estimated,"
            " so give a quoted lead time instead"
        )
    notes: list[str] = []
    uncertain = len(days) < min_orders
    if len(days) < 2:
        notes.append("only one received order: the spread of the lead time is unknown")
    elif uncertain:
        notes.append(
            f"only {len(days)} received orders (at least {min_orders} wanted): the lead-time"
            " statistics are uncertain"
        )
    return SupplierLeadTime(
        supplier=supplier,
        orders=len(days),
        mean_days=fmean(days),
        std_days=stdev(days) if len(days) >= 2 else None,
        min_days=min(days),
        max_days=max(days),
        uncertain=uncertain,
        notes=tuple(notes),
    )


def supplier_lead_times(
    orders: Sequence[ReceivedOrder], *, min_orders: int = DEFAULT_MIN_RECEIVED_ORDERS
) -> dict[str, SupplierLeadTime]:
    """Lead-time statistics for every supplier that appears in `orders`, by supplier name."""
    return {
        supplier: supplier_lead_time(orders, supplier, min_orders=min_orders)
        for supplier in sorted({o.supplier for o in orders})
    }
