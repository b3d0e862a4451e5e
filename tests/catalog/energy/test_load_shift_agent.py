"""The load-shift agent on crafted meters and requests: plans inside deadlines and caps, proposes
only when it pays, skips stale data, and measures the plan's saving from the sub-meters."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from factory_agents.actions import LoadShift
from factory_agents.agent import AgentInput, PlantReading, Proposal, VerificationWindow
from factory_agents.catalog.energy.load_requests import (
    DEADLINE,
    EARLIEST_START,
    ENERGY_REQUEST,
    MAX_POWER,
    PLANNED,
    tag,
    to_epoch,
)
from factory_agents.catalog.energy.load_shift_agent import (
    LoadShiftAgent,
    LoadShiftConfig,
)
from factory_agents.catalog.energy.tariff_config import (
    CompressedBand,
    TariffBandConfig,
    TariffConfig,
)
from factory_agents.errors import MeasurementNotReady
from factory_agents.evidence import TrendChart
from factory_agents.plant import Quality, Sample

# 12:00 UTC is minute 720 of the day: the compressed day (4 min) starts again. So 12:00 night
# 0.11, 12:01 morning shoulder 0.19, 12:02 peak 0.32, 12:03 evening shoulder 0.19, 12:04 night.
NOW = datetime(2026, 11, 23, 12, 0, 20, tzinfo=UTC)
SLOT = timedelta(minutes=1)
AIR, CHILLER, CIP = "compressed-air receiver recharge", "chiller pre-cooling", "CIP tank heating"
POWER = {AIR: 160.0, CHILLER: 200.0, CIP: 300.0}
NO_DEMAND_CHARGE = TariffConfig(demand_charge_per_kw=Decimal(0))
BASE_KW = 800.0

Request = tuple[float, datetime, datetime]
"""kWh, earliest start, deadline."""


def at(minute: int, second: int = 0) -> datetime:
    """A moment in the hour of NOW."""
    return NOW.replace(minute=minute, second=second)


def config(**changes: object) -> LoadShiftConfig:
    """The default site's agent, changed where the test says."""
    return LoadShiftConfig.model_validate(changes)


def register(
    meter: str, start: datetime, end: datetime, kw: Callable[[datetime], float], first: float
) -> list[Sample]:
    """A cumulative kWh register read every second, its power given moment by moment."""
    readings, value, t = [], first, start
    while t <= end:
        readings.append(Sample(tag=meter, value=value, source_time=t))
        value += kw(t) / 3600
        t += timedelta(seconds=1)
    return readings


def plant(
    cfg: LoadShiftConfig,
    requests: Mapping[str, Request],
    *,
    history: float = 120.0,
    meter_age: float = 0.0,
    planned: tuple[str, ...] = (),
) -> AgentInput:
    """A flat 800 kW base load metered for `history` s, the loads idle, their open requests."""
    end = NOW - timedelta(seconds=meter_age)
    start = end - timedelta(seconds=history)
    meters = {cfg.site_meter: register(cfg.site_meter, start, end, lambda _t: BASE_KW, 1000.0)}
    for name in cfg.loads:
        meters[cfg.sub_meter(name)] = register(cfg.sub_meter(name), start, end, lambda _t: 0, 5.0)
    current = {}
    for name, controller in cfg.loads.items():
        kwh, earliest, deadline = requests.get(name, (0.0, None, None))
        values = {
            ENERGY_REQUEST: kwh,
            MAX_POWER: POWER[name],
            EARLIEST_START: to_epoch(earliest) if earliest else 0.0,
            DEADLINE: to_epoch(deadline) if deadline else 0.0,
            PLANNED: 1.0 if name in planned else 0.0,
        }
        for field, value in values.items():
            key = tag(controller, field)
            current[key] = Sample(tag=key, value=value, source_time=NOW - timedelta(seconds=0.5))
    return AgentInput(now=NOW, current=current, history=meters)


