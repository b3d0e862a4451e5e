"""The realized saving of a published load plan, from the meters over the verification window.

The loads are isolated by their sub-meters, as in retrofit isolation (IPMVP Option B).
Measured: each planned load's energy per slot from its sub-meter, and the base load (the site
meter minus those sub-meters) over the window; all are cumulative kWh registers read at the
slot boundaries. Modelled: the counterfactual, the same metered energy of each load run as is
(at its announced max power from the start of its window until done). Both are priced by the
tariff slot by slot; the demand charge applies to the highest slot-average of the loads on top
of the window's mean metered base, above the peak reached before the plan. The base is held
at its mean because the line's own stops swing it from slot to slot whatever the loads do:
compared slot by slot, those swings would be counted as the plan's doing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from factory_agents.actions import LoadShift
from factory_agents.agent import Proposal, RealizedSaving, VerificationWindow
from factory_agents.catalog.energy import metering
from factory_agents.catalog.energy.tariff import SlotGrid, TimeOfUseTariff
from factory_agents.errors import DataQualityError, MeasurementNotReady
from factory_agents.plant import Sample

CENTS = Decimal("0.01")
EDGE = timedelta(seconds=2)


def measure_load_shift(
    proposal: Proposal,
    window: VerificationWindow,
    *,
    tariff: TimeOfUseTariff,
    slot_minutes: int,
    site_meter: str,
    sub_meters: Mapping[str, str],
) -> RealizedSaving:
    """Metered cost of the planned loads against the same energy run as is (module docstring)."""
    action = proposal.action
    if not isinstance(action, LoadShift):
        raise DataQualityError(f"the load-shift agent measures load plans, not {action.kind}")
    start, end = window.before.at, window.after.at
    step = timedelta(minutes=slot_minutes)
    first = min(s.start for p in action.plans for s in p.slots)
    last = max(s.end for p in action.plans for s in p.slots)
    if end < last:
        raise MeasurementNotReady(
            f"the verification window ended at {end:%H:%M:%S} UTC, before the plan's last slot"
            f" ends at {last:%H:%M:%S} UTC: the loads' runs are measured once every load's window"
            f" has closed, {(last - start).total_seconds():.0f} s after acting; give this"
            " proposal a verification window at least that long"
        )
    grid = SlotGrid(first, slot_minutes, round((last - first) / step))
    measured_from = max(0, -((first - start + EDGE) // step))  # first slot starting in window
    planned = [
        p for p in action.plans if min(s.start for s in p.slots) >= grid.slot_start(measured_from)
    ]
    left_out = sorted(p.load for p in action.plans if p not in planned)
    if not planned:
        raise DataQualityError(
            f"every load's window began before the verification window ({start:%H:%M:%S} UTC):"
            " the plan took effect too late for its runs to be measured"
        )
    readings = _registers(window, site_meter, {p.load: sub_meters[p.load] for p in planned})
    slots = range(measured_from, grid.slots)
    h = grid.hours_per_slot
    try:
        site = {t: _slot_kwh(readings[site_meter], grid, t) for t in slots}
        metered = {
            p.load: {t: _slot_kwh(readings[sub_meters[p.load]], grid, t) for t in slots}
            for p in planned
        }
    except metering.RegisterError as err:
        raise DataQualityError(f"the meters cannot be read slot by slot: {err}") from err
    inputs = proposal.estimated_saving.inputs
    as_is = {}
    for plan in planned:
        power = inputs.get(f"max_power_kw[{plan.load}]")
        if power is None:
            raise DataQualityError(f"the proposal does not record {plan.load}'s max power")
        begin = _slot_of(grid, min(s.start for s in plan.slots))
        as_is[plan.load] = _full_power_from(
            sum(metered[plan.load].values()), power * h, begin, slots
        )
    prices = tariff.slot_prices(grid)
    base_kwh = sum(site[t] - sum(metered[p.load][t] for p in planned) for t in slots) / len(slots)
    actual_energy = _priced(metered, prices)
    as_is_energy = _priced(as_is, prices)
    peak_so_far = inputs.get("peak_so_far_kw", 0.0)
    actual_peak = (base_kwh + max(sum(run[t] for run in metered.values()) for t in slots)) / h
    as_is_peak = (base_kwh + max(sum(run[t] for run in as_is.values()) for t in slots)) / h
    charge = tariff.demand_charge_per_kw
    actual_demand = _demand(charge, actual_peak, peak_so_far)
    as_is_demand = _demand(charge, as_is_peak, peak_so_far)
    actual = actual_energy + actual_demand
    counterfactual = as_is_energy + as_is_demand
    kwh = sum(sum(run.values()) for run in metered.values())
    unmeasured = (
        f"; not measured (their windows began before the plan took effect): {', '.join(left_out)}"
        if left_out
        else ""
    )
    return RealizedSaving(
        amount=counterfactual - actual,
        currency=tariff.currency,
        period_hours=(end - start).total_seconds() / 3600,
        metric_after=float(actual),
        units=len(planned),
        method=(
            f"measured: {kwh:.3f} kWh on the sub-meters of {len(planned)} planned load(s) in"
            f" {len(slots)} slot(s) from {grid.slot_start(measured_from):%H:%M} UTC, priced slot"
            f" by slot = {actual_energy} {tariff.currency}, plus the demand charge on their"
            f" peak on the window's mean metered base load ({base_kwh / h:.1f} kW, site meter"
            f" minus sub-meters), {actual_peak:.1f} kW above {peak_so_far:g} kW ="
            f" {actual_demand}; counterfactual (modelled): the same metered energy of each load"
            f" run as is (full announced power from its window's start) = {as_is_energy}"
            f" {tariff.currency} energy + {as_is_demand} demand (peak {as_is_peak:.1f}"
            f" kW){unmeasured}"
        ),
    )


def _registers(
    window: VerificationWindow, site_meter: str, sub_meters: Mapping[str, str]
) -> dict[str, list[Sample]]:
    """Each meter's Good readings in the window, with the counters read at both its ends."""
    out = {}
    for meter in (site_meter, *sub_meters.values()):
        readings = list(window.data.history.get(meter, []))
        for reading in (window.before, window.after):
            if meter in reading.values:
                readings.append(
                    Sample(tag=meter, value=reading.values[meter], source_time=reading.at)
                )
        out[meter] = metering.good(readings)
        if not out[meter]:
            raise DataQualityError(f"{meter} has no Good reading in the verification window")
    return out


