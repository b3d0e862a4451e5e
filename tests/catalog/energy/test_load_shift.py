"""Load shifting: hand-checked plans, greedy and HiGHS cross-checks, brute force, errors."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import numpy as np
import pytest
from scipy.optimize import linprog

from factory_agents.catalog.energy.load_shift import (
    DeferrableLoad,
    LoadShiftPlan,
    base_load_profile,
    plan_load_shift,
)
from factory_agents.catalog.energy.tariff import SlotGrid, TariffBand, TimeOfUseTariff
from factory_agents.plant import Quality, Sample

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TWO_BANDS = TimeOfUseTariff(
    (
        TariffBand("day", time(6), time(22), Decimal("0.30")),
        TariffBand("night", time(22), time(6), Decimal("0.10")),
    ),
    "EUR",
)
HOURLY = SlotGrid(START, 60, 24)  # 12:00 today to 12:00 tomorrow


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def load(
    name: str, kwh: float, kw: float, earliest: float, deadline: float, interruptible: bool = True
) -> DeferrableLoad:
    """A load with its window in hours after the grid's start."""
    return DeferrableLoad(name, kwh, kw, at(earliest), at(deadline), interruptible)


def hourly_tariff(seed: int) -> TimeOfUseTariff:
    """24 one-hour bands at distinct seeded prices."""
    rng = random.Random(seed)
    prices = rng.sample(range(5, 60), 24)
    return TimeOfUseTariff(
        tuple(
            TariffBand(f"h{h}", time(h), time((h + 1) % 24), Decimal(p) / 100)
            for h, p in enumerate(prices)
        ),
        "EUR",
    )


def assert_feasible(plan: LoadShiftPlan, loads: Sequence[DeferrableLoad]) -> None:
    """Every load gets its energy, inside its window, within its power and the site cap."""
    grid, h = plan.grid, plan.grid.hours_per_slot
    for run, spec in zip(plan.plan, loads, strict=True):
        window = grid.slots_within(spec.earliest_start, spec.deadline)
        assert sum(run.energy_kwh) == pytest.approx(spec.energy_kwh, abs=1e-6)
        assert all(e == 0 for t, e in enumerate(run.energy_kwh) if t not in window)
        assert all(e <= spec.max_power_kw * h + 1e-6 for e in run.energy_kwh)
        assert all(e >= -1e-9 for e in run.energy_kwh)
    for t in range(grid.slots):
        demand = plan.base_load_kw[t] + sum(r.energy_kwh[t] for r in plan.plan) / h
        assert demand <= plan.power_cap_kw[t] + 1e-6


def test_one_load_and_two_bands_by_hand() -> None:
    # 10 kWh at up to 5 kW between 18:00 and 06:00. As is: 18:00-20:00 at 0.30 = 3.00 EUR.
    # Best: two night hours at 0.10 = 1.00 EUR (all night hours cost the same). Saving 2.00.
    oven = load("oven", 10, 5, earliest=6, deadline=18)
    plan = plan_load_shift([oven], HOURLY, TWO_BANDS, base_load_kw=[20] * 24, power_cap_kw=100)
    assert plan.solver == "GLOP (LP)"
    assert plan.baseline[0].energy_kwh[6:8] == (5.0, 5.0)
    assert plan.baseline_cost == Decimal("3.00")
    assert plan.cost == Decimal("1.00")
    assert plan.saving == Decimal("2.00")
    night = range(10, 18)  # 22:00 to 06:00
    assert sum(plan.plan[0].energy_kwh[t] for t in night) == pytest.approx(10.0)
    assert_feasible(plan, [oven])


def test_greedy_by_price_is_optimal_for_one_load_without_a_cap() -> None:
    # For one divisible load and no cap, filling the cheapest slots at full power is optimal
    # (an exchange argument), so the LP must reproduce the greedy cost and schedule.
    tariff = hourly_tariff(seed=3)
    spec = load("chiller", 23.5, 4, earliest=2, deadline=20)
    plan = plan_load_shift([spec], HOURLY, tariff, base_load_kw=[0] * 24, power_cap_kw=1000)
    prices = tariff.slot_prices(HOURLY)
    greedy = [0.0] * 24
    left = spec.energy_kwh
    for t in sorted(range(2, 20), key=lambda t: prices[t]):
        greedy[t] = min(4.0, left)
        left -= greedy[t]
    assert plan.plan[0].energy_kwh == pytest.approx(greedy)
    expected = sum((Decimal(repr(e)) * p for e, p in zip(greedy, prices, strict=True)), Decimal(0))
    assert plan.energy_cost == expected.quantize(Decimal("0.01"))


