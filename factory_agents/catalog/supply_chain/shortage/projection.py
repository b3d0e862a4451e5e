"""Projecting every material over time: released lots first-expiring first, receipts when they
are expected, requirements in the order they are needed; each stretch below zero is a shortage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from factory_agents.catalog.supply_chain.demand import Requirement
from factory_agents.catalog.supply_chain.shortage.model import (
    CENTS,
    EPS,
    HELD_STATUSES,
    RELEASED,
    ExcludedLot,
    MaterialPlan,
    MaterialProjection,
    ProjectionPoint,
    RequirementCoverage,
    Shortage,
    ShortageReport,
    StockLot,
    fmt_time,
)

_AVAILABILITY_NOTE = (
    "only released lots count as available: quarantined, blocked, consumed and expired lots are"
    " left out (see excluded_lots); a released lot counts only for needs before its expiry date,"
    " first-expiring first"
)


def _money(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(CENTS, rounding=ROUND_HALF_EVEN)


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
            reason = f"expired {fmt_time(lot.expires_at)}"
        if reason:
            excluded.append(ExcludedLot(lot.lot, lot.material, lot.quantity, lot.unit, reason))
        elif lot.quantity > EPS:
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
                f" {fmt_time(arrival)} and is overdue: counted as arriving now"
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
                f"{req.work_order} needed {req.material} at {fmt_time(need)}, before now, and has"
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
            (s for s in state.supplies if s.remaining > EPS and _usable(s, demand.need_at)),
            key=_fefo_key,
        )
        for supply in on_time:
            if wanted <= EPS:
                break
            take = min(wanted, supply.remaining)
            supply.remaining -= take
            wanted -= take
            demand.taken_on_time += take
        covered = demand.need_at
        later = sorted(
            (s for s in state.supplies if s.remaining > EPS and s.available_at > demand.need_at),
            key=lambda s: (s.available_at, s.label),
        )
        for supply in later:
            if wanted <= EPS:
                break
            take = min(wanted, supply.remaining)
            supply.remaining -= take
            wanted -= take
            covered = supply.available_at
        demand.covered_at = covered if wanted <= EPS else None


def _coverage(demand: _Demand) -> RequirementCoverage:
    req = demand.requirement
    short = max(0.0, req.quantity - demand.taken_on_time)
    return RequirementCoverage(
        work_order=req.work_order,
        operation=req.operation,
        material=req.material,
        quantity=req.quantity,
        needed_at=demand.need_at,
        short_quantity=short if short > EPS else 0.0,
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
            if supply.expires_at is not None and supply.remaining > EPS:
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
        if balance < -EPS:
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