def proposal_of(cfg: LoadShiftConfig, data: AgentInput) -> Proposal:
    out = LoadShiftAgent(cfg).analyze(data)
    assert len(out.proposals) == 1, (out.skipped, [f.message for f in out.findings])
    return out.proposals[0]


def test_one_load_moves_from_the_peak_to_the_night_by_hand() -> None:
    # 2 kWh at up to 160 kW (2.67 kWh a slot) between 12:02 and 12:05. As is: the 12:02 peak
    # slot at 0.32 = 0.64 EUR. Best without a demand charge: the 12:04 night slot at 0.11 =
    # 0.22 EUR. Saving 0.42 EUR.
    cfg = config(tariff=NO_DEMAND_CHARGE)
    proposal = proposal_of(cfg, plant(cfg, {AIR: (2.0, at(2), at(5))}))
    action = proposal.action
    assert isinstance(action, LoadShift) and action.site_id == "site1"
    (plan,) = action.plans
    assert plan.load == AIR
    assert [(s.start, s.energy_kwh) for s in plan.slots] == [
        (at(2), 0.0),
        (at(3), 0.0),
        (at(4), 2.0),
    ]
    saving = proposal.estimated_saving
    assert saving.amount == Decimal("0.42")
    assert saving.inputs["energy_cost_as_is"] == 0.64
    assert saving.inputs["energy_cost_planned"] == 0.22
    assert saving.inputs["base_load_kw"] == pytest.approx(BASE_KW, abs=0.1)
    assert proposal.baseline.value == pytest.approx(0.64)
    assert proposal.counters == cfg.counters


def test_the_plan_keeps_every_deadline_max_power_and_the_site_cap() -> None:
    cap = BASE_KW + 280.0  # as is, 5.2 kWh in the 12:02 slot: 312 kW above the base
    cfg = config(power_cap_kw=cap)
    requests = {AIR: (2.0, at(2), at(4)), CHILLER: (3.2, at(2), at(5)), CIP: (4.4, at(3), at(5))}
    proposal = proposal_of(cfg, plant(cfg, requests))
    action = proposal.action
    assert isinstance(action, LoadShift)
    demand: dict[datetime, float] = {}
    for plan in action.plans:
        kwh, earliest, deadline = requests[plan.load]
        assert sum(s.energy_kwh for s in plan.slots) == pytest.approx(kwh, abs=1e-6)
        for slot in plan.slots:
            assert earliest <= slot.start and slot.end <= deadline
            assert slot.energy_kwh <= POWER[plan.load] / 60 + 1e-6
            demand[slot.start] = demand.get(slot.start, BASE_KW) + slot.energy_kwh * 60
    assert max(demand.values()) <= cap + 1e-3  # slot energies are rounded to 1e-6 kWh
    inputs = proposal.estimated_saving.inputs
    assert inputs["peak_kw_planned"] <= cap + 1e-6 < inputs["peak_kw_as_is"]
    as_is = inputs["energy_cost_as_is"] + inputs["demand_cost_as_is"]
    planned = inputs["energy_cost_planned"] + inputs["demand_cost_planned"]
    assert float(proposal.estimated_saving.amount) == pytest.approx(as_is - planned)
    assert any("site cap" in a or "demand" in a for a in proposal.estimated_saving.assumptions)
    chart = proposal.evidence
    assert isinstance(chart, TrendChart)
    series = {s.name: s for s in chart.series}
    assert max(series["planned"].values) <= cap + 0.1 < max(series["as is"].values)
    assert [m.name for m in chart.markers][:2] == [
        "peak 0.32 EUR/kWh",
        "evening shoulder 0.19 EUR/kWh",
    ]


def test_the_same_requests_give_the_same_proposal_id() -> None:
    cfg = config()
    data = plant(cfg, {CIP: (4.0, at(2), at(4))})
    first = proposal_of(cfg, data)
    later = proposal_of(cfg, data.model_copy(update={"now": NOW + timedelta(seconds=5)}))
    assert first.proposal_id == later.proposal_id
    assert first.action.action_id == later.action.action_id


