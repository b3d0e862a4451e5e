"""Statistical process control: EWMA, tabular CUSUM, Western Electric rules, scrap model."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import NamedTuple

D2_FOR_MOVING_RANGE_OF_2 = 1.128


def sigma_from_moving_range(values: Sequence[float]) -> float:
    """Short-term sigma as the mean moving range over d2 = 1.128 (robust to slow drift)."""
    if len(values) < 2:
        raise ValueError("need at least two values to estimate sigma from moving ranges")
    ranges = [abs(b - a) for a, b in itertools.pairwise(values)]
    return sum(ranges) / len(ranges) / D2_FOR_MOVING_RANGE_OF_2


def ewma(values: Sequence[float], center: float, lam: float) -> list[float]:
    """Exponentially weighted moving average z_i = lam*x_i + (1-lam)*z_(i-1), with z_0 = center."""
    z = center
    out: list[float] = []
    for x in values:
        z = lam * x + (1 - lam) * z
        out.append(z)
    return out


def ewma_half_width(i: int, sigma: float, lam: float, width: float) -> float:
    """Half-width of the EWMA control limits at sample i (1-based), exact time-varying form."""
    return width * sigma * math.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * i)))


def ewma_asymptotic_half_width(sigma: float, lam: float, width: float) -> float:
    """Half-width of the steady-state EWMA control limits, L * sigma * sqrt(lam / (2 - lam))."""
    return width * sigma * math.sqrt(lam / (2 - lam))


class CusumSums(NamedTuple):
    """The upper and lower cumulative sums C+ and C- of a tabular CUSUM, one of each per value."""

    upper: list[float]
    lower: list[float]


def tabular_cusum(values: Sequence[float], center: float, sigma: float, k: float) -> CusumSums:
    """Two-sided tabular CUSUM from zero, C+ = max(0, x - (center + k*sigma) + C+), C- mirrored."""
    allowance = k * sigma
    high = low = 0.0
    upper: list[float] = []
    lower: list[float] = []
    for x in values:
        high = max(0.0, x - (center + allowance) + high)
        low = max(0.0, (center - allowance) - x + low)
        upper.append(high)
        lower.append(low)
    return CusumSums(upper, lower)


def western_electric(values: Sequence[float], center: float, sigma: float) -> dict[int, list[str]]:
    """Indices of points that complete a Western Electric rule, with the rules they complete."""
    z = [(v - center) / sigma for v in values]
    hits: dict[int, list[str]] = {}

    def mark(i: int, rule: str) -> None:
        hits.setdefault(i, []).append(rule)

    for i, zi in enumerate(z):
        if abs(zi) > 3:
            mark(i, "WE1: beyond 3 sigma")
        for side in (1, -1):
            last3 = z[max(0, i - 2) : i + 1]
            if len(last3) == 3 and side * zi > 2 and sum(side * v > 2 for v in last3) >= 2:
                mark(i, "WE2: 2 of 3 beyond 2 sigma")
            last5 = z[max(0, i - 4) : i + 1]
            if len(last5) == 5 and side * zi > 1 and sum(side * v > 1 for v in last5) >= 4:
                mark(i, "WE3: 4 of 5 beyond 1 sigma")
            last8 = z[max(0, i - 7) : i + 1]
            if len(last8) == 8 and all(side * v > 0 for v in last8):
                mark(i, "WE4: 8 in a row on one side")
    return hits


def normal_cdf(x: float) -> float:
    """Standard normal cumulative distribution."""
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def out_of_spec_fraction(mean: float, sigma: float, lsl: float, usl: float) -> float:
    """Expected fraction outside [lsl, usl] for a normal process with this mean and sigma."""
    return normal_cdf((lsl - mean) / sigma) + 1 - normal_cdf((usl - mean) / sigma)
