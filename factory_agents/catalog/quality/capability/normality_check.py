"""Normality of the values: skewness, excess kurtosis and the Anderson–Darling test with
Stephens' small-sample adjustment and D'Agostino & Stephens' p-value."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from factory_agents.catalog.quality.capability.guards import positive_sigma

MIN_VALUES_FOR_NORMALITY = 8
NORMALITY_ALPHA = 0.05


@dataclass(frozen=True)
class NormalityCheck:
    """Skewness, excess kurtosis and the Anderson–Darling test against a fitted normal."""

    n: int
    skewness: float
    excess_kurtosis: float
    anderson_darling: float | None
    adjusted_statistic: float | None
    p_value: float | None

    @property
    def normal(self) -> bool | None:
        """False when the test rejects normality at 5 %; None when there are too few values."""
        return None if self.p_value is None else self.p_value >= NORMALITY_ALPHA


def normality(values: Sequence[float]) -> NormalityCheck:
    """Skewness, excess kurtosis and the Anderson–Darling test of a fitted normal distribution."""
    n = len(values)
    if n < 3:
        raise ValueError(f"need at least 3 values to judge normality; got {n}")
    skewness = float(stats.skew(values))
    kurtosis = float(stats.kurtosis(values))
    if n < MIN_VALUES_FOR_NORMALITY:
        return NormalityCheck(n, skewness, kurtosis, None, None, None)
    a2 = anderson_darling_statistic(values)
    adjusted = a2 * (1 + 0.75 / n + 2.25 / n**2)
    return NormalityCheck(n, skewness, kurtosis, a2, adjusted, anderson_darling_p_value(adjusted))


def anderson_darling_statistic(values: Sequence[float]) -> float:
    """A² of the values against a normal with their mean and sample standard deviation."""
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    z = (x - x.mean()) / positive_sigma(float(x.std(ddof=1)))
    weights = 2 * np.arange(1, n + 1) - 1
    terms = stats.norm.logcdf(z) + stats.norm.logsf(z[::-1])
    return float(-n - np.sum(weights * terms) / n)


def anderson_darling_p_value(adjusted: float) -> float:
    """P-value of the adjusted statistic A*² (D'Agostino & Stephens 1986, table 4.9)."""
    a = adjusted
    if a >= 0.6:
        return math.exp(1.2937 - 5.709 * a + 0.0186 * a**2)
    if a >= 0.34:
        return math.exp(0.9177 - 4.279 * a - 1.38 * a**2)
    if a >= 0.2:
        return 1 - math.exp(-8.318 + 42.796 * a - 59.938 * a**2)
    return 1 - math.exp(-13.436 + 101.14 * a - 223.73 * a**2)
