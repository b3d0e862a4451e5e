"""The line model: deterministic, drifting, correctable, with consistent counters."""

from __future__ import annotations

import itertools
import math
import statistics

import pytest

from connectors.simulator.model import DRIFT_RAMP_UNITS, LineModel
from connectors.simulator.state import LineState
from factory_agents.site import FILL_LSL_G, FILL_TARGET_G, FILL_USL_G, MACHINES

SEEDS = (1, 2, 3, 7, 11)


def test_same_seed_gives_the_same_units() -> None:
    first, second = LineModel(seed=42), LineModel(seed=42)
    assert first.produce(1500) == second.produce(1500)
    assert first.drift_start == second.drift_start
    assert [m.temperature for m in first.machines()] == [m.temperature for m in second.machines()]


def test_different_seeds_give_different_units() -> None:
    weights_a = [u.fill_weight for u in LineModel(seed=1).produce(100)]
    weights_b = [u.fill_weight for u in LineModel(seed=2).produce(100)]
    assert weights_a != weights_b


def test_units_are_numbered_and_judged_against_the_limits() -> None:
    units = LineModel(seed=5).produce(800)
    assert [u.index for u in units] == list(range(800))
    for unit in units:
        assert unit.scrap == (not FILL_LSL_G <= unit.fill_weight <= FILL_USL_G)


@pytest.mark.parametrize("seed", SEEDS)
def test_drift_starts_between_300_and_500_ramps_over_60_units_then_holds(seed: int) -> None:
    model = LineModel(seed=seed)
    start = model.drift_start
    assert 300 <= start <= 500
    assert model.drift_at(0) == 0.0
    assert model.drift_at(start - 1) == 0.0
    ramp = [model.drift_at(i) for i in range(start, start + DRIFT_RAMP_UNITS)]
    assert all(a < b for a, b in itertools.pairwise(ramp))
    assert 0.0 < ramp[0] < 0.1
    assert ramp[-1] == pytest.approx(2.0)
    assert model.drift_at(start + 500) == pytest.approx(2.0)


@pytest.mark.parametrize("seed", SEEDS)
def test_drift_raises_scrap_and_a_setpoint_correction_brings_it_back(seed: int) -> None:
    model = LineModel(seed=seed)
    before = model.produce(model.drift_start)
    assert sum(u.scrap for u in before) <= 2  # ~0.02 % expected at the target

    model.produce(DRIFT_RAMP_UNITS)
    drifted = model.produce(3000)
    drifted_rate = sum(u.scrap for u in drifted) / len(drifted)
    assert 0.07 < drifted_rate < 0.15  # 10.6 % expected with +2 g and sigma 0.8 g
    assert statistics.fmean(u.fill_weight for u in drifted) == pytest.approx(502.0, abs=0.1)

    model.set_setpoint(FILL_TARGET_G - 2.0)
    corrected = model.produce(3000)
    corrected_rate = sum(u.scrap for u in corrected) / len(corrected)
    assert corrected_rate < 0.005
    assert statistics.fmean(u.fill_weight for u in corrected) == pytest.approx(500.0, abs=0.1)
    assert statistics.stdev(u.fill_weight for u in corrected) == pytest.approx(0.8, abs=0.05)


def test_a_setpoint_change_shifts_the_weights_without_changing_the_noise() -> None:
    plain, corrected = LineModel(seed=9), LineModel(seed=9)
    assert plain.produce(100) == corrected.produce(100)
    corrected.set_setpoint(497.5)
    assert corrected.setpoint == 497.5
    for a, b in zip(plain.produce(200), corrected.produce(200), strict=True):
        assert b.fill_weight - a.fill_weight == pytest.approx(-2.5)


def test_counters_add_up_per_machine_and_for_the_line() -> None:
    model = LineModel(seed=3)
    units = model.produce(model.drift_start + 400)
    scrap = sum(u.scrap for u in units)
    assert model.produced == len(units) == model.good + model.scrap
    assert model.scrap == scrap > 0
    filler, capper, labeler = model.machines()
    assert filler.scrap == model.scrap
    assert capper.scrap == labeler.scrap == 0
    assert filler.good == capper.good == labeler.good == model.good


def test_machines_run_in_execute_draw_energy_and_wander_in_temperature() -> None:
    model = LineModel(seed=4)
    temperatures: dict[str, list[float]] = {name: [] for name in MACHINES}
    energy_before = [m.energy_kwh for m in model.machines()]
    for _ in range(60):
        model.produce(60)
        for status in model.machines():
            temperatures[status.name].append(status.temperature)
    for status, before in zip(model.machines(), energy_before, strict=True):
        assert status.state == "Execute"
        assert status.speed == 60.0
        assert status.energy_kwh > before
    filler_energy = model.machine("Filler").energy_kwh
    assert filler_energy == pytest.approx(7.5 * 3600 / 3600)  # 7.5 kW for one simulated hour
    for series in temperatures.values():
        assert max(series) - min(series) > 0.5
        assert max(series) - min(series) <= 3.0
        steps = [abs(b - a) for a, b in itertools.pairwise(series)]
        assert max(steps) < 0.5  # slow wander: under 0.5 deg C per simulated minute


def test_bad_input_is_refused() -> None:
    model = LineModel(seed=1)
    with pytest.raises(ValueError, match="negative"):
        model.produce(-1)
    with pytest.raises(ValueError, match="finite"):
        model.set_setpoint(math.nan)
    with pytest.raises(KeyError, match="Filler"):
        model.machine("Palletizer")
    assert model.setpoint == FILL_TARGET_G


def test_a_resumed_line_goes_on_with_exactly_the_same_units() -> None:
    running = LineModel(seed=6)
    running.produce(running.drift_start + 100)
    running.set_setpoint(498.0)
    saved = LineState.model_validate_json(running.snapshot().model_dump_json())

    resumed = LineModel.resume(saved)
    assert (resumed.produced, resumed.good, resumed.scrap) == (
        running.produced,
        running.good,
        running.scrap,
    )
    assert resumed.setpoint == 498.0
    assert resumed.produce(500) == running.produce(500)
    assert resumed.machines() == running.machines()