def test_no_proposal_when_nothing_is_deferrable() -> None:
    cfg = config()
    out = LoadShiftAgent(cfg).analyze(plant(cfg, {}))
    assert out.proposals == [] and out.skipped == {"nothing_deferrable": 1}
    # A request starting before the plan could reach the controller runs as is.
    soon = LoadShiftAgent(cfg).analyze(plant(cfg, {AIR: (2.0, at(1), at(4))}))
    assert soon.proposals == []
    assert soon.skipped == {"too_late_to_plan": 1, "nothing_deferrable": 1}


def test_no_proposal_when_the_saving_is_below_the_threshold() -> None:
    # Already in the cheapest slot (12:04 night, then the 12:05 shoulder): nothing to gain.
    cfg = config(tariff=NO_DEMAND_CHARGE)
    out = LoadShiftAgent(cfg).analyze(plant(cfg, {AIR: (2.0, at(4), at(6))}))
    assert out.proposals == [] and out.skipped == {"saving_below_threshold": 1}
    # Peak to shoulder saves 0.13 EUR/kWh x 2 kWh = 0.26 EUR: proposed at 0.25, not at 0.30.
    move = {AIR: (2.0, at(2), at(4))}
    assert proposal_of(cfg, plant(cfg, move)).estimated_saving.amount == Decimal("0.26")
    strict = config(tariff=NO_DEMAND_CHARGE, min_saving="0.30")
    assert LoadShiftAgent(strict).analyze(plant(strict, move)).proposals == []


def test_stale_or_bad_meter_data_is_skipped() -> None:
    cfg = config()
    requests = {AIR: (2.0, at(2), at(5))}
    stale = LoadShiftAgent(cfg).analyze(plant(cfg, requests, meter_age=30))
    assert stale.proposals == [] and stale.skipped == {"stale_meter": 1}
    data = plant(cfg, requests)
    uncertain = [
        s.model_copy(update={"quality": Quality.UNCERTAIN}) for s in data.history[cfg.site_meter]
    ]
    out = LoadShiftAgent(cfg).analyze(
        data.model_copy(update={"history": {**data.history, cfg.site_meter: uncertain}})
    )
    assert out.proposals == []
    assert out.skipped == {"uncertain": len(uncertain), "stale_meter": 1}
    short = LoadShiftAgent(cfg).analyze(plant(cfg, requests, history=20))
    assert short.proposals == [] and short.skipped == {"insufficient_history": 1}


def test_stale_requests_and_a_plan_in_force_are_not_planned() -> None:
    cfg = config()
    data = plant(cfg, {AIR: (2.0, at(2), at(5))})
    key = tag(cfg.loads[CHILLER], DEADLINE)
    old = data.current[key].model_copy(update={"source_time": NOW - timedelta(minutes=5)})
    out = LoadShiftAgent(cfg).analyze(
        data.model_copy(update={"current": {**data.current, key: old}})
    )
    assert out.proposals == [] and out.skipped == {"stale_request": 1}
    busy = plant(cfg, {AIR: (2.0, at(2), at(5)), CIP: (4.0, at(1), at(3))}, planned=(CIP,))
    out = LoadShiftAgent(cfg).analyze(busy)
    assert out.proposals == [] and out.skipped == {"plan_in_force": 1}


def test_an_impossible_request_is_explained_not_planned() -> None:
    cfg = config()
    out = LoadShiftAgent(cfg).analyze(plant(cfg, {AIR: (9.0, at(2), at(4))}))
    assert out.proposals == [] and out.skipped == {"infeasible": 1}
    assert "at most 5.33333 kWh" in out.findings[-1].message