def _slot_kwh(readings: list[Sample], grid: SlotGrid, t: int) -> float:
    return metering.energy_between(readings, grid.slot_start(t), grid.slot_start(t + 1))


def _slot_of(grid: SlotGrid, moment: datetime) -> int:
    return round((moment - grid.start) / timedelta(minutes=grid.slot_minutes))


def _full_power_from(kwh: float, per_slot: float, begin: int, slots: range) -> dict[int, float]:
    """`kwh` at full power (`per_slot` kWh a slot) from slot `begin`; the rest in the last slot."""
    run = dict.fromkeys(slots, 0.0)
    left = kwh
    for t in slots:
        if t < begin or left <= 0:
            continue
        run[t] = min(per_slot, left)
        left -= run[t]
    if left > 0:
        run[slots[-1]] += left
    return run


def _priced(runs: Mapping[str, Mapping[int, float]], prices: tuple[Decimal, ...]) -> Decimal:
    total = sum(
        (Decimal(f"{kwh:.6f}") * prices[t] for run in runs.values() for t, kwh in run.items()),
        Decimal(0),
    )
    return total.quantize(CENTS)


def _demand(charge: Decimal, peak_kw: float, peak_so_far: float) -> Decimal:
    return (charge * Decimal(f"{max(0.0, peak_kw - peak_so_far):.6f}")).quantize(CENTS)