def test_lp_optimum_equals_highs_on_a_capped_multi_load_instance() -> None:
    tariff = hourly_tariff(seed=8)
    loads = [
        load("oven", 30, 8, earliest=0, deadline=12),
        load("pump", 18, 3, earliest=4, deadline=24),
        load("charger", 40, 11, earliest=8, deadline=20),
    ]
    base = [12 + 6 * np.sin(t / 4) for t in range(24)]
    plan = plan_load_shift(loads, HOURLY, tariff, base_load_kw=base, power_cap_kw=22)
    assert_feasible(plan, loads)
    # the same LP written independently for scipy's HiGHS
    prices = [float(p) for p in tariff.slot_prices(HOURLY)]
    index = [
        (i, t)
        for i, spec in enumerate(loads)
        for t in HOURLY.slots_within(spec.earliest_start, spec.deadline)
    ]
    cost = [prices[t] for _, t in index]
    a_eq = [[1.0 if i == j else 0.0 for j, _ in index] for i in range(len(loads))]
    a_ub = [[1.0 if s == t else 0.0 for _, s in index] for t in range(24)]
    reference = linprog(
        cost,
        A_ub=a_ub,
        b_ub=[22 - b for b in base],
        A_eq=a_eq,
        b_eq=[spec.energy_kwh for spec in loads],
        bounds=[(0, loads[i].max_power_kw) for i, _ in index],
        method="highs",
    )
    assert reference.status == 0
    planned = sum(p * sum(r.energy_kwh[t] for r in plan.plan) for t, p in enumerate(prices))
    assert planned == pytest.approx(reference.fun, abs=1e-6)
    assert any(b.kind == "site_cap" for b in plan.binding)


def test_a_cap_shadow_price_is_the_cost_of_one_more_kwh_of_headroom() -> None:
    # Two loads (48 kWh) compete for the four night hours (22:00-02:00) under a 10 kW headroom
    # (40 kWh): 8 kWh must run by day. One more kWh of night headroom moves one kWh from 0.30
    # to 0.10, so the dual of the cap row is 0.20 and raising that hour's cap by 1 kW saves 0.20.
    loads = [load("a", 24, 6, earliest=6, deadline=14), load("b", 24, 6, earliest=6, deadline=14)]
    base = [10.0] * 24
    plan = plan_load_shift(loads, HOURLY, TWO_BANDS, base_load_kw=base, power_cap_kw=20)
    caps = [b for b in plan.binding if b.kind == "site_cap" and b.slot == 10]
    assert caps and caps[0].shadow_price == pytest.approx(0.20)  # night 0.10 instead of day 0.30
    looser = [20.0] * 24
    looser[10] = 21.0
    relaxed = plan_load_shift(loads, HOURLY, TWO_BANDS, base_load_kw=base, power_cap_kw=looser)
    assert plan.cost - relaxed.cost == Decimal("0.20")


def test_non_interruptible_loads_match_brute_force_over_their_start_times() -> None:
    tariff = hourly_tariff(seed=5)
    loads = [
        load("press", 9, 4, earliest=0, deadline=10, interruptible=False),  # 2.25 h at 4 kW
        load("kiln", 15, 5, earliest=3, deadline=12, interruptible=False),  # 3 h at 5 kW
        load("pump", 12, 3, earliest=0, deadline=12),
    ]
    base = [4.0] * 24
    cap = 12.0
    plan = plan_load_shift(loads, HOURLY, tariff, base_load_kw=base, power_cap_kw=cap)
    assert plan.solver == "SCIP (MILP)"
    assert_feasible(plan, loads)
    press = plan.plan[0].energy_kwh
    run = [t for t, e in enumerate(press) if e > 0]
    assert run == list(range(run[0], run[0] + 3))  # in one piece: 4, 4, 1 kWh
    assert [press[t] for t in run] == pytest.approx([4.0, 4.0, 1.0])

    prices = [float(p) for p in tariff.slot_prices(HOURLY)]
    best = float("inf")
    for s_press, s_kiln in itertools.product(range(0, 8), range(3, 10)):
        fixed = [0.0] * 24
        for s, profile in ((s_press, [4, 4, 1]), (s_kiln, [5, 5, 5])):
            for k, e in enumerate(profile):
                fixed[s + k] += e
        headroom = [cap - base[t] - fixed[t] for t in range(12)]
        if min(headroom) < 0:
            continue
        pump = linprog(
            prices[:12],
            A_eq=[[1.0] * 12],
            b_eq=[12.0],
            bounds=[(0, min(3.0, h)) for h in headroom],
            method="highs",
        )
        if pump.status == 0:
            best = min(best, pump.fun + sum(p * e for p, e in zip(prices, fixed, strict=True)))
    planned = sum(p * sum(r.energy_kwh[t] for r in plan.plan) for t, p in enumerate(prices))
    assert planned == pytest.approx(best, abs=1e-6)


