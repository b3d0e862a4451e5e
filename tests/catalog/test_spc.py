"""SPC arithmetic against hand-computed values."""

from __future__ import annotations

import math
import random

import pytest

from factory_agents.catalog.quality import spc


def test_ewma_follows_its_recursion() -> None:
    assert spc.ewma([10.0, 10.0, 4.0], center=0.0, lam=0.5) == [5.0, 7.5, 5.75]


def test_ewma_limits_start_narrow_and_reach_the_asymptote() -> None:
    first = spc.ewma_half_width(1, sigma=1.0, lam=0.2, width=3.0)
    assert first == pytest.approx(3.0 * 0.2)  # sqrt(lam/(2-lam) * (1-(1-lam)^2)) = lam
    steady = spc.ewma_half_width(10_000, sigma=1.0, lam=0.2, width=3.0)
    assert steady == pytest.approx(3.0 * math.sqrt(0.2 / 1.8))


def test_sigma_from_moving_range_recovers_a_known_sigma() -> None:
    rng = random.Random(1)
    values = [rng.gauss(0, 2.0) for _ in range(20_000)]
    assert spc.sigma_from_moving_range(values) == pytest.approx(2.0, rel=0.03)


def test_sigma_needs_two_values() -> None:
    with pytest.raises(ValueError, match="at least two"):
        spc.sigma_from_moving_range([1.0])


@pytest.mark.parametrize(
    ("values", "rule"),
    [
        ([0, 0, 0, 3.5], "WE1: beyond 3 sigma"),
        ([0, 2.5, 0, 2.5], "WE2: 2 of 3 beyond 2 sigma"),
        ([1.5, 1.5, 0, 1.5, 1.5], "WE3: 4 of 5 beyond 1 sigma"),
        ([0.5] * 8, "WE4: 8 in a row on one side"),
        ([-0.5] * 8, "WE4: 8 in a row on one side"),
    ],
)
def test_each_western_electric_rule_fires_on_its_pattern(values: list[float], rule: str) -> None:
    hits = spc.western_electric(values, center=0.0, sigma=1.0)
    assert rule in hits[len(values) - 1]


def test_western_electric_is_quiet_on_a_centred_pattern() -> None:
    assert spc.western_electric([0.5, -0.5] * 10, center=0.0, sigma=1.0) == {}


def test_out_of_spec_fraction_of_a_centred_and_a_shifted_process() -> None:
    centred = spc.out_of_spec_fraction(0.0, 1.0, -3.0, 3.0)
    assert centred == pytest.approx(0.0027, abs=1e-4)
    shifted = spc.out_of_spec_fraction(1.5, 1.0, -3.0, 3.0)
    assert shifted == pytest.approx(0.0668, abs=1e-3)


def test_tabular_cusum_accumulates_and_resets_at_zero() -> None:
    # center 10, sigma 2, k 0.5: reference values 11 (upper) and 9 (lower), computed by hand
    sums = spc.tabular_cusum([12.0, 14.0, 8.0, 6.0, 7.0], center=10.0, sigma=2.0, k=0.5)
    assert sums.upper == [1.0, 4.0, 1.0, 0.0, 0.0]
    assert sums.lower == [0.0, 0.0, 1.0, 4.0, 6.0]


def test_tabular_cusum_stays_at_zero_within_the_allowance() -> None:
    sums = spc.tabular_cusum([0.4, -0.4, 0.5, -0.5], center=0.0, sigma=1.0, k=0.5)
    assert sums.upper == sums.lower == [0.0, 0.0, 0.0, 0.0]


def test_ewma_asymptotic_limits_are_the_exact_ones_in_the_long_run() -> None:
    steady = spc.ewma_asymptotic_half_width(sigma=2.0, lam=0.1, width=2.814)
    assert steady == pytest.approx(spc.ewma_half_width(5_000, sigma=2.0, lam=0.1, width=2.814))


def test_cusum_finds_a_one_sigma_shift_sooner_than_a_three_sigma_limit() -> None:
    cusum_delays, shewhart_delays = [], []
    for seed in range(100):
        rng = random.Random(seed)
        values = [rng.gauss(1.0, 1.0) for _ in range(400)]
        sums = spc.tabular_cusum(values, center=0.0, sigma=1.0, k=0.5)
        cusum_delays.append(next(i for i, c in enumerate(sums.upper) if c > 5.0))
        shewhart_delays.append(next((i for i, v in enumerate(values) if abs(v) > 3.0), 400))
    assert sum(cusum_delays) < sum(shewhart_delays) / 2
