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