def test_a_demand_charge_trades_cheap_energy_against_a_new_peak() -> None:
    # Night (22:00-06:00, 8 hours) at 0.10 carries a 50 kW base load, the peak so far; the
    # morning (06:00-12:00) at 0.30 has none. 10 kWh at up to 10 kW between 22:00 and 12:00.
    # As is: 10 kW at 22:00 -> 1.00 energy + (60 - 50) kW x charge.
    # Spreading y kWh evenly over the 8 night hours lifts the peak by y/8 kW, so a night kWh
    # costs 0.10 + charge/8: with a charge of 1.00 that is 0.225 < 0.30, all 10 kWh go to the
    # night: 1.00 + 1.25 = 2.25; with 2.00 it is 0.35 > 0.30: all go to the morning, 3.00.
    base = [0.0 if t < 10 or t >= 18 else 50.0 for t in range(24)]
    heater = load("heater", 10, 10, earliest=10, deadline=24)
    for charge, cost, baseline, peak in (
        ("1.00", "2.25", "11.00", 51.25),
        ("2.00", "3.00", "21.00", 50.0),
    ):
        tariff = TimeOfUseTariff(TWO_BANDS.bands, "EUR", demand_charge_per_kw=Decimal(charge))
        plan = plan_load_shift(
            [heater], HOURLY, tariff, base_load_kw=base, power_cap_kw=100, peak_so_far_kw=50
        )
        assert plan.cost == Decimal(cost)
        assert plan.baseline_cost == Decimal(baseline)
        assert plan.peak_kw == pytest.approx(peak)
        assert plan.saving == Decimal(baseline) - Decimal(cost)
    # a peak of 60 kW already reached this billing period makes the night free of charge
    higher_peak_already = plan_load_shift(
        [heater], HOURLY, tariff, base_load_kw=base, power_cap_kw=100, peak_so_far_kw=60
    )
    assert higher_peak_already.cost == Decimal("1.00")
    assert higher_peak_already.demand_cost == Decimal("0.00")


def test_the_baseline_may_break_the_cap_and_says_where() -> None:
    loads = [load("a", 10, 10, earliest=0, deadline=24), load("b", 10, 10, earliest=0, deadline=24)]
    plan = plan_load_shift(loads, HOURLY, TWO_BANDS, base_load_kw=[5.0] * 24, power_cap_kw=20)
    assert plan.baseline_cap_violations == (0,)  # both start at once: 25 kW > 20 kW
    assert_feasible(plan, loads)


def test_a_deadline_too_short_for_the_energy_names_the_load() -> None:
    loads = [
        load("oven", 10, 5, earliest=6, deadline=18),
        load("dryer", 30, 5, earliest=6, deadline=10),
    ]
    message = "load 'dryer' needs 30 kWh but at its maximum 5 kW it can take at most 20 kWh"
    with pytest.raises(ValueError, match=message):
        plan_load_shift(loads, HOURLY, TWO_BANDS, base_load_kw=[0] * 24, power_cap_kw=100)
    rigid = [load("kiln", 15, 5, earliest=6, deadline=8.5, interruptible=False)]
    with pytest.raises(ValueError, match="'kiln' needs 15 kWh"):
        plan_load_shift(rigid, HOURLY, TWO_BANDS, base_load_kw=[0] * 24, power_cap_kw=100)


def test_loads_that_fit_alone_but_not_together_are_named() -> None:
    loads = [load("a", 10, 5, earliest=6, deadline=8), load("b", 10, 5, earliest=6, deadline=8)]
    with pytest.raises(
        ValueError, match=r"the loads \[.*\] cannot all be served under the site cap"
    ):
        plan_load_shift(loads, HOURLY, TWO_BANDS, base_load_kw=[0] * 24, power_cap_kw=8)
    alone = [load("a", 10, 5, earliest=6, deadline=8)]
    message = "'a' needs 10 kWh but the site cap leaves room for at most 6 kWh in its window"
    with pytest.raises(ValueError, match=message):
        plan_load_shift(alone, HOURLY, TWO_BANDS, base_load_kw=[5] * 24, power_cap_kw=8)