def window_for(
    cfg: LoadShiftConfig,
    proposal: Proposal,
    runs: Mapping[str, Mapping[datetime, float]],
    *,
    end: datetime,
) -> VerificationWindow:
    """Meters over the window: the base load, and each load drawing kWh per slot evenly."""
    start = NOW + timedelta(seconds=10)

    def load_kw(name: str) -> Callable[[datetime], float]:
        def kw(t: datetime) -> float:
            slot = t.replace(second=0, microsecond=0)
            return runs.get(name, {}).get(slot, 0.0) * 60

        return kw

    def site_kw(t: datetime) -> float:
        return BASE_KW + sum(load_kw(name)(t) for name in cfg.loads)

    history = {cfg.site_meter: register(cfg.site_meter, start, end, site_kw, 1000.0)}
    for name in cfg.loads:
        meter = cfg.sub_meter(name)
        history[meter] = register(meter, start, end, load_kw(name), 5.0)
    site = history[cfg.site_meter]
    readings = [
        PlantReading(
            values={m: history[m][i].value for m in proposal.counters}, at=site[i].source_time
        )
        for i in (0, -1)
    ]
    return VerificationWindow(
        before=readings[0], after=readings[1], data=AgentInput(now=end, history=history)
    )


def planned_runs(proposal: Proposal) -> dict[str, dict[datetime, float]]:
    action = proposal.action
    assert isinstance(action, LoadShift)
    return {p.load: {s.start: s.energy_kwh for s in p.slots} for p in action.plans}


def test_realized_saving_from_the_sub_meters_when_the_loads_follow_the_plan() -> None:
    cfg = config()
    requests = {AIR: (2.0, at(2), at(5)), CIP: (4.5, at(2), at(5))}
    proposal = proposal_of(cfg, plant(cfg, requests))
    agent = LoadShiftAgent(cfg)
    followed = window_for(cfg, proposal, planned_runs(proposal), end=at(5, 2))
    realized = agent.measure(proposal, followed)
    assert realized.amount == pytest.approx(proposal.estimated_saving.amount, abs=Decimal("0.02"))
    assert realized.amount > 0 and realized.units == 2
    assert "counterfactual (modelled)" in realized.method and "measured" in realized.method
    # Had the loads run as is anyway (the plan ignored), nothing was saved.
    as_is = {AIR: {at(2): 2.0}, CIP: {at(2): 4.5}}
    ignored = agent.measure(proposal, window_for(cfg, proposal, as_is, end=at(5, 2)))
    assert ignored.amount == pytest.approx(Decimal(0), abs=Decimal("0.01"))


def test_a_window_ending_before_the_plan_does_is_not_measured() -> None:
    cfg = config()
    proposal = proposal_of(cfg, plant(cfg, {AIR: (2.0, at(2), at(5))}))
    short = window_for(cfg, proposal, planned_runs(proposal), end=at(3, 30))
    with pytest.raises(MeasurementNotReady, match=r"at least that long") as err:
        LoadShiftAgent(cfg).measure(proposal, short)
    assert "270 s after acting" in str(err.value)  # 12:05 - 12:00:30
    # so the proposal asks the platform to measure it until just after its last slot
    assert proposal.measure_until == at(5) + timedelta(seconds=5)


def test_tariffs_compressed_or_real() -> None:
    tariff = TariffConfig().build()
    assert tariff.band_at(at(2)).name == "peak" and tariff.band_at(at(4)).name == "night"
    assert tariff.band_at(at(2) + timedelta(hours=5)).name == "peak"  # repeats all day
    with pytest.raises(ValueError, match="divisor of 1440"):
        TariffConfig(compressed_day=(CompressedBand(name="x", minutes=7, price_per_kwh=1),))
    real = TariffConfig(
        bands=(
            TariffBandConfig(name="day", start=time(6), end=time(22), price_per_kwh="0.28"),
            TariffBandConfig(name="night", start=time(22), end=time(6), price_per_kwh="0.12"),
        ),
        timezone="Europe/Berlin",
    )
    assert real.build().band_at(NOW).name == "day" and not real.compressed
    with pytest.raises(ValueError, match="no band covers"):
        TariffConfig(bands=real.bands[:1])
