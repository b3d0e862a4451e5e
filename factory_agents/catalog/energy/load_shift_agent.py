"""Load-shift agent: deferrable loads' requests and a time-of-use tariff → run them when cheapest.

It reads the site's energy meter and each deferrable load's sub-meter over its look-back (the
base load is the site meter minus the sub-meters), the loads' open requests from their
controllers (energy, max power, earliest start, deadline; see load_requests.py) and the
site's tariff from its configuration. It plans the loads with the exact LP of load_shift/
against the "as is" behaviour (each load at full power from its earliest start) and proposes
publishing the plan when it saves more than a threshold. The estimate is the LP's cost
difference: energy at the slot prices plus the demand charge on the peak above the highest
slot-average demand already metered in the look-back.

Realized (load_shift_saving.py): the loads' metered energy per slot priced by the tariff,
against the same metered energy run as is; demand from the site meter per slot.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from factory_agents.actions import LoadPlan, LoadShift, LoadSlot
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
from factory_agents.catalog.energy import metering
from factory_agents.catalog.energy.load_requests import (
    ENERGY,
    REQUEST_TAGS,
    LoadRequest,
    Unreadable,
    read_request,
    tag,
)
from factory_agents.catalog.energy.load_shift import (
    DeferrableLoad,
    LoadRun,
    LoadShiftPlan,
    base_load_profile,
    plan_load_shift,
)
from factory_agents.catalog.energy.load_shift_saving import measure_load_shift
from factory_agents.catalog.energy.tariff import MINUTES_PER_DAY, SlotGrid, TimeOfUseTariff
from factory_agents.catalog.energy.tariff_config import TariffConfig
from factory_agents.evidence import Marker, Series, Threshold, TrendChart
from factory_agents.plant import Sample
from factory_agents.screening import is_fresh, screen
from factory_agents.site import DEFERRABLE_LOADS, LINE, SITE_ENERGY, node

BASE_LOAD = "base load (site meter minus sub-meters)"
METER_SETTLE = timedelta(seconds=5)
"""Measured this long after the plan's last slot ends, so its closing register reading is in."""


def _default_loads() -> dict[str, str]:
    return {name: node(path) for name, path in DEFERRABLE_LOADS.items()}


class LoadShiftConfig(BaseModel):
    """The site's meter, its deferrable loads' controllers, its tariff and cap, the thresholds."""

    model_config = ConfigDict(frozen=True)

    line: str = LINE
    site_id: str = Field("site1", description="The site whose load plan the MES keeps")
    site_meter: str = Field(SITE_ENERGY, description="The site's main meter, cumulative kWh")
    loads: dict[str, str] = Field(
        default_factory=_default_loads,
        description="Each deferrable load's name and its controller's node (tags below it)",
    )
    tariff: TariffConfig = Field(default_factory=TariffConfig)
    slot_minutes: int = Field(1, ge=1, description="Plan slots; the tariff's bands fit in them")
    power_cap_kw: float = Field(2500.0, gt=0, description="The site's contracted capacity")
    min_saving: Decimal = Field(Decimal("0.25"), description="Plans saving less are not proposed")
    lookback_seconds: float = Field(900.0, gt=0, description="Meter history read (base, peak)")
    min_history_seconds: float = Field(60.0, gt=0, description="Meter history needed to plan")
    min_lead_seconds: float = Field(
        60.0, ge=0, description="A load starting sooner than this is left to run as is"
    )
    stale_after_seconds: float = Field(10.0, gt=0)
    max_gap_seconds: float = Field(30.0, gt=0, description="Longer meter gaps are left out")

    @field_validator("slot_minutes")
    @classmethod
    def _divides_the_day(cls, value: int) -> int:
        if MINUTES_PER_DAY % value:
            raise ValueError(f"slot_minutes must divide the day (1, 5, 15, 60…), got {value}")
        return value

    def sub_meter(self, name: str) -> str:
        """The sub-meter (cumulative kWh) of one deferrable load."""
        return tag(self.loads[name], ENERGY)

    @property
    def counters(self) -> tuple[str, ...]:
        """The site meter and every sub-meter, read at both ends of the verification window."""
        return (self.site_meter, *(self.sub_meter(name) for name in self.loads))