def test_non_interruptible_loads_that_cannot_run_in_one_piece_are_explained() -> None:
    # In 18:00-20:00 under 5 kW: q runs 2 h at 2 kW, so p (1 h at 4 kW) would make 6 kW in
    # either hour. Interruptible, they fit: p 3 + 1 kWh beside q's 2 + 2 kWh.
    loads = [
        load("p", 4, 4, earliest=6, deadline=8, interruptible=False),
        load("q", 4, 2, earliest=6, deadline=8, interruptible=False),
    ]
    with pytest.raises(ValueError, match=r"non-interruptible loads \['p', 'q'\] cannot each run"):
        plan_load_shift(loads, HOURLY, TWO_BANDS, base_load_kw=[0] * 24, power_cap_kw=5)
    relaxed = [load("p", 4, 4, earliest=6, deadline=8), load("q", 4, 2, earliest=6, deadline=8)]
    plan = plan_load_shift(relaxed, HOURLY, TWO_BANDS, base_load_kw=[0] * 24, power_cap_kw=5)
    assert_feasible(plan, relaxed)


def test_bad_instances_are_refused_with_the_reason() -> None:
    oven = load("oven", 10, 5, earliest=6, deadline=18)
    with pytest.raises(ValueError, match="base load 50 kW already exceeds the cap 40 kW in slot 0"):
        plan_load_shift([oven], HOURLY, TWO_BANDS, base_load_kw=[50] * 24, power_cap_kw=40)
    with pytest.raises(ValueError, match="beyond the grid's end"):
        plan_load_shift(
            [load("late", 10, 5, earliest=6, deadline=30)],
            HOURLY,
            TWO_BANDS,
            base_load_kw=[0] * 24,
            power_cap_kw=40,
        )
    with pytest.raises(ValueError, match="one value per slot"):
        plan_load_shift([oven], HOURLY, TWO_BANDS, base_load_kw=[0] * 23, power_cap_kw=40)
    with pytest.raises(ValueError, match="unique names"):
        plan_load_shift([oven, oven], HOURLY, TWO_BANDS, base_load_kw=[0] * 24, power_cap_kw=40)
    with pytest.raises(ValueError, match="deadline must come after"):
        load("x", 1, 1, earliest=5, deadline=5)


def register(days: int, every_minutes: int, zone: str = "Europe/Berlin") -> list[Sample]:
    """A cumulative kWh register: 20 kW from 08:00 to 18:00 local time, 5 kW otherwise."""
    from zoneinfo import ZoneInfo

    start = datetime(2026, 11, 20, 0, 0, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    step = timedelta(minutes=every_minutes)
    total, out = 1000.0, []
    for i in range(days * 24 * 60 // every_minutes + 1):
        when = start + i * step
        out.append(Sample(tag="meter", value=total, source_time=when))
        local_hour = when.astimezone(ZoneInfo(zone)).hour
        total += (20.0 if 8 <= local_hour < 18 else 5.0) * every_minutes / 60
    return out


def test_base_load_profile_recovers_the_power_by_time_of_day() -> None:
    profile = base_load_profile(register(3, 5), slot_minutes=60, timezone="Europe/Berlin")
    expected = [20.0 if 8 <= h < 18 else 5.0 for h in range(24)]
    assert profile.kw == pytest.approx(expected, rel=1e-9)
    assert profile.hours_observed == pytest.approx([3.0] * 24)
    # mapped onto a UTC grid starting 12:00 UTC = 13:00 in Berlin
    on_grid = profile.on(HOURLY)
    assert on_grid[0] == pytest.approx(20.0) and on_grid[5] == pytest.approx(5.0)


def test_base_load_profile_skips_resets_gaps_and_bad_readings() -> None:
    readings = register(3, 5)
    offset = readings[400].value  # the counter restarts from 0 at reading 400
    readings[400:] = [r.model_copy(update={"value": r.value - offset}) for r in readings[400:]]
    readings[200] = readings[200].model_copy(update={"quality": Quality.BAD})
    profile = base_load_profile(readings, slot_minutes=60, timezone="Europe/Berlin")
    assert profile.kw == pytest.approx([20.0 if 8 <= h < 18 else 5.0 for h in range(24)])
    with pytest.raises(ValueError, match="less than 1 h of usable meter data"):
        base_load_profile(readings[:200], slot_minutes=60, timezone="Europe/Berlin")
    sparse = register(3, 60)
    with pytest.raises(ValueError, match="24 time-of-day slots"):
        base_load_profile(
            sparse, slot_minutes=60, timezone="Europe/Berlin", max_gap=timedelta(minutes=30)
        )