class LoadShiftAgent:
    """Plans the deferrable loads' open requests into cheap slots and proposes the plan."""

    def __init__(self, config: LoadShiftConfig) -> None:
        self.spec = SPEC
        self.config = config
        self.tariff = config.tariff.build()

    def needs(self) -> DataNeeds:
        """The loads' requests now, and the site meter and sub-meters over the look-back."""
        c = self.config
        requests = tuple(tag(ctrl, field) for ctrl in c.loads.values() for field in REQUEST_TAGS)
        return DataNeeds(
            current=(*requests, *c.counters),
            history=c.counters,
            lookback_seconds=c.lookback_seconds,
        )

    def analyze(self, data: AgentInput) -> AgentOutput:
        """Plan the requests that start late enough to be shifted; propose when it pays."""
        c = self.config
        out = AgentOutput(agent=SPEC.name)
        stale = timedelta(seconds=c.stale_after_seconds)
        registers: dict[str, list[Sample]] = {}
        for meter in c.counters:
            # History keeps a register's changes; its live value says it still reads so now.
            live = [data.current[meter]] if meter in data.current else []
            screened = screen([*data.history.get(meter, []), *live], data.now)
            out.skipped.update(screened.dropped)
            registers[meter] = metering.good(screened.usable)
            newest = registers[meter][-1] if registers[meter] else None
            if not is_fresh(newest, data.now, stale):
                return skip(out, "stale_meter", f"{meter} has no Good reading in the last {stale}")
        site = registers.pop(c.site_meter)
        requests: list[LoadRequest] = []
        for name, controller in c.loads.items():
            found = read_request(name, controller, data.current, data.now, stale)
            if isinstance(found, Unreadable):
                return skip(out, found.reason, found.message)
            if found is not None:
                requests.append(found)
        planned = [r.name for r in requests if r.planned]
        if planned:
            return skip(
                out,
                "plan_in_force",
                f"{', '.join(planned)} follow(s) a published load plan; a new plan would"
                " supersede it, so the next one waits until those requests are done",
            )
        try:
            base_kw = self._base_load(site, registers)
        except ValueError as err:
            return skip(out, "insufficient_history", f"no base load from the meters: {err}")
        grid_start = self._grid_start(data.now)
        late = [r.name for r in requests if r.earliest_start < grid_start]
        if late:
            out.skipped["too_late_to_plan"] = len(late)
        shiftable = [r for r in requests if r.earliest_start >= grid_start]
        if not shiftable:
            return skip(
                out,
                "nothing_deferrable",
                f"no deferrable load has an open request starting at or after"
                f" {grid_start:%H:%M:%S} UTC"
                + (f" ({', '.join(late)} start(s) too soon and run as is)" if late else ""),
            )
        peak_so_far = max(metering.highest_slot_demand(site, c.slot_minutes) or 0.0, _mean_kw(site))
        try:
            plan = self._plan(shiftable, grid_start, base_kw, peak_so_far)
        except ValueError as err:
            return skip(out, "infeasible", str(err))
        if plan.saving < c.min_saving:
            out.findings.append(Finding(agent=SPEC.name, severity="info", message=_summary(plan)))
            return skip(
                out,
                "saving_below_threshold",
                f"the best plan saves {plan.saving} {plan.currency}, below the"
                f" {c.min_saving} {plan.currency} worth proposing",
            )
        out.findings.append(Finding(agent=SPEC.name, severity="warning", message=_summary(plan)))
        out.proposals.append(self._proposal(data.now, shiftable, plan, base_kw, site))
        return out

    def measure(self, proposal: Proposal, window: VerificationWindow) -> RealizedSaving:
        """The loads' metered cost as planned against the same energy run as is (see module)."""
        c = self.config
        return measure_load_shift(
            proposal,
            window,
            tariff=self.tariff,
            slot_minutes=c.slot_minutes,
            site_meter=c.site_meter,
            sub_meters={name: c.sub_meter(name) for name in c.loads},
        )

    def _base_load(self, site: list[Sample], subs: dict[str, list[Sample]]) -> float:
        """Mean non-deferrable kW over the look-back: the site meter minus the sub-meters."""
        c = self.config
        rest = metering.remainder(site, subs, tag=BASE_LOAD)
        profile = base_load_profile(
            rest,
            slot_minutes=MINUTES_PER_DAY,
            timezone=c.tariff.timezone,
            max_gap=timedelta(seconds=c.max_gap_seconds),
            min_hours_per_slot=c.min_history_seconds / 3600,
        )
        return profile.kw[0]

    def _grid_start(self, now: datetime) -> datetime:
        """The first slot boundary (local time of the tariff) at least the lead time ahead."""
        c = self.config
        earliest = (now + timedelta(seconds=c.min_lead_seconds)).astimezone(
            ZoneInfo(c.tariff.timezone)
        )
        midnight = earliest.replace(hour=0, minute=0, second=0, microsecond=0)
        step = timedelta(minutes=c.slot_minutes)
        return midnight + -((midnight - earliest) // step) * step

    def _plan(
        self, requests: list[LoadRequest], start: datetime, base_kw: float, peak_so_far: float
    ) -> LoadShiftPlan:
        c = self.config
        step = timedelta(minutes=c.slot_minutes)
        last = max(r.deadline for r in requests)
        slots = max(1, -((start - last) // step))
        grid = SlotGrid(start, c.slot_minutes, slots)
        loads = [
            DeferrableLoad(r.name, r.energy_kwh, r.max_power_kw, r.earliest_start, r.deadline)
            for r in requests
        ]
        return plan_load_shift(
            loads,
            grid,
            self.tariff,
            base_load_kw=[base_kw] * slots,
            power_cap_kw=c.power_cap_kw,
            peak_so_far_kw=peak_so_far,
        )

    def _proposal(
        self,
        now: datetime,
        requests: list[LoadRequest],
        plan: LoadShiftPlan,
        base_kw: float,
        site: list[Sample],
    ) -> Proposal:
        c = self.config
        grid = plan.grid
        identity = ";".join(
            f"{r.name}@{r.earliest_start.isoformat()}/{r.deadline.isoformat()}:{r.energy_kwh:.4f}"
            for r in sorted(requests, key=lambda r: r.name)
        )
        key = hashlib.sha256(f"{SPEC.name}|{c.site_id}|{identity}".encode()).hexdigest()[:20]
        plans = []
        for run, request in zip(plan.plan, requests, strict=True):
            window = grid.slots_within(request.earliest_start, request.deadline)
            plans.append(
                LoadPlan(
                    load=run.name,
                    slots=tuple(
                        LoadSlot(
                            start=grid.slot_start(t),
                            end=grid.slot_start(t + 1),
                            energy_kwh=round(run.energy_kwh[t], 6),
                        )
                        for t in window
                    ),
                )
            )
        energy_saving = plan.baseline_energy_cost - plan.energy_cost
        demand_saving = plan.baseline_demand_cost - plan.demand_cost
        history = (site[-1].source_time - site[0].source_time).total_seconds()
        inputs = {
            "energy_cost_as_is": float(plan.baseline_energy_cost),
            "energy_cost_planned": float(plan.energy_cost),
            "demand_cost_as_is": float(plan.baseline_demand_cost),
            "demand_cost_planned": float(plan.demand_cost),
            "peak_kw_as_is": round(plan.baseline_peak_kw, 1),
            "peak_kw_planned": round(plan.peak_kw, 1),
            "peak_so_far_kw": round(plan.peak_so_far_kw, 3),
            "base_load_kw": round(base_kw, 1),
            "power_cap_kw": c.power_cap_kw,
            "demand_charge_per_kw": float(c.tariff.demand_charge_per_kw),
            "slot_minutes": float(c.slot_minutes),
        }
        for request in requests:
            inputs[f"energy_kwh[{request.name}]"] = request.energy_kwh
            inputs[f"max_power_kw[{request.name}]"] = request.max_power_kw
        first = min(r.earliest_start for r in requests)
        return Proposal(
            proposal_id=f"p-{key}",
            agent=SPEC.name,
            line=c.line,
            title=f"Shift {len(requests)} deferrable load(s) at {c.site_id} to cheaper slots"
            f" from {first:%H:%M} UTC: save {plan.saving} {plan.currency} (peak"
            f" {plan.baseline_peak_kw:.0f} → {plan.peak_kw:.0f} kW)",
            rationale=_summary(plan),
            action=LoadShift(action_id=f"a-{key}", site_id=c.site_id, plans=tuple(plans)),
            evidence=_chart(plan, self.tariff),
            estimated_saving=EstimatedSaving(
                amount=plan.saving,
                currency=plan.currency,
                horizon_hours=grid.slots * grid.hours_per_slot,
                formula="(energy cost as is - planned) + (demand charge as is - planned):"
                " sum over slots of price x deferrable kWh, plus charge x (peak - peak so far)",
                inputs=inputs,
                assumptions=[
                    *plan.assumptions,
                    f"energy part {energy_saving} {plan.currency}, demand part {demand_saving}"
                    f" {plan.currency}",
                    f"base load {base_kw:.1f} kW: the site meter minus the loads' sub-meters,"
                    f" averaged over the last {history:.0f} s (flat: the history is too short"
                    " for a time-of-day profile)",
                    f"peak so far {plan.peak_so_far_kw:.1f} kW: the highest {c.slot_minutes}-min"
                    " average site demand metered in the look-back (at least its mean), standing"
                    " in for the billing period's peak; successive proposals' demand parts"
                    " overlap within one billing period",
                    c.tariff.describe(),
                    f"the plan reaches the controllers before {first:%H:%M:%S} UTC; a load that"
                    " has started by then runs as is",
                ],
            ),
            baseline=Baseline(
                metric="deferrable_load_cost_as_is",
                value=float(plan.baseline_cost),
                units=len(requests),
                start=grid.start,
                end=grid.end,
                method="the loads' cost as is: each at full power from its earliest start,"
                " priced by the tariff, plus the demand charge on its peak above the peak so far",
            ),
            counters=c.counters,
            created_at=now,
            measure_until=max(s.end for p in plans for s in p.slots) + METER_SETTLE,
        )


def _mean_kw(register: list[Sample]) -> float:
    """The mean power a register shows over its readings."""
    hours = (register[-1].source_time - register[0].source_time).total_seconds() / 3600
    return (register[-1].value - register[0].value) / hours if hours > 0 else 0.0


def _summary(plan: LoadShiftPlan) -> str:
    """The plan against the as-is run, in one paragraph."""
    moved = ", ".join(
        f"{run.name} {sum(run.energy_kwh):.2f} kWh in"
        f" {sum(1 for e in run.energy_kwh if e > 1e-9)} slot(s)"
        for run in plan.plan
    )
    violations = (
        f"; as is it would exceed the site cap in {len(plan.baseline_cap_violations)} slot(s)"
        if plan.baseline_cap_violations
        else ""
    )
    return (
        f"As is the loads cost {plan.baseline_cost} {plan.currency} (energy"
        f" {plan.baseline_energy_cost}, demand {plan.baseline_demand_cost}) and peak at"
        f" {plan.baseline_peak_kw:.0f} kW; planned ({plan.solver}, {plan.grid.slots} slots of"
        f" {plan.grid.slot_minutes} min from {plan.grid.start:%H:%M} UTC: {moved}) they cost"
        f" {plan.cost} {plan.currency} (energy {plan.energy_cost}, demand {plan.demand_cost})"
        f" and peak at {plan.peak_kw:.0f} kW{violations}."
    )


def _chart(plan: LoadShiftPlan, tariff: TimeOfUseTariff) -> TrendChart:
    """Site demand per slot as is and planned (as steps), the cap, and the price bands."""
    grid = plan.grid
    times: list[datetime] = []
    for t in range(grid.slots):
        times += [grid.slot_start(t), grid.slot_start(t + 1)]

    def demand(runs: tuple[LoadRun, ...]) -> list[float]:
        values: list[float] = []
        for t in range(grid.slots):
            kw = plan.base_load_kw[t] + sum(r.energy_kwh[t] for r in runs) / grid.hours_per_slot
            values += [round(kw, 1)] * 2
        return values

    markers = [
        Marker(
            name=f"{tariff.band_at(grid.slot_start(t)).name} {price} {tariff.currency}/kWh",
            at=grid.slot_start(t),
        )
        for t, price in enumerate(plan.slot_prices)
        if t == 0 or price != plan.slot_prices[t - 1]
    ]
    base = [round(kw, 1) for kw in plan.base_load_kw for _ in range(2)]
    return TrendChart(
        title="Site demand per slot, as is and planned (price bands marked)",
        unit="kW",
        series=[
            Series(name="as is", times=times, values=demand(plan.baseline)),
            Series(name="planned", times=times, values=demand(plan.plan)),
            Series(name=BASE_LOAD, times=times, values=base),
        ],
        thresholds=[
            Threshold(name="site cap", value=max(plan.power_cap_kw)),
            Threshold(name="peak so far", value=round(plan.peak_so_far_kw, 1)),
        ],
        markers=markers,
    )


SPEC = AgentSpec(
    name="load_shift",
    version="1.0",
    domain=Domain.ENERGY,
    description="Exact LP over the deferrable loads' requests, the site meter's base load and a"
    " time-of-use tariff with demand charge; proposes a load plan when it beats running as is.",
    config_model=LoadShiftConfig,
    factory=LoadShiftAgent,
    risk=RiskClass.LOW,
    actions=("load_shift",),
    default_interval_seconds=20.0,
)
